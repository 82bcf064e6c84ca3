"""What a search may back up: the agent-side view of a hidden-reward env.

In board games the rules are the reward, so planning on the env's own ``step`` is fair
at test time (``reward_access = "rules"``). In web, tools, segmentation and retrieval the
reward reads labels only the scorer may see (goal attributes, gold facts, ground-truth
masks: ``reward_access = "hidden"``). A search that backs those rewards up is collecting
training data (Agent Q does it), not playing fair: such an env's ``planning_env()``
returns an :class:`AgentSideEnv`, whose ``step`` pays the env's documented agent-side
proxy (:meth:`PalaestraEnv.agent_reward`, 0 unless the env defines one) and whose
``info`` carries nothing the scorer alone may see. ``planning_env(true_reward=True)`` is
the explicit opt-in for data collection; agents record which one they searched with.
"""

from __future__ import annotations

from typing import Any

#: info keys a planning view never passes on (the env adds its own ``scorer_info_keys``)
SCORER_INFO_KEYS = ("success", "reward_details", "score", "gold")


class ScorerOnly(AttributeError):
    """Raised when an agent-side view is asked for something only the scorer may use."""


class AgentSideEnv:
    """A planning view that withholds the hidden reward.

    Everything an agent may use passes through (snapshots, legal actions, the text view,
    the task's goal); ``step`` returns the agent-side reward, and the attributes the env
    lists in ``scorer_only`` (e.g. ``reward_of``) are refused with :class:`ScorerOnly`.
    """

    reward_access = "agent"

    def __init__(self, env):
        object.__setattr__(self, "_env", env)
        blocked = set(getattr(env, "scorer_only", ())) | {"search_step", "validate_task"}
        object.__setattr__(self, "_blocked", frozenset(blocked))
        hidden = set(SCORER_INFO_KEYS) | set(getattr(env, "scorer_info_keys", ()))
        object.__setattr__(self, "_hidden_info", frozenset(hidden))

    # the view is a thin proxy: the env's own methods, minus the scorer's
    def __getattr__(self, name: str) -> Any:
        if name in self._blocked:
            raise ScorerOnly(
                f"{name!r} reads what only the scorer may see, and this is the agent-side planning view. "
                "Search on the agent-side reward (env.agent_reward), or collect training data with "
                "planning_env(true_reward=True) and record that you did."
            )
        return getattr(self._env, name)

    def __setattr__(self, name: str, value) -> None:
        setattr(self._env, name, value)

    @property
    def unwrapped(self):
        return self

    @property
    def wraps(self):
        """The env whose state this view steps (the same object: a search through the
        view moves that env, so it must put it back; see :func:`shares_state`)."""
        return self._env

    @property
    def task(self):
        """The task as an agent may see it: id, goal and split; no data, validator or
        oracle (they hold what the scorer alone may read)."""
        task = self._env.task
        if task is None:
            return None
        return _public_task(task, getattr(self._env, "public_task_keys", ()))

    def step(self, action):
        obs, _reward, terminated, truncated, info = self._env.step(action)
        proxy = float(self._env.agent_reward(action, info))
        public = {k: v for k, v in info.items() if k not in self._hidden_info}
        return obs, proxy, terminated, truncated, public

    def planning_env(self, *, true_reward: bool = False):
        if true_reward:
            raise ScorerOnly("an agent-side planning view cannot hand out the true reward; "
                             "ask the env itself: env.planning_env(true_reward=True).")
        return self

    def __repr__(self) -> str:
        return f"AgentSideEnv({self._env!r})"


def _public_task(task, public_keys=()):
    from .task import Task

    class PublicTask(Task):
        """What an agent may know of a task; its solution and verdict are the scorer's."""

        def solve(self, world) -> list:
            raise ScorerOnly(f"task {self.id!r}: the oracle's solution is the scorer's; an agent-side "
                             "planning view does not hand it out.")

        def validate(self, world):
            raise ScorerOnly(f"task {self.id!r}: the verdict is the scorer's; an agent-side planning view "
                             "does not hand it out.")

    data = {k: task.data[k] for k in public_keys if k in (task.data or {})}
    return PublicTask(id=task.id, goal=task.goal, split=task.split, data=data)


def shares_state(plan, env) -> bool:
    """True when stepping ``plan`` (a planning env) moves ``env`` itself, so a search must
    restore ``env`` afterwards: ``plan`` is ``env``, or an agent-side view of it."""
    return plan is env or getattr(plan, "wraps", None) is env
