"""``RecordEpisodes``: write every finished episode to a crash-safe JSON-lines file.

The folder gets ``meta.json`` (env id and kwargs, agent, instructions, versions,
created) and ``episodes.jsonl``: one line per finished episode, appended, flushed and
fsynced, so that a process killed with SIGKILL loses only the episode in flight (see
``palaestra.recordings`` for the format and the readers). A lock file (``.lock``, an
``flock`` released by the kernel when the process dies) refuses a second writer.
Images (segmentation overlays, screenshots) go to ``images/<episode_id>/NNNN.png``
beside it, referenced by relative path. The names, the line encoding, the lock and the
atomic writes are :mod:`palaestra.recordings.format`; this module fills the records.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import uuid
from pathlib import Path
from typing import Any, Iterable

import gymnasium as gym
import numpy as np

from palaestra.core import PalaestraError
from palaestra.recordings import format as fmt
from palaestra.recordings.format import RecordingLocked  # noqa: F401  (re-exported: callers catch it here)

#: info keys never kept (large or redundant with other fields)
DROP_INFO = ("image", "action_mask")
_SKIP = object()


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def jsonable(value, max_array: int = 256):
    """``value`` as JSON-able data, or ``_SKIP`` when it cannot be (big arrays, objects)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not np.isfinite(value):
            return str(value)
        return value
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        if value.size > max_array:
            return _SKIP
        return jsonable(value.tolist())
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = jsonable(v, max_array)
            if v is not _SKIP:
                out[str(k)] = v
        return out
    if isinstance(value, (list, tuple)):
        items = [jsonable(v, max_array) for v in value]
        return [v for v in items if v is not _SKIP]
    return _SKIP


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("palaestra", "gymnasium", "numpy", "open_spiel", "chess", "playwright",
                 "opencv-python-headless", "transformers", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _spec_kwargs(env: gym.Env) -> dict:
    spec = getattr(env, "spec", None)
    kwargs = dict(getattr(spec, "kwargs", None) or {})
    out = {}
    for k, v in kwargs.items():
        j = jsonable(v)
        out[k] = repr(v) if j is _SKIP else j
    return out


def _save_png(path: Path, image) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    try:
        from PIL import Image

        Image.fromarray(arr).save(path, format="PNG")
    except ImportError:  # pragma: no cover - pillow comes with the segmentation extra
        import cv2

        cv2.imwrite(str(path), arr[..., ::-1] if arr.ndim == 3 else arr)


class RecordEpisodes(gym.Wrapper):
    """Record every finished episode of ``env`` into the folder ``path``.

    Args:
        env: any palaestra env, native or text view (``gymnasium.make(id, text=True)``).
        path: the recording folder (created if needed; appended to if it already holds
            recordings of the same env).
        agent_name: stored in each episode (``"human:<name>"`` for people).
        keep_info: info keys to keep per step; ``None`` keeps every JSON-able key except
            ``image`` and ``action_mask``; ``()`` keeps none.
        save_images: write the image the agent saw (``info["image"]`` or ``env.image()``)
            as a PNG per step.
        env_id / env_kwargs: override what is read from ``env.spec``.
        fsync: ``fsync`` each episode line (the default; about 7 ms per episode on a
            virtual disk). Each line is written with one ``write`` call either way, so
            a killed *process* loses nothing written; ``fsync=False`` only risks the
            last episodes on a power cut or kernel crash (for bulk recording of fast envs).

    ``annotate(**fields)`` attaches fields to the *next* recorded step (the runner passes
    ``search=`` there for agents that search); ``rewind(n)`` drops the in-flight steps
    after the first ``n`` (undo in the human players). An episode still in flight at
    ``close()`` or at the next ``reset()`` is not written.
    """

    def __init__(
        self,
        env: gym.Env,
        path: str | os.PathLike,
        agent_name: str = "unknown",
        keep_info: Iterable[str] | None = None,
        save_images: bool = True,
        env_id: str | None = None,
        env_kwargs: dict | None = None,
        fsync: bool = True,
    ):
        super().__init__(env)
        self.fsync = fsync
        self.path = Path(path)
        self.agent_name = agent_name
        self.keep_info = None if keep_info is None else tuple(keep_info)
        self.save_images = save_images
        spec = getattr(env, "spec", None)
        self.env_id = env_id or (spec.id if spec is not None else type(env.unwrapped).__name__)
        self.env_kwargs = env_kwargs if env_kwargs is not None else _spec_kwargs(env)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = fmt.FolderLock(self.path)
        self._lock.acquire()
        try:
            self._write_meta()
            fmt.repair_tail(self.episodes_file, stacklevel=3)
        except BaseException:
            self._lock.release()
            raise
        self.episodes_written = 0
        self._episode: dict | None = None
        self._pending: dict[str, Any] = {}
        self._obs_text = ""
        self._image = None
        self.last_episode: dict | None = None

    # ---- files ---------------------------------------------------------------------
    @property
    def episodes_file(self) -> Path:
        return self.path / fmt.EPISODES_FILE

    def _write_meta(self) -> None:
        if (self.path / fmt.META_FILE).is_file():
            meta = fmt.read_meta(self.path)
            if meta.get("env_id") != self.env_id:
                raise PalaestraError(
                    f"{self.path} holds recordings of {meta.get('env_id')!r}, not {self.env_id!r}: "
                    "record each env into its own folder."
                )
            # other kwargs than the folder's first writer: every episode says which
            self._own_kwargs = meta.get("env_kwargs") != self.env_kwargs
            return
        self._own_kwargs = False
        fmt.write_meta(self.path, fmt.make_meta(
            env_id=self.env_id, env_kwargs=self.env_kwargs, agent=self.agent_name,
            instructions=getattr(self.env.unwrapped, "instructions", ""), versions=_versions(), created=_now(),
        ))

    def _append(self, record: dict) -> None:
        fmt.append_line(self.episodes_file, record, fsync=self.fsync)

    # ---- the wrapper ----------------------------------------------------------------
    def _text_of(self, obs) -> str:
        if isinstance(obs, str):
            return obs
        render_text = getattr(self.env.unwrapped, "render_text", None)
        return render_text() if callable(render_text) else repr(obs)

    def _image_of(self, info: dict):
        if not self.save_images:
            return None
        if isinstance(info, dict) and info.get("image") is not None:
            return info["image"]
        image = getattr(self.env.unwrapped, "image", None)
        return image() if callable(image) else None

    def _keep(self, info: dict) -> dict:
        if self.keep_info is None:
            items = {k: v for k, v in info.items() if k not in DROP_INFO}
        else:
            items = {k: info[k] for k in self.keep_info if k in info}
        out = jsonable(items)
        return out if isinstance(out, dict) else {}

    def reset(self, *, seed=None, options=None):
        obs, info = self.env.reset(seed=seed, options=options)
        base = self.env.unwrapped
        task = getattr(base, "task", None)
        self._episode = {
            "episode_id": uuid.uuid4().hex[:16],
            "env_id": self.env_id,
            "task_id": info.get("task_id", getattr(task, "id", None)),
            "seed": seed,
            "goal": getattr(task, "goal", None),
            "agent": self.agent_name,
            "steps": [],
            "created": _now(),
        }
        if self._own_kwargs:
            self._episode["env_kwargs"] = self.env_kwargs
        if options:
            opts = jsonable(options)
            if opts is not _SKIP and opts:
                self._episode["options"] = opts
        self._pending = {}
        self._obs_text = self._text_of(obs)
        self._image = self._image_of(info)
        return obs, info

    def annotate(self, **fields) -> None:
        """Attach ``fields`` (e.g. ``search=[...]``) to the next recorded step."""
        self._pending.update(fields)

    def _action_text(self, action) -> str:
        if isinstance(action, str):
            return action
        fmt = getattr(self.env.unwrapped, "format_action", None)
        if callable(fmt):
            try:
                return fmt(action)
            except Exception:  # noqa: BLE001 - an out-of-space action; step will say so
                pass
        j = jsonable(action)
        return json.dumps(j) if j is not _SKIP else repr(action)

    def _search(self, children) -> list[dict]:
        out = []
        for child in children or []:
            child = dict(child)
            if "action" in child and not isinstance(child["action"], str):
                child["action"] = self._action_text(child["action"])
            for key, cast in (("visits", int), ("q", float), ("prior", float)):
                if child.get(key) is not None:
                    child[key] = cast(child[key])
            child.setdefault("critique", None)
            j = jsonable(child)
            if j is not _SKIP:
                out.append(j)
        return out

    def step(self, action):
        if self._episode is None:
            raise PalaestraError("RecordEpisodes.step() before reset(): call env.reset(seed=...) first.")
        base = self.env.unwrapped
        action_text = self._action_text(action)  # before stepping: notation depends on the state
        player = base.to_play() if getattr(base, "num_players", 1) > 1 else None
        obs, reward, terminated, truncated, info = self.env.step(action)
        steps = self._episode["steps"]
        t = len(steps)
        record: dict[str, Any] = {
            "t": t,
            "observation": self._obs_text,
            "action": action_text,
            "reward": float(reward),
            "terminated": bool(terminated),
            "truncated": bool(truncated),
            "info": self._keep(info),
        }
        if player is not None:
            record["player"] = int(player)
        if self._image is not None:
            rel = fmt.step_image_path(self._episode["episode_id"], t)
            _save_png(self.path / rel, self._image)
            record["image"] = rel
        pending, self._pending = self._pending, {}
        if pending.get("search"):
            record["search"] = self._search(pending.pop("search"))
        pending.pop("search", None)
        for key, value in pending.items():
            j = jsonable(value)
            if j is not _SKIP:
                record[key] = j
        steps.append(record)
        self._obs_text = self._text_of(obs)
        self._image = self._image_of(info)
        if terminated or truncated:
            self._finish(info)
        return obs, reward, terminated, truncated, info

    def rewind(self, n_steps: int) -> None:
        """Keep only the first ``n_steps`` steps of the episode in flight (for undo).

        The caller restores the env's snapshot of that moment; the next observation is
        the one recorded before step ``n_steps``.
        """
        if self._episode is None:
            return
        steps = self._episode["steps"]
        if not 0 <= n_steps <= len(steps):
            raise ValueError(f"cannot rewind to step {n_steps}: the episode has {len(steps)} steps")
        if n_steps < len(steps):
            self._obs_text = steps[n_steps]["observation"]
            del steps[n_steps:]
            self._image = self._image_of({})
        self._pending = {}

    @property
    def steps_in_flight(self) -> int:
        return len(self._episode["steps"]) if self._episode is not None else 0

    def _finish(self, info: dict) -> None:
        ep = self._episode
        steps = ep["steps"]
        ep["final_observation"] = self._obs_text
        if self._image is not None:
            rel = fmt.final_image_path(ep["episode_id"])
            _save_png(self.path / rel, self._image)
            ep[fmt.FINAL_IMAGE] = rel
        ep["return"] = float(sum(s["reward"] for s in steps))
        ep["success"] = bool(info.get("success", False))
        ep["length"] = len(steps)
        record = fmt.order_episode(ep)
        self._append(record)
        self.episodes_written += 1
        self.last_episode = record
        self._episode = None

    def close(self):
        try:
            super().close()
        finally:
            self._episode = None
            self._lock.release()

    def __del__(self):
        lock = getattr(self, "_lock", None)
        if lock is not None:
            lock.release()

    @property
    def instructions(self) -> str:
        return getattr(self.env.unwrapped, "instructions", "")

