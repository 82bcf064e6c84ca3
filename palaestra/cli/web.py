"""``palaestra serve``: the shop site for a desktop browser, or any env over OpenEnv.

    palaestra serve shop                              # the shop site on 127.0.0.1:8000
    palaestra serve palaestra/ConnectFour-v0 --openenv  # an OpenEnv server, one env per session
"""

from __future__ import annotations

from typing import Optional

import typer

from ._common import check_env_id, console, fail, parse_opts


def serve(
    target: str = typer.Argument(..., metavar="shop|ENV_ID", help="shop (the site), or an env id with --openenv."),
    openenv: bool = typer.Option(False, "--openenv", help="Serve ENV_ID with OpenEnv (HTTP + WebSocket sessions)."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on (OpenEnv)."),
    max_sessions: int = typer.Option(16, min=1, help="Concurrent OpenEnv sessions, one env each."),
    env_opt: list[str] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable; OpenEnv)."),
    port: int = typer.Option(8000, help="Port (0: any free port, shop only)."),
    catalog_seed: int = typer.Option(0, help="Seed of the generated catalogue."),
    n_products: int = typer.Option(1200, help="Number of generated products."),
    split: str = typer.Option("test", help="Task split whose instructions visitors get: test or train."),
    task: Optional[str] = typer.Option(None, help="Give every visitor this task (e.g. shop:test:3); default: a new task per visitor."),
    goals: bool = typer.Option(True, help="Show an instruction (and the score after buying); --no-goals to just browse."),
    items: str = typer.Option(None, help="WebShop items file (items_shuffle*.json) instead of the generated catalogue."),
    attributes: str = typer.Option(None, help="WebShop attributes file (items_ins_v2*.json)."),
    human_instructions: str = typer.Option(None, help="WebShop human instructions file (items_human_ins.json)."),
):
    """Serve the shop site for a desktop browser, or an env over OpenEnv (--openenv)."""
    if target != "shop":
        check_env_id(target)
        if not openenv:
            fail(f"say how to serve {target}: add --openenv (an OpenEnv server).",
                 f"e.g. palaestra serve {target} --openenv --port 8000")
        from palaestra.core import MissingDependency

        try:
            from palaestra.integrations.openenv import serve as serve_openenv
        except MissingDependency as err:
            fail(str(err))
        console.print(f"[bold]{target}[/] over OpenEnv at http://{host}:{port} (WebSocket sessions; Ctrl+C stops). "
                      "Client: openenv.core.generic_client.GenericEnvClient(base_url=...)")
        serve_openenv(target, parse_opts(env_opt, "--env-opt"), host=host, port=port, max_sessions=max_sessions)
        return
    if openenv:
        fail("the shop site is a web site, not an env: serve palaestra/WebShop-v0 --openenv for the env.")
    import itertools

    from palaestra.envs.web.shop.catalog import generate_catalog, load_webshop
    from palaestra.envs.web.shop.server import ShopServer
    from palaestra.envs.web.shop.tasks import ShopTasks
    from palaestra.envs.web.shop.world import ShopWorld

    if items:
        catalog = load_webshop(items, attributes, human_instructions)
    else:
        catalog = generate_catalog(catalog_seed, n_products)
    world = ShopWorld(catalog)
    tasks = ShopTasks(catalog)
    if split not in ("test", "train"):
        fail(f"--split {split!r}: use test or train.")
    counter = itertools.count()
    goal_data: dict[str, dict] = {}

    def goal_for(sid: str):
        if not goals:
            return None
        if task:
            sp, index = tasks.parse_id(task)
        else:
            sp, index = split, next(counter) % tasks.size(split)
        t = tasks.task(sp, index)
        goal_data[sid] = {"id": t.id, "data": t.data}
        return t.goal

    def order_note(session):
        for sid, s in world.sessions.items():
            if s is session and sid in goal_data:
                reward, details = tasks.reward(session["order"], goal_data[sid]["data"])
                return f"Task {goal_data[sid]['id']}: reward {reward:.3f} ({'success' if reward >= 1 else 'not quite'})."
        return None

    world.order_note = order_note
    server = ShopServer(world, port=port, goal_for_new_session=goal_for)
    server.start()
    console.print(f"[bold]Palaestra Shop[/bold] ({len(catalog)} products) at [link]{server.origin}/[/link]  (Ctrl+C stops)")
    try:
        server._thread.join()
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.stop()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
