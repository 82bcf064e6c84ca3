"""The CLI commands (train pairs/sft/dpo) on a real MCTS recording, and one round of the
self-improvement loop (collect with MCTS + critique, pairs, DPO, evaluate) on the tiny model."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
import torch
from typer.testing import CliRunner

import palaestra  # noqa: F401
from palaestra.agents import make
from palaestra.runner import run_episode
from palaestra.wrappers.record import RecordEpisodes

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def mcts_recording(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mcts") / "c4"
    env = RecordEpisodes(gym.make("palaestra/ConnectFour-v0", text=True, opponent="random"), folder, agent_name="mcts")
    agent = make("mcts", simulations=30, seed=0)
    for seed in range(3):
        run_episode(env, agent, seed=seed)
    env.close()
    return folder


@pytest.fixture(scope="module")
def tiny():
    from palaestra.agents.llm.tiny import tiny_model_path

    return str(tiny_model_path())


def _cli(*args):
    from palaestra.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def test_cli_pairs_sft_dpo(mcts_recording, tiny, tmp_path):
    out = _cli("train", "pairs", mcts_recording, "--out", tmp_path / "pairs.jsonl", "--pairs", "step,episode")
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert rows and "kept" in out
    assert all(r["chosen_q"] - r["rejected_q"] >= 0.1 for r in rows)
    assert all(r["prompt"][0]["role"] == "system" and r["chosen"][0]["role"] == "assistant" for r in rows)

    out = _cli("train", "sft", mcts_recording, "--model", tiny, "--out", tmp_path / "sft", "--max-steps", 2,
               "--lr", "1e-3")
    assert "sft:" in out and (tmp_path / "sft" / "model.safetensors").exists()

    out = _cli("train", "dpo", mcts_recording, "--model", tmp_path / "sft", "--out", tmp_path / "dpo",
               "--max-steps", 2, "--lr", "1e-3", "--beta", "0.2", "--evaluate")
    assert "dpo:" in out and "eval" in out
    meta = json.loads((tmp_path / "dpo" / "palaestra_training.json").read_text())
    assert meta["settings"]["beta"] == 0.2 and meta["loss_after"] < meta["loss_before"]


def test_improve_one_round_with_critique(tiny, tmp_path):
    from palaestra.training.loop import ImproveSettings, improve, rounds_table
    from palaestra.training.trainers import TrainSettings

    settings = ImproveSettings(
        env_id="palaestra/ConnectFour-v0", env_kwargs={"opponent": "random"}, rounds=1,
        train_seeds=[0, 1], test_seeds=[100, 101],
        mcts={"simulations": 8, "critic": "llm", "rollout": "random"},
        dpo=TrainSettings(learning_rate=1e-3, max_steps=2, batch_size=4), eval_retries=0, max_steps=40)
    rounds = improve(tiny, tmp_path / "imp", settings, db=tmp_path / "lb.sqlite")
    assert [r.round for r in rounds] == [0, 1]
    r1 = rounds[1]
    assert r1.pairs > 0 and r1.loss_after < r1.loss_before
    assert r1.model.endswith("round1/model") and r1.episodes == 2
    assert r1.gain_ci is not None and r1.gain_ci[0] <= r1.gain <= r1.gain_ci[1]
    saved = json.loads((tmp_path / "imp" / "improve.json").read_text())
    assert len(saved["rounds"]) == 2 and saved["settings"]["mcts"]["critic"] == "llm"
    # the collected recording carries the search tree, critiques included
    from palaestra.training import read_episodes

    eps = read_episodes(tmp_path / "imp" / "round1" / "collect")
    children = [c for s in eps[0]["steps"] for c in s.get("search") or []]
    assert len(eps) == 2 and any(c.get("critique") is not None for c in children)
    # and the policy's own reply at every collected state (the probe), for on-policy pairs
    assert all(sum(bool(c.get("policy")) for c in s["search"]) == 1 for s in eps[0]["steps"])
    assert rounds_table(rounds).row_count == 2
    # every evaluated episode is a row of the leaderboard store, one configuration per round
    from palaestra.leaderboard.store import ResultStore

    with ResultStore(tmp_path / "lb.sqlite") as store:
        rows = store.episodes("palaestra/ConnectFour-v0")
    assert sorted((r["agent"], r["seed"]) for r in rows) == [
        ("imp-round0", 100), ("imp-round0", 101), ("imp-round1", 100), ("imp-round1", 101)]
