"""Random-legal-action steps per second through the Gymnasium API, side by side with
PettingZoo classic doing the same work (pick a random legal action from the mask, step).

palaestra's step includes the opponent's reply (two plies); PettingZoo's AEC step is one
ply, so the ratio counts in PettingZoo's favour. Run: ``python benchmarks/games.py``.
"""

from __future__ import annotations

import time

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

import palaestra  # noqa: F401

SECONDS = 3.0


def palaestra_steps(env_id: str) -> tuple[float, float]:
    env = gym.make(env_id)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=0)
    steps = plies = 0
    start = time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        legal = np.flatnonzero(obs["action_mask"])
        obs, _, term, trunc, info = env.step(int(legal[rng.integers(len(legal))]))
        steps += 1
        if term or trunc:
            plies += info["plies"]
            obs, _ = env.reset()
    elapsed = time.perf_counter() - start
    return steps / elapsed, plies / elapsed


def pettingzoo_steps(make) -> float:
    env = make()
    rng = np.random.default_rng(0)
    env.reset(seed=0)
    steps = 0
    start = time.perf_counter()
    while time.perf_counter() - start < SECONDS:
        obs, _, term, trunc, _ = env.last()
        if term or trunc:
            env.reset()
            continue
        legal = np.flatnonzero(obs["action_mask"])
        env.step(int(legal[rng.integers(len(legal))]))
        steps += 1
    return steps / (time.perf_counter() - start)


def main() -> None:
    from pettingzoo.classic import chess_v6, connect_four_v3

    console = Console()
    table = Table(title=f"Random legal steps/s ({SECONDS:.0f} s each, same process)")
    for col in ("game", "palaestra steps/s", "palaestra plies/s", "PettingZoo steps/s", "ratio (steps)", "target"):
        table.add_column(col, justify="right")
    for name, env_id, make, target in (
        ("Connect Four", "palaestra/ConnectFour-v0", connect_four_v3.env, 10),
        ("Chess", "palaestra/Chess-v0", chess_v6.env, 20),
    ):
        ours, plies = palaestra_steps(env_id)
        theirs = pettingzoo_steps(make)
        ratio = ours / theirs
        table.add_row(name, f"{ours:,.0f}", f"{plies:,.0f}", f"{theirs:,.0f}", f"{ratio:.1f}x",
                      f"{target}x {'met' if ratio >= target else 'NOT met'}")
    console.print(table)


if __name__ == "__main__":
    main()
