"""`palaestra eval`, `palaestra tournament`, `palaestra leaderboard`."""

from __future__ import annotations

from typing import Optional

import typer

from ._common import check_env_id, check_options, console, fail, parse_opts, writable_file

_DB_HELP = "The SQLite result store (created if missing)."
_DEFAULT_DB = "recordings/leaderboard.sqlite"


def _agents(values, agent_opt):
    from palaestra.leaderboard.spec import parse_agents

    try:
        specs = parse_agents(values, parse_opts(agent_opt, "--agent-opt"))
        for spec in specs:
            # fail now, on an unknown name or option, not in every worker
            check_options(f"agent {spec.label or spec.target!r}", spec.factory(), spec.options, " (--agent-opt)")
    except ValueError as err:
        fail(str(err))
    return specs


def _check_envs(env_ids: list[str]):
    for env_id in env_ids:
        check_env_id(env_id)


def _check_game(env_id: str, kwargs: dict) -> None:
    """A tournament needs a two-player game; say so before planning any game."""
    from ._common import make_env

    env = make_env(env_id, **kwargs)
    try:
        two = getattr(env.unwrapped.planning_env(), "num_players", 1) == 2
    finally:
        env.close()
    if not two:
        fail(f"{env_id} is not a two-player game, so it cannot host a tournament.",
             "Use `palaestra eval --agent A --agent B --env ENV_ID` to compare agents on it.")


def _errors(errors: list[str], failed: int):
    if failed:
        console.print(f"[red]{failed} failed[/] (not stored; a rerun retries them). First error:")
        console.print(errors[0], markup=False, highlight=False)


def _interrupted(db: str):
    console.print(f"\n[yellow]Interrupted.[/] Every result finished so far is stored in {db}; "
                  "rerun the same command to resume (stored results are skipped).")
    raise typer.Exit(130)


def eval_cmd(
    agent: list[str] = typer.Option(..., "--agent", help="Agent spec (repeatable or comma-separated): "
                                    "NAME, NAME[k=v,...], LABEL=NAME[...], or module:attr[...]."),
    env: list[str] = typer.Option(..., "--env", help="Env id (repeatable)."),
    episodes: int = typer.Option(20, min=1, help="Episodes per agent and env."),
    seed: int = typer.Option(0, help="Episode i uses seed + i (the same seeds for every agent)."),
    workers: Optional[int] = typer.Option(None, min=1, help="Parallel workers (default: up to 4 CPUs)."),
    backend: str = typer.Option("local", help="local (processes) or ray."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (default: start a local instance)."),
    db: str = typer.Option(_DEFAULT_DB, help=_DB_HELP),
    agent_opt: list[str] = typer.Option(None, "--agent-opt", help="Option key=value for every agent (repeatable)."),
    env_opt: list[str] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable)."),
    text: Optional[bool] = typer.Option(None, "--text/--native", help="Language or native view (default: the agent's)."),
    show: bool = typer.Option(True, "--show/--no-show", help="Print the leaderboard of these envs afterwards."),
):
    """Evaluate agents on envs over seeded episodes; every episode becomes a row in the store.

    Resumable: episodes already stored for the same agent configuration, env and seed are skipped.
    """
    from palaestra.leaderboard.report import print_summary, summarize
    from palaestra.leaderboard.runner import EnvSpec, evaluate
    from palaestra.leaderboard.store import ResultStore

    if backend not in ("local", "ray"):
        fail(f"--backend {backend!r}: use local or ray.")
    specs = _agents(agent, agent_opt)
    _check_envs(env)
    kwargs = parse_opts(env_opt, "--env-opt")
    writable_file(db, "result store")
    store = ResultStore(db)
    try:
        report = evaluate(specs, [EnvSpec(e, kwargs) for e in env], episodes, seed, store, workers, backend, text,
                          ray_address, progress=True, console=console)
    except KeyboardInterrupt:
        _interrupted(db)
    console.print(f"{report.planned} planned, {report.skipped} already stored, {report.stored} new rows in {db} "
                  f"({report.wall_s:.1f} s).")
    _errors(report.errors, report.failed)
    if show:
        print_summary(summarize(store, env), console)
    if report.failed:
        raise typer.Exit(1)


def tournament_cmd(
    env: str = typer.Option(..., "--env", help="A two-player game id, e.g. palaestra/ConnectFour-v0."),
    agents: list[str] = typer.Option(..., "--agent", help="Agent specs (repeatable or comma-separated), "
                                     "e.g. random,mcts50=mcts[simulations=50],stockfish[skill=3]."),
    games: int = typer.Option(10, min=1, help="Games per pair (colours alternate; even numbers balance them)."),
    seed: int = typer.Option(0, help="Game i uses seed + i (colours alternate with i)."),
    workers: Optional[int] = typer.Option(None, min=1, help="Parallel workers (default: up to 4 CPUs)."),
    backend: str = typer.Option("local", help="local (processes) or ray."),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (default: start a local instance)."),
    db: str = typer.Option(_DEFAULT_DB, help=_DB_HELP),
    env_opt: list[str] = typer.Option(None, "--env-opt", help="Env kwarg key=value, e.g. max_plies=200."),
    name: Optional[str] = typer.Option(None, help="A name stored with the games."),
    show: bool = typer.Option(True, "--show/--no-show", help="Print the ratings afterwards."),
):
    """Round-robin games between agents, colours alternated; OpenSkill and Bradley-Terry ratings."""
    from palaestra.leaderboard.report import print_summary, summarize
    from palaestra.leaderboard.runner import EnvSpec
    from palaestra.leaderboard.store import ResultStore
    from palaestra.leaderboard.tournament import tournament

    if backend not in ("local", "ray"):
        fail(f"--backend {backend!r}: use local or ray.")
    specs = _agents(agents, None)
    if len(specs) < 2:
        fail("a tournament needs at least two agents.", "e.g. --agent random --agent mcts50=mcts[simulations=50]")
    _check_envs([env])
    _check_game(env, parse_opts(env_opt, "--env-opt"))
    writable_file(db, "result store")
    store = ResultStore(db)
    try:
        report = tournament(specs, EnvSpec(env, parse_opts(env_opt)), games, seed, store, workers, backend,
                            ray_address, name, progress=True, console=console)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from err
    except KeyboardInterrupt:
        _interrupted(db)
    console.print(f"{report.planned} games planned, {report.skipped} already stored, {report.stored} new "
                  f"({report.wall_s:.1f} s).")
    _errors(report.errors, report.failed)
    if show:
        summary = summarize(store, [env])
        summary.envs = []
        print_summary(summary, console)
    if report.failed:
        raise typer.Exit(1)


def leaderboard_cmd(
    env: list[str] = typer.Option(None, "--env", help="Only these env ids (repeatable)."),
    db: str = typer.Option(_DEFAULT_DB, help=_DB_HELP),
    html: Optional[str] = typer.Option(None, "--html", help="Also write a static HTML page here."),
    screenshot: Optional[str] = typer.Option(None, "--screenshot", help="With --html: a PNG of the page (Chromium)."),
    bootstrap: int = typer.Option(500, min=0, help="Bootstrap resamples for rating intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap."),
):
    """Tables per env (success with 95% Wilson CI, mean return with bootstrap CI) and game ratings."""
    import os

    from palaestra.leaderboard.report import print_summary, summarize
    from palaestra.leaderboard.store import ResultStore

    if not os.path.exists(db):
        console.print(f"[yellow]{db} does not exist yet.[/] Run [bold]palaestra eval --agent random --env "
                      "palaestra/ConnectFour-v0 --episodes 20[/] (or pass --db).")
        raise typer.Exit(1)
    summary = summarize(ResultStore(db), env or None, bootstrap=bootstrap, seed=seed)
    print_summary(summary, console)
    if screenshot and not html:
        fail("--screenshot needs --html PATH (the page to photograph).")
    if html:
        from palaestra.leaderboard.html import write_html

        writable_file(html, "HTML page")
        path = write_html(summary, html)
        console.print(f"HTML leaderboard: [bold]{path}[/]")
        if screenshot:
            from palaestra.leaderboard.html import screenshot as shoot

            console.print(f"Screenshot: [bold]{shoot(path, screenshot)}[/]")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
    app.command("tournament")(tournament_cmd)
    app.command("leaderboard")(leaderboard_cmd)
