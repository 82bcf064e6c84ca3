"""Intervals, ranks with ties, agent specs, and the two rating systems."""

import math
import random

import numpy as np
import pytest

from palaestra.leaderboard.ratings import Game, bradley_terry, openskill_ratings
from palaestra.leaderboard.spec import AgentSpec, parse_agents
from palaestra.leaderboard.stats import (
    Ranked,
    any_tied,
    bootstrap_mean_ci,
    overlap,
    overlap_notes,
    rank_with_ties,
    wilson,
)


def test_wilson_matches_scipy():
    from scipy.stats import binomtest

    for k, n in [(0, 10), (1, 10), (5, 10), (10, 10), (37, 120), (3, 7), (199, 200)]:
        ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        lo, hi = wilson(k, n)
        assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9), (k, n)
    ref90 = binomtest(6, 20).proportion_ci(confidence_level=0.9, method="wilson")
    assert wilson(6, 20, 0.9) == pytest.approx((ref90.low, ref90.high), abs=1e-9)
    assert wilson(0, 0) == (0.0, 1.0)


def test_bootstrap_interval_agrees_with_scipy_and_is_seeded():
    from scipy.stats import bootstrap

    rng = random.Random(0)
    xs = [rng.gauss(2.0, 1.0) for _ in range(200)]
    lo, hi = bootstrap_mean_ci(xs, seed=3)
    ref = bootstrap((xs,), lambda x, axis: x.mean(axis=axis), method="percentile", n_resamples=4000,
                    rng=np.random.default_rng(1)).confidence_interval
    # two independent resamplings of the same percentile interval agree to within resampling noise
    assert lo == pytest.approx(ref.low, abs=0.03) and hi == pytest.approx(ref.high, abs=0.03)
    assert bootstrap_mean_ci(xs, seed=3) == (lo, hi)
    assert bootstrap_mean_ci([1.0, 1.0, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(v) for v in bootstrap_mean_ci([5.0]))


def test_one_bootstrap_for_the_project():
    import palaestra.core.stats as core_stats
    import palaestra.leaderboard.stats as board_stats

    assert board_stats.bootstrap_mean_ci is core_stats.bootstrap_mean_ci
    assert not hasattr(board_stats, "bootstrap_mean")


def test_ranks_tie_when_intervals_overlap_and_notes_say_so():
    items = [Ranked("a", 0.9, (0.8, 0.97)), Ranked("b", 0.5, (0.3, 0.7)), Ranked("c", 0.45, (0.25, 0.65))]
    ranked = {r.name: r.rank for r in rank_with_ties(items)}
    assert ranked == {"a": "1", "b": "2=", "c": "2="}
    notes = overlap_notes(items, "success rate")
    assert notes[0].startswith("a leads")
    assert any("b and c" in n and "overlap" in n for n in notes)
    assert overlap((0, 1), (math.nan, math.nan))  # an unknown interval never makes a winner


def test_ties_do_not_chain():
    # two agents at 100% (20 and 5 episodes) and random at 60% of 20: random overlaps the
    # 5-episode agent, which overlaps the 20-episode one, but the 20-episode one clearly beats random
    items = [Ranked("a", 1.0, wilson(20, 20)), Ranked("b", 1.0, wilson(5, 5)), Ranked("random", 0.6, wilson(12, 20))]
    ranked = {r.name: r.rank for r in rank_with_ties(items)}
    assert ranked == {"a": "1=", "b": "1=", "random": "2"}
    assert not any_tied(r.rank for r in rank_with_ties([Ranked("x", 1.0, (0.8, 1.0)), Ranked("y", 0.1, (0, 0.3))]))


def test_agent_specs_parse_and_hash_by_configuration():
    s = AgentSpec.parse("m50=mcts[simulations=50,c_puct=1.5]")
    assert (s.label, s.target, s.options) == ("m50", "mcts", {"simulations": 50, "c_puct": 1.5})
    same = AgentSpec.parse("mcts[c_puct=1.5,simulations=50]")
    assert s.config_hash == same.config_hash and s.name == "m50" and same.name == "mcts[c_puct=1.5,simulations=50]"
    assert AgentSpec.parse("mcts[simulations=51]").config_hash != s.config_hash
    assert AgentSpec.from_json(s.to_json()) == s
    specs = parse_agents(["random,mcts[simulations=5,seed=1]", "palaestra.agents.base:RandomAgent[seed=3]"])
    assert [x.target for x in specs] == ["random", "mcts", "palaestra.agents.base:RandomAgent"]
    agent = specs[2].build(seed=9)
    assert agent.name == "random" and agent.rng.random() == random.Random(3).random()  # the spec's seed wins
    assert specs[0].build(seed=9).rng.random() == random.Random(9).random()
    text = AgentSpec.parse("random@text")
    assert text.view == "text" and text.config_hash != AgentSpec.parse("random").config_hash
    assert AgentSpec.parse("random").with_view(True) == text and text.name == "random@text"
    with pytest.raises(ValueError, match="known agents"):
        AgentSpec.parse("no-such-agent").build()
    with pytest.raises(ValueError, match="named twice"):
        parse_agents(["random", "random"])
    # search_reward is part of the configuration, and "true" is recorded as such
    fair, peek = AgentSpec.parse("mcts[simulations=5]"), AgentSpec.parse("mcts[simulations=5,search_reward=true]")
    assert fair.search_reward == "agent" and peek.search_reward == "true"
    assert peek.options["search_reward"] == "true" and peek.config_hash != fair.config_hash
    assert AgentSpec.from_json(peek.to_json()).search_reward == "true"
    assert peek.build(seed=0).search_reward == "true"  # the agent gets the value it accepts


def _games(strengths, n, seed):
    rng = random.Random(seed)
    names = list(strengths)
    games = []
    for _ in range(n):
        a, b = rng.sample(names, 2)
        p = 1 / (1 + math.exp(strengths[b] - strengths[a]))
        u = rng.random()
        games.append(Game(a, b, 1.0 if u < p * 0.9 else 0.5 if u < p * 0.9 + 0.1 else 0.0))
    return games


def test_bradley_terry_recovers_order_and_ignores_match_order():
    games = _games({"weak": 0.0, "mid": 1.0, "strong": 2.5}, 300, seed=1)
    bt = bradley_terry(games, bootstrap=200, seed=0)
    assert bt["strong"].elo > bt["mid"].elo > bt["weak"].elo
    for r in bt.values():
        assert r.low <= r.elo <= r.high
    assert sum(r.elo for r in bt.values()) == pytest.approx(0.0, abs=1e-6)
    shuffled = list(games)
    random.Random(5).shuffle(shuffled)
    bt2 = bradley_terry(shuffled, bootstrap=0)
    for k in bt:
        assert bt2[k].elo == pytest.approx(bt[k].elo, abs=1e-6)
    # the fitted log-odds reproduce the observed head-to-head rate of a pair, roughly
    unbeaten = bradley_terry([Game("a", "b", 1.0)] * 10, bootstrap=50)
    assert math.isfinite(unbeaten["a"].elo) and unbeaten["a"].elo > unbeaten["b"].elo


def test_openskill_orders_players_and_counts_games():
    games = _games({"weak": 0.0, "mid": 1.0, "strong": 2.5}, 300, seed=2)
    os_ = openskill_ratings(games)
    assert os_["strong"].mu > os_["mid"].mu > os_["weak"].mu
    assert sum(r.games for r in os_.values()) == 600
    assert os_["strong"].conservative == pytest.approx(os_["strong"].mu - 3 * os_["strong"].sigma)
