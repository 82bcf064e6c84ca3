"""A small, real leaderboard to look at: ``python -m palaestra.leaderboard.showcase OUT_DIR``.

Runs (resumably, into ``OUT_DIR/showcase.sqlite``) random vs oracle on three envs, MCTS
vs random at Connect Four, a Connect Four tournament (random, MCTS-50, MCTS-400) and,
when Stockfish is installed, a chess tournament against Stockfish at two strengths;
then writes ``OUT_DIR/leaderboard.html`` and, with ``--screenshot PNG``, a picture of it
taken in headless Chromium (the one in docs/).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from . import EnvSpec, ResultStore, evaluate, parse_agents, print_summary, summarize, tournament
from .html import screenshot, write_html
from .reference import stockfish_path


def build(out: Path, workers: int = 2, episodes: int = 30, games: int = 10, console: Console | None = None) -> Path:
    console = console or Console()
    out.mkdir(parents=True, exist_ok=True)
    store = ResultStore(out / "showcase.sqlite")
    envs = [EnvSpec("palaestra/WebShop-v0"), EnvSpec("palaestra/ToolUse-v0"), EnvSpec("palaestra/ChunkSelection-v0")]
    evaluate(parse_agents(["random", "oracle"]), envs, episodes, 0, store, workers, console=console)
    evaluate(parse_agents(["random", "mcts50=mcts[simulations=50]"]), [EnvSpec("palaestra/ConnectFour-v0")], episodes,
             0, store, workers, console=console)
    tournament(parse_agents(["random", "mcts50=mcts[simulations=50]", "mcts400=mcts[simulations=400]"]),
               EnvSpec("palaestra/ConnectFour-v0"), games, 0, store, workers, console=console)
    if stockfish_path():
        tournament(parse_agents(["random", "sf-skill0=stockfish[skill=0,depth=1]", "sf-skill10=stockfish[skill=10,depth=6]"]),
                   EnvSpec("palaestra/Chess-v0", {"max_plies": 300}), max(2, (games // 2 + 1) // 2 * 2), 0, store, workers,
                   console=console)
    summary = summarize(store)
    print_summary(summary, console)
    return write_html(summary, out / "leaderboard.html", title="palaestra leaderboard (showcase)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--episodes", type=int, default=30)
    ap.add_argument("--games", type=int, default=10)
    ap.add_argument("--screenshot", type=Path, default=None)
    args = ap.parse_args(argv)
    page = build(args.out, args.workers, args.episodes, args.games)
    print(f"wrote {page}")
    if args.screenshot:
        print(f"wrote {screenshot(page, args.screenshot)}")


if __name__ == "__main__":
    main()
