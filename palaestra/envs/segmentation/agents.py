"""The RITM oracle clicker as an agent (``palaestra.agents.make("ritm")``)."""

from __future__ import annotations

from palaestra.agents.base import text_view


class ClickerAgent:
    """Clicks where the RITM simulator would (it reads the ground truth: an oracle),
    and says ``Finish`` once the target IoU is reached. Works in both views."""

    name = "ritm"

    def __init__(self, **_options):
        self.env = None

    def reset(self, env) -> None:
        self.env = env

    def act(self, observation, info):
        base = self.env.unwrapped
        action = base.oracle_action()
        return base.format_action(action) if text_view(self.env) else action
