"""Preference pairs and SFT examples from small recordings in the shared recording format."""

from __future__ import annotations

import json

import pytest

from palaestra.training import demo_pairs, episode_pairs, read_episodes, sft_examples, step_pairs

INSTR = "You play a line game. Reply with one column, 1 to 3."


def _ep(eid, seed, actions, success, search=None, agent="mcts", observations=None, invalid=()):
    steps = []
    for t, a in enumerate(actions):
        obs = observations[t] if observations else f"board after {' '.join(actions[:t]) or 'nothing'}"
        info = {"task_id": "line:p0"}
        if t in invalid:
            info["invalid_action"] = "not a column"
        step = {"t": t, "observation": obs, "action": a, "reward": 0.0, "terminated": t == len(actions) - 1,
                "truncated": False, "info": info}
        if search is not None and search[t] is not None:
            step["search"] = search[t]
        steps.append(step)
    return {"episode_id": eid, "env_id": "palaestra/Line-v0", "task_id": "line:p0", "seed": seed, "goal": "win",
            "agent": agent, "steps": steps, "final_observation": "end", "return": 1.0 if success else -1.0,
            "success": success, "length": len(actions), "created": "2026-01-01T00:00:00Z"}


def _write(folder, episodes, agent="mcts"):
    folder.mkdir(parents=True)
    meta = {"format": 1, "env_id": "palaestra/Line-v0", "env_kwargs": {}, "agent": agent, "instructions": INSTR,
            "versions": {}, "created": "2026-01-01T00:00:00Z"}
    (folder / "meta.json").write_text(json.dumps(meta))
    with open(folder / "episodes.jsonl", "w") as fh:
        for ep in episodes:
            fh.write(json.dumps(ep) + "\n")
    return folder


def _child(a, visits, q, critique=None):
    return {"action": a, "visits": visits, "q": q, "prior": 1 / 3, "critique": critique}


@pytest.fixture
def searched(tmp_path):
    search = [
        [_child("1", 10, 0.2), _child("2", 30, 0.9), _child("3", 5, -0.4)],   # gap 1.3: a pair 2 > 3
        [_child("1", 8, 0.50), _child("2", 9, 0.52)],                          # gap 0.02: dropped
        None,                                                                  # no search: dropped
        [_child("3", 40, 0.7), _child("1", 0, -1.0)],                          # one child under min visits
    ]
    ep = _ep("e0", 7, ["2", "1", "3", "3"], True, search)
    folder = _write(tmp_path / "rec", [ep])
    with open(folder / "episodes.jsonl", "a") as fh:
        fh.write('{"episode_id": "torn", "steps": [')  # a crash mid-write: skipped on read
    return folder


def test_step_pairs_best_vs_worst_with_prefix(searched):
    pairs = step_pairs(searched, confidence=None, min_visits=1, min_margin=0.1, prompt_style="chat")
    assert pairs.made == 1 and pairs.seen == 4
    assert pairs.dropped == {
        "pairs with a Q gap below 0.1": 1,
        "steps without a search tree": 1,
        "steps with fewer than 2 children of >= 1 visits": 1,
    }
    ds = pairs.dataset
    assert set(ds.column_names) >= {"prompt", "chosen", "rejected", "source", "env_id", "task_id", "step",
                                    "chosen_q", "rejected_q", "chosen_visits", "rejected_visits", "margin"}
    row = ds[0]
    assert row["chosen"] == [{"role": "assistant", "content": "2"}]
    assert row["rejected"] == [{"role": "assistant", "content": "3"}]
    assert row["chosen_q"] == pytest.approx(0.9) and row["rejected_q"] == pytest.approx(-0.4)
    assert row["margin"] == pytest.approx(1.3)
    assert (row["chosen_visits"], row["rejected_visits"]) == (30, 5)
    assert row["prompt"] == [{"role": "system", "content": INSTR}, {"role": "user", "content": "board after nothing"}]
    assert (row["source"], row["env_id"], row["task_id"], row["seed"], row["step"]) == (
        "step", "palaestra/Line-v0", "line:p0", 7, 0)
    assert "1 pairs from 4 steps" in pairs.summary()


def test_step_pairs_all_mode_and_prefix_of_later_steps(searched):
    pairs = step_pairs(searched, confidence=None, mode="all", min_margin=0.0, min_visits=0, prompt_style="chat")
    by_step = {}
    for r in pairs.rows:
        by_step.setdefault(r["step"], []).append((r["chosen"][0]["content"], r["rejected"][0]["content"]))
    assert sorted(by_step[0]) == [("1", "3"), ("2", "1"), ("2", "3")]  # all 3 ordered pairs of step 0
    assert by_step[1] == [("2", "1")]
    assert by_step[3] == [("3", "1")]
    # the prompt of step 3 is the full prefix: system, 3 exchanges, the current observation
    row = next(r for r in pairs.rows if r["step"] == 3)
    roles = [m["role"] for m in row["prompt"]]
    assert roles == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert [m["content"] for m in row["prompt"] if m["role"] == "assistant"] == ["2", "1", "3"]
    assert row["prompt"][-1]["content"] == "board after 2 1 3"
    # min_visits drops the unvisited child
    strict = step_pairs(searched, confidence=None, mode="all", min_margin=0.0, min_visits=6)
    assert {(r["step"], r["rejected"][0]["content"]) for r in strict.rows} == {(0, "1"), (1, "1")}


def test_step_pairs_blend_critique(tmp_path):
    search = [[_child("1", 5, 0.0, critique=1.0), _child("2", 5, 0.5, critique=0.0)]]
    folder = _write(tmp_path / "r", [_ep("e", 1, ["1"], True, search)])
    plain = step_pairs(folder, confidence=None, min_margin=0.1)
    assert plain.rows[0]["chosen"][0]["content"] == "2"
    blended = step_pairs(folder, confidence=None, min_margin=0.1, alpha=0.2)  # 0.2*q + 0.8*critique favours "1"
    assert blended.rows[0]["chosen"][0]["content"] == "1"
    assert blended.rows[0]["chosen_q"] == pytest.approx(0.8)


def test_episode_pairs_at_divergence(tmp_path):
    obs = ["s0", "s1", "s2", "s3"]
    win = _ep("w", 3, ["1", "2", "3"], True, observations=obs)
    loss = _ep("l", 3, ["1", "3", "3"], False, observations=obs)
    other_seed = _ep("x", 4, ["2", "2"], False, observations=["t0", "t1"])
    folder = _write(tmp_path / "r", [win, loss, other_seed])
    pairs = episode_pairs(folder, prompt_style="chat")
    assert pairs.made == 1
    row = pairs.rows[0]
    assert row["step"] == 1 and row["chosen"][0]["content"] == "2" and row["rejected"][0]["content"] == "3"
    assert [m["content"] for m in row["prompt"]] == [INSTR, "s0", "1", "s1"]
    assert pairs.dropped == {"tasks without both a success and a failure": 1}
    traj = episode_pairs(folder, mode="trajectory", prompt_style="chat")
    assert [m["role"] for m in traj.rows[0]["chosen"]] == ["assistant", "user", "assistant", "user", "assistant"]
    assert traj.rows[0]["prompt"][-1]["content"] == "s0"
    # observations that differ before the actions do: not a pair
    noisy = _ep("n", 3, ["1", "3"], False, observations=["s0", "DIFFERENT"])
    pairs2 = episode_pairs([win, noisy], instructions=INSTR)
    assert pairs2.made == 0 and pairs2.dropped == {"episode pairs whose observations differ before their actions": 1}


def test_demo_pairs_against_agent_actions(tmp_path):
    demo = _write(tmp_path / "demo", [_ep("h", 1, ["2", "2", "1"], True, agent="human",
                                          observations=["s0", "s1", "s2"])], agent="human")
    agent = _write(tmp_path / "agent", [
        _ep("a1", 5, ["3", "2"], False, observations=["s0", "zz"]),
        _ep("a2", 6, ["1", "9"], False, observations=["s0", "s1"], invalid=(1,)),
        _ep("a3", 7, ["2", "1", "1"], True, observations=["s0", "s1", "s2"]),
    ])
    pairs = demo_pairs(demo, agent)
    got = sorted((r["step"], r["chosen"][0]["content"], r["rejected"][0]["content"], r["rejected_visits"])
                 for r in pairs.rows)
    assert got == [(0, "2", "1", 1), (0, "2", "3", 1), (1, "2", "1", 1)]
    assert pairs.dropped == {"demo steps where the agents chose the same action": 1}
    assert all(r["source"] == "demo" for r in pairs.rows)


def test_sft_examples_and_mixed_sources(tmp_path, searched):
    folder = _write(tmp_path / "mix", [
        _ep("ok", 1, ["1", "x", "2"], True, agent="oracle", invalid=(1,)),
        _ep("bad", 2, ["3"], False, agent="oracle"),
        _ep("rnd", 3, ["3"], True, agent="random"),
    ], agent="oracle")
    ex = sft_examples(folder, agents=["oracle"], prompt_style="chat")
    assert ex.made == 2
    assert ex.dropped == {"invalid steps": 1, "failed episodes": 1, "episodes by other agents than oracle": 1}
    ds = ex.dataset
    assert ds[1]["completion"] == [{"role": "assistant", "content": "2"}]
    assert [m["role"] for m in ds[1]["prompt"]] == ["system", "user", "assistant", "user", "assistant", "user"]
    # a parent folder holding several recordings reads them all
    assert len(read_episodes(tmp_path)) == 4
    both = step_pairs(tmp_path, confidence=None) + episode_pairs(tmp_path)
    assert both.made == step_pairs(searched, confidence=None).made and len(both.dataset) == both.made


def test_agent_prompt_is_what_the_llm_agent_sends(tmp_path):
    """Default prompts rebuild LLMAgent's own prompt from the recording, step by step."""
    import gymnasium as gym

    from palaestra.agents.llm.prompts import state_messages
    from palaestra.runner import run_episode
    from palaestra.wrappers.record import RecordEpisodes

    class Scripted:
        name = "scripted"

        def reset(self, env):
            self.env, self.history, self.prompts, self.played = env, [], [], []

        def act(self, obs, info):
            base = self.env.unwrapped
            self.prompts.append(state_messages(base, self.history, history_len=2))
            action = base.format_action(base.legal_actions()[0])
            self.played.append(action)
            self.history.append(("", action))
            self.last_search = [{"action": action, "visits": 5, "q": 0.5, "prior": 0.5, "critique": None},
                                {"action": "7", "visits": 5, "q": -0.5, "prior": 0.5, "critique": None}]
            return action

    env = RecordEpisodes(gym.make("palaestra/ConnectFour-v0", text=True, opponent="random"), tmp_path / "rec",
                         agent_name="scripted")
    agent = Scripted()
    agent.last_search = None
    run_episode(env, agent, seed=3)
    env.close()
    pairs = step_pairs(tmp_path / "rec", confidence=None, max_history=2, min_margin=0.5)
    assert pairs.made >= 3
    for row in pairs.rows:
        assert row["prompt"] == agent.prompts[row["step"]]
        assert row["chosen"][0]["content"] == agent.played[row["step"]]  # the scripted move of that step


def test_policy_mode_pairs_the_best_child_against_the_policys_own_reply(tmp_path):
    search = [
        # the policy's reply "9" was not a valid action: the best child beats it, whatever the margin
        [_child("2", 10, 0.6), _child("1", 10, 0.5), {"action": "9", "visits": 0, "q": None, "policy": True,
                                                      "invalid": True}],
        # the policy chose "1", worse than the best by 0.5: a pair
        [_child("2", 10, 0.6), {**_child("1", 10, 0.1), "policy": True}],
        # the policy chose the best child: nothing to learn
        [{**_child("2", 10, 0.6), "policy": True}, _child("1", 10, 0.1)],
        # no probe recorded
        [_child("2", 10, 0.6), _child("1", 10, 0.1)],
    ]
    folder = _write(tmp_path / "r", [_ep("e", 1, ["2", "2", "2", "2"], True, search)])
    pairs = step_pairs(folder, confidence=None, mode="policy", min_margin=0.2)
    got = [(r["step"], r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in pairs.rows]
    assert got == [(0, "2", "9"), (1, "2", "1")]
    assert pairs.rows[0]["rejected_q"] is None and pairs.rows[1]["margin"] == pytest.approx(0.5)
    assert pairs.dropped == {"steps where the policy already chose the best child": 1,
                             "steps without the policy's own reply": 1}
    # combined with best_worst, a pair found twice is kept once; invalid replies never count as the worst child
    both = step_pairs(folder, confidence=None, mode="best_worst+policy", min_margin=0.2)
    assert sorted((r["step"], r["rejected"][0]["content"]) for r in both.rows) == [
        (0, "9"), (1, "1"), (2, "1"), (3, "1")]
    with pytest.raises(ValueError, match="best_worst"):
        step_pairs(folder, confidence=None, mode="nonsense")


# ---- clean labels (issue 15) -------------------------------------------------------------
def _c(a, visits, q, sd=None, proven=None, **kw):
    return {"action": a, "visits": visits, "q": q, "q_sd": sd, "proven": proven, "prior": 0.2, "critique": None, **kw}


def test_pairs_only_where_the_confidence_bounds_separate(tmp_path):
    search = [
        # 2 visits on the rejected child: q gap 0.9 but its interval is wide -> no pair (was a pair before)
        [_c("4", 150, 0.5, 0.8), _c("1", 2, -0.4, 0.5)],
        # enough visits on both: 0.5 - 1.96*0.8/sqrt(150) = 0.37 > -0.4 + 1.96*0.5/sqrt(60) = -0.27
        [_c("4", 150, 0.5, 0.8), _c("1", 60, -0.4, 0.5)],
        # the solver proved "7" wins at once (1 visit): kept, and chosen over anything unproven
        [_c("7", 1, 1.0, None, proven=1.0), _c("4", 150, 0.6, 0.7), _c("2", 40, 0.1, 0.9)],
        # unvisited children carry q None: never a side of a pair
        [_c("4", 200, 0.2, 0.9), _c("5", 0, None)],
    ]
    folder = _write(tmp_path / "r", [_ep("e", 1, ["4", "4", "7", "4"], True, search)])
    pairs = step_pairs(folder, min_margin=0.0, min_visits=1)
    got = [(r["step"], r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in pairs.rows]
    assert got == [(1, "4", "1"), (2, "7", "2")]
    assert pairs.dropped["pairs whose confidence intervals overlap"] == 1
    assert step_pairs(folder, min_margin=0.0, confidence=None).made == 3  # plain Q: the noisy pair too


def test_sft_targets_best_and_visit_distribution(tmp_path):
    search = [
        [_c("4", 60, 0.3), _c("3", 30, 0.1), _c("5", 10, 0.0), _c("1", 0, None)],
        [_c("7", 1, 1.0, proven=1.0), _c("4", 99, 0.6)],  # a proven win takes all the mass
        None,
    ]
    folder = _write(tmp_path / "r", [_ep("e", 1, ["3", "4", "2"], False, search)])
    visits = sft_examples(folder, only_success=False, target="visits", visit_samples=10)
    by_step = {}
    for r in visits.rows:
        by_step.setdefault(r["step"], []).append(r["completion"][0]["content"])
    assert sorted(by_step[0]) == sorted(["4"] * 6 + ["3"] * 3 + ["5"])
    assert by_step[1] == ["7"] * 10 and 2 not in by_step
    assert visits.dropped["steps without a search tree"] == 1
    best = sft_examples(folder, only_success=False, target="best")
    assert [r["completion"][0]["content"] for r in best.rows] == ["4", "7"]
    with pytest.raises(ValueError, match="visits"):
        sft_examples(folder, target="nonsense")


def test_compact_prompt_recorded_with_the_episode_is_the_training_prompt(tmp_path):
    ep = _ep("e", 1, ["4"], True, [[_c("4", 10, 0.5), _c("1", 10, -0.5)]])
    ep["prompt"] = "compact"
    folder = _write(tmp_path / "r", [ep])
    row = sft_examples(folder).rows[0]
    assert row["prompt"] == [{"role": "user", "content": ep["steps"][0]["observation"]}]
