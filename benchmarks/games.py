"""Board-game speed, each figure a ratio against a peer in the same run (``_harness.py``:
alternating rounds, CPU time, medians).

1. Single env through ``gymnasium.make`` against PettingZoo classic, random legal actions
   picked from the mask the same way on both sides; per step (a palaestra step is the
   agent's ply plus the opponent's reply, a PettingZoo AEC step one ply) and per ply.
   Connect Four (target >= 10x per step) and chess.
2. The native vector env (``make_vec(..., vectorization_mode="vector_entry_point")``, 64
   envs) against ``SyncVectorEnv`` of 64 single envs (target >= 10x) and, per ply,
   against a plain loop over raw OpenSpiel states (target > 1x); Connect Four and Hex.
3. The vector env and single envs agree move for move on 10,000 random games.

Run: ``python benchmarks/games.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import palaestra  # noqa: F401
from _harness import alternate, report


def _draws(n: int, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


# ---- 1. single env vs PettingZoo ------------------------------------------------------
def single_vs_pettingzoo(env_id, pz_make, steps: int, rounds: int, target):
    draws = _draws(steps)
    plies = {"n": 0}

    def ours():
        env = gym.make(env_id)
        obs, _ = env.reset(seed=0)
        done_plies = 0
        for i in range(steps):
            legal = obs["action_mask"].nonzero()[0]
            obs, _, term, trunc, info = env.step(int(legal[int(draws[i] * len(legal))]))
            if term or trunc:
                done_plies += info["plies"]
                obs, _ = env.reset()
        plies["n"] = done_plies + info["plies"]
        return steps

    def theirs():
        env = pz_make()
        env.reset(seed=0)
        done = 0
        for i in range(steps):
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.reset()
                continue
            legal = obs["action_mask"].nonzero()[0]
            env.step(int(legal[int(draws[i] * len(legal))]))
            done += 1
        return done

    rates = alternate({"palaestra": ours, "PettingZoo": theirs}, rounds=rounds)
    name = env_id.split("/")[1]
    ratios = report(f"{name}: random legal steps per CPU-second, gymnasium.make vs PettingZoo classic", rates,
                    [("palaestra", "PettingZoo", target)], unit="steps/CPU-s")
    per_ply = plies["n"] / steps
    print(f"  palaestra plies per step: {per_ply:.2f} -> per ply {ratios[('palaestra', 'PettingZoo')] * per_ply:.2f}x")
    return ratios[("palaestra", "PettingZoo")], per_ply


# ---- 2. vector env vs SyncVectorEnv and raw OpenSpiel -----------------------------------
def _pick(mask: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A uniform legal action per row of ``mask`` from uniforms ``u`` (both sides alike)."""
    count = mask.sum(1)
    k = (u * count).astype(np.int64)
    return np.argmax(np.cumsum(mask, axis=1) > k[:, None], axis=1)


def vector_vs_sync(env_id, steps: int, num_envs: int, rounds: int, **kwargs):
    rng = np.random.default_rng(0)
    uniforms = rng.random((steps, num_envs))
    plies = {}

    def count_plies(mode):  # untimed: the same seeds and actions give the same plies
        envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **kwargs)
        obs, info = envs.reset(seed=0)
        last = np.asarray(info["plies"]).copy()
        total = 0
        for t in range(steps):
            obs, _, term, trunc, info = envs.step(_pick(obs["action_mask"], uniforms[t]))
            now = np.asarray(info["plies"])
            total += int(np.where(now >= last, now - last, now).sum())
            last = now.copy()
        envs.close()
        return total

    plies["vector"] = count_plies("vector_entry_point")

    def run(mode):
        def go():
            envs = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **kwargs)
            obs, info = envs.reset(seed=0)
            for t in range(steps):
                obs, _, term, trunc, info = envs.step(_pick(obs["action_mask"], uniforms[t]))
            envs.close()
            return steps * num_envs

        return go

    def raw():
        import pyspiel

        game = pyspiel.load_game(*(("hex", {"board_size": kwargs.get("board_size", 11)}) if "Hex" in env_id
                                   else ("connect_four",)))
        r = random.Random(0)
        n = steps * num_envs * 2  # about the plies of the others
        state = game.new_initial_state()
        for _ in range(n):
            legal = state.legal_actions()
            state.apply_action(legal[int(r.random() * len(legal))])
            if state.is_terminal():
                state = game.new_initial_state()
        return n

    rates = alternate({"vector": run("vector_entry_point"), "sync": run("sync"), "raw": raw},
                      rounds=rounds)
    print(f"  plies per env-step: {plies['vector'] / (steps * num_envs):.2f}")
    ply_rates = {
        "palaestra vector (plies)": [r * plies["vector"] / (steps * num_envs) for r in rates["vector"]],
        "raw OpenSpiel loop (plies)": rates["raw"],
    }
    name = env_id.split("/")[1]
    ratios = report(f"{name}: {num_envs} envs, env-steps per CPU-second", {k: rates[k] for k in ("vector", "sync")},
                    [("vector", "sync", 10.0)], unit="env-steps/CPU-s")
    ratios.update(report(f"{name}: plies per CPU-second", ply_rates,
                         [("palaestra vector (plies)", "raw OpenSpiel loop (plies)", 1.0)], unit="plies/CPU-s"))
    return ratios


# ---- 3. move-for-move agreement --------------------------------------------------------
def agreement(env_id, games: int, num_envs: int = 64, **kwargs) -> int:
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    singles = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
    vobs, _ = venv.reset(seed=0)
    results = [env.reset(seed=i) for i, env in enumerate(singles)]
    rng = np.random.default_rng(1)
    ended = np.zeros(num_envs, dtype=bool)
    finished = 0
    while finished < games:
        for i, (obs, _) in enumerate(results):
            if not (np.array_equal(vobs["observation"][i], obs["observation"])
                    and np.array_equal(vobs["action_mask"][i], obs["action_mask"])):
                raise AssertionError(f"{env_id}: sub-env {i} differs after {finished} games")
        actions = _pick(vobs["action_mask"], rng.random(num_envs))
        vobs, vrew, vterm, vtrunc, _ = venv.step(actions)
        results = []
        for i, env in enumerate(singles):
            if ended[i]:
                results.append(env.reset())
                continue
            obs, rew, term, trunc, info = env.step(int(actions[i]))
            if (rew, term, trunc) != (vrew[i], vterm[i], vtrunc[i]):
                raise AssertionError(f"{env_id}: sub-env {i} reward/end differs")
            results.append((obs, info))
            finished += term or trunc
        ended = vterm | vtrunc
    return finished


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    from pettingzoo.classic import chess_v6, connect_four_v3

    rounds = 3 if args.quick else 5
    single_vs_pettingzoo("palaestra/ConnectFour-v0", connect_four_v3.env, 20_000 if args.quick else 50_000, rounds, 10)
    single_vs_pettingzoo("palaestra/Chess-v0", chess_v6.env, 1_000 if args.quick else 3_000, rounds, None)
    vector_vs_sync("palaestra/ConnectFour-v0", 100 if args.quick else 300, 64, rounds)
    vector_vs_sync("palaestra/Hex-v0", 30 if args.quick else 100, 64, rounds)
    games = 1_000 if args.quick else 10_000
    for env_id, kwargs in (("palaestra/ConnectFour-v0", {}), ("palaestra/ConnectFour-v0", {"opponent": None}),
                           ("palaestra/Hex-v0", {"board_size": 5})):
        n = agreement(env_id, games, **kwargs)
        print(f"vector and single {env_id} {kwargs or ''} agree move for move on {n:,} random games")


if __name__ == "__main__":
    main()
