"""A uvicorn server on 127.0.0.1 and an ephemeral port, run in a daemon thread.

Both the shop and the MiniWoB++ pages are served this way; the env that starts a server
stops it in ``close()``. Nothing listens on other interfaces.
"""

from __future__ import annotations

import socket
import threading
import time


class BackgroundServer:
    """Serve an ASGI app on ``127.0.0.1:<free port>`` until :meth:`stop`."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.app = app
        self.host = host
        self.port = port
        self._server = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "BackgroundServer":
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._sock = sock
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off", ws="none")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"palaestra-web-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the web server on {self.origin} did not start (see the log above).")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the web server on {self.origin} did not start within {timeout} s.")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._server = self._thread = self._sock = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def session_site_app(world, page_html, redirect_type, goal_for_new_session=None, read_form=None,
                     max_url: int | None = None, max_sid: int | None = None):
    """The Starlette app of a palaestra site (the shop, the booking site).

    Sessions are named by the ``sid`` cookie (a new visitor gets a fresh one); every path
    goes to ``world.handle(sid, method, url[, form])``, whose result is a ``redirect_type``
    (answered 303) or a page (rendered by ``page_html``; 404 for ``kind == "notfound"``).
    ``read_form(request) -> dict | Response`` reads a POST body (a Response refuses it);
    without it POST forms carry nothing and ``handle`` gets no form. ``max_url`` answers
    longer URLs 414; ``max_sid`` replaces longer cookies with a fresh session.
    ``goal_for_new_session(sid) -> str | None`` names a goal for new visitors.
    """
    import uuid

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        sid = request.cookies.get("sid")
        new = sid is None or (max_sid is not None and len(sid) > max_sid)
        if new:
            sid = "web-" + uuid.uuid4().hex[:12]
        if sid not in world.sessions:
            world.open_session(sid, goal_for_new_session(sid) if goal_for_new_session else None)
        url = request.url.path + (("?" + request.url.query) if request.url.query else "")
        if max_url is not None and len(url) > max_url:
            return PlainTextResponse(f"URL too long ({max_url:,} characters at most).", status_code=414)
        if read_form is None:
            result = world.handle(sid, request.method, url)
        else:
            form = None
            if request.method == "POST":
                form = await read_form(request)
                if isinstance(form, Response):
                    return form
            result = world.handle(sid, request.method, url, form)
        if isinstance(result, redirect_type):
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
