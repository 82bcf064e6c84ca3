"""Checks on how an env scores: one statement of success, and who may see the reward.

- :func:`check_success_statement`: ``Task.validate`` is the single statement of success:
  at every episode end, ``task.succeeded(env)`` (from ``validate``) equals the
  ``info["success"]`` that ``step`` reported, on several seeds, driving episodes with the
  oracle where one exists and with random actions.
- :func:`check_reward_access`: the env declares ``reward_access`` itself (``"rules"`` or
  ``"hidden"``), and for ``"hidden"`` its ``planning_env()`` is the agent-side view (a
  step pays no success and its info carries neither ``success`` nor the env's scorer keys).
"""

from __future__ import annotations

import random

import gymnasium as gym

from palaestra.core import PalaestraEnv
from palaestra.core.planning import SCORER_INFO_KEYS

from .policies import oracle_plan, random_native

REWARD_ACCESS = ("rules", "hidden")


def declared_reward_access(base) -> str | None:
    """``reward_access`` as the env's own classes declare it (None: only the base default)."""
    for cls in type(base).__mro__:
        if cls is PalaestraEnv:
            return None
        if "reward_access" in vars(cls):
            return vars(cls)["reward_access"]
    return None


def check_reward_access(env_id: str, *, seeds: tuple[int, ...] = (0, 1), steps: int = 12, **kwargs) -> str:
    """Check the env's ``reward_access`` declaration and, for hidden rewards, its planning view.

    Returns the declared value; raises ``AssertionError`` saying what is wrong.
    """
    env = gym.make(env_id, **kwargs)
    base = env.unwrapped
    try:
        declared = declared_reward_access(base)
        assert declared is not None, (
            f"{env_id} ({type(base).__name__}) does not declare reward_access: set it on the class, "
            '"rules" where the reward follows from what the agent sees (board games), "hidden" where it '
            "reads labels only the scorer may see (goal attributes, gold facts, ground-truth masks)."
        )
        assert declared in REWARD_ACCESS, f"{env_id}: reward_access={declared!r}; use one of {REWARD_ACCESS}."
        assert base.reward_access == declared, (
            f"{env_id}: the instance's reward_access ({base.reward_access!r}) differs from the class's "
            f"({declared!r}); declare it on the class only."
        )
        if declared == "rules":
            assert not getattr(base, "scorer_info_keys", ()) and not getattr(base, "scorer_only", ()), (
                f"{env_id} declares reward_access='rules' but lists scorer-only keys or attributes: "
                "a reward that needs them is hidden; declare 'hidden'."
            )
            return declared
        hidden = set(SCORER_INFO_KEYS) | set(getattr(base, "scorer_info_keys", ()))
        for seed in seeds:
            env.reset(seed=seed)
            view = base.planning_env()
            assert view is not base and getattr(view, "reward_access", None) == "agent", (
                f"{env_id} has a hidden reward but planning_env() returned {type(view).__name__}, not an "
                "agent-side view; return palaestra.core.AgentSideEnv(self) (PalaestraEnv's default)."
            )
            rng = random.Random(seed)
            plan = oracle_plan(base)
            for _ in range(steps):
                action = plan.pop(0) if plan else random_native(base, rng)
                try:
                    _, reward, term, trunc, info = view.step(action)
                except Exception as exc:  # noqa: BLE001 - the kit reports any crash
                    if type(exc).__name__ == "InvalidAction":
                        continue
                    raise
                leaked = sorted(hidden & set(info))
                assert not leaked, f"{env_id}: the agent-side planning view's info carries {leaked}"
                if term or trunc:
                    truth = base.task.succeeded(base) if base.task is not None else False
                    if truth:
                        assert float(reward) == float(base.agent_reward(action, info)), (
                            f"{env_id}: the agent-side planning view paid {reward} for a success; it must pay "
                            "only the env's agent_reward proxy."
                        )
                    break
        return declared
    finally:
        env.close()


def _episode_end_pairs(env, base, seed: int, steps: int, use_oracle: bool):
    """Play one episode; yield (info['success'], task.succeeded) at its end, if it ended."""
    rng = random.Random(seed)
    _, info = env.reset(seed=seed)
    plan = oracle_plan(base) if use_oracle else []
    for _ in range(steps):
        action = plan.pop(0) if plan else random_native(base, rng)
        try:
            _, _, term, trunc, info = env.step(action)
        except Exception as exc:  # noqa: BLE001
            if type(exc).__name__ == "InvalidAction":
                continue
            raise
        if term or trunc:
            assert "success" in info, "info must carry 'success' at the episode's end"
            return bool(info["success"]), bool(base.task.succeeded(base))
    return None


def check_success_statement(env_id: str, *, seeds: tuple[int, ...] = (0, 1, 2, 3), steps: int = 40,
                            **kwargs) -> int:
    """``task.succeeded(env)`` (from ``Task.validate``) equals ``info['success']`` at every episode
    end, with the oracle (where one exists) and random actions. Returns how many ends were checked."""
    env = gym.make(env_id, **kwargs)
    base = env.unwrapped
    checked = 0
    try:
        for seed in seeds:
            for use_oracle in (True, False):
                pair = _episode_end_pairs(env, base, seed, steps, use_oracle)
                if pair is None:
                    continue
                reported, validated = pair
                assert reported == validated, (
                    f"{env_id} seed {seed} ({'oracle' if use_oracle else 'random'} actions): step reported "
                    f"success={reported} but task.validate says {validated}; decide success in one place "
                    "(Task.validate) and report that."
                )
                checked += 1
        assert checked > 0, f"{env_id}: no episode ended within {steps} steps on seeds {seeds}"
        return checked
    finally:
        env.close()
