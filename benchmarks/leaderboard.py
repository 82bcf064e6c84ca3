"""Leaderboard figures, each side by side with a plain peer, on the shared harness.

1. Result store, one transaction per row: palaestra's ResultStore (WAL, busy retries) vs
   Python's sqlite3 with its defaults (rollback journal, 5 s busy timeout): rows/s for
   one writer (wall time: the cost is waiting on the disk), and rows kept when 4
   processes write at once.
2. Bradley-Terry with 500 bootstrap replicates: the vectorised Newton fit vs refitting
   each replicate with scipy.optimize.minimize (L-BFGS) (CPU time).
3. Eval overhead: `evaluate` (fresh seeded agent per episode, one store row per episode)
   vs a bare run_episode loop, on Connect Four (CPU time); and 2 workers vs 1 (wall
   time: the work is in child processes).

Contenders alternate and rounds repeat (benchmarks/_harness.py); figures are median
ratios. Run: ``python benchmarks/leaderboard.py [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import itertools
import math
import multiprocessing as mp
import os
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import WALL, alternate, report  # noqa: E402

ROWS = 200
COLS = ("agent", "agent_spec", "config_hash", "env_id", "env_kwargs", "env_hash", "seed", "ret", "success", "steps",
        "wall_s", "version", "created")
_FRESH = itertools.count()


def _fresh(tmp: Path, stem: str) -> Path:
    return tmp / f"{stem}-{next(_FRESH)}.sqlite"


def _row(w, i):
    return {"agent": f"w{w}", "agent_spec": "{}", "config_hash": f"c{w}", "env_id": "e", "env_kwargs": "{}",
            "env_hash": "h", "seed": i, "ret": 1.0, "success": 1, "steps": 3, "wall_s": 0.0, "version": "bench",
            "created": "2026-01-01T00:00:00+00:00"}


def _palaestra_writer(path, w, n, barrier):
    from palaestra.leaderboard.store import ResultStore

    store = ResultStore(path)
    barrier.wait()
    for i in range(n):
        store.add_episode(_row(w, i))


def _plain_writer(path, w, n, barrier):
    conn = sqlite3.connect(path)  # Python's defaults: rollback journal, timeout 5 s
    barrier.wait()
    for i in range(n):
        r = _row(w, i)
        try:
            _insert_plain(conn, r)
        except sqlite3.OperationalError:
            conn.rollback()  # "database is locked": the row is lost


def _insert_plain(conn, r):
    conn.execute(f"INSERT INTO episodes ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
                 tuple(r[c] for c in COLS))
    conn.commit()


def _plain_db(path):
    from palaestra.leaderboard.store import SCHEMA

    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.close()


def store_bench(tmp: Path, rounds: int, console: Console) -> None:
    from palaestra.leaderboard.store import ResultStore

    def ours() -> int:
        store = ResultStore(_fresh(tmp, "one"))
        for i in range(ROWS):
            store.add_episode(_row(0, i))
        store.close()
        return ROWS

    def plain() -> int:
        path = _fresh(tmp, "plain")
        _plain_db(path)
        conn = sqlite3.connect(path)
        for i in range(ROWS):
            _insert_plain(conn, _row(0, i))
        conn.close()
        return ROWS

    rates = alternate({"palaestra ResultStore": ours, "sqlite3 defaults (peer)": plain}, rounds=rounds, clock=WALL)
    report(f"store: {ROWS} rows, 1 writer, 1 transaction per row", rates,
           [("palaestra ResultStore", "sqlite3 defaults (peer)")], unit="rows/s", clock_name="wall time")

    kept: dict[str, list[int]] = {"palaestra ResultStore": [], "sqlite3 defaults (peer)": []}
    ctx = mp.get_context("spawn")

    def four(name, target):
        def run() -> int:
            path = _fresh(tmp, "four")
            if target is _plain_writer:
                _plain_db(path)
            else:
                ResultStore(path).close()
            barrier = ctx.Barrier(4)
            procs = [ctx.Process(target=target, args=(str(path), w, ROWS, barrier)) for w in range(4)]
            for p in procs:
                p.start()
            for p in procs:
                p.join()
            conn = sqlite3.connect(path)
            n = conn.execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
            conn.close()
            kept[name].append(n)
            return n

        return run

    rates = alternate({"palaestra ResultStore": four("palaestra ResultStore", _palaestra_writer),
                       "sqlite3 defaults (peer)": four("sqlite3 defaults (peer)", _plain_writer)},
                      rounds=rounds, warmup=0, clock=WALL)
    report(f"store: 4 writers x {ROWS} rows at once (spawn included)", rates,
           [("palaestra ResultStore", "sqlite3 defaults (peer)")], unit="rows kept/s", clock_name="wall time")
    for name, counts in kept.items():
        console.print(f"  {name}: rows kept per round {counts} of {4 * ROWS}")


def bt_bench(rounds: int) -> None:
    from scipy.optimize import minimize

    from palaestra.leaderboard.ratings import Game, bradley_terry

    rng = np.random.default_rng(0)
    strengths = np.array([0.0, 0.7, 1.5, 2.5, 3.0])
    games = []
    for _ in range(300):
        a, b = rng.choice(5, 2, replace=False)
        p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
        games.append(Game(str(a), str(b), float(rng.random() < p)))
    first = np.array([int(g.first) for g in games])
    second = np.array([int(g.second) for g in games])
    score = np.array([g.score for g in games])

    def fit(w):
        def nll(th):
            d = th[first] - th[second]
            lp, lq = -np.logaddexp(0, -d), -np.logaddexp(0, d)
            p = np.exp(lp)
            g = -w * (score - p)
            return (-np.sum(w * (score * lp + (1 - score) * lq)) + 0.005 * th @ th,
                    np.bincount(first, g, 5) - np.bincount(second, g, 5) + 0.01 * th)
        return minimize(nll, np.zeros(5), jac=True, method="L-BFGS-B").x

    def ours() -> int:
        bradley_terry(games, bootstrap=500, seed=0)
        return 500

    def peer() -> int:
        boot = np.random.default_rng(0)
        fit(np.ones(len(games)))
        for _ in range(500):
            fit(np.bincount(boot.integers(0, len(games), len(games)), minlength=len(games)).astype(float))
        return 500

    rates = alternate({"palaestra bradley_terry": ours, "scipy L-BFGS per replicate (peer)": peer}, rounds=rounds)
    report("Bradley-Terry, 300 games, 500 bootstrap replicates", rates,
           [("palaestra bradley_terry", "scipy L-BFGS per replicate (peer)")], unit="replicates/CPU-s")


def eval_bench(tmp: Path, rounds: int, episodes: int = 100) -> None:
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.agents import make
    from palaestra.leaderboard import EnvSpec, ResultStore, evaluate, parse_agents
    from palaestra.runner import run_episode

    env = gym.make("palaestra/ConnectFour-v0", opponent="random")
    spec = [EnvSpec("palaestra/ConnectFour-v0", {"opponent": "random"})]

    def bare() -> int:
        agent = make("random", seed=0)
        for s in range(episodes):
            run_episode(env, agent, seed=s)
        return episodes

    def ours() -> int:
        r = evaluate(parse_agents(["random"]), spec, episodes, 0, ResultStore(_fresh(tmp, "e")), workers=1,
                     progress=False)
        return r.stored

    rates = alternate({"evaluate, 1 worker": ours, "bare run_episode loop (peer)": bare}, rounds=rounds)
    report(f"eval: {episodes} random episodes of Connect Four", rates,
           [("evaluate, 1 worker", "bare run_episode loop (peer)")], unit="episodes/CPU-s")

    mcts = episodes // 8

    def workers(n):
        def run() -> int:
            return evaluate(parse_agents(["m200=mcts[simulations=200]"]), spec, mcts, 0,
                            ResultStore(_fresh(tmp, "m")), workers=n, progress=False).stored
        return run

    rates = alternate({"2 workers": workers(2), "1 worker": workers(1)}, rounds=rounds, warmup=0, clock=WALL)
    report(f"eval: {mcts} MCTS-200 episodes, 2 workers vs 1 (spawn included; 2-core machine, other work running)",
           rates, [("2 workers", "1 worker")], unit="episodes/s", clock_name="wall time")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (1..20)")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 20:
        ap.error("--rounds must be in 1..20")
    console = Console()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        store_bench(tmp, args.rounds, console)
        bt_bench(args.rounds)
        eval_bench(tmp, args.rounds)
    console.print("[dim]plain peer = Python sqlite3 defaults (rollback journal, 5 s timeout, a locked write is lost); "
                  "BT peer = scipy L-BFGS per replicate. Shared 2-core machine: ratios, not absolute speed.[/]")


if __name__ == "__main__":
    main()
