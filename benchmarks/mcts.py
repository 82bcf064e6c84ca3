"""MCTS benchmarks, each side by side with its peer in the same run.

1. Simulations per CPU-second on Connect Four with random rollouts (``_harness.py``:
   alternating rounds, CPU time, medians): palaestra's generic ``MCTSAgent`` (through the
   env's snapshots), palaestra's ``mcts-cpp`` agent (OpenSpiel's C++ search behind the
   Agent interface), OpenSpiel's Python ``MCTSBot`` and its C++ ``pyspiel.MCTSBot`` on
   pyspiel states directly; same positions, same simulation budget, solver on in all.
   Targets: mcts-cpp >= 3x the Python bot; the generic agent >= 1.5x.
2. Leaf batching: an evaluator that sleeps 50 ms per call, throughput (simulations/s)
   at batch 16 vs batch 1. Target >= 10x.
3. The tiny offline model on Connect Four against random: the plain LLM agent vs MCTS
   with the LLM's critique (and MCTS without it), success rates with Wilson 95% CIs.

Run: ``python benchmarks/mcts.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import alternate, report
from palaestra.core.stats import wilson

console = Console()


def positions(n: int, seed: int = 0):
    """Seeded Connect Four positions after 0-8 random plies (non-terminal)."""
    import gymnasium as gym

    import palaestra  # noqa: F401

    env = gym.make("palaestra/ConnectFour-v0", opponent=None).unwrapped
    rng = random.Random(seed)
    out = []
    while len(out) < n:
        env.reset(seed=0)
        for _ in range(rng.randrange(0, 9)):
            legal = env.legal_actions()
            _, _, term, _, _ = env.step(legal[rng.randrange(len(legal))])
            if term:
                break
        else:
            out.append(env.get_state())
    return env, out


def bench_speed(sims: int, n_positions: int, rounds: int = 5):
    """Simulations per CPU-second over the same positions, four searchers alternating."""
    import pyspiel
    from open_spiel.python.algorithms import mcts as os_mcts

    from palaestra.agents.mcts import MCTSAgent
    from palaestra.agents.openspiel_mcts import OpenSpielMCTSAgent

    env, states = positions(n_positions)
    spiel_states = [s["state"].to_spiel() for s in states]  # the bitboard state, as pyspiel
    game = spiel_states[0].get_game()

    def generic():
        total = 0
        for i, s in enumerate(states):
            env.set_state(s)
            agent = MCTSAgent(simulations=sims, c_puct=2.0, selection="ucb1", rollout="random", reuse=False, seed=i)
            agent.reset(env)
            agent.act(None, {})
            total += agent.stats["simulations"]
        return total

    def cpp_agent():
        total = 0
        for i, s in enumerate(states):
            env.set_state(s)
            agent = OpenSpielMCTSAgent(simulations=sims, uct_c=2.0, seed=i)
            agent.reset(env)
            agent.act(None, {})
            total += agent.stats["simulations"]
        return total

    def python_bot():
        total = 0
        for i, s in enumerate(spiel_states):
            bot = os_mcts.MCTSBot(game, 2.0, sims, os_mcts.RandomRolloutEvaluator(1, np.random.RandomState(i)),
                                  solve=True, random_state=np.random.RandomState(i))
            total += bot.mcts_search(s.clone()).explore_count
        return total

    def cpp_bot():
        total = 0
        for i, s in enumerate(spiel_states):
            bot = pyspiel.MCTSBot(game, pyspiel.RandomRolloutEvaluator(1, i), 2.0, sims, 1000, True, i, False)
            total += bot.mcts_search(s.clone()).explore_count
        return total

    rates = alternate({"palaestra mcts-cpp": cpp_agent, "palaestra mcts (generic, snapshots)": generic,
                       "OpenSpiel Python MCTSBot": python_bot, "OpenSpiel C++ MCTSBot": cpp_bot}, rounds=rounds)
    return report(f"Connect Four, random rollouts, {sims} simulations x {n_positions} positions", rates, [
        ("palaestra mcts-cpp", "OpenSpiel Python MCTSBot", 3.0),
        ("palaestra mcts-cpp", "OpenSpiel C++ MCTSBot", None),
        ("palaestra mcts (generic, snapshots)", "OpenSpiel Python MCTSBot", 1.5),
        ("palaestra mcts (generic, snapshots)", "OpenSpiel C++ MCTSBot", None),
    ], unit="simulations/CPU-s")


def bench_batching(seconds: float):
    from palaestra.agents.mcts import MCTSAgent

    env, states = positions(1)

    def sleepy(batch):  # one model call per batch of leaves
        time.sleep(0.05)
        return [0.0] * len(batch)

    rates = {}
    for bs in (1, 16):
        env.set_state(states[0])
        agent = MCTSAgent(simulations=None, time_budget=seconds, evaluator=sleepy, batch_size=bs, reuse=False, seed=0)
        agent.reset(env)
        t0 = time.perf_counter()
        agent.act(None, {})
        rates[bs] = agent.stats["simulations"] / (time.perf_counter() - t0)
    table = Table(title="Leaf batching with a 50 ms evaluator (virtual loss)")
    table.add_column("batch")
    table.add_column("simulations/s", justify="right")
    for bs, r in rates.items():
        table.add_row(str(bs), f"{r:.1f}")
    console.print(table)
    ratio = rates[16] / rates[1]
    console.print(f"ratio batch 16 / batch 1: [bold]{ratio:.1f}x[/] (target >= 10x)")
    return ratio


def bench_tiny(episodes: int):
    import gymnasium as gym
    import torch

    import palaestra  # noqa: F401
    from palaestra.agents.llm.tiny import tiny_model_path
    from palaestra.agents.llm.transformers_lm import TransformersLM
    from palaestra.agents.llm_agent import LLMAgent
    from palaestra.agents.mcts import MCTSAgent
    from palaestra.runner import run_episode

    torch.set_num_threads(1)
    lm = TransformersLM(tiny_model_path(), max_threads=1)
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
    makers = {
        "LLM agent (tiny)": lambda s: LLMAgent(llm=lm, retries=1, fallback="random", max_new_tokens=8, seed=s),
        "MCTS + critique (tiny)": lambda s: MCTSAgent(simulations=24, batch_size=8, llm=lm, critic="llm",
                                                      critic_mode="score", alpha=0.5, seed=s),
        "MCTS, no critique": lambda s: MCTSAgent(simulations=24, batch_size=8, seed=s),
    }
    table = Table(title=f"Connect Four vs random, {episodes} seeded games each, tiny offline model")
    for col in ("agent", "wins", "rate", "95% CI (Wilson)", "s/game"):
        table.add_column(col)
    rates = {}
    with console.status("playing...") as status:
        for name, mk in makers.items():
            wins, t0 = 0, time.perf_counter()
            for s in range(episodes):
                status.update(f"{name}: game {s + 1}/{episodes}")
                wins += run_episode(env, mk(s), seed=s).success
            lo, hi = wilson(wins, episodes)
            rates[name] = wins / episodes
            table.add_row(name, str(wins), f"{wins / episodes:.2f}", f"[{lo:.2f}, {hi:.2f}]",
                          f"{(time.perf_counter() - t0) / episodes:.2f}")
    console.print(table)
    return rates


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-tiny", action="store_true")
    args = ap.parse_args()
    bench_speed(sims=400 if args.quick else 1000, n_positions=5 if args.quick else 20, rounds=3 if args.quick else 5)
    bench_batching(seconds=1.0 if args.quick else 3.0)
    if not args.skip_tiny:
        bench_tiny(episodes=10 if args.quick else 40)


if __name__ == "__main__":
    main()
