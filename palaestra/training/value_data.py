"""Value targets from recorded searches (ReST-MCTS*, rStar-Math, AlphaMath).

Every recorded step whose agent searched carries the root's children (``search``: action,
visits, q). Replaying the episode from its seed gives the state at that step and, in the
env's planning view, the state after each child. From them:

- a **value example** per searched state: the visit-weighted mean of the children's q,
  from the view of the player to move (ReST-MCTS*'s process value target), weighted by
  the visits (a search that looked harder is trusted more);
- **child values**: each visited child's state gets ``q`` (one-player envs) or ``-q``
  (two-player: the child's mover is the other player), weighted by its visits;
- **pairs** (rStar's process preference pairs): children ``a, b`` of one state with
  ``q_a - q_b >= margin`` and at least ``min_visits`` visits each: ``a``'s state is better
  for the parent's mover.

Features come from a ``featurize(env)`` callable on the planning env positioned at the
state: the native observation for games (:func:`native_features`), the text view for
language models (:func:`text_features`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np


def native_features(env) -> np.ndarray:
    """The native observation of the current state, from the mover's side, flattened."""
    observe = getattr(env, "observe", None)
    if observe is None:
        raise TypeError(f"{type(env).__name__} has no observe(); use text_features for envs without a native view.")
    obs = observe()[0]
    if isinstance(obs, dict):
        obs = obs["observation"]
    return np.asarray(obs, dtype=np.float32).ravel()


def text_features(env) -> str:
    """The text view of the current state."""
    return env.render_text()


@dataclass
class ValueData:
    """Features and targets; ``episode`` ids keep held-out splits honest (whole episodes)."""

    x: list = field(default_factory=list)
    y: list[float] = field(default_factory=list)
    w: list[float] = field(default_factory=list)
    episode: list[int] = field(default_factory=list)
    child: list[bool] = field(default_factory=list)  # True: a child state's example
    pairs: list[tuple[Any, Any, int]] = field(default_factory=list)  # (better, worse, episode)
    envs: set[str] = field(default_factory=set)
    #: -1 in two-player envs: a pair's states belong to the other player, so the better
    #: child (for the parent's mover) is the one with the LOWER value for its own mover
    pair_sign: float = 1.0

    def __len__(self) -> int:
        return len(self.y)

    def split(self, holdout: float = 0.2, seed: int = 0) -> tuple["ValueData", "ValueData"]:
        """Whole episodes to either side, ``holdout`` of them held out."""
        ids = sorted(set(self.episode) | {e for *_, e in self.pairs})
        random.Random(seed).shuffle(ids)
        held = set(ids[: max(1, int(round(holdout * len(ids))))]) if len(ids) > 1 else set()
        a = ValueData(envs=set(self.envs), pair_sign=self.pair_sign)
        b = ValueData(envs=set(self.envs), pair_sign=self.pair_sign)
        for x, y, w, e, c in zip(self.x, self.y, self.w, self.episode, self.child):
            side = b if e in held else a
            side.x.append(x), side.y.append(y), side.w.append(w), side.episode.append(e), side.child.append(c)
        for p in self.pairs:
            (b if p[2] in held else a).pairs.append(p)
        return a, b


def from_recordings(paths, featurize: Callable = native_features, margin: float = 0.1, min_visits: int = 2,
                    children: bool = True, limit: int | None = None) -> ValueData:
    """Replay every recorded episode with searches and collect value examples and pairs."""
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.recordings.reader import episode_files, load_dicts, read_meta

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    data = ValueData()
    envs: dict[tuple, Any] = {}
    n_episode = 0
    try:
        for path in paths:
            files = episode_files(path)
            if not files:
                raise FileNotFoundError(f"{path}: no recordings (episodes.jsonl) there; record with "
                                        "`palaestra record ENV_ID --agent mcts`.")
            for file in files:
                meta = read_meta(file.parent)
                key = (meta["env_id"], repr(sorted((meta.get("env_kwargs") or {}).items())))
                if key not in envs:
                    envs[key] = gym.make(meta["env_id"], **(meta.get("env_kwargs") or {}))
                env = envs[key]
                for episode in load_dicts(file):
                    if not any(s.get("search") for s in episode.get("steps", [])):
                        continue
                    _replay(env, episode, featurize, data, n_episode, margin, min_visits, children)
                    data.envs.add(meta["env_id"])
                    n_episode += 1
                    if limit is not None and n_episode >= limit:
                        return data
    finally:
        for env in envs.values():
            env.close()
    return data


def _replay(env, episode: dict, featurize, data: ValueData, eid: int, margin: float, min_visits: int,
            children: bool) -> None:
    base = env.unwrapped
    plan = base.planning_env(true_reward=True)  # replaying labels: the recorded search's own objective
    two = getattr(plan, "num_players", 1) == 2
    data.pair_sign = -1.0 if two else 1.0
    env.reset(seed=episode.get("seed"))
    for step in episode["steps"]:
        search = [c for c in (step.get("search") or []) if c.get("visits") and c.get("q") is not None]
        if search:
            snap = base.get_state()
            plan.set_state(snap)
            total = sum(c["visits"] for c in search)
            data.x.append(featurize(plan))
            data.y.append(float(sum(c["visits"] * c["q"] for c in search) / total))
            data.w.append(float(total))
            data.episode.append(eid)
            data.child.append(False)
            feats = {}
            for c in search:
                if not children and c["visits"] < min_visits:
                    continue
                plan.set_state(snap)
                try:
                    _, _, term, trunc, _ = plan.step(plan.parse_action(c["action"]))
                except Exception:  # noqa: BLE001 - an action the env no longer takes: skip the child
                    continue
                if term or trunc:
                    continue  # a terminal child has an exact value; the search knows it without a model
                feats[c["action"]] = featurize(plan)
                if children:
                    data.x.append(feats[c["action"]])
                    data.y.append(float(-c["q"] if two else c["q"]))
                    data.w.append(float(c["visits"]))
                    data.episode.append(eid)
                    data.child.append(True)
            ranked = sorted((c for c in search if c["action"] in feats and c["visits"] >= min_visits),
                            key=lambda c: -c["q"])
            for i, a in enumerate(ranked):
                for b in ranked[i + 1:]:
                    if a["q"] - b["q"] >= margin:
                        data.pairs.append((feats[a["action"]], feats[b["action"]], eid))
        try:
            action = base.parse_action(step["action"])
        except Exception:  # noqa: BLE001 - a refused text action: the env did not move
            continue
        _, _, term, trunc, _ = env.step(action)
        if term or trunc:
            break
