"""Stable-Baselines3 / sb3-contrib policies on the native view (MaskablePPO uses action_mask)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from palaestra.core import require

from .base import text_view

_ALGOS = {
    "MaskablePPO": "sb3_contrib:MaskablePPO",
    "PPO": "stable_baselines3:PPO",
    "A2C": "stable_baselines3:A2C",
    "DQN": "stable_baselines3:DQN",
    "QRDQN": "sb3_contrib:QRDQN",
    "TRPO": "sb3_contrib:TRPO",
    "RecurrentPPO": "sb3_contrib:RecurrentPPO",
}


def _algo(name: str):
    import importlib

    if name not in _ALGOS:
        raise ValueError(f"algo={name!r}: use one of {', '.join(_ALGOS)}.")
    module, _, attr = _ALGOS[name].partition(":")
    require(module, "rl")
    return getattr(importlib.import_module(module), attr)


def action_mask(env) -> np.ndarray:
    """The legal-action mask of a palaestra env (for ``sb3_contrib``'s ActionMasker)."""
    base = env.unwrapped
    mask = np.zeros(base.action_space.n, dtype=bool)
    legal = base.legal_actions()
    if legal:
        mask[list(legal)] = True
    return mask


def masked_env(env_id: str, **kwargs):
    """``gymnasium.make(env_id)`` wrapped in sb3-contrib's ActionMasker."""
    import gymnasium as gym

    require("sb3_contrib", "rl")
    from sb3_contrib.common.wrappers import ActionMasker

    return ActionMasker(gym.make(env_id, **kwargs), action_mask)


def train(env_id: str, total_timesteps: int = 10_000, algo: str = "MaskablePPO", seed: int = 0, n_envs: int = 1,
          env_kwargs: dict | None = None, policy: str | None = None, save: str | Path | None = None,
          progress_bar: bool = False, **algo_kwargs):
    """Train an SB3 policy on the native view of ``env_id``; returns the SB3 model."""
    import gymnasium as gym

    cls = _algo(algo)
    env_kwargs = dict(env_kwargs or {})
    probe = gym.make(env_id, **env_kwargs)
    is_dict = isinstance(probe.observation_space, gym.spaces.Dict)
    probe.close()
    if algo == "MaskablePPO":
        from stable_baselines3.common.env_util import make_vec_env

        vec = make_vec_env(lambda: masked_env(env_id, **env_kwargs), n_envs=n_envs, seed=seed)
    else:
        from stable_baselines3.common.env_util import make_vec_env

        vec = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs)
    policy = policy or ("MultiInputPolicy" if is_dict else "MlpPolicy")
    model = cls(policy, vec, seed=seed, verbose=0, device="cpu", **algo_kwargs)
    model.learn(total_timesteps=int(total_timesteps), progress_bar=progress_bar)
    if save is not None:
        model.save(str(save))
    return model


class SB3Agent:
    """A trained SB3 policy: ``path`` to a saved ``.zip`` (with ``algo``) or a ``model``.

    Acts on native observations; in the text view it reads the native observation from
    the env's ``observe()`` (the board games have it) and returns the action's text.
    MaskablePPO gets ``info["action_mask"]`` (or the env's legal actions) as
    ``action_masks``. ``deterministic`` picks the mode of the policy.
    """

    name = "sb3"

    def __init__(self, path: str | None = None, model=None, algo: str = "MaskablePPO", deterministic: bool = True,
                 device: str = "cpu", **_ignored):
        if model is None:
            if path is None:
                raise ValueError("SB3Agent needs path=MODEL.zip (saved with model.save) or model=<SB3 model>.")
            cls = _algo(algo)
            if not Path(path).exists() and not Path(str(path) + ".zip").exists():
                raise FileNotFoundError(f"no saved SB3 model at {path!r}; train one (palaestra.agents.sb3.train) first.")
            model = cls.load(str(path), device=device)
        self.model = model
        self.masked = type(model).__name__ == "MaskablePPO"
        self.deterministic = bool(deterministic)
        self.env = None

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)

    def act(self, observation, info):
        obs = observation
        if self.text or isinstance(observation, str):
            observe = getattr(self.base, "observe", None)
            if not callable(observe):
                raise TypeError(f"{type(self.base).__name__} gives text observations here and has no observe(); "
                                "run the SB3 agent on the native view (text=False).")
            obs, info = observe()
        kwargs = {}
        if self.masked:
            mask = (info or {}).get("action_mask")
            kwargs["action_masks"] = np.asarray(mask, dtype=bool) if mask is not None else action_mask(self.env)
        action, _ = self.model.predict(obs, deterministic=self.deterministic, **kwargs)
        action = int(np.asarray(action).item()) if np.asarray(action).size == 1 else action
        return self.base.format_action(action) if self.text else action
