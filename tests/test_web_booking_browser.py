"""Booking-v0 in a real Chromium (Debian's) through Playwright: contract kit, oracle on
held-out tasks, confinement of the action grammar, snapshots into a fresh env."""

from __future__ import annotations

import pickle

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.testing import check_env_contract

pytestmark = pytest.mark.browser
ENV_ID = "palaestra/Booking-v0"
NEAR = ["click(0)", "click(99999)", "click(1", 'fill(1, 2)', 'goto("http://example.com/")', 'goto("file:///etc/passwd")',
        'press("Foo")', "scroll(left)", 'select(1, "x")', "go_back()", "stop(1)", "click(e1)", "click[home]"]


def test_contract_kit_in_a_live_browser():
    report = check_env_contract(ENV_ID, mode="browser", fuzz_examples=60, near_misses=NEAR, steps=4,
                                skip_check_env=True)
    assert "snapshot round trip" in report.checks and "fuzz" in report.checks


def test_oracle_books_and_snapshot_restores_typed_fields():
    env = gym.make(ENV_ID, mode="browser", text=True)
    base = env.unwrapped
    guest = next(i for i in range(500) if not base.tasks.task("test", i).data["account"])
    obs, info = env.reset(options={"task": f"booking:test:{guest}"})
    assert obs.count("Instruction:") == 1 and "[id=" in obs
    snap = None
    for _ in range(30):
        plan = base.oracle_plan()
        for action in plan:
            if action.startswith("click(") and snap is None and "Book table" in base.render_text():
                snap = pickle.dumps(base.get_state())  # the form filled in, not yet submitted
                typed = base.render_text()
            obs, reward, term, _trunc, info = env.step(action)
            assert "invalid_action" not in info, info
        if term:
            break
    assert term and reward == 1.0 and info["success"]
    # the typed form (DOM state, not a server draft) comes back in a fresh env with its own browser
    fresh = gym.make(ENV_ID, mode="browser", text=True)
    fresh.reset(seed=5)
    fresh.unwrapped.set_state(pickle.loads(snap))
    assert fresh.unwrapped.render_text() == typed
    button = next(line for line in typed.splitlines() if 'button "Book table"' in line)
    n = button.split("[id=")[1].split("]")[0]
    obs, reward, term, _trunc, info = fresh.step(f"click({n})")
    assert term and reward == 1.0
    fresh.close()
    # nothing leaves the site through the grammar
    env.reset(seed=1)
    for bad in ['goto("http://example.com/")', 'goto("file:///etc/passwd")', 'goto("//evil.test/x")']:
        obs, reward, term, _trunc, info = env.step(bad)
        assert info.get("invalid_action") and ("only this site" in info["invalid_action"] or "file://" in info["invalid_action"])
    env.close()


@pytest.mark.slow
def test_oracle_20_held_out_tasks_in_the_browser():
    from palaestra.agents.oracle import OracleAgent
    from palaestra.runner import run_episode

    env = gym.make(ENV_ID, mode="browser", text=True)
    results = [run_episode(env, OracleAgent(), options={"task": f"booking:test:{i}"}) for i in range(20)]
    assert all(r.success and r.ret == 1.0 for r in results), [(r.task_id, r.ret) for r in results]
    env.close()


@pytest.mark.slow
def test_random_policy_and_hostile_inputs_in_the_browser():
    import random

    env = gym.make(ENV_ID, mode="browser", text=True, max_invalid=None, max_steps=15)
    base = env.unwrapped
    rng = random.Random(0)
    wins = 0
    for i in range(8):
        env.reset(options={"task": f"booking:test:{i}"})
        for _ in range(15):
            obs, reward, term, trunc, info = env.step(base.sample_action(rng))
            if term or trunc:
                break
        wins += bool(info.get("success"))
    assert wins == 0
    env.reset(seed=3)
    box = next(n for n in base._tab.nodes if n.name == "Search restaurants")
    before = base.render_text()
    for bad in ["x" * 100_000, "click(" * 3000, f'fill({box.id}, "\\ud800")', "click(" + "[" * 1500 + ")",
                '{"a": ' * 900 + "1" + "}" * 900]:
        obs, reward, term, trunc, info = env.step(bad)
        assert isinstance(obs, str) and not term and reward == 0.0
        assert info.get("invalid_action") or info.get("last_action_error"), bad[:40]
    assert base.render_text() != "" and "Instruction:" in before
    env.close()
