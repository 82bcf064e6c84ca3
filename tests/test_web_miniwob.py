"""MiniWoB++ pages from the miniwob package, in Chromium: ids, reward from page globals,
seeded episodes, snapshot by replay, contract kit."""

from __future__ import annotations

import re

import gymnasium as gym
import pytest

import palaestra
from palaestra.envs.web.ids import miniwob_tasks
from palaestra.testing import check_env_contract


def test_every_miniwob_page_has_an_id():
    tasks = miniwob_tasks()
    assert len(tasks) >= 125 and "click-test" in tasks and "book-flight" in tasks
    ids = [i for i in palaestra.ENV_IDS if i.startswith("palaestra/miniwob.")]
    assert len(ids) == len(tasks)
    assert "palaestra/miniwob.enter-text-v0" in gym.registry


@pytest.mark.browser
def test_reward_is_read_from_the_page_and_snapshots_replay():
    env = gym.make("palaestra/miniwob.enter-text-v0", text=True)
    base = env.unwrapped
    obs, info = env.reset(seed=7)
    goal = base.task.goal
    assert info["task_id"] == f"miniwob.enter-text:{base.task.data['seed']}"
    word = re.search(r'Enter "(.*?)"', goal).group(1)
    box = next(n for n in base._tab.nodes if n.role == "textbox")
    submit = next(n for n in base._tab.nodes if n.role == "button")
    # the same seed gives the same page
    env.reset(seed=7)
    assert base.task.goal == goal
    obs, reward, term, trunc, info = env.step(f'fill({box.id}, "{word}")')
    assert reward == 0.0 and not term
    state, text = base.get_state(), base.render_text()
    obs, reward, term, trunc, info = env.step(f"click({submit.id})")
    assert term and reward == 1.0 and info["success"] and info["raw_reward"] == 1.0
    base.set_state(state)  # reload, re-seed, replay the fill
    assert base.render_text() == text
    obs, reward, term, trunc, info = env.step(f'fill({box.id}, "wrong")')
    obs, reward, term, trunc, info = env.step(f"click({submit.id})")
    assert term and reward == -1.0 and not info["success"]
    env.close()


@pytest.mark.browser
def test_oracles_solve_their_pages():
    for task in ("click-test", "click-button", "enter-text", "choose-list"):
        env = gym.make(f"palaestra/miniwob.{task}-v0", text=True)
        for seed in (0, 1):
            env.reset(seed=seed)
            for action in env.unwrapped.task.solve(env.unwrapped):
                obs, reward, term, trunc, info = env.step(action)
            assert term and reward == 1.0, (task, seed, obs)
        env.close()


@pytest.mark.browser
def test_contract_kit_miniwob():
    # the page's oracle drives the rollouts (with only a sampler the kit round-trips no action)
    report = check_env_contract(
        "palaestra/miniwob.enter-text-v0", fuzz_examples=50, steps=3, skip_check_env=True,
        near_misses=["click(0)", "click(999)", 'fill(1, "x")', 'goto("https://example.com")'],
    )
    assert "snapshot round trip" in report.checks


@pytest.mark.browser
@pytest.mark.slow
def test_binary_reward_like_browsergym_and_fuller_contract():
    env = gym.make("palaestra/miniwob.click-test-v0", reward="binary")
    obs, info = env.reset(seed=0)
    button = next(n for n in env.unwrapped._tab.nodes if n.role == "button")
    obs, reward, term, trunc, info = env.step(f"click({button.id})")
    assert term and reward == 1.0
    env.close()
    # gymnasium's check_env steps without resetting, which a one-click episode cannot take:
    # the shop's browser mode covers check_env for the shared browser code
    check_env_contract("palaestra/miniwob.click-button-v0", fuzz_examples=200, skip_check_env=True)
