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

    return Starlette(routes=routes, lifespan=lifespan)


def _factory(env_id, name, env_kwargs, record_to, seed):
    from .session import PlaySession

    return lambda: PlaySession(env_id, name=name, env_kwargs=env_kwargs, record_to=record_to, seed=seed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(env_id: str, name: str = "anonymous", env_kwargs: dict | None = None, record_to=None,
          seed: int = 0, port: int = 8765, open_browser: bool = True) -> None:
    """Serve the page until Ctrl-C."""
    import uvicorn
    from rich.console import Console

    app = make_app(_factory(env_id, name, env_kwargs, record_to, seed))
    url = f"http://127.0.0.1:{port}/"
    console = Console()
    console.print(f"[bold]{env_id}[/]: open [link={url}]{url}[/] (Ctrl-C to stop)"
                  + (f"; episodes are recorded in [bold]{record_to}[/]" if record_to else ""))
    if open_browser:
        import webbrowser

        threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


class BackgroundServer:
    """The page served from a thread (tests, screenshots): ``with BackgroundServer(...) as url``."""

    def __init__(self, env_id: str, name: str = "tester", env_kwargs: dict | None = None, record_to=None,
                 seed: int = 0, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        self.app = make_app(_factory(env_id, name, env_kwargs, record_to, seed))
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
