"""Many episodes in flight against one language model.

:func:`collect` keeps ``in_flight`` episodes running at once: threads by default (an LLM
agent spends its time waiting for the model, so threads overlap those waits), worker
processes for envs that are not thread-safe (a Chromium page), or Ray tasks across
machines where Ray is installed. Every worker owns its env and agent; the language model
is shared. :class:`BatchingLM` turns the concurrent ``generate``/``score`` calls of a
local model into batched calls; an OpenAI-compatible server (vLLM, llama.cpp) batches on
its side and gets up to ``in_flight`` concurrent requests.
"""

from .batching import BatchingLM
from .collect import CollectReport, collect

__all__ = ["BatchingLM", "CollectReport", "collect"]
