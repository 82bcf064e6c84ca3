"""Booking-v0 (text mode): site, tasks, the reward on the stored booking, oracle, contract
kit, adversarial policies, hostile inputs, snapshots, the HTTP server."""

from __future__ import annotations

import pickle
import random

import gymnasium as gym
import pytest

import palaestra  # noqa: F401 - registers the ids
from palaestra.core import InvalidAction
from palaestra.envs.web.booking.tasks import REQUESTS, BookingTasks, restaurant_ok
from palaestra.envs.web.booking.world import DATES, TIMES, generate_site, time_label
from palaestra.testing import check_env_contract

ENV_ID = "palaestra/Booking-v0"


def _env(**kw):
    return gym.make(ENV_ID, text=True, max_invalid=None, **kw)


def _run(env, actions):
    info, reward = {}, 0.0
    for action in actions:
        _obs, reward, term, trunc, info = env.step(action)
        if term or trunc:
            break
    return reward, info


def test_site_is_seeded_and_varied():
    a = generate_site(0)
    b = generate_site.__wrapped__(0)
    assert [(r.name, r.cuisine, r.area, r.rating, r.price) for r in a.restaurants] == \
           [(r.name, r.cuisine, r.area, r.rating, r.price) for r in b.restaurants]
    assert len(a.restaurants) == 150 and len({r.name for r in a.restaurants}) == 150
    assert len({r.cuisine for r in a.restaurants}) == 12 and len({r.area for r in a.restaurants}) == 8
    assert {r.price for r in a.restaurants} == {1, 2, 3, 4}
    caps = [a.capacity(r.rid, d, t) for r in a.restaurants[:20] for d in DATES for t in TIMES]
    assert 0.3 < caps.count(0) / len(caps) < 0.5  # 40% of slots are full
    c = generate_site.__wrapped__(1)
    assert [r.name for r in c.restaurants[:20]] != [r.name for r in a.restaurants[:20]]


def test_tasks_split_by_restaurant_and_are_feasible():
    site = generate_site(0)
    tasks = BookingTasks(site)
    test_rids = {tasks.task("test", i).data["oracle_restaurant"] for i in range(500)}
    train_rids = {tasks.task("train", i).data["oracle_restaurant"] for i in range(500)}
    assert test_rids and not test_rids & train_rids  # held-out restaurants
    kinds = {"name": 0, "constraints": 0, "account": 0, "request": 0}
    for i in range(500):
        g = tasks.task("test", i).data
        assert g == tasks.task("test", i).data  # seeded
        r = site.by_id[g["oracle_restaurant"]]
        assert restaurant_ok(r, g) and site.available(r.rid, g["date"], g["time"], g["party"])
        kinds["name" if "id" in g["restaurant"] else "constraints"] += 1
        kinds["account"] += bool(g["account"])
        kinds["request"] += bool(g["request"])
        assert time_label(g["time"]) in g["instruction"]
    assert all(v > 50 for v in kinds.values()), kinds
    with pytest.raises(ValueError, match="booking:test"):
        tasks.parse_id("shop:test:1")


def test_oracle_solves_100_held_out_tasks():
    env = _env()
    base = env.unwrapped
    solved = 0
    for i in range(100):
        env.reset(options={"task": f"booking:test:{i}"})
        reward, info = _run(env, base.task.solve(base))
        assert "invalid_action" not in info, info
        solved += reward == 1.0 and info["success"]
    assert solved == 100
    env.close()


def _first_restaurant_any_date(base, rng):
    """Book the first restaurant listed, the first date and time that are free, guesses."""
    yield "click[browse all restaurants]"
    yield f"click[{_first_restaurant(base)}]"
    yield "click[dec 1]"
    yield "click[2 people]"
    slots = [b.label for b in base._page.blocks if b.kind == "slot"]
    if not slots:
        return
    yield f"click[{slots[0]}]"
    yield "fill[name: Alex Smith]"
    yield "fill[phone: 555-000-0000]"
    yield "click[book table]"


def _first_restaurant(base):
    return next(b.label for b in base._page.blocks if b.kind == "restaurant")


def _guessed_form(base, rng):
    """The right restaurant (from the oracle), every other field guessed from the goal's words."""
    plan = base.oracle_plan()
    search = next(i for i, a in enumerate(plan) if a.startswith("search["))
    yield plan[search]
    yield plan[search + 1]
    yield f"click[{rng.choice([b.label for b in base._page.blocks if b.group == 'date'])}]"
    yield f"click[{rng.choice([b.label for b in base._page.blocks if b.group == 'party'])}]"
    slots = [b.label for b in base._page.blocks if b.kind == "slot"]
    if not slots:
        return
    yield f"click[{rng.choice(slots)}]"
    words = [w for w in base.task.goal.replace(".", " ").split() if w.isalpha()]
    yield f"fill[name: {rng.choice(words)} {rng.choice(words)}]"
    yield f"fill[phone: 555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}]"
    yield f"fill[requests: {' '.join(REQUESTS)}]"  # every request at once
    yield "click[book table]"


def _measure(policy, n=100, max_steps=40):
    env = _env(max_steps=max_steps)
    base = env.unwrapped
    rng = random.Random(0)
    wins = 0
    for i in range(n):
        env.reset(options={"task": f"booking:test:{i}"})
        reward, _info = 0.0, {}
        for _, action in zip(range(2 * max_steps), policy(base, rng)):  # invalid actions take no step
            _obs, reward, term, trunc, _info = env.step(action)
            if term or trunc:
                break
        wins += reward == 1.0
    env.close()
    return wins / n


def _shotgun(base, rng):
    """The env's own shotgun hook (the contract kit's battery plays it too)."""
    for item in base.shotgun_actions():
        yield item(base) if callable(item) else item


def _off_task(base, rng):
    yield from base.off_task_actions()
    while True:
        yield base.sample_action(rng)


def _random(base, rng):
    while True:
        yield base.sample_action(rng)


def _constant(base, rng):
    while True:
        yield "click[home]"


def _repeat_last(base, rng):
    first = base.sample_action(rng)
    while True:
        yield first


def _leave_site(base, rng):
    yield from ["goto[http://example.com]", "click[http://127.0.0.1:1/]", "search[../../etc/passwd]",
                   "click[sign in]", "fill[username: ' or 1=1 --]", "fill[password: x]", "click[sign in]"]
    while True:
        yield "click[home]"


@pytest.mark.parametrize("policy,limit", [
    (_random, 0.02), (_constant, 0.0), (_repeat_last, 0.0), (_first_restaurant_any_date, 0.02),
    (_guessed_form, 0.02), (_leave_site, 0.0), (_shotgun, 0.0), (_off_task, 0.02),
])
def test_random_and_adversarial_policies_stay_near_zero(policy, limit):
    rate = _measure(policy)
    assert rate <= limit, f"{policy.__name__} succeeded on {rate:.0%} of 100 held-out tasks"


def _oracle_with(base, **change):
    """The oracle's plan with one field changed (to another value that is doable)."""
    plan = base.oracle_plan()
    out = []
    g = base.task.data
    for a in plan:
        if "date" in change and a == f"click[{_date_label(g['date'])}]":
            a = f"click[{_date_label(change['date'])}]"
        if "party" in change and a.startswith("click[") and a.endswith(("people]", "person]")):
            n = change["party"]
            a = f"click[{'1 person' if n == 1 else f'{n} people'}]"
        if "time" in change and a == f"click[{time_label(g['time'])}]":
            a = f"click[{time_label(change['time'])}]"
        if "name" in change and a.startswith("fill[name:"):
            a = f"fill[name: {change['name']}]"
        if "requests" in change and a.startswith("fill[requests:"):
            a = f"fill[requests: {change['requests']}]"
        out.append(a)
    return out


def _date_label(iso):
    from palaestra.envs.web.booking.world import date_label
    return date_label(iso)


def test_a_booking_with_one_wrong_field_earns_nothing():
    env = _env()
    base = env.unwrapped
    site = base.site
    tried = {"date": 0, "time": 0, "party": 0, "name": 0, "requests": 0}
    for i in range(60):
        env.reset(options={"task": f"booking:test:{i}"})
        g = base.task.data
        rid = g["oracle_restaurant"]
        snap = base.get_state()
        other_time = next((t for t in TIMES if t != g["time"] and site.available(rid, g["date"], t, g["party"])), None)
        other_date = next((d for d in DATES if d != g["date"] and site.available(rid, d, g["time"], g["party"])), None)
        other_party = next((p for p in range(1, 13) if p != g["party"] and site.available(rid, g["date"], g["time"], p)), None)
        cases = {"time": other_time, "date": other_date, "party": other_party}
        if not g["account"]:
            cases["name"] = "Someone Else"
        if g["request"]:
            cases["requests"] = g["request"] + " and a cake"
        for key, value in cases.items():
            if value is None:
                continue
            base.set_state(snap)
            reward, info = _run(env, _oracle_with(base, **{key: value}))
            assert "invalid_action" not in info, (key, info)
            assert info["reward_details"]["booking_id"], "the wrong booking must really be made"
            assert reward == 0.0 and info["success"] is False, (key, value, info)
            assert info["reward_details"]["checks"][key.rstrip("s") if key == "requests" else key] is False
            tried[key] += 1
        if g["account"]:  # booking signed out, as the guest the account belongs to, is not enough
            base.set_state(snap)
            plan = [a for a in base.oracle_plan()][4:]  # skip the sign-in
            reward, info = _run(env, plan)
            assert reward == 0.0 and info["reward_details"]["checks"]["account"] is False
    assert all(v >= 5 for v in tried.values()), tried
    env.close()


def test_validation_errors_and_form_state():
    env = _env()
    base = env.unwrapped
    guest = next(i for i in range(500) if not base.tasks.task("test", i).data["account"])
    env.reset(options={"task": f"booking:test:{guest}"})
    plan = base.oracle_plan()
    book = plan.index("click[book table]")
    _run(env, [a for a in plan[:book] if not a.startswith(("fill[name:", "fill[phone:", "fill[requests:"))])
    obs, reward, term, _trunc, info = env.step("click[book table]")
    assert not term and "Name is required." in obs and "Phone is required." in obs
    assert "Name is required" in info["last_action_error"]
    obs, *_ = env.step("fill[name: 4ndroid!]")
    obs, *_ = env.step("fill[phone: 12]")
    obs, reward, term, _trunc, info = env.step("click[book table]")
    assert not term and "Name: use letters" in obs and "Phone: 7 to 15 digits" in obs
    assert '"4ndroid!"' in obs  # the form keeps what was typed
    fills = [a for a in plan if a.startswith(("fill[name:", "fill[phone:", "fill[requests:"))]
    reward, info = _run(env, fills + ["click[book table]"])
    assert reward == 1.0 and "Booking id: BK" in base.render_text()
    env.close()


def test_signin_rejects_wrong_password():
    env = _env()
    base = env.unwrapped
    env.reset(seed=0)
    env.step("click[sign in]")
    user = min(base.site.accounts)
    _run(env, [f"fill[username: {user}]", "fill[password: wrong]", "click[sign in]"])
    assert "Unknown username or wrong password." in base.render_text() and "Signed in" not in base.render_text()
    _run(env, [f"fill[password: {base.site.accounts[user].password}]", "click[sign in]"])
    assert f"Signed in as {user}" in base.render_text()
    env.close()


def test_hostile_inputs_are_error_observations():
    env = _env()
    base = env.unwrapped
    env.reset(seed=4)
    env.step("click[browse all restaurants]")
    before = base.render_text()
    for bad in ["x" * 1_000_000, "search[" + "a" * 5000 + "]", "click[\ud800]", "fill[name: \udfff]",
                "search[" * 10_000 + "]" * 10_000, "click[[[[[[[[home]]]]]]]]", '{"a": ' * 5000 + "1" + "}" * 5000,
                "fill[name: x]", "click[\x00home]", "search[a\nb]", "", "   ", "click[]", "search[]",
                "fill[password: " + "p" * 900 + "]", "FILL[]"]:
        _obs, reward, term, _trunc, info = env.step(bad)
        assert info.get("invalid_action"), bad[:40]
        assert base.render_text() == before and reward == 0.0 and not term
    with pytest.raises(InvalidAction):
        base.step(None)
    env.close()


def test_parse_is_canonical_and_round_trips():
    env = _env()
    base = env.unwrapped
    env.reset(options={"task": "booking:test:3"})
    assert base.parse_action("  CLICK[ Browse   All Restaurants ] ") == "click[browse all restaurants]"
    assert base.parse_action("Search[  Thai   Riverside ]") == "search[thai riverside]"
    for action in base.oracle_plan():
        assert base.parse_action(base.format_action(action)) == action
        env.step(action)


def test_snapshots_restore_the_session_in_a_fresh_env():
    env = _env()
    base = env.unwrapped
    env.reset(options={"task": "booking:test:11"})
    plan = base.oracle_plan()
    _run(env, plan[:-1])
    snap = pickle.loads(pickle.dumps(base.get_state()))
    text = base.render_text()
    fresh = _env()
    fresh.reset(seed=99)
    fresh.unwrapped.set_state(snap)
    assert fresh.unwrapped.render_text() == text
    reward, _info = _run(fresh, plan[-1:])
    assert reward == 1.0
    base.set_state(snap)  # the booking made in the fresh env is not in this one
    assert base.render_text() == text
    with pytest.raises(ValueError, match="snapshot"):
        base.set_state({"nope": 1})
    env.close()
    fresh.close()


def test_hidden_reward_stays_hidden():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    assert base.reward_access == "hidden"
    view = base.planning_env()
    described = next(i for i in range(500) if "id" not in base.tasks.task("test", i).data["restaurant"])
    view.reset(options={"task": f"booking:test:{described}"})
    g = base.task.data
    obs = base.render_text()
    target = base.site.by_id[g["oracle_restaurant"]]
    assert target.name not in obs and target.rid not in obs  # only the goal's words describe it
    last = None
    for action in base.oracle_plan():
        last = view.step(action)
    obs, reward, term, _trunc, info = last
    assert term and reward == 0.0  # the agent-side proxy
    assert "success" not in info and "reward_details" not in info
    assert "reward" not in obs.lower() and "success" not in obs.lower()
    env.close()


def test_contract_kit():
    report = check_env_contract(
        ENV_ID,
        near_misses=["click[home", "search[", "click[]", "fill[name]", "fill[]", "click[[home]]", "fill[name: a]]",
                     "search[thai]x", "click home", "fill[nope: x]"],
    )
    assert "snapshot round trip" in report.checks and report.fuzz_examples >= 50


def test_http_server_serves_the_same_site():
    import httpx

    from palaestra.envs.web.booking.server import BookingServer
    from palaestra.envs.web.booking.world import BookingWorld

    site = generate_site(0)
    world = BookingWorld(site)
    tasks = BookingTasks(site)
    g = tasks.task("test", 0).data
    r = site.by_id[g["oracle_restaurant"]]
    with BookingServer(world) as server, httpx.Client(base_url=server.origin, follow_redirects=True) as client:
        assert server.host == "127.0.0.1"
        page = client.get("/search", params={"q": r.name.lower()})
        assert page.status_code == 200 and r.name in page.text and "cuisine: italian" in page.text
        form_url = f"/book/{r.rid}?date={g['date']}&time={g['time']}&party={g['party']}"
        page = client.get(form_url)
        assert "<form method='post'" in page.text and "name='phone'" in page.text
        page = client.post(form_url, data={"name": "", "phone": "1"})
        assert page.status_code == 200 and "Name is required." in page.text
        page = client.post(form_url, data={"name": "Ana Abbott",
                                           "phone": "555 201 3344", "requests": "x" * 10_000})
        assert "Booking id: BK" in page.text and page.url.path == "/confirmation"
        sid = client.cookies["sid"]
        booking = world.export_session(sid)["booking"]
        assert booking["restaurant"] == r.rid and len(booking["requests"]) == 200
        assert client.post("/signin", content=b"x" * 100_000,
                           headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
        assert client.get("/r/" + "9" * 5000).status_code in (404, 414)
