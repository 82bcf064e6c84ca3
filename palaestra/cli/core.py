"""`palaestra list`, `palaestra run`, `palaestra demo`."""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import Optional

import typer

from ._common import ENV_ID, console, did_you_mean, fail, make_agent, make_env, parse_opts

# the module whose presence tells that an extra is installed
_EXTRA_PROBE = {
    "games": "pyspiel", "web": "playwright", "tools": "jsonschema", "segmentation": "cv2",
    "retrieval": "bm25s", "llm": "transformers", "train": "trl", "recordings": "datasets",
}


def _system_ok(name: str) -> bool:
    return bool(shutil.which(name) or os.path.exists(f"/usr/games/{name}") or os.path.exists(f"/usr/bin/{name}"))


from palaestra.core.stats import wilson  # noqa: E402


def _ready(info) -> str:
    probe = _EXTRA_PROBE.get(info.extra)
    ok = probe is None or importlib.util.find_spec(probe) is not None
    missing = [s for s in info.system if not _system_ok(s)]
    if ok and not missing:
        return "[green]yes[/]"
    return f"[yellow]pip install 'palaestra[{info.extra}]'[/]" if not ok else f"[yellow]apt-get install -y {' '.join(missing)}[/]"


def list_envs(
    domain: Optional[str] = typer.Option(None, help="Only this domain: games, web, tools, segmentation, retrieval."),
    all_ids: bool = typer.Option(False, "--all", help="Every id, the 130 MiniWoB++ pages included."),
):
    """List the envs by domain: what each is and whether it is ready here."""
    from rich.table import Table

    from palaestra.registration import DOMAINS, all_env_infos

    if domain is not None and domain not in DOMAINS:
        fail(f"unknown domain {domain!r}.{did_you_mean(domain, DOMAINS)}", f"Domains: {', '.join(DOMAINS)}.")
    infos = [i for i in all_env_infos() if domain is None or i.domain == domain]
    table = Table(title="palaestra envs", show_lines=False)
    table.add_column("id", style="bold cyan", no_wrap=True)
    table.add_column("what it is", overflow="fold")
    table.add_column("ready", no_wrap=True)
    shown = 0
    for name in DOMAINS:
        group = [i for i in infos if i.domain == name]
        if not group:
            continue
        table.add_section()
        table.add_row(f"[bold]{name}[/]", "", "")
        pages = [i for i in group if i.id.startswith("palaestra/miniwob.")]
        for info in group:
            if info in pages and not (all_ids or domain == "web"):
                continue
            table.add_row(info.id, info.description, _ready(info))
            shown += 1
        if pages and not (all_ids or domain == "web"):
            table.add_row("palaestra/miniwob.<task>-v0", f"{len(pages)} MiniWoB++ pages in real Chromium "
                          "(`palaestra list --domain web` names them)", _ready(pages[0]))
            shown += 1
    console.print(table)
    console.print(f"{len(infos)} envs. Make one with [bold]gymnasium.make(id)[/] or [bold]gymnasium.make(id, text=True)[/].")


def run(
    env_id: str = typer.Argument(..., metavar=ENV_ID, help="An env id, e.g. palaestra/ConnectFour-v0 (`palaestra list`)."),
    agent: str = typer.Option("random", help="Agent name (see palaestra.agents.registry())."),
    episodes: int = typer.Option(10, min=1, help="Number of episodes."),
    seed: int = typer.Option(0, help="Episode i uses seed + i."),
    agent_opt: list[str] = typer.Option(None, "--agent-opt", help="Agent option key=value (repeatable)."),
    env_opt: list[str] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable)."),
    text: Optional[bool] = typer.Option(None, "--text/--native", help="Language or native view (default: what the agent prefers)."),
):
    """Run an agent for N episodes with a progress bar, then print a summary."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from palaestra.runner import run_episode

    bot = make_agent(agent, parse_opts(agent_opt, "--agent-opt"))
    use_text = getattr(bot, "prefers_text", False) if text is None else text
    env = make_env(env_id, text=use_text, **parse_opts(env_opt, "--env-opt"))
    results = []
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("success {task.fields[rate]}"), TimeRemainingColumn(), console=console) as progress:
        bar = progress.add_task(f"{agent} on {env_id}", total=episodes, rate="-")
        for i in range(episodes):
            results.append(run_episode(env, bot, seed=seed + i))
            rate = sum(r.success for r in results) / len(results)
            progress.update(bar, advance=1, rate=f"{rate:.0%}")
    env.close()
    n = len(results)
    wins = sum(r.success for r in results)
    lo, hi = wilson(wins, n)
    mean_ret = sum(r.ret for r in results) / n
    table = Table(title=f"{agent} on {env_id}, seeds {seed}..{seed + n - 1}")
    for col in ("episodes", "success (95% Wilson)", "mean return", "mean steps", "invalid actions", "s/episode"):
        table.add_column(col, justify="right")
    table.add_row(str(n), f"{wins / n:.0%} [{lo:.0%}, {hi:.0%}]", f"{mean_ret:+.3f}",
                  f"{sum(r.steps for r in results) / n:.1f}", str(sum(r.invalid_actions for r in results)),
                  f"{sum(r.wall_s for r in results) / n:.3f}")
    console.print(table)


def demo(
    simulations: int = typer.Option(200, help="MCTS simulations per move in the game."),
    games: int = typer.Option(12, min=1, help="Seeded games per agent on the closing leaderboard."),
    out: Optional[str] = typer.Option(None, help="Folder for the recordings (default recordings/demo-<time>)."),
    seed: int = typer.Option(0, help="Seed of every episode."),
):
    """A one-minute tour: an episode in each domain, recorded, then a small leaderboard."""
    from palaestra.demo import run_demo

    if out is not None:
        from ._common import writable_file

        writable_file(f"{out}/x", "recording folder")
    run_demo(out, seed=seed, simulations=simulations, games=games, console=console)


def register(app: typer.Typer) -> None:
    app.command("list")(list_envs)
    app.command("run")(run)
    app.command("demo")(demo)
