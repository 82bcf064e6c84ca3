"""The shop over HTTP: a Starlette app around :class:`~.world.ShopWorld`.

Sessions are named by the ``sid`` cookie (the env sets it in its browser context; a
person's browser gets a fresh one on the first visit). GET pages render the world's
pages as HTML; POST forms (buy, add to cart, checkout: no fields, all in the action URL)
answer 303 redirects.
"""

from __future__ import annotations

from ..server import BackgroundServer, session_site_app
from .render import page_html
from .world import Redirect, ShopWorld


def shop_app(world: ShopWorld, goal_for_new_session=None):
    """The ASGI app. ``goal_for_new_session(sid) -> str | None`` names a goal for new visitors.
    POST forms carry no fields: what they act on is in the action URL's query."""
    return session_site_app(world, page_html, Redirect, goal_for_new_session)


class ShopServer(BackgroundServer):
    """The shop served on 127.0.0.1 and an ephemeral port (or ``port``)."""

    def __init__(self, world: ShopWorld, port: int = 0, host: str = "127.0.0.1", goal_for_new_session=None):
        super().__init__(shop_app(world, goal_for_new_session), host=host, port=port)
        self.world = world
