"""Recording cost: steps/s with and without RecordEpisodes, and reading back vs Minari.

    python benchmarks/recordings.py [--episodes 100] [--rounds 3]

Connect Four (text view) against the random opponent, a random agent. Uses the shared
harness (benchmarks/_harness.py): contenders alternate, rounds repeat, figures are
median ratios. Writing is timed twice: in CPU time (the cost in this process) and in
wall time (which also counts the fsync waits on the disk, the point of fsync).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import warnings

import gymnasium as gym
from rich.console import Console

import palaestra  # noqa: F401
from palaestra.agents import RandomAgent
from palaestra.recordings import load
from palaestra.runner import run_episode
from palaestra.wrappers import RecordEpisodes

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import WALL, alternate, report  # noqa: E402

ENV = "palaestra/ConnectFour-v0"


def episodes_runner(env, n):
    seeds = itertools.count()

    def run() -> int:
        bot = RandomAgent(seed=0)
        return sum(run_episode(env, bot, seed=next(seeds)).steps for _ in range(n))

    return run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--episodes", type=int, default=100, help="episodes per contender per round (1..10000)")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (1..50)")
    args = ap.parse_args()
    if not (1 <= args.episodes <= 10_000 and 1 <= args.rounds <= 50):
        ap.error("--episodes must be in 1..10000 and --rounds in 1..50")
    console = Console()
    tmp = tempfile.mkdtemp(prefix="palaestra-bench-")
    n = args.episodes

    bare = gym.make(ENV, text=True)
    rec = RecordEpisodes(gym.make(ENV, text=True), os.path.join(tmp, "rec"), agent_name="random")
    nosync = RecordEpisodes(gym.make(ENV, text=True), os.path.join(tmp, "nosync"), agent_name="random", fsync=False)
    writers = {"bare env": episodes_runner(bare, n), "RecordEpisodes (fsync)": episodes_runner(rec, n),
               "RecordEpisodes(fsync=False)": episodes_runner(nosync, n)}
    pairs = [("RecordEpisodes (fsync)", "bare env"), ("RecordEpisodes(fsync=False)", "bare env")]
    title = f"recording {n} episodes of {ENV} (random vs random, text view)"
    report(title, alternate(writers, rounds=args.rounds), pairs, unit="steps/CPU-s")
    report(title, alternate(writers, rounds=args.rounds, clock=WALL), pairs, unit="steps/s", clock_name="wall time")
    rec.close()
    nosync.close()
    folder = os.path.join(tmp, "rec")
    written = sum(1 for _ in load(folder))
    size = os.path.getsize(os.path.join(folder, "episodes.jsonl"))
    console.print(f"episodes.jsonl: {size / written / 1024:.1f} KiB/episode ({written} episodes)")

    readers = {"palaestra.recordings.load": lambda: sum(1 for _ in load(folder))}
    try:
        import minari

        from palaestra.recordings.export import to_minari

        os.environ["MINARI_DATASETS_PATH"] = os.path.join(tmp, "minari")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            to_minari(folder, "bench/connectfour/random-v0")
        ds = minari.load_dataset("bench/connectfour/random-v0")
        readers["minari iterate_episodes (peer)"] = lambda: sum(1 for _ in ds.iterate_episodes())
    except ImportError as err:  # pragma: no cover
        console.print(f"minari not installed ({err}): no peer for reading")
    pairs = [("palaestra.recordings.load", "minari iterate_episodes (peer)")] if len(readers) == 2 else []
    report(f"reading {written} recorded episodes back", alternate(readers, rounds=args.rounds), pairs,
           unit="episodes/CPU-s")


if __name__ == "__main__":
    main()
