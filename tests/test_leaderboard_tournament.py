"""Tournaments: round robin with colours alternated, ratings that order agents by strength."""

import pytest

from palaestra.leaderboard import EnvSpec, ResultStore, parse_agents, summarize, tournament


def test_random_mcts50_mcts400_rank_in_that_order_at_connect_four(tmp_path):
    store = ResultStore(tmp_path / "t.sqlite")
    agents = parse_agents(["random", "mcts50=mcts[simulations=50]", "mcts400=mcts[simulations=400]"])
    report = tournament(agents, EnvSpec("palaestra/ConnectFour-v0"), games=6, seed=0, store=store, workers=1,
                        progress=False)
    assert report.failed == 0, report.errors
    assert report.stored == 18
    matches = store.matches()
    # colours alternate: every pair plays 3 games each way, on the same seeds
    for a, b in [("random", "mcts50"), ("random", "mcts400"), ("mcts50", "mcts400")]:
        ab = sorted(m["seed"] for m in matches if (m["first_agent"], m["second_agent"]) == (a, b))
        ba = sorted(m["seed"] for m in matches if (m["first_agent"], m["second_agent"]) == (b, a))
        assert ab == ba and len(ab) == 3
    [board] = summarize(store, bootstrap=300).games
    order = ["mcts400", "mcts50", "random"]
    assert [r.agent for r in board.rows] == order  # by OpenSkill mu - 3 sigma
    assert [r.agent for r in sorted(board.rows, key=lambda r: -r.bt)] == order  # by Bradley-Terry
    assert [r.agent for r in sorted(board.rows, key=lambda r: -r.mu)] == order
    by = {r.agent: r for r in board.rows}
    assert by["random"].bt_ci[1] < by["mcts50"].bt_ci[0]  # random is clearly last
    # resumable: a second call plays nothing new
    again = tournament(agents, EnvSpec("palaestra/ConnectFour-v0"), games=6, seed=0, store=store, workers=1,
                       progress=False)
    assert (again.skipped, again.stored) == (18, 0)


@pytest.mark.stockfish
def test_stockfish_reference_beats_random_at_chess(tmp_path):
    store = ResultStore(tmp_path / "sf.sqlite")
    agents = parse_agents(["random", "sf=stockfish[skill=20,depth=2]"])
    report = tournament(agents, EnvSpec("palaestra/Chess-v0", {"max_plies": 300}), games=2, seed=0, store=store,
                        workers=1, progress=False)
    assert report.failed == 0, report.errors
    for m in store.matches():
        winner = m["first_agent"] if m["score"] == 1.0 else m["second_agent"] if m["score"] == 0.0 else None
        assert winner == "sf", m
    [board] = summarize(store, bootstrap=100).games
    assert board.rows[0].agent == "sf"
