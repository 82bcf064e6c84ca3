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


@pytest.mark.browser
def test_an_id_not_on_the_page_is_an_error_not_a_crash():
    """A stale or unknown id (a replayed or planned action on a page that changed) never
    raises KeyError: step refuses it with InvalidAction, Tab.act returns the message, and
    the page and its observation stay as they were."""
    from palaestra.core import InvalidAction

    env = gym.make("palaestra/miniwob.click-test-v0", text=True)
    try:
        base = env.unwrapped
        env.reset(seed=0)
        before, state = base.render_text(), base.get_state()
        with pytest.raises(InvalidAction, match="not on the page now"):
            base.step("click(999)")
        for action in ("click(999)", 'fill(998, "x")', 'select(997, "a")'):
            message = base._tab.act(action)
            assert message and "id 9" in message and "not on the page now" in message and "new observation" in message
        assert base.render_text() == before and base.get_state() == state
        # a snapshot whose replay hits an id the page does not have restores without crashing
        bad = dict(state, actions=["click(999)"], steps=1, observation=None)
        base.set_state(bad)
        assert "Step 1 of" in base.render_text()
    finally:
        env.close()


@pytest.mark.browser
def test_observation_waits_for_late_images():
    """email-inbox pages draw icons with CSS ``content:url(...)``: they have no box (and so
    no id in the accessibility snapshot) until the image has loaded. Observations wait for
    the page to settle, so reset, a fresh env's restore and a later read number alike."""
    env = gym.make("palaestra/miniwob.email-inbox-delete-v0", text=True)
    fresh = gym.make("palaestra/miniwob.email-inbox-delete-v0", text=True)
    try:
        base = env.unwrapped
        env.reset(seed=0)
        text = base.render_text()
        widths = base._tab.page.evaluate(
            "() => [...document.querySelectorAll('.email-actions .trash')].map(e => e.getBoundingClientRect().width)")
        assert widths and min(widths) > 0, "the observation was taken before the icons loaded"
        base._tab.refresh()
        base._render()
        assert base.render_text() == text
        fresh.reset(seed=1)
        fresh.unwrapped.set_state(base.get_state())  # cold cache in a fresh browser
        assert fresh.unwrapped.render_text() == text
    finally:
        env.close()
        fresh.close()


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("task", ["order-food", "email-inbox-delete"])
def test_restore_after_steps_is_exact(task):
    """The search pattern of MCTS: snapshot, wander, restore; the text reads as before."""
    import random

    env = gym.make(f"palaestra/miniwob.{task}-v0", text=True)
    try:
        base = env.unwrapped
        rng = random.Random(0)
        env.reset(seed=0)
        for _ in range(3):
            root, text = base.get_state(), base.render_text()
            for _ in range(2):
                action = base.sample_action(rng)
                if action is None or action.startswith("stop("):
                    break
                env.step(action)
                if base._done:
                    break
            base.set_state(root)
            assert base.render_text() == text
            action = base.sample_action(rng)
            if action:
                env.step(action)
            if base._done:
                break
    finally:
        env.close()
