"""The shop in a real Chromium (Debian's) through Playwright: contract kit, oracle,
confinement, actionable errors, one browser per env, restart after a crash."""

from __future__ import annotations

import os
import re
import signal
import threading

import gymnasium as gym
import psutil
import pytest

import palaestra  # noqa: F401
from palaestra.core import InvalidAction
from palaestra.testing import check_env_contract

pytestmark = pytest.mark.browser
ENV_ID = "palaestra/WebShop-v0"
NEAR = ["click(0)", "click(99999)", "click(1", 'fill(1, 2)', 'goto("http://example.com/")', 'goto("file:///etc/passwd")',
        'press("Foo")', "scroll(left)", 'select(1, "x")', "go_back()", "stop(1)", "click(e1)", "click('1')x"]


def _my_chromium() -> list[psutil.Process]:
    me = psutil.Process()
    out = []
    for p in me.children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


def _browser_main(env) -> psutil.Process:
    """The env's Chromium main process (a chromium child of the driver, not of chromium)."""
    procs = _my_chromium()
    return next(p for p in procs if p.parent() is not None and "chrom" not in p.parent().name().lower())


def test_contract_kit_in_a_live_browser():
    """Snapshot round trips (also pickled, also into a fresh env with its own browser and
    server), determinism, text round trip, bad actions, fuzz; gymnasium's check_env in
    the slow variant below."""
    report = check_env_contract(ENV_ID, mode="browser", fuzz_examples=60, near_misses=NEAR, steps=4,
                                skip_check_env=True)
    assert "snapshot round trip" in report.checks and "fuzz" in report.checks


@pytest.mark.slow
def test_contract_kit_in_a_live_browser_full():
    report = check_env_contract(ENV_ID, mode="browser", near_misses=NEAR, steps=6)
    assert "snapshot round trip" in report.checks and "check_env text" in report.checks


def test_oracle_buys_in_the_browser():
    env = gym.make(ENV_ID, mode="browser", text=True)
    base = env.unwrapped
    for seed in (0, 1):
        obs, info = env.reset(seed=seed)
        assert "[id=" in obs and "Instruction:" in obs
        for action in base.task.solve(base):
            obs, reward, term, trunc, info = env.step(action)
            assert "invalid_action" not in info, info
        assert term and reward == 1.0 and info["success"]
    assert base._browser.launches == 1  # one Chromium reused across resets
    main = _browser_main(env)
    port = base._server.port
    env.close()
    main.wait(timeout=10)  # close() ends the env's Chromium and frees its port
    assert all(c.laddr.port != port for c in psutil.net_connections("tcp") if c.status == "LISTEN")


@pytest.mark.slow
def test_oracle_20_tasks_in_the_browser():
    from palaestra.agents.oracle import OracleAgent
    from palaestra.runner import run_episode

    env = gym.make(ENV_ID, mode="browser", text=True)
    results = [run_episode(env, OracleAgent(), seed=seed) for seed in range(20)]
    assert all(r.success and r.ret == 1.0 for r in results), [(r.seed, r.ret) for r in results]
    env.close()


def test_confinement_and_actionable_errors():
    env = gym.make(ENV_ID, mode="browser", timeout_ms=600, screenshot=True)
    base = env.unwrapped
    env.reset(seed=3)
    tab = base._tab
    assert base.image().shape == (768, 1024, 3)
    with pytest.raises(InvalidAction, match="only this site"):
        base.parse_action('goto("http://example.com/")')
    with pytest.raises(InvalidAction, match="file://"):
        base.parse_action('goto("file:///etc/passwd")')
    with pytest.raises(InvalidAction, match="unknown id"):
        base.parse_action("click(9999)")
    # requests leaving the origin are answered 403 by the env, other hosts do not resolve
    assert tab.page.evaluate("() => fetch('http://127.0.0.1:9/x').then(r => r.status).catch(e => 'error')") == 403
    assert tab.page.evaluate("() => fetch('http://example.com/').then(r => r.status).catch(e => 'error')") in (403, "error")
    # a same-origin goto works and is recorded for go_back
    env.step('goto("/cart")')
    assert base.render_text().count("URL: /cart") == 1
    env.step("go_back()")
    assert "URL: /\n" in base.render_text()
    search = next(n for n in tab.nodes if n.role == "textbox")
    button = next(n for n in tab.nodes if n.role == "button")
    # hidden element
    tab.page.evaluate("() => document.querySelector('button').style.display = 'none'")
    before = base.render_text()
    with pytest.raises(InvalidAction, match="hidden"):
        env.step(f"click({button.id})")
    assert base.render_text() == before
    tab.page.evaluate("() => document.querySelector('button').style.display = ''")
    # stale element
    tab.page.evaluate("() => document.querySelector('input').remove()")
    with pytest.raises(InvalidAction, match="stale"):
        env.step(f'fill({search.id}, "tea")')
    # a covered element: the click times out and the observation says so
    tab.page.evaluate(
        "() => { const d = document.createElement('div');"
        " d.style = 'position:fixed;left:0;top:0;width:100%;height:100%;z-index:9'; document.body.appendChild(d); }"
    )
    obs, reward, term, trunc, info = env.step(f"click({button.id})")
    assert info["last_action_error"].startswith("timeout") and "Last action error: timeout" in obs
    assert "intercepts pointer events" in info["last_action_error"]
    env.close()


def test_snapshot_restores_cart_and_form_into_a_fresh_env():
    env = gym.make(ENV_ID, mode="browser")
    base = env.unwrapped
    env.reset(seed=4)
    plan = base.task.solve(base)
    for action in plan[:-1]:
        env.step(action)
    add = next(n for n in base._tab.nodes if n.role == "button" and n.name == "Add to Cart")
    env.step(f"click({add.id})")
    box = next(n for n in base._tab.nodes if n.role == "textbox")
    env.step(f'fill({box.id}, "half typed")')
    state, text = base.get_state(), base.render_text()
    assert "Cart (1)" in text and "half typed" in text
    fresh = gym.make(ENV_ID, mode="browser")
    fresh.reset(seed=99)
    fresh.unwrapped.set_state(state)
    assert fresh.unwrapped.render_text() == text
    fresh.close()
    env.close()


def test_browser_restarts_after_a_crash():
    env = gym.make(ENV_ID, mode="browser")
    env.reset(seed=0)
    main = _browser_main(env)
    os.kill(main.pid, signal.SIGKILL)
    main.wait(timeout=10)
    obs, info = env.reset(seed=1)
    assert info.get("browser_restarted") is True and "[id=" in obs
    obs, info = env.reset(seed=2)
    assert "browser_restarted" not in info
    env.close()


@pytest.mark.slow
def test_screenshot_in_the_text_view():
    env = gym.make(ENV_ID, mode="browser", screenshot=True, text=True)
    obs, info = env.reset(seed=0)
    assert info["image"].shape == (768, 1024, 3) and info["image"].dtype.name == "uint8"
    env.close()


@pytest.mark.slow
def test_envs_in_two_threads():
    results, errors = {}, []

    def work(seed):
        try:
            env = gym.make(ENV_ID, mode="browser")
            base = env.unwrapped
            env.reset(seed=seed)
            for action in base.task.solve(base):
                _, reward, term, _, _ = env.step(action)
            results[seed] = reward
            env.close()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(s,)) for s in (5, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors and results == {5: 1.0, 6: 1.0}


@pytest.mark.slow
def test_500_resets_leave_no_process_or_port_behind():
    before = {p.pid for p in _my_chromium()}
    env = gym.make(ENV_ID, mode="browser")
    for seed in range(500):
        env.reset(seed=seed)
    port = env.unwrapped._server.port
    assert env.unwrapped._browser.launches == 1
    env.close()
    psutil.wait_procs([p for p in _my_chromium() if p.pid not in before], timeout=10)
    left = [p for p in _my_chromium() if p.pid not in before and p.status() != psutil.STATUS_ZOMBIE]
    assert not left
    assert all(c.laddr.port != port for c in psutil.net_connections("tcp") if c.status == "LISTEN")


# ---- hostile input and crashes (issue 16), reward integrity (issue 13) -------------------
def test_the_step_after_chromium_died_is_an_error_observation():
    env = gym.make(ENV_ID, mode="browser", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=2)
        plan = base.task.solve(base)
        env.step(plan[0])
        before = base.get_state()
        main = _browser_main(env)
        os.kill(main.pid, signal.SIGKILL)
        main.wait(timeout=10)
        obs, reward, term, trunc, info = env.step(plan[1] if len(plan) > 1 else "scroll(down)")
        assert trunc and not term and reward == 0.0 and info["browser_crashed"]
        assert "browser crashed" in obs and "reset()" in obs
        state = base.get_state()  # does not raise: the last URL, no form values
        assert state["page"]["url"] == before["page"]["url"] and state["page"]["form"] is None
        with pytest.raises(InvalidAction, match="ended"):
            base.step("scroll(down)")
        base.set_state(before)  # a snapshot taken before the crash restores in a new Chromium
        assert "[id=" in base.render_text()
        obs, info = env.reset(seed=3)
        assert "[id=" in obs
    finally:
        env.close()


def test_pages_the_agent_chooses_never_pay():
    """The reward is read from the shop's own session (the order), never from a page: any
    same-site page, a 404 or a blocked site leaves it at 0, and nothing raises."""
    env = gym.make(ENV_ID, mode="browser", text=True)
    base = env.unwrapped
    try:
        env.reset(seed=1)
        for target in ("/nonexistent", "/cart", "/search?q=x", "/favicon.ico", "/"):
            obs, reward, term, trunc, info = env.step(f'goto("{target}")')
            assert reward == 0.0 and not term
        assert base.task.validate(base) == (0.0, False, {})
        # the planning view of this hidden-reward env hides the score and its details
        assert base.reward_access == "hidden" and "reward_details" in base.scorer_info_keys
        view = base.planning_env()
        view.reset(seed=0)
        for action in base.task.solve(base):
            obs, reward, term, trunc, info = view.step(action)
        assert term and reward == 0.0 and not {"success", "reward_details"} & set(info)
    finally:
        env.close()


def test_browser_observation_hygiene():
    """One instruction, no per-link /url: lines (unless show_urls=True), and a separator
    between a product's title and its price."""
    env = gym.make(ENV_ID, mode="browser", text=True)
    urls = gym.make(ENV_ID, mode="browser", text=True, show_urls=True)
    try:
        obs, info = env.reset(seed=0)
        goal = env.unwrapped.task.goal
        assert obs.count(goal) == 1 and "/url:" not in obs
        plan = env.unwrapped.task.solve(env.unwrapped)
        for action in plan[:2]:  # search: the results page
            obs, *_ = env.step(action)
        assert "/url:" not in obs and re.search(r" \| \$\d+\.\d\d", obs)
        assert not re.search(r"[a-z0-9]\$\d", obs)
        obs, info = urls.reset(seed=0)
        assert "/url:" in obs
    finally:
        env.close()
        urls.close()


def test_random_agents_are_one_policy_in_both_modes():
    """The same rng gives the same choice in text and browser mode: a search for the same
    words (browser: fill the box, then submit it) or a click on the same element."""
    import random

    from palaestra.envs.web.browser import _visible_name

    text = gym.make(ENV_ID, text=True)
    browser = gym.make(ENV_ID, mode="browser", text=True)
    try:
        t, b = text.unwrapped, browser.unwrapped
        for env in (text, browser):
            env.reset(seed=4)
        plan = t.task.solve(t)
        text.step(plan[0])
        for action in b.task.solve(b)[:2]:
            browser.step(action)
        assert t._url.split("&page=")[0] == b._tab.relative_url().split("&page=")[0]  # the same results page
        names = {n.id: n.name for n in b._tab.nodes}
        by_label = {blk.label: _visible_name(blk) for blk in t._page.clickables()}
        kinds = set()
        for s in range(60):
            ta, ba = t.sample_action(random.Random(s)), b.sample_action(random.Random(s))
            if ta.startswith("search["):
                kinds.add("search")
                assert ba.startswith("fill(") and ba.endswith(f'"{ta[7:-1]}")'), (ta, ba)
            else:
                kinds.add("click")
                n = int(re.match(r"click\((\d+)\)", ba).group(1))
                assert names[n] == by_label[ta[6:-1]], (ta, ba)
        assert kinds == {"search", "click"}
        # a typed query that was not searched yet is submitted next
        box = next(n for n in b._tab.nodes if n.role == "textbox")
        browser.step(f'fill({box.id}, "red tea")')
        go = next(n for n in b._tab.nodes if n.role == "button" and n.name == "Search")
        assert b.sample_action(random.Random(0)) == f"click({go.id})"
    finally:
        text.close()
        browser.close()
