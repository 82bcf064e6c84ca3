"""The shop in text mode: catalogue, tasks, reward, oracle, contract kit, WebShop loader."""

from __future__ import annotations

import random
from pathlib import Path

import gymnasium as gym
import pytest

import palaestra  # noqa: F401 - registers the ids
from palaestra.core import InvalidAction
from palaestra.envs.web.shop.catalog import generate_catalog, load_webshop
from palaestra.envs.web.shop.tasks import ShopTasks, price_cap, product_reward
from palaestra.testing import check_env_contract

FIXTURE = Path(__file__).parent / "fixtures" / "webshop"
ENV_ID = "palaestra/WebShop-v0"


def test_catalogue_is_seeded_large_and_varied():
    a = generate_catalog(0)
    b = generate_catalog.__wrapped__(0)  # bypass the cache: really regenerate
    assert len(a) >= 1000
    assert [p.asin for p in a.products] == [p.asin for p in b.products]
    assert [p.price for p in a.products] == [p.price for p in b.products]
    assert len({p.category for p in a.products}) >= 5
    assert len({p.asin for p in a.products}) == len(a)
    assert all(p.options and p.attributes and p.description for p in a.products)
    c = generate_catalog.__wrapped__(1, 1000)
    assert [p.title for p in c.products[:20]] != [p.title for p in a.products[:20]]


def test_price_cap_is_seeded_and_above_price():
    caps = {price_cap(33.3, random.Random(7)) for _ in range(5)}
    assert len(caps) == 1 and caps.pop() > 33.3


def test_reward_follows_webshop():
    cat = generate_catalog(0)
    tasks = ShopTasks(cat)
    goal = tasks.task("test", 3).data
    product = cat.by_asin[goal["asin"]]
    full, details = product_reward(product, goal["options"], goal)
    assert full == 1.0 and details["r_type"] == 1.0
    n = len(goal["attributes"]) + len(goal["options"]) + 1
    if goal["options"]:
        wrong = {g: next(v for v in product.options[g] if v != goal["options"][g]) if len(product.options[g]) > 1 else "zz"
                 for g in goal["options"]}
        r, d = product_reward(product, wrong, goal)
        assert r == pytest.approx((n - len(goal["options"])) / n)
    cheap_goal = dict(goal, price_upper=product.price - 0.01)
    r, d = product_reward(product, goal["options"], cheap_goal)
    assert r == pytest.approx((n - 1) / n) and d["price_ok"] is False
    other = next(p for p in cat.products if p.query != product.query and p.category != product.category)
    r, d = product_reward(other, {}, goal)
    assert d["r_type"] <= 0.5 and r < 0.5


def test_oracle_solves_100_test_tasks_and_random_scores_low():
    env = gym.make(ENV_ID, text=True)
    base = env.unwrapped
    successes = 0
    for seed in range(100):
        env.reset(seed=seed)
        info = {}
        for action in base.task.solve(base):
            obs, reward, term, trunc, info = env.step(action)
            assert "invalid_action" not in info, info
        successes += bool(info.get("success")) and reward == 1.0
    assert successes == 100
    rng = random.Random(0)
    total = 0.0
    for seed in range(30):
        env.reset(seed=seed)
        for _ in range(30):
            obs, reward, term, trunc, info = env.step(base.sample_action(rng))
            total += reward
            if term or trunc:
                break
    assert total / 30 < 0.4
    env.close()


def test_text_actions_explain_errors_and_change_nothing():
    env = gym.make(ENV_ID, text=True)
    obs, info = env.reset(seed=1)
    base = env.unwrapped
    before = base.render_text()
    for bad, needle in [
        ("click[no such thing]", "nothing labelled"),
        ("search[]", "needs a query"),
        ("buy it", "not an action"),
        ("click[buy now]", "nothing labelled"),
    ]:
        obs, reward, term, trunc, info = env.step(bad)
        assert needle in info["invalid_action"], info["invalid_action"]
        assert base.render_text() == before
    with pytest.raises(InvalidAction):
        base.parse_action("click[no such thing]")
    # case and spacing do not matter; the canonical form is lower case
    assert base.parse_action("  Search[ Navy   Hoodie ] ") == "search[navy hoodie]"
    assert base.parse_action("CLICK[Cart]") == "click[cart]"
    env.close()


def test_cart_checkout_and_snapshot_of_server_state():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    env.reset(seed=2)
    plan = base.oracle_plan()
    for action in plan[:-1]:
        env.step(action)
    env.step("click[add to cart]")
    assert "Your cart" in base.render_text() and "Cart (1)" in base.render_text()
    snap = base.get_state()
    obs, reward, term, *_ = env.step("click[checkout]")
    assert term and reward == 1.0
    base.set_state(snap)  # the cart comes back with the snapshot
    assert "Cart (1)" in base.render_text()
    env.step("click[remove item 1]")
    assert "Your cart is empty" in base.render_text()
    env.close()


def test_contract_kit_text_mode():
    report = check_env_contract(
        ENV_ID,
        near_misses=["click[cart", "search[", "click[]", "search[]]", "click[[cart]]", "search[navy]x", "click cart"],
    )
    assert "snapshot round trip" in report.checks and report.fuzz_examples >= 50


def test_webshop_file_loader_on_fixture():
    cat = load_webshop(
        FIXTURE / "items_shuffle_mini.json",
        FIXTURE / "items_ins_v2_mini.json",
        FIXTURE / "items_human_ins_mini.json",
    )
    assert [p.asin for p in cat.products] == ["B07ABC1234", "B08XYZ9876", "B01RUNSHOE"]
    hoodie = cat.by_asin["B07ABC1234"]
    assert hoodie.options == {"color": ["navy", "black"], "size": ["small", "medium", "large"]}
    assert hoodie.price == 29.99 and hoodie.attributes == ["machine wash", "fleece lined"]
    tea = cat.by_asin["B08XYZ9876"]
    assert tea.price == 8.5 and tea.price_text == "$8.50 to $12.00" and tea.bullet_points == ["100 tea bags"]
    # human goals (skipping the one without attributes), then the synthetic one
    assert [g["asin"] for g in cat.goals] == ["B07ABC1234", "B08XYZ9876", "B01RUNSHOE"]
    files = {
        "items": str(FIXTURE / "items_shuffle_mini.json"),
        "attributes": str(FIXTURE / "items_ins_v2_mini.json"),
        "human_instructions": str(FIXTURE / "items_human_ins_mini.json"),
    }
    env = gym.make(ENV_ID, text=True, webshop_files=files, split="test")
    obs, info = env.reset(seed=0)
    assert "navy fleece hoodie" in obs and "price lower than" in obs
    assert env.unwrapped.task.data["options"] == {"color": "navy", "size": "large"}
    for action in env.unwrapped.task.solve(env.unwrapped):
        obs, reward, term, trunc, info = env.step(action)
    assert term and reward == 1.0 and info["success"]
    env.close()


def test_a_lone_surrogate_is_an_error_observation():
    """search[x\\ud800y] used to raise UnicodeEncodeError out of step()."""
    env = gym.make(ENV_ID, text=True)
    base = env.unwrapped
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match="surrogate"):
        base.step("search[x\ud800y]")
    obs, reward, term, trunc, info = env.step("search[x\ud800y]")  # the text view: an observation
    assert "surrogate" in info["invalid_action"] and reward == 0.0 and not term
    obs, reward, term, trunc, info = env.step("search[tea]")
    assert "invalid_action" not in info
    env.close()


def test_planning_view_of_the_shop_hides_the_score():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    assert base.reward_access == "hidden"
    view = base.planning_env()
    view.reset(seed=3)
    for action in base.task.solve(base):
        obs, reward, term, trunc, info = view.step(action)
    assert term and reward == 0.0 and "success" not in info and "reward_details" not in info
    from palaestra.core.planning import ScorerOnly

    with pytest.raises(ScorerOnly):
        view.oracle_plan()
    full = base.planning_env(true_reward=True)
    full.reset(seed=3)
    for action in base.task.solve(base):
        obs, reward, term, trunc, info = full.step(action)
    assert reward == 1.0 and info["success"]
    env.close()
