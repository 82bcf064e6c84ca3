"""The base class every palaestra env subclasses (docs/architecture.md, "The env contract")."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from .errors import InvalidAction
from .task import Task


class PalaestraEnv(gym.Env):
    """A Gymnasium env with a language view, snapshots and tasks.

    Subclasses implement the Gymnasium API plus:

    - ``instructions``: rules and action grammar for a language model or a person;
    - ``render_text()``: the current state in words, goal included;
    - ``parse_action(text)`` / ``format_action(action)``: text <-> native action, with
      ``parse_action(format_action(a)) == a``; bad text raises ``InvalidAction``;
    - ``legal_actions()``: admissible native actions, or ``None`` where not enumerable;
    - ``get_state()`` / ``set_state(s)``: a picklable snapshot of everything that
      determines the future;
    - ``task``: the current :class:`~palaestra.core.Task`.

    Planning agents call ``planning_env()``: the env to search in. Where the reward
    follows from the rules (``reward_access = "rules"``: board games) it is the env
    itself, or a self-play copy for two-player games so that search backs up negamax
    values instead of peeking at a sampled opponent. Where the reward reads labels only
    the scorer may see (``reward_access = "hidden"``), it is an agent-side view
    (:class:`~palaestra.core.planning.AgentSideEnv`) that pays :meth:`agent_reward`
    instead; ``planning_env(true_reward=True)`` opts in to the true reward for
    collecting training data (see docs/architecture.md).
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 4}
    instructions: str = ""
    #: players that act in the env's own step loop (2 for self-play games)
    num_players: int = 1
    #: "rules" (the reward follows from what the agent sees) or "hidden" (it reads labels
    #: only the scorer may see: goal attributes, gold facts, ground-truth masks)
    reward_access: str = "rules"
    #: attributes an agent-side planning view refuses (e.g. ``("reward_of",)``)
    scorer_only: tuple[str, ...] = ()
    #: info keys only the scorer may see, beyond ``success`` (e.g. ``("iou",)``)
    scorer_info_keys: tuple[str, ...] = ()
    #: keys of ``task.data`` an agent may see in the planning view (the rest is the scorer's)
    public_task_keys: tuple[str, ...] = ()

    def __init__(self, render_mode: str | None = None):
        super().__init__()
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported by {type(self).__name__}; "
                f"use one of {self.metadata['render_modes']} or None."
            )
        self.render_mode = render_mode
        self.task: Task | None = None

    # ---- the language view -------------------------------------------------------
    def render_text(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse_action(self, text: str):  # pragma: no cover - abstract
        raise NotImplementedError

    def format_action(self, action) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def legal_actions(self) -> list | None:
        return None

    # ---- snapshots ----------------------------------------------------------------
    def get_state(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def set_state(self, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- planning -----------------------------------------------------------------
    def planning_env(self, *, true_reward: bool = False):
        """The env a search runs in; see the class docstring."""
        if self.reward_access == "hidden" and not true_reward:
            from .planning import AgentSideEnv

            return AgentSideEnv(self)
        return self

    def agent_reward(self, action, info: dict) -> float:
        """The reward an agent-side search backs up in a hidden-reward env, computed only
        from what the agent may see (called right after ``step(action)`` with its
        ``info``). 0 by default: the search then leans on its critic or value model.
        Envs override it with a documented proxy (e.g. a reranker score)."""
        return 0.0

    def to_play(self) -> int:
        """Index of the player to move (0 unless the env is multi-player)."""
        return 0

    # ---- helpers ------------------------------------------------------------------
    def check_action(self, action) -> None:
        """Raise InvalidAction unless ``action`` is in the action space and legal."""
        if not self.action_space.contains(action):
            raise InvalidAction(
                f"{action!r} is not in the action space {self.action_space}. "
                "Pass an action from that space (or use the text view)."
            )
        legal = self.legal_actions()
        if legal is not None and action not in legal:
            shown = [self.format_action(a) for a in legal[:40]]
            more = "" if len(legal) <= 40 else f" (and {len(legal) - 40} more)"
            raise InvalidAction(
                f"{self.format_action(action)!r} is not legal now. Legal: "
                + ", ".join(shown)
                + more,
                allowed=shown,
            )

    def render(self):
        if self.render_mode == "ansi":
            return self.render_text()
        return None
