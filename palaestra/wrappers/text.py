"""The language view of any palaestra env: text observations, text actions."""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from palaestra.core import FreeText, InvalidAction


class TextInterface(gym.Wrapper):
    """Observation = ``render_text()``, action = text parsed by ``parse_action``.

    An action that does not parse (or that the env refuses with ``InvalidAction``)
    leaves the state unchanged: the next observation is the error message followed by
    the unchanged state, the reward is 0, ``info["invalid_action"]`` holds the message.
    After ``max_invalid`` invalid actions in a row the episode is truncated (``None``
    never truncates). Multimodal envs that define ``image()`` also put the current
    image in ``info["image"]``.
    """

    def __init__(self, env: gym.Env, max_invalid: int | None = 10, max_length: int = 1 << 20):
        super().__init__(env)
        self.max_invalid = max_invalid
        self.observation_space = FreeText(max_length)
        self.action_space = FreeText(max_length)
        self._invalid_in_row = 0
        self._last_info: dict[str, Any] = {}

    @property
    def base(self):
        return self.env.unwrapped

    def _decorate(self, info: dict) -> dict:
        info = dict(info)
        image = getattr(self.base, "image", None)
        if callable(image) and "image" not in info:
            img = image()
            if img is not None:
                info["image"] = img
        return info

    def reset(self, *, seed=None, options=None):
        _, info = self.env.reset(seed=seed, options=options)
        self._invalid_in_row = 0
        info = self._decorate(info)
        self._last_info = info
        return self.base.render_text(), info

    def step(self, action: str):
        try:
            if not isinstance(action, str):
                raise InvalidAction(
                    f"the text view takes a string action, got {type(action).__name__}. "
                    "Send the action as text, e.g. " + self._example()
                )
            native = self.base.parse_action(action)
            _, reward, terminated, truncated, info = self.env.step(native)
        except InvalidAction as err:
            return self._invalid(str(err))
        self._invalid_in_row = 0
        info = self._decorate(info)
        self._last_info = info
        return self.base.render_text(), float(reward), terminated, truncated, info

    def _example(self) -> str:
        legal = self.base.legal_actions()
        if legal:
            return repr(self.base.format_action(legal[0]))
        return "as the instructions say"

    def _invalid(self, message: str):
        self._invalid_in_row += 1
        truncated = self.max_invalid is not None and self._invalid_in_row >= self.max_invalid
        info = {k: (v.copy() if hasattr(v, "copy") else v) for k, v in self._last_info.items() if k != "image"}
        info = self._decorate(info)
        info["invalid_action"] = message
        info["invalid_in_row"] = self._invalid_in_row
        if truncated:
            info["success"] = False
            message += f"\n(Truncated: {self._invalid_in_row} invalid actions in a row.)"
        obs = f"Invalid action: {message}\n\n{self.base.render_text()}"
        return obs, 0.0, False, truncated, info

    # text agents want these without unwrapping
    @property
    def instructions(self) -> str:
        return self.base.instructions
