"""The native view trains a numeric learner: MaskablePPO (sb3-contrib) on the features."""

import statistics

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents import make
from palaestra.runner import run_episode


@pytest.mark.slow
def test_maskable_ppo_learns_chunk_selection_from_features():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    import torch

    torch.set_num_threads(1)
    env = gym.make("palaestra/ChunkSelection-v0", qtypes="factoid")
    model = sb3_contrib.MaskablePPO("MultiInputPolicy", env, n_steps=256, batch_size=64, seed=0, verbose=0)
    model.learn(4096)
    test = gym.make("palaestra/ChunkSelection-v0", qtypes="factoid")
    seeds = range(5000, 5060)  # held-out tasks
    rets = []
    for seed in seeds:
        obs, info = test.reset(seed=seed)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, action_masks=test.unwrapped.action_masks(), deterministic=True)
            obs, r, term, trunc, info = test.step(int(action))
            total += r
            done = term or trunc
        rets.append(total)
    random_rets = [run_episode(test, make("random", seed=0), seed=s).ret for s in seeds]
    assert statistics.mean(rets) > statistics.mean(random_rets) + 0.1
