"""Agents: baselines, LLM policies and search (docs/architecture.md, "Agents").

``make(name, **options)`` builds any of them by the names the CLI's ``--agent`` takes;
the classes import lazily (``from palaestra.agents import MCTSAgent``) so that importing
this package stays light.
"""

from .base import Agent, RandomAgent, make, registry, text_view

_LAZY = {
    "MCTSAgent": "palaestra.agents.mcts",
    "LLMAgent": "palaestra.agents.llm_agent",
    "BestOfNAgent": "palaestra.agents.best_of_n",
    "OracleAgent": "palaestra.agents.oracle",
    "SB3Agent": "palaestra.agents.sb3",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'palaestra.agents' has no attribute {name!r}")


__all__ = ["Agent", "RandomAgent", "make", "registry", "text_view", *_LAZY]
