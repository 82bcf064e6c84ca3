"""Actions the kit's checks drive envs with: random, oracle, and their text forms."""

from __future__ import annotations

import random


def random_native(base, rng: random.Random):
    """A random native action the way :class:`~palaestra.agents.base.RandomAgent` draws one:
    a legal action where enumerable, else the env's ``sample_action(rng)``, else a sample
    of the action space (seeded from ``rng``)."""
    legal = base.legal_actions()
    if legal:
        return legal[rng.randrange(len(legal))]
    sample = getattr(base, "sample_action", None)
    if callable(sample):
        action = sample(rng)
        if action is not None:
            return action
    space = base.action_space
    space.seed(rng.randrange(2**31))
    return space.sample()


def oracle_plan(base) -> list:
    """The oracle's plan from where the env is, or [] when the task has none."""
    task = base.task
    if task is None or not task.has_oracle:
        return []
    try:
        return list(task.solve(base))
    except NotImplementedError:
        return []


def as_text(base, action) -> str:
    return action if isinstance(action, str) else base.format_action(action)
