"""`palaestra play`, `palaestra record`, `palaestra recordings`, `palaestra export`."""

from __future__ import annotations

import datetime as _dt
import getpass
from pathlib import Path
from typing import Optional

import typer

from ._common import ENV_ID, check_env_id, console, fail, make_agent, make_env, parse_opts


def _out():
    """The console of these commands: the terminal's width, else COLUMNS or 100 (piped
    output keeps whole tables)."""
    from palaestra.core.console import output_console

    return output_console()


def _stamp() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001
        return "anonymous"


def _plan_seeds(folder: Path | None, seed: Optional[int], n: Optional[int], out=None) -> int:
    """The first seed to use in ``folder``: after the seeds it already holds when no
    --seed was given (and said so); with --seed, a clear warning when seeds repeat."""
    from palaestra.recordings.summary import held_seeds, seed_ranges

    held = held_seeds(folder) if folder is not None else []
    out = out or console
    if not held:
        return 0 if seed is None else seed
    where = f"{folder} already holds {len(held)} episode(s), seeds {seed_ranges(held)}"
    if seed is None:
        first = max(held) + 1
        out.print(f"{where}: continuing from seed {first} (pass --seed to choose).", highlight=False)
        return first
    wanted = set(range(seed, seed + n)) if n is not None else {seed}
    again = sorted(wanted & set(held))
    if again:
        out.print(f"[yellow]warning:[/] {where}; --seed {seed} records seed(s) {seed_ranges(again)} again "
                  f"(the same tasks twice). Drop --seed to continue after them (seed {max(held) + 1}).",
                  highlight=False)
    return seed


def play(
    env_id: str = typer.Argument(..., metavar=ENV_ID, help="An env id, e.g. palaestra/ConnectFour-v0 (`palaestra list`)."),
    ui: str = typer.Option("terminal", help="terminal or web (a page served on 127.0.0.1)."),
    name: Optional[str] = typer.Option(None, help="Your name in the recording (agent = human:<name>)."),
    record: bool = typer.Option(True, "--record/--no-record", help="Record the episodes (default: yes)."),
    out: Optional[Path] = typer.Option(None, help="Recording folder (default recordings/<Env>/human-<name>)."),
    seed: Optional[int] = typer.Option(None, help="Seed of the first episode; the next ones count up (default: 0, "
                                       "or after the seeds the recording folder already holds)."),
    env_opt: list[str] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable)."),
    port: int = typer.Option(8765, help="Port of the web page (--ui web)."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open the page in a browser (--ui web)."),
):
    """Play an env yourself (against the default opponent in games); recorded by default."""
    console = _out()
    from palaestra.play.terminal import default_folder

    check_env_id(env_id)
    name = name or _who()
    folder = None
    if ui not in ("terminal", "web"):
        fail(f"--ui {ui!r}: use terminal or web.")
    if record:
        folder = out or default_folder(env_id, f"human-{name}")
    seed = _plan_seeds(folder, seed, None, console)
    if ui == "terminal":
        from palaestra.play.terminal import play_terminal

        play_terminal(env_id, name=name, env_kwargs=parse_opts(env_opt), record_to=folder, seed=seed)
    elif ui == "web":
        from palaestra.play.web import PortTaken, serve

        try:
            serve(env_id, name=name, env_kwargs=parse_opts(env_opt), record_to=folder, seed=seed,
                  port=port, open_browser=open_browser)
        except PortTaken as err:
            fail(str(err))
    else:
        fail(f"--ui {ui!r}: use terminal or web.")


def record(
    env_id: str = typer.Argument(..., metavar=ENV_ID, help="An env id, e.g. palaestra/ConnectFour-v0 (`palaestra list`)."),
    agent: str = typer.Option("random", help="Agent name (see palaestra.agents.registry())."),
    episodes: int = typer.Option(10, min=1, help="Number of episodes to record."),
    out: Optional[Path] = typer.Option(None, help="Recording folder (default recordings/<Env>/<agent>-<time>)."),
    seed: Optional[int] = typer.Option(None, help="Episode i uses seed + i (default: 0, or after the seeds the "
                                       "--out folder already holds)."),
    agent_opt: list[str] = typer.Option(None, "--agent-opt", help="Agent option key=value (repeatable)."),
    env_opt: list[str] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable)."),
    text: Optional[bool] = typer.Option(None, "--text/--native", help="Language or native view (default: the agent's)."),
):
    """Record N episodes of an agent (with a progress bar) into a recording folder."""
    console = _out()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from palaestra.play.terminal import default_folder
    from palaestra.runner import run_episode
    from palaestra.wrappers import RecordEpisodes

    check_env_id(env_id)
    bot = make_agent(agent, parse_opts(agent_opt, "--agent-opt"))
    use_text = getattr(bot, "prefers_text", False) if text is None else text
    folder = out or default_folder(env_id, f"{agent}-{_stamp()}")
    seed = _plan_seeds(folder, seed, episodes, console)
    inner = make_env(env_id, text=use_text, **parse_opts(env_opt, "--env-opt"))
    try:
        env = RecordEpisodes(inner, folder, agent_name=getattr(bot, "name", agent) or agent)
    except (ValueError, RuntimeError) as err:
        inner.close()
        fail(f"cannot record into {str(folder)!r}: {err}", "Give another folder with --out.")
    wins = 0
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("success {task.fields[rate]}"), TimeRemainingColumn(), console=console) as progress:
            bar = progress.add_task(f"recording {agent} on {env_id}", total=episodes, rate="-")
            for i in range(episodes):
                wins += run_episode(env, bot, seed=seed + i).success
                progress.update(bar, advance=1, rate=f"{wins / (i + 1):.0%}")
    finally:
        env.close()
    console.print(f"{env.episodes_written} episodes (seeds {seed}-{seed + episodes - 1}) in [bold]{folder}[/] "
                  f"(`palaestra recordings {folder}`, `palaestra export {folder} --to hf --out DIR`)")


def recordings(path: Path = typer.Argument(Path("recordings"), metavar="PATH", help="A recording folder, or a folder above several.")):
    """Statistics of recordings per env: episodes, success rate, returns, lengths, agents, seeds."""
    console = _out()
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from palaestra.recordings import stats
    from palaestra.recordings.summary import seed_ranges

    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist; record with `palaestra record` or `palaestra play`.")
    s = stats(path)
    if s["episodes"] == 0:
        console.print(f"no episodes under {path}")
        raise typer.Exit(1)
    per_env = s["per_env"]
    table = Table(title=f"recordings under {escape(str(path))}: {s['episodes']} episodes of {len(per_env)} env(s)"
                  + (" (success and return per env, never pooled)" if len(per_env) > 1 else ""),
                  box=box.SIMPLE_HEAD, caption="return: mean (sd); length: min/median/max steps")
    for col in ("env", "episodes", "tasks", "success", "return (sd)", "length", "seeds"):
        table.add_column(col, justify="left" if col in ("env", "seeds") else "right", overflow="fold")
    for env_id, e in per_env.items():
        length = e["length"]
        table.add_row(escape(env_id), str(e["episodes"]), str(e["tasks"]), f"{e['success_rate']:.0%}",
                      f"{e['mean_return']:+.3f} ({e['std_return']:.3f})",
                      f"{length['min']}/{length['median']}/{length['max']}", seed_ranges(e["seeds"]) or "-")
    console.print(table)
    agents = Table(title="agents per env", box=box.SIMPLE_HEAD)
    for col in ("env", "agent", "episodes", "success", "mean return", "searched steps"):
        agents.add_column(col, justify="left" if col in ("env", "agent") else "right", overflow="fold")
    for env_id, e in per_env.items():
        for name, a in e["per_agent"].items():
            agents.add_row(escape(env_id), escape(name), str(a["episodes"]), f"{a['success_rate']:.0%}",
                           f"{a['mean_return']:+.3f}", f"{e['searched_steps']}/{e['steps']}"
                           if len(e["per_agent"]) == 1 else "")
    console.print(agents)
    if len(per_env) == 1:
        length = s["length"]
        top = max(h["count"] for h in length["histogram"]) or 1
        hist = Table(title=f"episode length: min {length['min']}, median {length['median']}, "
                           f"mean {length['mean']:.1f}, max {length['max']}")
        hist.add_column("length", justify="right")
        hist.add_column("episodes", justify="right")
        hist.add_column("")
        for h in length["histogram"]:
            span = str(h["from"]) if h["from"] == h["to"] else f"{h['from']}-{h['to']}"
            hist.add_row(span, str(h["count"]), "[cyan]" + "█" * round(30 * h["count"] / top) + "[/]")
        console.print(hist)
    else:
        console.print("[dim]episode length histograms: `palaestra recordings FOLDER` on one env's folder[/]")
    if s["skipped_lines"]:
        console.print(f"[yellow]{len(s['skipped_lines'])} incomplete line(s) skipped[/] (a writer killed "
                      "mid-write leaves one): " + ", ".join(f"{x['file']}:{x['line']}" for x in s["skipped_lines"]))


def export(
    path: Path = typer.Argument(..., metavar="PATH", help="A recording folder (or a folder above several)."),
    to: str = typer.Option("hf", help="hf (Hugging Face datasets) or minari."),
    out: Path = typer.Option(..., help="Output folder (hf: save_to_disk folder; minari: MINARI_DATASETS_PATH)."),
    per: str = typer.Option("step", help="hf: one row per step or per episode."),
    format: str = typer.Option("arrow", "--format", help="hf: arrow (save_to_disk) or parquet."),
    images: bool = typer.Option(False, "--images/--no-images", help="hf, per step: embed each step's image (a datasets.Image column 'pixels')."),
    dataset_id: Optional[str] = typer.Option(None, help="minari: the dataset id (default palaestra/<env>/<folder>-v0)."),
):
    """Export recordings to a Hugging Face dataset (Arrow/Parquet) or a Minari dataset."""
    console = _out()
    if not path.exists():
        fail(f"{str(path)!r} does not exist.", "Give a recording folder (palaestra record ... --out DIR).")
    if to not in ("hf", "minari"):
        fail(f"--to {to!r}: use hf or minari.")
    if to == "hf":
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from palaestra.recordings.export import count_episodes, export_hf

        total = count_episodes(path)
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            read = bar.add_task("reading episodes", total=total)
            write = bar.add_task(f"writing {format}", total=1)

            def progress(stage: str, n: int) -> None:
                if stage == "episodes":
                    bar.advance(read, n)
                else:
                    bar.update(read, completed=bar.tasks[read].completed, total=bar.tasks[read].completed)
                    bar.update(write, completed=1, description=f"wrote {n} rows ({format})")

            written = export_hf(path, out, per=per, fmt=format, images=images, progress=progress)
        how = "datasets.load_from_disk" if format == "arrow" else "datasets.load_dataset('parquet', data_files=...)"
        console.print(f"wrote [bold]{written}[/] (load it with {how})")
    elif to == "minari":
        from palaestra.recordings import read_meta
        from palaestra.recordings.export import to_minari

        if dataset_id is None:
            env = read_meta(path).get("env_id", "palaestra/env").split("/")[-1].lower()
            stem = "".join(c if c.isalnum() else "-" for c in path.resolve().name.lower()).strip("-") or "recording"
            dataset_id = f"palaestra/{env.rsplit('-v', 1)[0]}/{stem}-v0"
        try:
            ds, report = to_minari(path, dataset_id, out=out)
        except (ValueError, FileExistsError) as err:
            fail(f"cannot export to Minari dataset {dataset_id!r} in {str(out)!r}: {err}",
                 "Choose another --dataset-id or --out, or delete the existing dataset.")
        console.print(f"Minari dataset [bold]{dataset_id}[/] in {out}: {report['episodes']} episodes, "
                      f"{ds.total_steps} steps (load with MINARI_DATASETS_PATH={out} minari.load_dataset('{dataset_id}'))")
        if report["skipped_episodes"] or report["skipped_invalid_steps"]:
            console.print(f"[yellow]left out {report['skipped_episodes']} episodes ended by invalid text and "
                          f"{report['skipped_invalid_steps']} refused text steps (no native counterpart)[/]")


def register(app: typer.Typer) -> None:
    app.command("play")(play)
    app.command("record")(record)
    app.command("recordings")(recordings)
    app.command("export")(export)
