"""MaskablePPO (sb3-contrib) trains on ConnectFour-v0 through SB3Agent and beats random."""

from __future__ import annotations

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents import RandomAgent, make
from palaestra.agents.sb3 import SB3Agent, train
from palaestra.runner import run_episode


def _wins(agent, n=100, text=False):
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=text)
    return sum(run_episode(env, agent, seed=s).success for s in range(n))


def test_maskable_ppo_beats_random_after_a_short_run(tmp_path):
    path = tmp_path / "c4_ppo"
    train("palaestra/ConnectFour-v0", total_timesteps=4096, seed=0, n_steps=256, batch_size=64,
          learning_rate=1e-3, save=path)
    agent = make("sb3", path=str(path) + ".zip")
    trained = _wins(agent)
    baseline = _wins(RandomAgent(seed=0))
    assert trained >= baseline + 10, (trained, baseline)
    # the same policy through the text view (native observation from observe())
    assert _wins(SB3Agent(path=str(path)), n=20, text=True) == _wins(agent, n=20)


def test_sb3_agent_errors_say_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="path="):
        SB3Agent()
    with pytest.raises(FileNotFoundError, match="train"):
        SB3Agent(path=str(tmp_path / "missing.zip"))
    with pytest.raises(ValueError, match="MaskablePPO"):
        SB3Agent(path=str(tmp_path / "x"), algo="Nope")
