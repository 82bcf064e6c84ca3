"""The oracle: follows the task's own solution (BrowserGym's ``cheat``)."""

from __future__ import annotations

from .base import text_view


class OracleAgent:
    """Plays ``env.task.solve(env)``; replans when off the plan.

    It replans when the plan is used up, when the env refused the last action
    (``info["invalid_action"]``), when the next planned action is not legal now, or
    (``replan="always"``) every step. Tasks without an oracle raise an error naming the
    env, so that leaderboards never silently compare against a missing baseline.
    """

    name = "oracle"

    def __init__(self, replan: str = "auto", **_ignored):
        if replan not in ("auto", "always"):
            raise ValueError(f"replan={replan!r}: use 'auto' or 'always'.")
        self.replan = replan
        self.env = None
        self.plan: list = []
        self.replans = 0

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)
        self.plan = []
        self._started = False

    def _solve(self):
        task = self.base.task
        if task is None or not task.has_oracle:
            raise NotImplementedError(
                f"{type(self.base).__name__}: task {getattr(task, 'id', None)!r} has no oracle (task.solve); "
                "the oracle agent cannot play it. Use another agent (e.g. mcts)."
            )
        self.plan = list(task.solve(self.base))
        if self._started:
            self.replans += 1
        self._started = True

    def act(self, observation, info):
        stale = not self.plan or self.replan == "always" or "invalid_action" in (info or {})
        if not stale:
            legal = self.base.legal_actions()
            if legal is not None and self.plan[0] not in legal:
                stale = True
        if stale:
            self._solve()
        if not self.plan:
            raise RuntimeError(f"the oracle of task {self.base.task.id!r} returned no action for a non-final state.")
        action = self.plan.pop(0)
        return self.base.format_action(action) if self.text else action
