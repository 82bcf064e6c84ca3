"""Value models learned from search: does a value-guided MCTS need fewer simulations?

1. Record MCTS games on Connect Four (rollout MCTS, 200 simulations, against random and
   against MCTS opponents; training seeds only).
2. Train the native value network on the recorded q-values (visit-weighted value
   regression + pairwise loss on Q-ranked children); report held-out error, calibration
   and ranking accuracy on whole held-out episodes.
3. Head to head on held-out seeds: value-guided MCTS (no rollouts) at several budgets
   against rollout MCTS at a fixed budget, colours alternating; win rate (draws half)
   with 95% intervals, and CPU time per move of each side.

    python benchmarks/value_model.py [--games 200] [--train-games 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np


def _record(folder: str, games: int, sims: int) -> None:
    from palaestra.rollouts import collect

    half = games // 2
    collect("palaestra/ConnectFour-v0", "mcts", half, seed=0, agent_options={"simulations": sims, "seed": 1},
            record_to=f"{folder}/vs-random", in_flight=1, progress=False)
    collect("palaestra/ConnectFour-v0", "mcts", games - half, seed=half, agent_options={"simulations": sims, "seed": 2},
            env_kwargs={"opponent": "mcts"}, record_to=f"{folder}/vs-mcts", in_flight=1, progress=False)


class _Timed:
    """Wraps an agent to count its CPU time per move."""

    def __init__(self, agent):
        self.agent, self.cpu, self.moves = agent, 0.0, 0

    def __getattr__(self, name):
        return getattr(self.agent, name)

    def reset(self, env):
        self.agent.reset(env)

    def act(self, obs, info):
        t = time.process_time()
        a = self.agent.act(obs, info)
        self.cpu += time.process_time() - t
        self.moves += 1
        return a


def _match(make_hero, make_rival, games: int, seed0: int):
    import gymnasium as gym

    from palaestra.runner import run_episode

    score, hero_t, rival_t = [], _Timed(make_hero()), _Timed(make_rival())
    for g in range(games):
        env = gym.make("palaestra/ConnectFour-v0", opponent=rival_t, agent_player=g % 2)
        result = run_episode(env, hero_t, seed=seed0 + g)
        outcome = result.info.get("outcome")
        score.append(1.0 if outcome == "win" else 0.5 if outcome == "draw" else 0.0)
        env.close()
    return np.asarray(score), hero_t.cpu / max(1, hero_t.moves), rival_t.cpu / max(1, rival_t.moves)


def main() -> None:
    import torch

    torch.set_num_threads(1)
    import palaestra  # noqa: F401
    from palaestra.agents.mcts import MCTSAgent
    from palaestra.agents.value_search import value_mcts
    from palaestra.core.stats import wilson
    from palaestra.training.value import train_value
    from palaestra.training.value_data import from_recordings

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train-games", type=int, default=300)
    p.add_argument("--record-sims", type=int, default=200)
    p.add_argument("--games", type=int, default=200, help="games per budget in the head-to-head")
    p.add_argument("--rival-sims", type=int, default=100)
    p.add_argument("--budgets", default="12,25,50,100")
    args = p.parse_args()

    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        _record(folder, args.train_games, args.record_sims)
        data = from_recordings(folder)
    train, held = data.split(0.2, seed=0)
    model, report = train_value(train, heldout=held, epochs=40, pair_weight=0.5, seed=0)
    print(f"== value model: {len(data)} examples ({len(data.pairs)} pairs) from {args.train_games} recorded games "
          f"({time.perf_counter() - t0:.0f} s)")
    for line in report.lines():
        print("  " + line)

    print(f"\n== value-guided MCTS (no rollouts) vs rollout MCTS-{args.rival_sims}, {args.games} games per row, "
          "held-out seeds 10000+, colours alternating; score = wins + draws/2")
    print(f"{'value sims':>10} {'score':>7} {'95% CI (wins)':>15} {'cpu/move value':>15} {'cpu/move rollout':>17}")
    for budget in [int(b) for b in args.budgets.split(",")]:
        scores, hero_cpu, rival_cpu = _match(
            lambda: value_mcts(model, simulations=budget, seed=3, batch_size=4),
            lambda: MCTSAgent(simulations=args.rival_sims, seed=4), args.games, 10000)
        wins = int((scores == 1.0).sum())
        lo, hi = wilson(wins, len(scores))
        print(f"{budget:>10} {scores.mean():>7.3f} {f'[{lo:.2f}, {hi:.2f}]':>15} {hero_cpu * 1000:>12.1f} ms "
              f"{rival_cpu * 1000:>14.1f} ms")
    print(f"(total {time.perf_counter() - t0:.0f} s on this machine)")


if __name__ == "__main__":
    main()
