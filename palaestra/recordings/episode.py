"""Typed views of recorded episodes (the format is :mod:`palaestra.recordings.format`).

``observation`` is the text of the state *before* the action. ``search`` (optional) is
the list of root children of a searching agent: ``{"action", "visits", "q", "prior",
"critique"}``. ``image`` (optional) is a path, relative to the recording folder, of the
PNG the agent saw. ``Episode.return_`` holds ``"return"`` (a Python keyword);
``getattr(ep, "return")`` and ``ep["return"]`` work too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .format import EPISODE_KEYS, FINAL_IMAGE, FORMAT_VERSION, STEP_KEYS

__all__ = ["EPISODE_KEYS", "FORMAT_VERSION", "STEP_KEYS", "Episode", "Step"]


@dataclass
class Step:
    t: int
    observation: str
    action: str
    reward: float = 0.0
    terminated: bool = False
    truncated: bool = False
    info: dict[str, Any] = field(default_factory=dict)
    search: list[dict] | None = None
    image: str | None = None  # relative to the recording folder
    player: int | None = None  # who acted, in multi-player (self-play) envs
    extra: dict[str, Any] = field(default_factory=dict)  # other annotations

    @classmethod
    def from_dict(cls, d: dict) -> "Step":
        known = {k: d[k] for k in STEP_KEYS if k in d}
        known.setdefault("info", {})
        extra = {k: v for k, v in d.items() if k not in STEP_KEYS}
        return cls(**known, extra=extra)

    def to_dict(self) -> dict:
        out = {
            "t": self.t, "observation": self.observation, "action": self.action,
            "reward": self.reward, "terminated": self.terminated, "truncated": self.truncated,
            "info": self.info,
        }
        for key in ("search", "image", "player"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        out.update(self.extra)
        return out

    @property
    def best_child(self) -> dict | None:
        """The searched child with the highest Q (None without search)."""
        if not self.search:
            return None
        return max(self.search, key=lambda c: (c.get("q") is not None, c.get("q") or 0.0))


class Episode:
    """One recorded episode (a plain class, not a dataclass: ``"return"`` is a keyword,
    so ``dataclasses.asdict`` could not give the recording's keys; use :meth:`to_dict`)."""

    __slots__ = ("episode_id", "env_id", "task_id", "seed", "goal", "agent", "steps", "final_observation",
                 "return_", "success", "length", "created", "final_image", "extra", "root")

    def __init__(self, episode_id: str, env_id: str, task_id: str | None, seed: int | None, goal: str | None,
                 agent: str, steps: list[Step], final_observation: str, return_: float, success: bool,
                 length: int, created: str, final_image: str | None = None, extra: dict | None = None,
                 root: Path | None = None):
        self.episode_id, self.env_id, self.task_id, self.seed = episode_id, env_id, task_id, seed
        self.goal, self.agent, self.steps = goal, agent, steps
        self.final_observation, self.return_, self.success = final_observation, return_, success
        self.length, self.created, self.final_image = length, created, final_image
        self.extra = dict(extra or {})
        #: the recording folder the episode was read from (resolves image paths)
        self.root = root

    def __eq__(self, other) -> bool:
        return isinstance(other, Episode) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (f"Episode(env_id={self.env_id!r}, task_id={self.task_id!r}, seed={self.seed!r}, agent={self.agent!r}, "
                f"length={self.length}, return={self.return_!r}, success={self.success!r})")

    @classmethod
    def from_dict(cls, d: dict, root: Path | None = None) -> "Episode":
        missing = [k for k in EPISODE_KEYS if k not in d]
        if missing:
            raise ValueError(f"not a palaestra episode: keys {missing} are missing")
        kwargs = {k: d[k] for k in EPISODE_KEYS if k not in ("steps", "return")}
        extra = {k: v for k, v in d.items() if k not in EPISODE_KEYS and k != FINAL_IMAGE}
        return cls(
            **kwargs,
            steps=[Step.from_dict(s) for s in d["steps"]],
            return_=d["return"],
            final_image=d.get(FINAL_IMAGE),
            extra=extra,
            root=root,
        )

    def to_dict(self) -> dict:
        out = {
            "episode_id": self.episode_id, "env_id": self.env_id, "task_id": self.task_id,
            "seed": self.seed, "goal": self.goal, "agent": self.agent,
            "steps": [s.to_dict() for s in self.steps],
            "final_observation": self.final_observation, "return": self.return_,
            "success": self.success, "length": self.length, "created": self.created,
        }
        if self.final_image is not None:
            out[FINAL_IMAGE] = self.final_image
        out.update(self.extra)
        return out

    def __getitem__(self, key: str):
        if key == "return":
            return self.return_
        if key in EPISODE_KEYS or key == FINAL_IMAGE:
            return getattr(self, key)
        return self.extra[key]

    @property
    def ret(self) -> float:
        return self.return_

    @property
    def actions(self) -> list[str]:
        return [s.action for s in self.steps]

    def image_path(self, step: Step | int | None = None) -> Path | None:
        """Absolute path of a step's image (``None``: the final image)."""
        if isinstance(step, int):
            step = self.steps[step]
        rel = self.final_image if step is None else step.image
        if rel is None:
            return None
        return (self.root / rel) if self.root is not None else Path(rel)

    def load_image(self, step: Step | int | None = None):
        """The RGB uint8 array of a step's image (needs Pillow)."""
        import numpy as np
        from PIL import Image

        path = self.image_path(step)
        if path is None:
            return None
        return np.asarray(Image.open(path).convert("RGB"))


setattr(Episode, "return", property(lambda self: self.return_, doc="the episode's return"))
