"""The booking site over HTTP: a Starlette app around :class:`~.world.BookingWorld`.

Sessions are named by the ``sid`` cookie (the env sets it in its browser context; a
person's browser gets a fresh one on the first visit). GET pages render the world's
pages as HTML; POST forms (booking, sign-in, sign-out) carry their fields in the body
and answer a 303 redirect, or the form again with its validation errors.
"""

from __future__ import annotations

from ..server import BackgroundServer, session_site_app
from .render import page_html
from .world import FIELD_MAX, BookingWorld, Redirect

MAX_BODY = 16_384


async def _read_form(request):
    """The booking form's known fields, each cut to four times its bound; a body over
    ``MAX_BODY`` is refused with 413."""
    from starlette.responses import PlainTextResponse

    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return PlainTextResponse(f"form too large ({MAX_BODY} bytes at most).", status_code=413)
    async with request.form(max_files=0, max_fields=16) as data:
        return {k: str(v)[: FIELD_MAX.get(k, 0) * 4] for k, v in data.items() if k in FIELD_MAX}


def booking_app(world: BookingWorld, goal_for_new_session=None):
    """The ASGI app. ``goal_for_new_session(sid) -> str | None`` names a goal for new visitors."""
    return session_site_app(world, page_html, Redirect, goal_for_new_session, read_form=_read_form,
                            max_url=2000, max_sid=64)


class BookingServer(BackgroundServer):
    """The booking site served on 127.0.0.1 and an ephemeral port (or ``port``)."""

    def __init__(self, world: BookingWorld, port: int = 0, host: str = "127.0.0.1", goal_for_new_session=None):
        super().__init__(booking_app(world, goal_for_new_session), host=host, port=port)
        self.world = world
