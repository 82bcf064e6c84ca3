"""The generated tool world: oracle success on every task, grading, parsing, snapshots."""

import pickle

import gymnasium as gym
import pytest

import palaestra  # noqa: F401  (registers the ids)
from palaestra.core import InvalidAction
from palaestra.envs.tools.env import ToolUseEnv
from palaestra.envs.tools.tasks import TIERS, task_ids, task_specs


def test_at_least_500_tasks_across_tiers_and_splits():
    specs = task_specs(0)
    assert len(specs) >= 500
    for tier in TIERS:
        assert len(task_ids(0, tier, "train")) > 0 and len(task_ids(0, tier, "test")) > 0
    assert set(task_ids(0, split="train")).isdisjoint(task_ids(0, split="test"))


def test_oracle_succeeds_on_every_task():
    env = ToolUseEnv()
    failures = []
    for tid in env.task_ids:
        env.reset(options={"task": tid})
        info, reward = {}, 0.0
        for action in env.task.solve(env):
            _, reward, term, trunc, info = env.step(action)
        if not (info.get("success") and reward == 1.0 and term):
            failures.append((tid, info.get("grading")))
    env.close()
    assert not failures, failures[:5]
    assert len(env.task_ids) == len(task_specs(0))


def test_wrong_answers_and_wrong_states_fail():
    env = ToolUseEnv(tier="state")
    env.reset(options={"task": "state-000"})  # cancel a pending order
    _, reward, term, _, info = env.step({"answer": "Done, it is cancelled."})
    assert term and reward == 0.0 and not info["success"]
    assert info["grading"]["db_match"] is False

    env = ToolUseEnv(tier="refuse")
    tid = next(t for t in task_ids(0, "refuse") if task_specs(0)[t]["answer"]["form"] == "refusal")
    env.reset(options={"task": tid})
    env.step({"name": "current_date", "arguments": {}})
    _, reward, _, _, info = env.step({"answer": "Sorry, I cannot do that."})
    assert reward == 0.0 and info["grading"]["calls_ok"] is False

    env = ToolUseEnv(tier="single")
    env.reset(options={"task": "single-002"})  # order status
    _, reward, _, _, info = env.step({"answer": "I do not know."})
    assert reward == 0.0 and info["grading"]["answer_ok"] is False


def test_invalid_actions_explain_and_change_nothing():
    env = gym.make("palaestra/ToolUse-v0", text=True)
    env.reset(seed=0)
    base = env.unwrapped
    before = base.render_text()
    cases = {
        '{"name": "get_order", "arguments": {"order_id": "abc"}}': "order_id",
        '{"name": "launch_rockets", "arguments": {}}': "unknown tool",
        '{"name": "get_order", "arguments": {"order_id": 1001, "extra": 1}}': "unexpected",
        '{"name": "get_order"': "malformed JSON",
        'get_order()': "required",
        '[]': "empty list",
        'hello there': "not JSON",
    }
    for text, needle in cases.items():
        obs, reward, term, trunc, info = env.step(text)
        assert needle.lower() in info["invalid_action"].lower(), (text, info["invalid_action"])
        assert base.render_text() == before and reward == 0.0 and not term
    with pytest.raises(InvalidAction):
        base.step({"name": "get_order", "arguments": {"order_id": True}})


def test_text_forms_parse_to_the_same_native_action():
    env = ToolUseEnv()
    env.reset(seed=1)
    native = {"name": "get_order", "arguments": {"order_id": 1043}}
    for text in ['{"name": "get_order", "arguments": {"order_id": 1043}}', "get_order(order_id=1043)",
                 '{"get_order": {"order_id": 1043}}',
                 '{"type": "function", "function": {"name": "get_order", "arguments": "{\\"order_id\\": 1043}"}}']:
        assert env.parse_action(text) == native
    assert env.parse_action("answer: 42") == {"answer": "42"}
    reply = 'I will look it up.\n```json\n{"name": "get_order", "arguments": {"order_id": 1043}}\n```'
    assert env.parse_action(reply) == native
    pair = env.parse_action("[weekday(date='2026-03-14'), current_date()]")
    assert pair == [{"name": "weekday", "arguments": {"date": "2026-03-14"}},
                    {"name": "current_date", "arguments": {}}]
    assert env.parse_action(env.format_action(pair)) == pair


def test_snapshot_restores_database_and_conversation_in_a_fresh_env():
    env = ToolUseEnv(tier="state")
    env.reset(options={"task": "state-000"})
    plan = env.task.solve(env)
    snap = pickle.dumps(env.get_state())
    obs_a = [env.step(a) for a in plan]
    fresh = ToolUseEnv(tier="state")
    fresh.reset(seed=99)
    fresh.set_state(pickle.loads(snap))
    obs_b = [fresh.step(a) for a in plan]
    assert [o[:4] for o in obs_a] == [o[:4] for o in obs_b]
    assert obs_b[-1][4]["success"]


def test_task_validate_grades_the_episode_as_it_stands():
    env = ToolUseEnv(tier="single")
    env.reset(options={"task": "single-002"})
    reward, done, details = env.task.validate(env)
    assert (reward, done) == (0.0, False) and details["answered"] is False
    for action in env.task.solve(env):
        env.step(action)
    reward, done, details = env.task.validate(env)
    assert (reward, done) == (1.0, True) and details["partial"] == 1.0


def test_pass_hat_k_follows_tau_bench():
    from palaestra.envs.tools.grading import pass_hat_k

    trials = {"a": [True, True, True, True], "b": [True, False, True, False], "c": [False] * 4}
    assert pass_hat_k(trials, 1) == pytest.approx((1 + 0.5 + 0) / 3)
    assert pass_hat_k(trials, 2) == pytest.approx((1 + 1 / 6 + 0) / 3)
    assert pass_hat_k(trials, 4) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        pass_hat_k(trials, 5)
