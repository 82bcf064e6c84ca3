"""Language-model back-ends: local ``transformers`` models and OpenAI-compatible servers.

Every back-end keeps the :class:`LanguageModel` protocol (DESIGN.md section 3): prompts
are chat messages, ``generate`` returns ``n`` samples per prompt from one batched call,
``score`` returns the summed log-probability of each completion given its prompt.
``load_lm(spec)`` turns what a user types (``--agent-opt model=...``) into a back-end.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

Messages = list[dict]


@runtime_checkable
class LanguageModel(Protocol):
    usage: dict

    def generate(
        self, prompts: list[Messages], n: int = 1, temperature: float = 1.0, max_new_tokens: int = 64, seed: int | None = None
    ) -> list[list[str]]: ...

    def score(self, prompts: list[Messages], completions: list[str]) -> list[float]: ...


def load_lm(spec, **options) -> LanguageModel:
    """A back-end from a spec: an object with ``generate`` (returned as is), ``"tiny"``
    (the offline tiny model, built once into the cache), ``"http(s)://HOST/v1#MODEL"``
    or ``"openai:MODEL"`` (an OpenAI-compatible server; base URL from ``base_url=`` or
    ``OPENAI_BASE_URL``), else a local folder or Hugging Face hub id for transformers
    (a vision-language folder, or ``multimodal=True``, loads :class:`.vlm.TransformersVLM`,
    which reads the images in messages)."""
    import os

    if spec is None:
        raise ValueError(
            "this agent needs a language model: pass model=PATH (a local transformers folder or hub id), "
            "model=tiny (offline test model), or model=http://HOST:PORT/v1#MODEL (OpenAI-compatible server)."
        )
    if hasattr(spec, "generate"):
        return spec
    spec = str(spec)
    if spec == "tiny":
        from .tiny import tiny_model_path
        from .transformers_lm import TransformersLM

        return TransformersLM(tiny_model_path(), **options)
    if spec.startswith(("http://", "https://")):
        from .openai_lm import OpenAICompatibleLM

        base, _, model = spec.partition("#")
        if not model:
            raise ValueError(f"{spec!r}: name the served model after '#', e.g. http://127.0.0.1:8000/v1#Qwen2.5-7B-Instruct")
        return OpenAICompatibleLM(base, model, **options)
    if spec.startswith("openai:"):
        from .openai_lm import OpenAICompatibleLM

        base = options.pop("base_url", None) or os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
        return OpenAICompatibleLM(base, spec.split(":", 1)[1], **options)
    from .vlm import is_vlm_folder

    if options.get("multimodal") or is_vlm_folder(spec):  # a vision-language model: images go to its processor
        from .vlm import TransformersVLM

        return TransformersVLM(spec, **options)
    from .transformers_lm import TransformersLM

    return TransformersLM(spec, **options)


__all__ = ["LanguageModel", "Messages", "load_lm"]
