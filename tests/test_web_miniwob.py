"""MiniWoB++ pages from the miniwob package, in Chromium: ids, reward from page globals,
seeded episodes, snapshot by replay, contract kit."""

from __future__ import annotations

import re

import gymnasium as gym
import pytest

import palaestra
from palaestra.core import InvalidAction
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
            reward, actions = _solve(env, seed)
            assert reward == 1.0, (task, seed, actions)
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


# ---- reward integrity: only the task's own page pays (issue 13) -------------------------
def _step_ok(env, action):
    """step() must never raise on these: it answers with an observation."""
    return env.step(action)


@pytest.mark.browser
def test_leaving_the_task_page_never_pays():
    """Another task's page (solved there), the site root, a script file and a reload of the
    task's own page all end the episode with reward 0 and say so; none raises."""
    env = gym.make("palaestra/miniwob.book-flight-v0", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=0)
        obs, reward, term, trunc, info = _step_ok(env, 'goto("/miniwob/click-test.html")')
        assert term and reward == 0.0 and info["left_task_page"] and not info["success"]
        assert "you left the task's page" in obs and "reward 0" in obs
        with pytest.raises(InvalidAction, match="ended"):
            base.step("click(1)")
        # the old exploit: on the other page click START then "Click Me!": the episode is
        # over, and a fresh reset is back on the task's page
        env.reset(seed=0)
        assert base._tab.relative_url() == "/miniwob/book-flight.html" and "Click Me" not in base.render_text()
        for target in ("/", "/core/core.js", "/miniwob/book-flight.html", "/miniwob/enter-text.html"):
            env.reset(seed=1)
            obs, reward, term, trunc, info = _step_ok(env, f'goto("{target}")')
            assert term and reward == 0.0 and info.get("left_task_page") and info["raw_reward"] == 0.0, target
            assert base.task.validate(base)[0] == 0.0
    finally:
        env.close()


@pytest.mark.browser
@pytest.mark.parametrize("task", ["click-checkboxes", "enter-text"])
def test_solving_another_task_page_does_not_pay(task):
    """The reproduction of the issue with click-checkboxes and enter-text as the start."""
    env = gym.make(f"palaestra/miniwob.{task}-v0", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=0)
        obs, reward, term, trunc, info = env.step('goto("/miniwob/click-test.html")')
        assert term and reward == 0.0 and info["left_task_page"]
        # even the page's own globals say nothing to the scorer: it reads the task's page only
        base._tab.page.evaluate("() => { core.startEpisodeReal(); document.getElementById('subbtn').click(); }")
        assert base._tab.page.evaluate("() => WOB_RAW_REWARD_GLOBAL") == 1.0
        assert base.task.validate(base)[0] == 0.0
    finally:
        env.close()


@pytest.mark.browser
def test_no_scoreboard_cover_or_second_instruction_in_observations():
    """As BrowserGym: the scoreboard, the click canvas and the START cover are off the page,
    before and after the episode; the goal is stated once."""
    env = gym.make("palaestra/miniwob.click-test-2-v0", text=True)
    base = env.unwrapped
    try:
        obs, info = env.reset(seed=0)
        for word in ("Last reward", "Episodes done", "Time left", "START", "Last 10"):
            assert word not in obs
        assert obs.count(base.task.goal) == 1
        button = next(n for n in base._tab.nodes if n.role == "button" and n.name == "ONE")
        obs, reward, term, trunc, info = env.step(f"click({button.id})")
        assert term and reward == 1.0
        for word in ("Last reward", "Episodes done", "START"):
            assert word not in obs
    finally:
        env.close()


@pytest.mark.browser
def test_planning_view_withholds_the_reward():
    """reward_access = "hidden": planning_env() pays the agent-side proxy (0) and hides the
    scorer's info keys; planning_env(true_reward=True) is the explicit opt-in."""
    env = gym.make("palaestra/miniwob.click-test-v0", text=True)
    base = env.unwrapped
    try:
        assert base.reward_access == "hidden" and "raw_reward" in base.scorer_info_keys
        view = base.planning_env()
        view.reset(seed=0)
        (action,) = base.task.solve(base)
        obs, reward, term, trunc, info = view.step(action)
        assert term and reward == 0.0
        assert not {"success", "raw_reward", "reason"} & set(info)
        assert "reward 0.000" in obs or "Episode over" in obs
        full = base.planning_env(true_reward=True)
        full.reset(seed=0)
        obs, reward, term, trunc, info = full.step(base.task.solve(base)[0])
        assert reward == 1.0 and info["success"]
        # before the end nothing in the observation or info reveals the score
        env.reset(seed=3)
        assert "reward" not in base.render_text().lower() and "success" not in base._info()
    finally:
        env.close()


@pytest.mark.browser
def test_a_dead_browser_is_an_error_observation_not_stale_ids():
    import psutil

    env = gym.make("palaestra/miniwob.click-test-v0", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=0)
        button = next(n for n in base._tab.nodes if n.role == "button")
        me = psutil.Process()
        procs = [p for p in me.children(recursive=True) if "chrom" in p.name().lower()]
        main = next(p for p in procs if p.parent() is not None and "chrom" not in p.parent().name().lower())
        main.kill()
        main.wait(timeout=10)
        obs, reward, term, trunc, info = env.step(f"click({button.id})")
        assert trunc and not term and reward == 0.0 and info["browser_crashed"]
        assert "browser crashed" in obs and "reset()" in obs and "stale" not in obs
        state = base.get_state()  # never raises
        assert state["crashed"]
        obs, info = env.reset(seed=0)
        assert info.get("browser_restarted") and "[id=" in obs
        obs, reward, term, trunc, info = env.step(base.task.solve(base)[0])
        assert reward == 1.0
    finally:
        env.close()


@pytest.mark.browser
def test_restore_happens_in_the_live_page_and_is_exact():
    """set_state re-seeds and replays in the same page (no reload), and reads as before."""
    import random

    env = gym.make("palaestra/miniwob.click-checkboxes-v0", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=5)
        box = next(n for n in base._tab.nodes if n.role == "checkbox")
        env.step(f"click({box.id})")
        state, text = base.get_state(), base.render_text()
        loads = base.reloads
        rng = random.Random(0)
        for _ in range(3):
            action = base.sample_action(rng)
            if action is None:
                break
            env.step(action)
            if base._done:
                break
        base.set_state(state)
        assert base.render_text() == text and base.reloads == loads
        # a restore after leaving the page reloads it, and still reads the same
        env.step('goto("/")')
        base.set_state(state)
        assert base.render_text() == text and base.reloads == loads + 1
    finally:
        env.close()


@pytest.mark.browser
def test_flight_tasks_are_registered_and_observed_through_their_iframe():
    ids = [i for i in palaestra.ENV_IDS if i.startswith("palaestra/miniwob.flight.")]
    assert sorted(ids) == ["palaestra/miniwob.flight.AA-v0", "palaestra/miniwob.flight.Alaska-auto-v0",
                           "palaestra/miniwob.flight.Alaska-v0"]
    env = gym.make("palaestra/miniwob.flight.Alaska-v0", text=True)
    try:
        obs, info = env.reset(seed=0)
        goal = env.unwrapped.task.goal
        assert goal.startswith("{") and "Departure City" in goal  # FlightWoB's JSON utterance
        assert "textbox" in obs and obs.count(goal) == 1
    finally:
        env.close()


@pytest.mark.browser
def test_random_sampler_never_fills_a_drop_down():
    import random

    env = gym.make("palaestra/miniwob.choose-list-v0", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=0)
        combo = next(n for n in base._tab.nodes if n.role == "combobox")
        actions = [base.sample_action(random.Random(s)) for s in range(300)]
        assert not any(a.startswith(f"fill({combo.id},") for a in actions)
        selects = [a for a in actions if a.startswith("select(")]
        assert selects and all(base.parse_action(a) == a for a in selects[:5])
    finally:
        env.close()


# ---- oracles (BrowserGym's cheat) for 40+ tasks of every interaction kind -----------------
KINDS = {
    "click": ["click-test", "click-button", "click-dialog-2", "click-widget", "identify-shape"],
    "type": ["enter-text", "login-user", "read-table", "simple-algebra", "copy-paste"],
    "select": ["choose-list"],
    "drag": ["drag-items"],
    "scroll": ["scroll-text-2"],
    "checkboxes": ["click-checkboxes", "click-checkboxes-large", "click-option"],
    "date": ["choose-date", "enter-date", "enter-time"],
    "tabs": ["click-tab"],
    "multi-step form": ["form-sequence-2", "multi-orderings", "enter-password", "use-autocomplete"],
}


def _solve(env, seed: int) -> tuple[float, list]:
    """Replan every step (the oracle answers the next action for the page as it is)."""
    base = env.unwrapped
    env.reset(seed=seed)
    done, actions, reward = False, [], 0.0
    while not done and len(actions) < base.max_steps:
        plan = base.task.solve(base)
        assert plan, (base.task.id, actions)
        obs, reward, term, trunc, info = env.step(plan[0])
        assert "invalid_action" not in info, (base.task.id, plan[0], info["invalid_action"])
        actions.append(plan[0])
        done = term or trunc
    return reward, actions


def test_oracles_cover_40_tasks_and_every_interaction_kind():
    from palaestra.envs.web.miniwob_oracles import ORACLES

    assert len(ORACLES) >= 40
    assert set(ORACLES) <= set(miniwob_tasks())
    for kind, tasks in KINDS.items():
        assert set(tasks) <= set(ORACLES), kind


@pytest.mark.browser
@pytest.mark.parametrize("task", ["drag-items", "choose-date-easy", "form-sequence-2"])
def test_oracles_solve_a_few_seeds(task):
    env = gym.make(f"palaestra/miniwob.{task}-v0", text=True)
    try:
        for seed in (0, 1):
            reward, actions = _solve(env, seed)
            assert reward == 1.0, (task, seed, actions)
    finally:
        env.close()


def _oracle_tasks():
    from palaestra.envs.web.miniwob_oracles import ORACLES

    return sorted(ORACLES)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("task", _oracle_tasks())
def test_oracle_succeeds_on_50_seeds(task):
    env = gym.make(f"palaestra/miniwob.{task}-v0", text=True)
    try:
        failed = []
        for seed in range(50):
            reward, actions = _solve(env, seed)
            if reward != 1.0:
                failed.append((seed, reward, actions))
        assert not failed, failed[:3]
    finally:
        env.close()


@pytest.mark.browser
def test_goals_said_with_a_picture_are_put_in_words():
    """click-menu-2 (an icon) and use-colorwheel-2 (a colour swatch), as BrowserGym words them."""
    for task, pattern in (("click-menu-2", r'with the "ui-icon-[a-z-]+" icon'), ("use-colorwheel-2", r"color #[0-9a-f]{6} ")):
        env = gym.make(f"palaestra/miniwob.{task}-v0", text=True)
        try:
            obs, info = env.reset(seed=0)
            assert re.search(pattern, env.unwrapped.task.goal), env.unwrapped.task.goal
            assert obs.count(env.unwrapped.task.goal) == 1
        finally:
            env.close()
