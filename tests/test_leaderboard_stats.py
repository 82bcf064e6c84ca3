"""Intervals, ranks with ties, agent specs, and the two rating systems."""

import math
import random

import pytest

from palaestra.leaderboard.ratings import Game, bradley_terry, openskill_ratings
from palaestra.leaderboard.spec import AgentSpec, parse_agents
from palaestra.leaderboard.stats import Ranked, bootstrap_mean, overlap, overlap_notes, rank_with_ties, wilson


def test_wilson_matches_the_closed_form():
    for k, n in [(0, 10), (5, 10), (10, 10), (37, 120)]:
        p, z = k / n, 1.959963984540054
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        lo, hi = wilson(k, n)
        assert lo == pytest.approx(max(0.0, centre - half), abs=1e-9)
        assert hi == pytest.approx(min(1.0, centre + half), abs=1e-9)
    assert wilson(0, 0) == (0.0, 1.0)


def test_bootstrap_interval_covers_the_mean_and_is_seeded():
    rng = random.Random(0)
    xs = [rng.gauss(2.0, 1.0) for _ in range(200)]
    lo, hi = bootstrap_mean(xs, seed=3)
    mean = sum(xs) / len(xs)
    assert lo < mean < hi and hi - lo < 0.5
    assert bootstrap_mean(xs, seed=3) == (lo, hi)
    assert bootstrap_mean([1.0, 1.0, 1.0]) == (1.0, 1.0)
    assert all(math.isnan(v) for v in bootstrap_mean([5.0]))


def test_ranks_tie_when_intervals_overlap_and_notes_say_so():
    items = [Ranked("a", 0.9, (0.8, 0.97)), Ranked("b", 0.5, (0.3, 0.7)), Ranked("c", 0.45, (0.25, 0.65))]
    ranked = {r.name: r.rank for r in rank_with_ties(items)}
    assert ranked == {"a": "1", "b": "2=", "c": "2="}
    notes = overlap_notes(items, "success rate")
    assert notes[0].startswith("a leads")
    assert any("b and c" in n and "overlap" in n for n in notes)
    assert overlap((0, 1), (math.nan, math.nan))  # an unknown interval never makes a winner


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
