"""Leaderboard figures, each side by side with a plain peer.

1. Result store, one transaction per row: palaestra's ResultStore (WAL, busy retries) vs
   Python's sqlite3 with its defaults (rollback journal, 5 s busy timeout): rows/s for
   one writer, and rows kept when 4 processes write at once.
2. Bradley-Terry with 500 bootstrap replicates: the vectorised Newton fit vs refitting
   each replicate with scipy.optimize.minimize (L-BFGS).
3. Eval overhead: `evaluate` (fresh seeded agent per episode, one store row per episode)
   vs a bare run_episode loop, on Connect Four; and 2 workers vs 1.

Run: ``python benchmarks/leaderboard.py``.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

ROWS = 200
COLS = ("agent", "agent_spec", "config_hash", "env_id", "env_kwargs", "env_hash", "seed", "ret", "success", "steps",
        "wall_s", "version", "created")


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
            conn.execute(f"INSERT INTO episodes ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
                         tuple(r[c] for c in COLS))
            conn.commit()
        except sqlite3.OperationalError:
            conn.rollback()  # "database is locked": the row is lost


def _plain_db(path):
    from palaestra.leaderboard.store import SCHEMA

    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    conn.close()


def store_bench(tmp: Path):
    from palaestra.leaderboard.store import ResultStore

    out = {}
    # one writer
    store = ResultStore(tmp / "one.sqlite")
    t = time.perf_counter()
    for i in range(ROWS):
        store.add_episode(_row(0, i))
    out["palaestra rows/s"] = ROWS / (time.perf_counter() - t)
    _plain_db(tmp / "plain.sqlite")
    conn = sqlite3.connect(tmp / "plain.sqlite")
    t = time.perf_counter()
    for i in range(ROWS):
        r = _row(0, i)
        conn.execute(f"INSERT INTO episodes ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
                     tuple(r[c] for c in COLS))
        conn.commit()
    out["plain rows/s"] = ROWS / (time.perf_counter() - t)
    # four writers at once
    ctx = mp.get_context("spawn")
    for name, target, path in (("palaestra", _palaestra_writer, tmp / "four.sqlite"),
                               ("plain", _plain_writer, tmp / "four-plain.sqlite")):
        if name == "plain":
            _plain_db(path)
        else:
            ResultStore(path).close()
        barrier = ctx.Barrier(4)
        procs = [ctx.Process(target=target, args=(str(path), w, ROWS, barrier)) for w in range(4)]
        t = time.perf_counter()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        out[f"{name} 4 writers s"] = time.perf_counter() - t
        out[f"{name} 4 writers kept"] = sqlite3.connect(path).execute("SELECT COUNT(*) FROM episodes").fetchone()[0]
    return out


def bt_bench():
    from scipy.optimize import minimize

    from palaestra.leaderboard.ratings import Game, bradley_terry

    rng = np.random.default_rng(0)
    strengths = np.array([0.0, 0.7, 1.5, 2.5, 3.0])
    games = []
    for _ in range(300):
        a, b = rng.choice(5, 2, replace=False)
        p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
        games.append(Game(str(a), str(b), float(rng.random() < p)))
    t = time.perf_counter()
    bradley_terry(games, bootstrap=500, seed=0)
    ours = time.perf_counter() - t

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

    t = time.perf_counter()
    fit(np.ones(len(games)))
    for _ in range(500):
        fit(np.bincount(rng.integers(0, len(games), len(games)), minlength=len(games)).astype(float))
    peer = time.perf_counter() - t
    return ours, peer


def eval_bench(tmp: Path, episodes: int = 100):
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.agents import make
    from palaestra.leaderboard import EnvSpec, ResultStore, evaluate, parse_agents
    from palaestra.runner import run_episode

    env = gym.make("palaestra/ConnectFour-v0", opponent="random")
    agent = make("random", seed=0)
    t = time.perf_counter()
    for s in range(episodes):
        run_episode(env, agent, seed=s)
    bare = time.perf_counter() - t
    spec = [EnvSpec("palaestra/ConnectFour-v0", {"opponent": "random"})]
    t = time.perf_counter()
    evaluate(parse_agents(["random"]), spec, episodes, 0, ResultStore(tmp / "e1.sqlite"), workers=1, progress=False)
    one = time.perf_counter() - t
    t = time.perf_counter()
    evaluate(parse_agents(["m200=mcts[simulations=200]"]), spec, episodes // 4, 0, ResultStore(tmp / "e2.sqlite"),
             workers=1, progress=False)
    mcts1 = time.perf_counter() - t
    t = time.perf_counter()
    evaluate(parse_agents(["m200=mcts[simulations=200]"]), spec, episodes // 4, 0, ResultStore(tmp / "e3.sqlite"),
             workers=2, progress=False)
    mcts2 = time.perf_counter() - t
    return bare, one, mcts1, mcts2


def main():
    console = Console()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        s = store_bench(tmp)
        ours, peer = bt_bench()
        bare, one, mcts1, mcts2 = eval_bench(tmp)
    table = Table(title="palaestra leaderboard vs plain peers")
    for col in ("what", "palaestra", "peer", "ratio"):
        table.add_column(col, justify="left" if col == "what" else "right")
    table.add_row("store: rows/s, 1 writer, 1 txn/row", f"{s['palaestra rows/s']:.0f}", f"{s['plain rows/s']:.0f}",
                  f"{s['palaestra rows/s'] / s['plain rows/s']:.2f}x")
    table.add_row(f"store: rows kept, 4 writers x {ROWS}", f"{s['palaestra 4 writers kept']}/{4 * ROWS}",
                  f"{s['plain 4 writers kept']}/{4 * ROWS}", "")
    table.add_row("store: 4 writers, seconds", f"{s['palaestra 4 writers s']:.2f}", f"{s['plain 4 writers s']:.2f}",
                  f"{s['plain 4 writers s'] / s['palaestra 4 writers s']:.2f}x")
    table.add_row("Bradley-Terry, 500 bootstraps, s", f"{ours:.3f}", f"{peer:.3f}", f"{peer / ours:.0f}x faster")
    table.add_row("eval 100 random episodes, s (peer: bare loop)", f"{one:.2f}", f"{bare:.2f}",
                  f"{one / bare:.2f}x the time")
    table.add_row("eval 25 MCTS-200 episodes, s: 2 workers vs 1 (spawn incl.)", f"{mcts2:.2f}", f"{mcts1:.2f}",
                  f"{mcts1 / mcts2:.2f}x faster")
    console.print(table)
    console.print("[dim]plain peer = Python sqlite3 defaults (rollback journal, 5 s timeout, a locked write is lost); "
                  "BT peer = scipy L-BFGS per replicate. Shared 2-core machine: ratios, not absolute speed.[/]")


if __name__ == "__main__":
    main()
