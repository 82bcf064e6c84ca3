"""Run an agent in an env for one episode: the loop every CLI command and test shares.

Agents that search set ``agent.last_search`` (a list of the root's children: dicts
with ``action``, ``visits``, ``q``, ``prior``, ``critique``) in ``act``; the runner hands
it to any wrapper in the chain that has ``annotate(**fields)`` (``RecordEpisodes``
does), so recordings carry the search tree next to the step it chose.
LLM agents expose ``agent.usage`` (``{"prompt_tokens": int, "completion_tokens": int}``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym


@dataclass
class EpisodeResult:
    task_id: str | None
    seed: int | None
    ret: float = 0.0
    success: bool = False
    steps: int = 0
    invalid_actions: int = 0
    wall_s: float = 0.0
    tokens: int = 0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)


def _annotators(env: gym.Env) -> list:
    found = []
    e = env
    while True:
        fn = getattr(type(e), "annotate", None)
        if fn is not None:
            found.append(e)
        if not isinstance(e, gym.Wrapper):
            break
        e = e.env
    return found


def _tokens(agent) -> int:
    usage = getattr(agent, "usage", None) or {}
    return int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))


def run_episode(
    env: gym.Env,
    agent,
    seed: int | None = None,
    options: dict | None = None,
    max_steps: int = 10_000,
    on_step=None,
) -> EpisodeResult:
    """Reset ``env`` with ``seed``, let ``agent`` act until the episode ends."""
    start = time.perf_counter()
    tokens_before = _tokens(agent)
    obs, info = env.reset(seed=seed, options=options)
    agent.reset(env)
    result = EpisodeResult(task_id=info.get("task_id"), seed=seed)
    annotators = _annotators(env)
    for _ in range(max_steps):
        if hasattr(agent, "last_search"):
            agent.last_search = None
        action = agent.act(obs, info)
        search = getattr(agent, "last_search", None)
        for a in annotators:
            a.annotate(search=search) if search else None
        obs, reward, terminated, truncated, info = env.step(action)
        result.ret += float(reward)
        result.steps += 1
        if "invalid_action" in info:
            result.invalid_actions += 1
        if on_step is not None:
            on_step(obs, reward, terminated, truncated, info)
        if terminated or truncated:
            result.terminated, result.truncated = bool(terminated), bool(truncated)
            break
    result.success = bool(info.get("success", False))
    result.info = {k: v for k, v in info.items() if k not in ("image", "action_mask")}
    result.wall_s = time.perf_counter() - start
    result.tokens = _tokens(agent) - tokens_before
    return result
