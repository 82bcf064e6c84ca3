"""Recording cost: steps/s with and without RecordEpisodes, and reading back vs Minari.

    python benchmarks/recordings.py [--episodes 200]

Connect Four (text view) against the random opponent, a random agent. Figures are
ratios measured side by side in the same process.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import gymnasium as gym
from rich.console import Console
from rich.table import Table

import palaestra  # noqa: F401
from palaestra.agents import RandomAgent
from palaestra.recordings import load
from palaestra.runner import run_episode
from palaestra.wrappers import RecordEpisodes

ENV = "palaestra/ConnectFour-v0"


def run(env, n):
    bot = RandomAgent(seed=0)
    steps = 0
    start = time.perf_counter()
    for i in range(n):
        steps += run_episode(env, bot, seed=i).steps
    return steps, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=200)
    args = ap.parse_args()
    console = Console()
    tmp = tempfile.mkdtemp(prefix="palaestra-bench-")
    n = args.episodes

    bare = gym.make(ENV, text=True)
    run(bare, 5)
    steps, t_bare = run(bare, n)
    rec = RecordEpisodes(gym.make(ENV, text=True), os.path.join(tmp, "rec"), agent_name="random")
    steps_r, t_rec = run(rec, n)
    rec.close()
    size = os.path.getsize(os.path.join(tmp, "rec", "episodes.jsonl"))
    nosync = RecordEpisodes(gym.make(ENV, text=True), os.path.join(tmp, "nosync"), agent_name="random", fsync=False)
    steps_n, t_nosync = run(nosync, n)
    nosync.close()

    start = time.perf_counter()
    eps = list(load(os.path.join(tmp, "rec")))
    t_load = time.perf_counter() - start

    table = Table(title=f"recording {n} episodes of {ENV} (random vs random, text view)")
    for col in ("what", "figure", "ratio"):
        table.add_column(col, justify="right")
    table.add_row("bare env", f"{steps / t_bare:,.0f} steps/s", "1.00")
    table.add_row("RecordEpisodes (fsync per episode)", f"{steps_r / t_rec:,.0f} steps/s",
                  f"{(steps_r / t_rec) / (steps / t_bare):.2f} of bare")
    table.add_row("RecordEpisodes(fsync=False)", f"{steps_n / t_nosync:,.0f} steps/s",
                  f"{(steps_n / t_nosync) / (steps / t_bare):.2f} of bare")
    table.add_row("episodes.jsonl", f"{size / n / 1024:.1f} KiB/episode", "")
    table.add_row("palaestra.recordings.load", f"{len(eps) / t_load:,.0f} episodes/s", "1.00")

    try:
        import minari

        from palaestra.recordings.export import to_minari

        os.environ["MINARI_DATASETS_PATH"] = os.path.join(tmp, "minari")
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to_minari(os.path.join(tmp, "rec"), "bench/connectfour/random-v0")
        t_export = time.perf_counter() - start
        ds = minari.load_dataset("bench/connectfour/random-v0")
        start = time.perf_counter()
        m = sum(1 for _ in ds.iterate_episodes())
        t_minari = time.perf_counter() - start
        table.add_row("export to Minari (replayed natively)", f"{n / t_export:,.0f} episodes/s", "")
        table.add_row("minari iterate_episodes (peer)", f"{m / t_minari:,.0f} episodes/s",
                      f"palaestra load {(len(eps) / t_load) / (m / t_minari):.2f}x minari")
    except ImportError as err:  # pragma: no cover
        table.add_row("minari", f"not installed ({err})", "")
    console.print(table)


if __name__ == "__main__":
    main()
