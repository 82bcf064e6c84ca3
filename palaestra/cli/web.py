"""``palaestra serve shop``: the shop site for a desktop browser."""

from __future__ import annotations

import typer

serve_app = typer.Typer(help="Serve a palaestra site on 127.0.0.1 for a desktop browser.", no_args_is_help=True)


@serve_app.command("shop")
def serve_shop(
    port: int = typer.Option(8000, help="Port on 127.0.0.1 (0: any free port)."),
    catalog_seed: int = typer.Option(0, help="Seed of the generated catalogue."),
    n_products: int = typer.Option(1200, help="Number of generated products."),
    split: str = typer.Option("test", help="Task split whose instructions visitors get: test or train."),
    task: str = typer.Option(None, help="Give every visitor this task (e.g. shop:test:3); default: a new task per visitor."),
    goals: bool = typer.Option(True, help="Show an instruction (and the score after buying); --no-goals to just browse."),
    items: str = typer.Option(None, help="WebShop items file (items_shuffle*.json) instead of the generated catalogue."),
    attributes: str = typer.Option(None, help="WebShop attributes file (items_ins_v2*.json)."),
    human_instructions: str = typer.Option(None, help="WebShop human instructions file (items_human_ins.json)."),
):
    """Open the shop in a desktop browser: search, product pages, options, cart, checkout."""
    import itertools

    from palaestra.cli._common import console
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
        raise typer.BadParameter("split must be test or train")
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
    app.add_typer(serve_app, name="serve")
