"""Real TRL steps on the tiny model: DPO lowers its loss on recorded pairs, SFT on oracle-like
episodes lowers its loss, and the saved models load in TransformersLM and act in an env."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch

import palaestra  # noqa: F401  (registers the env ids)
from palaestra.agents.base import RandomAgent
from palaestra.runner import run_episode
from palaestra.training import sft_examples, step_pairs
from palaestra.wrappers.record import RecordEpisodes

torch.set_num_threads(1)


class _Annotated(RandomAgent):
    """A random player that records a search tree preferring the centre column (q by distance)."""

    name = "annotated"
    last_search = None

    def act(self, obs, info):
        action = super().act(obs, info)
        base = self.env.unwrapped
        legal = [base.format_action(a) for a in base.legal_actions()]
        self.last_search = [{"action": a, "visits": 3, "q": 1.0 - abs(int(a) - 4) / 3, "prior": 1 / len(legal),
                             "critique": None} for a in legal]
        return action


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rec") / "c4"
    env = RecordEpisodes(gym.make("palaestra/ConnectFour-v0", text=True, opponent="random"), folder,
                         agent_name="annotated")
    agent = _Annotated(seed=1)
    for seed in range(3):
        run_episode(env, agent, seed=seed)
    env.close()
    return folder


@pytest.fixture(scope="module")
def tiny():
    from palaestra.agents.llm.tiny import tiny_model_path

    return tiny_model_path()


def _plays(model_dir):
    from palaestra.agents.llm.transformers_lm import TransformersLM
    from palaestra.agents.llm_agent import LLMAgent

    lm = TransformersLM(model_dir, device="cpu")
    agent = LLMAgent(model=lm, temperature=0.0, retries=1)
    env = gym.make("palaestra/ConnectFour-v0", text=True, opponent="random")
    result = run_episode(env, agent, seed=11, max_steps=30)
    return lm, agent, result


def test_dpo_steps_lower_the_loss_and_the_model_reloads_and_acts(recording, tiny, tmp_path):
    from palaestra.training import train_dpo

    pairs = step_pairs(recording, confidence=None, min_margin=0.5)
    assert pairs.made >= 10
    out = tmp_path / "dpo"
    result = train_dpo(pairs, tiny, out, max_steps=6, batch_size=4, learning_rate=1e-3, beta=0.1,
                       evaluate=True, progress=False)
    assert result.steps == 6 and result.examples == pairs.made
    # at step 0 the policy is its own reference: the DPO loss is exactly ln 2
    assert result.loss_before == pytest.approx(0.6931, abs=1e-3)
    assert result.loss_after < result.loss_before - 0.05
    assert result.losses[-1] < result.losses[0]
    assert result.reward_accuracy is not None and result.reward_accuracy > 0.5
    meta = json.loads((out / "palaestra_training.json").read_text())
    assert meta["kind"] == "dpo" and meta["pairs"] == pairs.made and meta["settings"]["beta"] == 0.1

    lm, agent, episode = _plays(out)
    assert episode.steps > 0 and episode.terminated
    # the chosen (centre) action became likelier than the rejected (edge) one under the trained policy
    row = pairs.rows[0]
    chosen, rejected = row["chosen"][0]["content"], row["rejected"][0]["content"]
    from palaestra.agents.llm.transformers_lm import TransformersLM

    base = TransformersLM(tiny, device="cpu")
    gain = [m.score([row["prompt"]] * 2, [chosen, rejected]) for m in (base, lm)]
    assert (gain[1][0] - gain[1][1]) > (gain[0][0] - gain[0][1])


def test_dpo_with_lora_saves_a_merged_model(recording, tiny, tmp_path):
    from palaestra.training import train_dpo

    pairs = step_pairs(recording, confidence=None, min_margin=0.5)
    result = train_dpo(pairs, tiny, tmp_path / "lora", max_steps=2, batch_size=2, learning_rate=1e-3,
                       lora_r=4, loss_type="ipo", progress=False)
    assert result.steps == 2
    assert (tmp_path / "lora" / "config.json").exists() and not (tmp_path / "lora" / "adapter_config.json").exists()
    _, _, episode = _plays(tmp_path / "lora")
    assert episode.steps > 0


def test_sft_lowers_the_loss_on_actions(recording, tiny, tmp_path):
    from palaestra.training import train_sft

    examples = sft_examples(recording, only_success=False)
    assert examples.made >= 10
    result = train_sft(examples, tiny, tmp_path / "sft", max_steps=6, batch_size=4, learning_rate=2e-3,
                       evaluate=True, progress=False)
    assert result.loss_after < result.loss_before
    _, agent, episode = _plays(tmp_path / "sft")
    assert episode.steps > 0
