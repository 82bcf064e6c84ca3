"""Tasks: a goal in words, a validator and (where one exists) an oracle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Task:
    """One task of a suite.

    ``validate(world) -> (reward, done, details)`` judges the world after a step and is
    the single statement of success (:meth:`succeeded`): ``details["success"]`` where the
    validator states it, else ended with the full reward (``done and reward >= 1``). The
    env's ``step`` reports that same value as ``info["success"]`` at the episode's end;
    the contract kit checks it (``palaestra.testing.check_success_statement``).
    ``solve(world) -> list of actions`` is an oracle (BrowserGym's ``cheat``) where one
    exists. ``data`` carries the task's parameters (targets, answers, ...), picklable.
    """

    id: str
    goal: str
    split: str = "train"
    data: dict[str, Any] = field(default_factory=dict)
    validator: Callable[[Any], tuple[float, bool, dict]] | None = None
    oracle: Callable[[Any], list] | None = None

    def validate(self, world) -> tuple[float, bool, dict]:
        if self.validator is None:
            return 0.0, False, {}
        return self.validator(world)

    def succeeded(self, world) -> bool:
        """Whether ``world`` is a success by :meth:`validate` (see the class docstring)."""
        reward, done, details = self.validate(world)
        if isinstance(details, dict) and "success" in details:
            return bool(details["success"])
        return bool(done) and float(reward) >= 1.0

    def solve(self, world) -> list:
        if self.oracle is None:
            raise NotImplementedError(
                f"Task {self.id!r} has no oracle; use an agent that does not need one."
            )
        return list(self.oracle(world))

    @property
    def has_oracle(self) -> bool:
        return self.oracle is not None

    def __getstate__(self):
        # Validators/oracles may be closures; tasks are re-created from their suite,
        # so snapshots keep only what identifies the task.
        state = dict(self.__dict__)
        for key in ("validator", "oracle"):
            fn = state.get(key)
            if fn is not None and getattr(fn, "__qualname__", "").count("<locals>"):
                state[key] = None
        return state
