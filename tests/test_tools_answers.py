"""ToolUse-v0 answers are read in the form each task states, and nothing hidden leaks (issue 13).

Before: with no tool call, one 4,346-character answer listing every status, weekday,
refusal and ask phrase and the integers 0-1000 passed 344 of 600 tasks, and one fixed
question-and-refusal text passed all 120 refuse-tier tasks.
"""

import calendar
import json

import pytest

from palaestra.core import InvalidAction, ScorerOnly
from palaestra.envs.tools.adversaries import POLICIES, success_by_tier
from palaestra.envs.tools.answers import judge, kind_of, topics_of
from palaestra.envs.tools.env import ToolUseEnv
from palaestra.envs.tools.tasks import TIERS, task_specs
from palaestra.envs.tools.world import STATUSES

ISSUE_SHOTGUN = " ".join(
    list(STATUSES) + list(calendar.day_name)
    + ["cannot", "can't", "can not", "unable", "not able", "no tool", "don't have", "do not have", "not possible",
       "not supported", "order number", "order id", "which order", "order #", "which date", "what date",
       "date and time", "when", "which product", "what product", "product name", "how many", "which customer",
       "customer's name", "customer name"]
    + [str(i) for i in range(1001)])
ISSUE_CONSTANT = ("Sorry, I cannot do that. Which order do you mean... which date and time... which product, and how "
                  "many units... which customer?")


@pytest.fixture(scope="module")
def env():
    env = ToolUseEnv()
    yield env
    env.close()


def _forms():
    return {tid: s["answer"]["form"] for tid, s in task_specs(0).items()}


def _wins(env, text, ids=None):
    wins = {t: 0 for t in TIERS}
    for tid in ids or env.task_ids:
        env.reset(options={"task": tid})
        _, reward, _, _, info = env.step({"answer": text})
        wins[info["tier"]] += reward == 1.0
    return wins


def test_the_issues_shotgun_answer_is_refused_and_its_cut_versions_pay_only_a_refusals_share(env):
    assert len(ISSUE_SHOTGUN) > 4000
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match="limit is 2,000"):
        env.step({"answer": ISSUE_SHOTGUN})
    refusals = sum(form == "refusal" for form in _forms().values())
    for text in (ISSUE_SHOTGUN[:2000], "; ".join(ISSUE_SHOTGUN.split())[:2000]):
        wins = _wins(env, text)
        # it holds "cannot", so it reads as a refusal: right only where refusing is right
        assert {t: wins[t] for t in TIERS if t != "refuse"} == {t: 0 for t in TIERS if t != "refuse"}, wins
        assert wins["refuse"] == refusals <= 60


def test_the_issues_constant_refusal_and_question_passes_no_refuse_task(env):
    assert sum(_wins(env, ISSUE_CONSTANT, [t for t in env.task_ids if t.startswith("refuse")]).values()) == 0


def test_a_constant_refusal_or_question_scores_at_most_half_of_the_refuse_tier(env):
    ids = [t for t in env.task_ids if t.startswith("refuse")]
    assert len(ids) == 120
    for text in ("cannot: no tool does this.", "Sorry, I can't help with that.", "ask: which order do you mean?",
                 "ask: on which date and at what time?", "ask: which product, and how many units?",
                 "ask: which customer do you mean?"):
        assert _wins(env, text, ids)["refuse"] <= 60, text


def test_refuse_tier_pairs_a_request_to_refuse_or_ask_with_a_look_alike_to_do():
    specs = task_specs(0)
    first_is_refusal = []
    for i in range(0, 120, 2):
        a, b = specs[f"refuse-{i:03d}"], specs[f"refuse-{i + 1:03d}"]
        kinds = sorted([a["answer"]["form"] in ("refusal", "ask"), b["answer"]["form"] in ("refusal", "ask")])
        assert kinds == [False, True], (a["goal"], b["goal"])
        first_is_refusal.append(a["answer"]["form"] in ("refusal", "ask"))
    # which one of a pair is to be refused is drawn, so the task id does not tell
    assert 15 < sum(first_is_refusal) < 45
    for spec in specs.values():  # every goal states an answer form, those to refuse or ask included
        assert "reply with" in spec["goal"].lower(), spec["goal"]


JUDGED = [  # (answer, expected, right)
    ("20.67", {"form": "value", "value": {"number": 20.67, "tol": 0.01}}, True),
    ("The result is 20.67.", {"form": "value", "value": {"number": 20.67, "tol": 0.01}}, True),
    ("$1,234.50", {"form": "value", "value": {"number": 1234.5}}, True),
    ("20.67 or 20.68", {"form": "value", "value": {"number": 20.67, "tol": 0.01}}, False),
    ("Order 1043 totals 20.67", {"form": "value", "value": {"number": 20.67, "tol": 0.01}}, False),
    ("2026-03-14", {"form": "value", "value": {"number": 2026}}, False),
    ("shipped", {"form": "value", "value": {"text": "shipped"}}, True),
    ("'Shipped'.", {"form": "value", "value": {"text": "shipped"}}, True),
    ("It is shipped", {"form": "value", "value": {"text": "shipped"}}, False),
    ("shipped; pending", {"form": "value", "value": {"text": "shipped"}}, False),
    ("124; Tuesday", {"form": "values", "values": [{"number": 124}, {"text": "Tuesday"}]}, True),
    ('[124, "Tuesday"]', {"form": "values", "values": [{"number": 124}, {"text": "Tuesday"}]}, True),
    ("Tuesday; 124", {"form": "values", "values": [{"number": 124}, {"text": "Tuesday"}]}, False),
    ("124; Tuesday; Monday", {"form": "values", "values": [{"number": 124}, {"text": "Tuesday"}]}, False),
    ("cannot: no tool books flights.", {"form": "refusal"}, True),
    ("Sorry, I can't do that.", {"form": "refusal"}, True),
    ("Sorry, I can't do that. Which order?", {"form": "refusal"}, False),
    ("done", {"form": "refusal"}, False),
    ("ask: which order do you mean?", {"form": "ask", "about": "order"}, True),
    ("Which order number is it?", {"form": "ask", "about": "order"}, True),
    ("On which date and at what time?", {"form": "ask", "about": "date"}, True),
    ("Which product, and how many units?", {"form": "ask", "about": "product"}, True),
    ("Which customer do you mean?", {"form": "ask", "about": "customer"}, True),
    ("Which customer or which order?", {"form": "ask", "about": "customer"}, False),
    ("Could you clarify?", {"form": "ask", "about": "order"}, False),
    ("cannot: which order?", {"form": "refusal"}, False),
    (None, {"form": "value", "value": {"text": "done"}}, False),
]


@pytest.mark.parametrize("answer,expected,right", JUDGED)
def test_answers_are_read_in_their_form(answer, expected, right):
    ok, details = judge(answer, expected)
    assert ok is right, details
    shown = json.dumps(details)
    for value in expected.get("values", []) + [expected.get("value", {})]:
        if "text" in value:
            assert value["text"] not in shown.replace(answer or "", "")  # details never echo the expected value


def test_kinds_and_topics():
    assert kind_of("ask: when?") == kind_of("Which one?") == "ask"
    assert kind_of("cannot: no") == kind_of("I am unable to") == "refusal"
    assert kind_of("42") == "values"
    assert topics_of("Which order, and which customer?") == {"order", "customer"}


def _play(env, tid, final):
    env.reset(options={"task": tid})
    plan = env.task.solve(env)
    for action in plan[:-1]:
        env.step(action)
    return env.step({"answer": final})


@pytest.mark.parametrize("tid", ["single-002", "single-005", "sequence-003", "dependent-004", "state-005",
                                 "refuse-000", "refuse-001", "refuse-004"])
def test_no_observation_snapshot_or_public_info_tells_the_right_answer(env, tid):
    right = task_specs(0)[tid]["oracle"][-1]["answer"]
    obs_right, r_right, _, _, info_right = _play(env, tid, right)
    state_right = env.get_state()
    obs_wrong, r_wrong, _, _, info_wrong = _play(env, tid, "wrong")
    assert (r_right, r_wrong) == (1.0, 0.0)
    # the observations differ only in the answer line the agent itself wrote
    assert obs_right.rsplit("Assistant: " + right, 1) == obs_wrong.rsplit("Assistant: wrong", 1)
    assert "SUCCESS" not in obs_right and "FAILURE" not in obs_wrong
    # the verdict and its parts are scorer-only; the planning view drops them
    assert {"success", "grading"} <= set(info_wrong)
    assert set(ToolUseEnv.scorer_info_keys) >= {"grading"} and ToolUseEnv.reward_access == "hidden"
    expected = task_specs(0)[tid]["answer"]
    texts = [v["text"] for v in [expected.get("value", {})] + expected.get("values", []) if "text" in v]
    assert not any(t in json.dumps(info_wrong["grading"]) for t in texts)
    # snapshots carry no verdict: it is recomputed on restore
    assert "outcome" not in state_right and "success" not in json.dumps(state_right, default=str)
    env.set_state(state_right)
    assert env.grade_now()[0] == 1.0


def test_the_planning_view_withholds_the_verdict_and_the_oracle(env):
    env.reset(options={"task": "single-002"})
    view = env.planning_env()
    with pytest.raises(ScorerOnly):
        view.oracle_actions()
    with pytest.raises(ScorerOnly):
        view.grade_now()
    with pytest.raises(ScorerOnly):
        view.task.solve(view)
    assert set(view.task.data) == {"tier"}  # the expected answer and the plan are not in the agent's task
    right = task_specs(0)["single-002"]["oracle"][-1]["answer"]
    _, reward, term, _, info = view.step({"answer": right})
    assert term and reward == 0.0 and "success" not in info and "grading" not in info
    assert env._steps == 0 and not env._ended  # the search stepped a twin, not the real episode
    _, reward, _, _, info = env.planning_env(true_reward=True).step({"answer": right})
    assert reward == 1.0 and info["success"] and env._steps == 0  # the explicit opt-in, still on a twin


def test_constant_and_shotgun_policies_over_every_task(env):
    refusals = sum(form == "refusal" for form in _forms().values())
    for name in ("constant refusal", "constant question (order)", "constant done", "constant 1",
                 "constant delivered", "shotgun prose", "shotgun values", "calls + shotgun"):
        wins = success_by_tier(env, POLICIES[name], env.task_ids)
        assert sum(wins.values()) <= max(refusals, 20), (name, wins)
        assert wins["refuse"] <= 60, (name, wins)
        if "shotgun" in name:
            assert sum(wins[t] for t in TIERS if t != "refuse") == 0, (name, wins)


def test_repeat_last_and_random_policies_never_succeed(env):
    ids = env.task_ids[::4]
    for name in ("repeat-last call", "random actions"):
        assert sum(success_by_tier(env, POLICIES[name], ids).values()) == 0, name
