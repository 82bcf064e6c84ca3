"""The Agent protocol and the agent registry (docs/architecture.md, "Agents")."""

from __future__ import annotations

import importlib
import random
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym


@runtime_checkable
class Agent(Protocol):
    name: str

    def reset(self, env: gym.Env) -> None:  # binds the env (search needs it)
        ...

    def act(self, observation, info) -> Any:  # native or text, per the env's view
        ...


def text_view(env: gym.Env) -> bool:
    """True when ``env`` takes text actions (it is, or wraps, a TextInterface)."""
    from palaestra.wrappers import TextInterface

    e = env
    while isinstance(e, gym.Wrapper):
        if isinstance(e, TextInterface):
            return True
        e = e.env
    return False


class RandomAgent:
    """Uniform over legal actions where enumerable, else samples the action space."""

    name = "random"

    def __init__(self, seed: int | None = 0):
        self.rng = random.Random(seed)
        self.env = None

    def reset(self, env: gym.Env) -> None:
        self.env = env

    def act(self, observation, info):
        base = self.env.unwrapped
        legal = base.legal_actions()
        text = text_view(self.env)
        if legal:
            action = legal[self.rng.randrange(len(legal))]
            return base.format_action(action) if text else action
        sample = getattr(base, "sample_action", None)
        if callable(sample):
            action = sample(self.rng)
            return base.format_action(action) if text else action
        action = self.env.action_space.sample()
        return action


# name -> "module:attr"; domains add theirs in palaestra/envs/<domain>/ids.py (AGENTS)
_BUILTIN: dict[str, str] = {
    "random": "palaestra.agents.base:RandomAgent",
    "oracle": "palaestra.agents.oracle:OracleAgent",
    "human": "palaestra.agents.human:HumanAgent",
    "llm": "palaestra.agents.llm_agent:LLMAgent",
    "mcts": "palaestra.agents.mcts:MCTSAgent",
    "mcts-value": "palaestra.agents.value_search:value_mcts",
    "beam": "palaestra.agents.value_search:BeamSearchAgent",
    "best-of-n": "palaestra.agents.best_of_n:BestOfNAgent",
    "sb3": "palaestra.agents.sb3:SB3Agent",
    "stockfish": "palaestra.leaderboard.reference:StockfishAgent",
}


def registry() -> dict[str, str]:
    from palaestra.registration import domain_agents

    names = dict(_BUILTIN)
    names.update(domain_agents())
    return names


def make(name: str, **options) -> Agent:
    """Build an agent by name, as the CLI's ``--agent NAME --agent-opt k=v`` does."""
    from palaestra.core.options import check_options, did_you_mean

    names = registry()
    if name not in names:
        raise ValueError(f"unknown agent {name!r}.{did_you_mean(name, names)} "
                         f"Known agents: {', '.join(sorted(names))}.")
    module, _, attr = names[name].partition(":")
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"agent {name!r} could not be loaded from {names[name]}: {exc}") from exc
    check_options(f"agent {name!r}", factory, options)
    return factory(**options)
