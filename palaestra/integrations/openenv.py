"""Serve any palaestra env with OpenEnv (``openenv-core``): HTTP and WebSocket, one env
per session, for TRL, torchforge, SkyRL or any OpenEnv client.

Actions are the env's text actions (``{"text": "4"}``); observations carry the text
view, the reward, ``done``, the instructions (after ``reset``) and the JSON-able part of
``info``. ``state()`` takes a snapshot of the session's env and returns its id
(``snapshot_id``); the action ``{"restore": ID}`` puts the env back there, so a search
can run over the network. Snapshots stay on the server (clients never send pickles),
the newest ``max_snapshots`` per session.

    palaestra serve palaestra/ConnectFour-v0 --openenv --port 8000

    from openenv.core.generic_client import GenericEnvClient
    with GenericEnvClient(base_url="http://127.0.0.1:8000").sync() as env:
        result = env.reset(seed=0)
        result = env.step({"text": "4"})
"""

from __future__ import annotations

import itertools
import json
import math
from collections import OrderedDict
from typing import Any, Optional

from palaestra.core import require

require("openenv.core.env_server", "openenv")

from openenv.core.env_server import Action, Environment, Observation, State  # noqa: E402
from pydantic import Field  # noqa: E402


class PalaestraAction(Action):
    text: str = Field(default="", description="the env's text action, e.g. '4' or 'search[red shoes]'")
    restore: Optional[str] = Field(default=None, description="a snapshot id from state(): put the env back there")


class PalaestraObservation(Observation):
    text: str = Field(default="", description="the env's text view after the action")
    instructions: Optional[str] = Field(default=None, description="rules and action grammar (after reset)")
    task_id: Optional[str] = Field(default=None)
    success: Optional[bool] = Field(default=None, description="whether the task was done (at the episode's end)")
    invalid_action: Optional[str] = Field(default=None, description="why the last action was refused, if it was")
    info: dict = Field(default_factory=dict, description="the JSON-able part of the env's info")


class PalaestraState(State):
    env_id: str = ""
    task_id: Optional[str] = None
    snapshot_id: Optional[str] = None
    done: bool = False


def _jsonable(info: dict) -> dict:
    out = {}
    for k, v in info.items():
        if k in ("image", "action_mask"):
            continue
        if isinstance(v, float) and not math.isfinite(v):
            continue
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            continue
        out[k] = v
    return out


class PalaestraOpenEnv(Environment):
    """An OpenEnv ``Environment`` over one palaestra env (text view)."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env_id: str, env_kwargs: dict | None = None, max_snapshots: int = 256):
        super().__init__()
        import gymnasium as gym

        import palaestra  # noqa: F401

        self.env_id = env_id
        self.env = gym.make(env_id, text=True, **(env_kwargs or {}))
        self.max_snapshots = int(max_snapshots)
        self._snapshots: OrderedDict[str, Any] = OrderedDict()
        self._ids = itertools.count(1)
        self._episode_id: str | None = None
        self._steps = 0
        self._done = False
        self._task_id: str | None = None
        self._last_text = ""

    def _obs(self, text, reward, done, info, instructions=None) -> PalaestraObservation:
        return PalaestraObservation(text=text, reward=float(reward), done=bool(done), instructions=instructions,
                                    task_id=info.get("task_id", self._task_id),
                                    success=info.get("success") if done else None,
                                    invalid_action=info.get("invalid_action"), info=_jsonable(info))

    def reset(self, seed: Optional[int] = None, episode_id: Optional[str] = None, **kwargs: Any) -> PalaestraObservation:
        text, info = self.env.reset(seed=seed, options=kwargs.get("options"))
        self._episode_id = episode_id or f"{self.env_id}:{seed}"
        self._steps, self._done = 0, False
        self._task_id = info.get("task_id")
        self._last_text = text
        return self._obs(text, 0.0, False, info, instructions=self.env.unwrapped.instructions)

    def step(self, action: PalaestraAction, timeout_s: Optional[float] = None, **kwargs: Any) -> PalaestraObservation:
        if isinstance(action, dict):
            action = PalaestraAction(**action)
        if action.restore is not None:
            snap = self._snapshots.get(action.restore)
            if snap is None:
                return self._obs(self._last_text, 0.0, self._done,
                                 {"invalid_action": f"no snapshot {action.restore!r} (the newest "
                                                    f"{self.max_snapshots} are kept); call state() to take one."})
            state, steps, done, text = snap
            self.env.unwrapped.set_state(state)
            self._steps, self._done, self._last_text = steps, done, text
            return self._obs(text, 0.0, done, {})
        if self._done:
            return self._obs(self._last_text, 0.0, True, {"invalid_action": "the episode is over; reset() first."})
        text, reward, terminated, truncated, info = self.env.step(action.text)
        self._steps += 1
        self._done = bool(terminated or truncated)
        self._last_text = text
        return self._obs(text, reward, self._done, info)

    @property
    def state(self) -> PalaestraState:
        sid = f"s{next(self._ids)}"
        self._snapshots[sid] = (self.env.unwrapped.get_state(), self._steps, self._done, self._last_text)
        while len(self._snapshots) > self.max_snapshots:
            self._snapshots.popitem(last=False)
        return PalaestraState(episode_id=self._episode_id, step_count=self._steps, env_id=self.env_id,
                              task_id=self._task_id, snapshot_id=sid, done=self._done)

    def close(self) -> None:
        self.env.close()


def make_app(env_id: str, env_kwargs: dict | None = None, max_sessions: int = 16):
    """The FastAPI app serving ``env_id`` (one env per WebSocket session)."""
    from openenv.core.env_server import create_fastapi_app

    def factory() -> PalaestraOpenEnv:
        return PalaestraOpenEnv(env_id, env_kwargs)

    return create_fastapi_app(factory, PalaestraAction, PalaestraObservation, max_concurrent_envs=max_sessions)


def serve(env_id: str, env_kwargs: dict | None = None, host: str = "127.0.0.1", port: int = 8000,
          max_sessions: int = 16) -> None:
    """Serve ``env_id`` with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(make_app(env_id, env_kwargs, max_sessions), host=host, port=port, log_level="warning")
