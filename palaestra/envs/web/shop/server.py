"""The shop over HTTP: a Starlette app around :class:`~.world.ShopWorld`.

Sessions are named by the ``sid`` cookie (the env sets it in its browser context; a
person's browser gets a fresh one on the first visit). GET pages render the world's
pages as HTML; POST forms (buy, add to cart, checkout: no fields, all in the action URL)
answer 303 redirects.
"""

from __future__ import annotations

import uuid

from ..server import BackgroundServer
from .render import page_html
from .world import Redirect, ShopWorld


def shop_app(world: ShopWorld, goal_for_new_session=None):
    """The ASGI app. ``goal_for_new_session(sid) -> str | None`` names a goal for new visitors."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, RedirectResponse, Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        sid = request.cookies.get("sid")
        new = sid is None
        if new:
            sid = "web-" + uuid.uuid4().hex[:12]
        if sid not in world.sessions:
            world.open_session(sid, goal_for_new_session(sid) if goal_for_new_session else None)
        url = request.url.path + (("?" + request.url.query) if request.url.query else "")
        # POST forms carry no fields: what they act on is in the action URL's query
        result = world.handle(sid, request.method, url)
        if isinstance(result, Redirect):
            response: Response = RedirectResponse(result.url, status_code=303)
        else:
            status = 404 if result.kind == "notfound" else 200
            response = HTMLResponse(page_html(result), status_code=status)
        if new:
            response.set_cookie("sid", sid, httponly=True, samesite="strict")
        return response

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [Route("/favicon.ico", favicon), Route("/{path:path}", endpoint, methods=["GET", "POST"])]
    return Starlette(routes=routes)


class ShopServer(BackgroundServer):
    """The shop served on 127.0.0.1 and an ephemeral port (or ``port``)."""

    def __init__(self, world: ShopWorld, port: int = 0, host: str = "127.0.0.1", goal_for_new_session=None):
        super().__init__(shop_app(world, goal_for_new_session), host=host, port=port)
        self.world = world
