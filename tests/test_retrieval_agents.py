"""Baselines by name (topk, greedy), CARROT-style MCTS, and the oracle ceiling."""

import statistics

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents import make
from palaestra.envs.retrieval.oracle import best_sequence
from palaestra.runner import run_episode

ENV_ID = "palaestra/ChunkSelection-v0"


def test_topk_takes_retrieval_order_until_the_budget_is_full():
    env = gym.make(ENV_ID)
    agent = make("topk")
    res = run_episode(env, agent, seed=4)
    base = env.unwrapped
    ranks = [base.problem.candidates[i].rank for i in base.chosen]
    assert ranks == sorted(ranks)
    assert res.terminated and not [a for a in base._fitting()]  # nothing else fits
    res3 = run_episode(env, make("topk", k=2), seed=4)
    assert len(base.chosen) == 2 and res3.info["tokens_used"] <= res.info["tokens_used"]


def test_greedy_never_lowers_the_reward_and_stops_early():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    agent = make("greedy")
    early = 0
    for seed in range(10):
        obs, info = env.reset(seed=seed)
        agent.reset(env)
        prev, term = base.reward_of(()), False
        while not term:
            obs, r, term, trunc, info = env.step(agent.act(obs, info))
            now = base.reward_of(base.chosen)
            assert now >= prev
            prev = now
        early += info["tokens_used"] < base.problem.budget - 40
    assert early >= 5  # stopping early is right on most tasks


def test_agents_play_the_text_view():
    env = gym.make(ENV_ID, text=True)
    for name in ("topk", "greedy", "carrot"):
        res = run_episode(env, make(name, **({"simulations": 30} if name == "carrot" else {})), seed=1)
        assert res.invalid_actions == 0 and res.terminated


def test_mcts_beats_topk_with_fewer_tokens_and_oracle_bounds_all():
    env = gym.make(ENV_ID)
    base = env.unwrapped
    names = {"topk": make("topk"), "greedy": make("greedy"), "carrot": make("carrot", simulations=80)}
    rets = {k: [] for k in names}
    toks = {k: [] for k in names}
    ceiling = []
    for seed in range(20):
        for k, agent in names.items():
            res = run_episode(env, agent, seed=seed)
            rets[k].append(res.ret)
            toks[k].append(res.info["tokens_used"])
        ceiling.append(best_sequence(base.problem, base.utility).value)
        for k in names:
            assert rets[k][-1] <= ceiling[-1] + 1e-9
    assert statistics.mean(rets["carrot"]) > statistics.mean(rets["topk"]) + 0.2
    assert statistics.mean(toks["carrot"]) <= statistics.mean(toks["topk"])
    assert statistics.mean(rets["carrot"]) >= statistics.mean(rets["greedy"]) - 0.02
    search = names["carrot"].last_search
    assert search and {"action", "visits", "q", "prior"} <= set(search[0])


def test_cost_aware_ucb_reads_the_env_costs():
    env = gym.make(ENV_ID)
    agent = make("mcts", simulations=40, selection="ucb-cost", rollout=None,
                 value_fn=lambda e: e.unwrapped.stop_value(), cost_weight=0.5)
    env.reset(seed=3)
    agent.reset(env)
    assert agent._cost_fn is not None and agent._budget == pytest.approx(128.0)
    res = run_episode(env, agent, seed=3)
    assert res.terminated and res.ret >= 0.0


def test_unknown_env_is_refused():
    agent = make("greedy")
    with pytest.raises(TypeError, match="chunk-selection env"):
        agent.reset(gym.make("palaestra/ConnectFour-v0"))


def test_carrot_per_query_type_settings():
    env = gym.make(ENV_ID)
    agent = make("carrot", simulations=10, per_type={"multihop": {"simulations": 60, "c": 1.0}})
    seen = {}
    for seed in range(12):
        res = run_episode(env, agent, seed=seed)
        qtype = env.unwrapped.problem.question.qtype
        seen[qtype] = agent.current.simulations
        assert res.terminated and agent.last_search is not None
    assert seen.get("multihop") == 60 and any(v == 10 for k, v in seen.items() if k != "multihop")
    with pytest.raises(ValueError, match="unknown query types"):
        make("carrot", per_type={"trivia": {}})
