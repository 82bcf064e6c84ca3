"""The booking site over HTTP: a Starlette app around :class:`~.world.BookingWorld`.

Sessions are named by the ``sid`` cookie (the env sets it in its browser context; a
person's browser gets a fresh one on the first visit). GET pages render the world's
pages as HTML; POST forms (booking, sign-in, sign-out) carry their fields in the body
and answer a 303 redirect, or the form again with its validation errors.
"""

from __future__ import annotations

import uuid

from ..server import BackgroundServer
from .render import page_html
from .world import FIELD_MAX, BookingWorld, Redirect

MAX_BODY = 16_384


def booking_app(world: BookingWorld, goal_for_new_session=None):
    """The ASGI app. ``goal_for_new_session(sid) -> str | None`` names a goal for new visitors."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import (
        HTMLResponse,
        PlainTextResponse,
        RedirectResponse,
        Response,
    )
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        sid = request.cookies.get("sid")
        new = sid is None or len(sid) > 64
        if new:
            sid = "web-" + uuid.uuid4().hex[:12]
        if sid not in world.sessions:
            world.open_session(sid, goal_for_new_session(sid) if goal_for_new_session else None)
        url = request.url.path + (("?" + request.url.query) if request.url.query else "")
        if len(url) > 2000:
            return PlainTextResponse("URL too long (2,000 characters at most).", status_code=414)
        form = None
        if request.method == "POST":
            if int(request.headers.get("content-length") or 0) > MAX_BODY:
                return PlainTextResponse(f"form too large ({MAX_BODY} bytes at most).", status_code=413)
            async with request.form(max_files=0, max_fields=16) as data:
                form = {k: str(v)[: FIELD_MAX.get(k, 0) * 4] for k, v in data.items() if k in FIELD_MAX}
        result = world.handle(sid, request.method, url, form)
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


class BookingServer(BackgroundServer):
    """The booking site served on 127.0.0.1 and an ephemeral port (or ``port``)."""

    def __init__(self, world: BookingWorld, port: int = 0, host: str = "127.0.0.1", goal_for_new_session=None):
        super().__init__(booking_app(world, goal_for_new_session), host=host, port=port)
        self.world = world
