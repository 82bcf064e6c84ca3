"""Value models learned from recorded search (ReST-MCTS*, rStar, AlphaMath)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

import gymnasium as gym  # noqa: E402

import palaestra  # noqa: E402,F401
from palaestra.training.value import NativeValueNet, load_value_model, save_value_model, train_value  # noqa: E402
from palaestra.training.value_data import ValueData, from_recordings  # noqa: E402

SAMPLE = "recordings/samples/connect-four-mcts"


def test_targets_come_from_the_recorded_search():
    data = from_recordings(SAMPLE)
    assert data.envs == {"palaestra/ConnectFour-v0"} and data.pair_sign == -1.0
    assert len(data) > 50 and len(data.pairs) > 10
    assert all(-1.0 <= y <= 1.0 for y in data.y) and all(w >= 1 for w in data.w)
    assert data.x[0].shape == (126,)
    train, held = data.split(0.25, seed=0)
    assert not set(train.episode) & set(held.episode)  # whole episodes on one side


def test_training_learns_a_learnable_target():
    # value = (discs of the mover - discs of the other) / 10: a model that learns nothing fails
    rng = np.random.default_rng(0)
    data = ValueData()
    for i in range(600):
        x = (rng.random(126) < 0.15).astype(np.float32)
        data.x.append(x), data.y.append(float(np.clip((x[:42].sum() - x[42:84].sum()) / 6, -1, 1)))
        data.w.append(1.0), data.episode.append(i), data.child.append(False)
    train, held = data.split(0.2, seed=0)
    model, report = train_value(train, heldout=held, epochs=60, pair_weight=0.0)
    assert report.heldout_mse < 0.5 * report.baseline_mse, report.lines()


def test_save_load_and_guide_search(tmp_path):
    from palaestra.agents import make
    from palaestra.runner import run_episode

    data = from_recordings(SAMPLE)
    model, report = train_value(data, epochs=3)
    folder = save_value_model(model, tmp_path / "vm", report, data.envs)
    back = load_value_model(folder)
    assert isinstance(back, NativeValueNet)
    assert np.allclose(back.predict(data.x[:5]), model.predict(data.x[:5]))

    env = gym.make("palaestra/ConnectFour-v0")
    for name, opts in (("mcts-value", {"simulations": 20}), ("beam", {"beam": 2, "depth": 2})):
        agent = make(name, value_model=str(folder), **opts)
        result = run_episode(env, agent, seed=1)
        assert result.invalid_actions == 0 and result.terminated
        assert agent.last_search is None or all("q" in c for c in agent.last_search)
    env.reset(seed=2)
    plan = env.unwrapped.planning_env()
    plan.set_state(env.unwrapped.get_state())
    before = plan.render_text()
    scores = back.rank(plan, plan.legal_actions())
    assert len(scores) == 7 and all(-1 <= s <= 1 for s in scores)
    assert plan.render_text() == before  # ranking leaves the env where it was


def test_missing_model_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="palaestra train value"):
        load_value_model(tmp_path)


def test_cli_trains_a_value_model_on_the_checked_in_samples(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "vm"
    proc = subprocess.run([sys.executable, "-m", "palaestra.cli", "train", "value", SAMPLE, "--out", str(out),
                           "--epochs", "3"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ranking accuracy" in proc.stdout and (out / "value_model.json").exists()
    assert isinstance(load_value_model(out), NativeValueNet)
