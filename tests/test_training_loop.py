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


@pytest.mark.slow
def test_cli_pairs_sft_dpo(mcts_recording, tiny, tmp_path):
    out = _cli("train", "pairs", mcts_recording, "--out", tmp_path / "pairs.jsonl", "--pairs", "step,episode",
               "--confidence", "0", "--audit", "3", "--audit-simulations", "200")
    rows = [json.loads(line) for line in (tmp_path / "pairs.jsonl").read_text().splitlines()]
    assert rows and "kept" in out
    assert all(r["chosen_q"] - r["rejected_q"] >= 0.1 for r in rows)
    assert all(r["prompt"][0]["role"] == "system" and r["chosen"][0]["role"] == "assistant" for r in rows)
    assert "pair audit with MCTS-200" in out and "agree" in out

    out = _cli("train", "sft", mcts_recording, "--model", tiny, "--out", tmp_path / "sft", "--max-steps", 2,
               "--target", "visits", "--all-episodes")
    assert "sft:" in out and "preset tiny" in out and (tmp_path / "sft" / "model.safetensors").exists()

    out = _cli("train", "dpo", mcts_recording, "--model", tmp_path / "sft", "--out", tmp_path / "dpo",
               "--max-steps", 2, "--beta", "0.2", "--confidence", "0")
    assert "dpo:" in out and "eval" in out and "reward accuracy" in out
    meta = json.loads((tmp_path / "dpo" / "palaestra_training.json").read_text())
    assert meta["settings"]["beta"] == 0.2 and meta["loss_after"] < meta["loss_before"]
    assert meta["settings"]["learning_rate"] == 3e-4  # the tiny preset, not 5e-6


@pytest.mark.slow
def test_sft_on_long_tool_use_prompts_caps_at_the_context_and_says_why(tiny, tmp_path):
    # issue 15: "9 kept" then "no examples", and IndexError past the tiny model's 2,048 positions
    from pathlib import Path

    from palaestra.training import sft_examples, train_sft
    from palaestra.training.trainers import TrainSettings

    samples = Path(__file__).resolve().parents[1] / "recordings" / "samples" / "tooluse-oracle"
    ex = sft_examples(samples)
    assert ex.made > 0
    with pytest.raises(ValueError, match="longer than max_length=1024.*Raise --max-length"):
        train_sft(ex, tiny, tmp_path / "a", TrainSettings(max_length=1024, max_steps=1), progress=False)
    try:
        res = train_sft(ex, tiny, tmp_path / "b", TrainSettings(max_length=4096, max_steps=1, batch_size=1),
                        progress=False)
    except ValueError as err:  # none fits even the model's 2,048 positions: said so, no IndexError
        assert "max_length=2048" in str(err)
    else:
        assert "lowered to the model's 2048 positions" in res.summary() and res.dropped_too_long >= 0


@pytest.mark.slow
def test_parallel_collection_is_the_same_as_serial(tmp_path):
    from palaestra.training import read_episodes
    from palaestra.training.collect import CollectSettings, collect

    def run(workers, folder):
        return collect(CollectSettings("palaestra/ConnectFour-v0", {"opponent": "random"}, [3, 1, 2, 0],
                                       {"simulations": 20, "rollout": "random"}, workers=workers, max_steps=40),
                       tmp_path / folder)

    one, two = run(1, "one"), run(2, "two")
    assert two.workers == 2 and one.labelled == two.labelled == one.states > 0
    assert [(r["seed"], r["success"], r["length"]) for r in one.results] == \
        [(r["seed"], r["success"], r["length"]) for r in two.results]
    eps = sorted(read_episodes(tmp_path / "two"), key=lambda e: e["seed"])
    assert [e["seed"] for e in eps] == [0, 1, 2, 3] and all(s["search"] for e in eps for s in e["steps"])
    assert eps[0]["search_reward"] == "agent" and eps[0]["prompt"] == "full"
    with pytest.raises(FileExistsError, match="new folder"):
        run(1, "one")
    with pytest.raises(ValueError, match="model=PATH"):
        CollectSettings("palaestra/ConnectFour-v0", actor="policy")


def _round_settings(learner, **kw):
    from palaestra.training.loop import ImproveSettings
    from palaestra.training.trainers import preset

    return ImproveSettings(
        env_id="palaestra/ConnectFour-v0", env_kwargs={"opponent": "random"}, rounds=1, episodes_per_round=3,
        test_seeds=[100, 101, 102], mcts={"simulations": 16, "rollout": "random", "search_reward": "true"},
        learner=learner, pairs={"mode": "best_worst+policy", "min_margin": 0.0, "min_visits": 1, "confidence": None},
        dpo=preset("tiny", "dpo", max_steps=2), sft=preset("tiny", "sft", max_steps=2), max_steps=40, workers=1,
        prompt="compact", **kw)


@pytest.mark.slow
def test_improve_one_round_on_policy_dpo_with_audit(tiny, tmp_path):
    from palaestra.training import read_episodes
    from palaestra.training.loop import improve, rounds_table

    rounds = improve(tiny, tmp_path / "imp", _round_settings("dpo", audit=2, audit_simulations=100),
                     db=tmp_path / "lb.sqlite")
    assert [r.round for r in rounds] == [0, 1]
    r1 = rounds[1]
    assert r1.pairs > 0 and r1.loss_after < r1.loss_before and r1.reward_accuracy is not None
    assert r1.model.endswith("round1/model") and r1.episodes == 3 and r1.labelled_states > 0
    assert "pair audit with MCTS-100" in r1.audit
    assert r1.success_gain_ci[0] <= r1.success_gain <= r1.success_gain_ci[1]
    eps = read_episodes(tmp_path / "imp" / "round1" / "collect")
    # the policy acted (its move is marked among the search's children) and the prompt is recorded
    assert all(e["prompt"] == "compact" and e["search_reward"] == "true" for e in eps)
    assert all(any(c.get("policy") for c in s["search"]) or s["action"] not in {c["action"] for c in s["search"]}
               for e in eps for s in e["steps"])
    assert rounds_table(rounds).row_count == 2
    from palaestra.leaderboard.store import ResultStore

    with ResultStore(tmp_path / "lb.sqlite") as store:
        rows = store.episodes("palaestra/ConnectFour-v0")
    assert sorted((r["agent"], r["seed"]) for r in rows) == sorted(
        [(f"imp-round{k}", s) for k in (0, 1) for s in (100, 101, 102)])


@pytest.mark.slow
def test_improve_control_learns_the_same_labels_by_sft(tiny, tmp_path):
    from palaestra.training.loop import improve

    rounds = improve(tiny, tmp_path / "ctl", _round_settings("sft", visit_samples=2))
    r1 = rounds[1]
    assert r1.pairs == 2 * r1.labelled_states and r1.loss_after < r1.loss_before


def test_cli_improve_builds_the_benchmarks_settings(tmp_path, monkeypatch):
    """`palaestra improve` from the benchmark's printed flags runs exactly the benchmark's rounds."""
    import importlib.util
    import sys
    from dataclasses import asdict
    from pathlib import Path

    import palaestra.training.loop as loop

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "self_improvement.py"
    spec = importlib.util.spec_from_file_location("bench_self_improvement", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    monkeypatch.setattr(sys, "argv", ["x"])
    import argparse

    seen = {}
    monkeypatch.setattr(loop, "improve", lambda model, out, settings, **kw: seen.update(settings=settings) or [])
    for learner in ("dpo", "sft"):
        args = argparse.Namespace(rounds=2, episodes=300, test=400, label_sims=200, opponent_sims=25,
                                  policy_temperature=1.0, prompt="compact", pair_mode="best_worst+policy",
                                  confidence=1.96, visit_samples=2, dpo_lr=3e-4, dpo_epochs=2.0, batch=32, beta=0.1,
                                  sft_weight=1.0, sft_lr=2e-3, round_sft_epochs=2.0, workers=2, audit=100,
                                  audit_sims=2000, seed=0)
        cmd = bench.improve_command(args, tmp_path / "sft0", tmp_path / "o", learner)
        _cli(*cmd[1:])
        assert asdict(seen["settings"]) == asdict(bench.settings_from(args, learner))
