"""``palaestra play ID --ui web``: a page on 127.0.0.1 where a person plays any env.

Starlette + uvicorn, three static files (no build step). Every env call runs on one
worker thread. The page shows the goal, the observation, legal actions as buttons
(where enumerable), a free-text action box, and per env: a clickable board (games,
from ``ui_state()``), a clickable image (left = positive point, right = negative,
a Finish button) for click-to-mask envs, a form per tool for tool-use envs, a search
box and label buttons for text-mode web pages, and for browser-mode web envs the live
page itself: a click on its picture becomes ``click(N)`` for the element under the
pointer, typing becomes ``fill(N, "text")`` (+ ``press("Enter")``).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

STATIC = Path(__file__).parent / "static"


def make_app(session_factory):
    """The Starlette app; ``session_factory()`` builds the PlaySession on the worker thread."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles

    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="palaestra-play")
    holder: dict = {}

    def build():
        holder["session"] = session_factory()

    worker.submit(build).result()

    async def call(fn, *args):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(worker, lambda: fn(holder["session"], *args))

    async def index(request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(request):
        return JSONResponse(await call(lambda s: s.state()))

    async def act(request):
        body = await request.json()
        return JSONResponse(await call(lambda s: s.act(str(body.get("action", "")))))

    async def click(request):
        body = await request.json()
        return JSONResponse(await call(lambda s: s.click_image(float(body["fx"]), float(body["fy"]),
                                                                bool(body.get("positive", True)))))

    async def page_click(request):
        body = await request.json()
        return JSONResponse(await call(lambda s: s.click_page(float(body["fx"]), float(body["fy"]))))

    async def page_type(request):
        body = await request.json()
        return JSONResponse(await call(lambda s: s.type_page(str(body.get("text", "")), bool(body.get("enter")))))

    async def page_png(request):
        png = await call(lambda s: s.page_png())
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    async def undo(request):
        return JSONResponse(await call(lambda s: s.undo()))

    async def new(request):
        body = await request.json() if (await request.body()) else {}
        seed = body.get("seed")
        return JSONResponse(await call(lambda s: s.new_episode(None if seed in (None, "") else int(seed))
                                       if "seed" in body else s.next_episode()))

    async def image(request):
        png = await call(lambda s: s.image_png())
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    def shutdown():
        session = holder.pop("session", None)
        if session is not None:
            app.state.report = worker.submit(session.report).result()
            worker.submit(session.close).result()
        worker.shutdown(wait=False)

    routes = [
        Route("/", index),
        Route("/api/state", state),
        Route("/api/act", act, methods=["POST"]),
        Route("/api/click", click, methods=["POST"]),
        Route("/api/undo", undo, methods=["POST"]),
        Route("/api/new", new, methods=["POST"]),
        Route("/api/image.png", image),
        Route("/api/page.png", page_png),
        Route("/api/page/click", page_click, methods=["POST"]),
        Route("/api/page/type", page_type, methods=["POST"]),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        shutdown()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.report = None
    return app


def _factory(env_id, name, env_kwargs, record_to, seed, options=None):
    from .session import PlaySession

    return lambda: PlaySession(env_id, name=name, env_kwargs=env_kwargs, record_to=record_to, seed=seed,
                               options=options)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PortTaken(OSError):
    """The port of the page is in use; the message says what to do."""


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:``port``, or :class:`PortTaken` saying what to do."""
    if not 0 < int(port) < 65536:
        raise PortTaken(f"port {port} is not a TCP port: give --port between 1 and 65535.")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", int(port)))
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise PortTaken(f"port {port} on 127.0.0.1 is taken ({err.strerror or err}): another `palaestra play "
                        f"--ui web` or another server holds it. Stop it, or pass another port, e.g. "
                        f"--port {free_port()}.") from None
    return sock


def describe_report(report: dict | None) -> str:
    """One or two sentences: what was recorded where, and that an episode in flight was not."""
    if not report:
        return "nothing recorded (the page never started a session)."
    parts = []
    finished = report.get("finished") or []
    if report.get("record_to") is None:
        parts.append(f"played {len(finished)} episode(s); nothing recorded (--no-record).")
    elif report.get("recorded"):
        parts.append(f"recorded {report['recorded']} episode(s) (seeds {', '.join(map(str, finished))}) "
                     f"in {report['record_to']} (see `palaestra recordings {report['record_to']}`).")
    else:
        parts.append(f"nothing recorded in {report['record_to']}: no episode was finished.")
    flight = report.get("in_flight")
    if flight:
        parts.append(f"The episode in flight (seed {flight['seed']}, {flight['steps']} step(s)) is not recorded.")
    return " ".join(parts)


def serve(env_id: str, name: str = "anonymous", env_kwargs: dict | None = None, record_to=None,
          seed: int = 0, port: int = 8765, open_browser: bool = True, console=None) -> dict | None:
    """Serve the page until Ctrl-C; then say what was recorded. Returns the report.

    The port is bound first: when it is taken, :class:`PortTaken` is raised before any
    URL is printed or the env is built.
    """
    import uvicorn
    from rich.markup import escape

    from palaestra.core.console import output_console

    console = console or output_console()
    sock = bind(port)
    try:
        app = make_app(_factory(env_id, name, env_kwargs, record_to, seed))
    except BaseException:
        sock.close()
        raise
    url = f"http://127.0.0.1:{port}/"
    console.print(f"[bold]{escape(env_id)}[/]: open [link={url}]{url}[/] (Ctrl-C to stop)"
                  + (f"; episodes are recorded in [bold]{escape(str(record_to))}[/]" if record_to
                     else "; not recording (--no-record)"))
    if open_browser:
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly first, then re-raised the Ctrl-C
    finally:
        sock.close()
        console.print(f"stopped: {escape(describe_report(app.state.report))}")
    return app.state.report


class BackgroundServer:
    """The page served from a thread (tests, screenshots): ``with BackgroundServer(...) as url``."""

    def __init__(self, env_id: str, name: str = "tester", env_kwargs: dict | None = None, record_to=None,
                 seed: int = 0, port: int | None = None, options: dict | None = None):
        import uvicorn

        self.port = port or free_port()
        self.app = make_app(_factory(env_id, name, env_kwargs, record_to, seed, options))
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> str:
        import time

        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self.url
            time.sleep(0.05)
        raise RuntimeError(f"the play server did not start on port {self.port}")

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
