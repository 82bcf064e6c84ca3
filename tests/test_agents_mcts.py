"""MCTSAgent on the board games: strength, negamax, solver, batching, reuse, text view."""

from __future__ import annotations

import chess
import gymnasium as gym
import pytest

import palaestra  # noqa: F401 - registers the env ids
from palaestra.agents import make
from palaestra.agents.mcts import MCTSAgent
from palaestra.runner import run_episode


def _mate_in(board: chess.Board, n: int) -> bool:
    """python-chess brute force: the side to move mates in at most n moves."""
    for move in list(board.legal_moves):
        board.push(move)
        ok = board.is_checkmate() or (
            n > 1 and not board.is_game_over() and all(_after(board, r, n - 1) for r in list(board.legal_moves))
        )
        board.pop()
        if ok:
            return True
    return False


def _after(board, reply, n):
    board.push(reply)
    ok = _mate_in(board, n)
    board.pop()
    return ok


MATE_IN_1 = [
    "6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1",  # back rank
    "r1bqkbnr/pppp1ppp/2n5/4p3/2B1P3/5Q2/PPPP1PPP/RNB1K1NR w KQkq - 0 1",  # scholar's mate
]
MATE_IN_2 = [  # no mate in 1 in any of them
    "7k/8/5K2/8/8/8/8/6R1 w - - 0 1",
    "8/8/8/8/7Q/4K3/8/6k1 w - - 0 1",
    "1Q6/8/8/3K4/k7/8/8/8 w - - 0 1",
    "6k1/8/7K/4R3/8/8/8/8 w - - 0 1",
    "8/6R1/8/8/8/4K3/8/5k2 w - - 0 1",
]


def _chess_at(fen: str):
    """A Chess-v0 env (White = the agent, random opponent) set to ``fen`` through a snapshot."""
    env = gym.make("palaestra/Chess-v0", opponent="random", agent_player=0)
    env.reset(seed=0)
    base = env.unwrapped
    snap = base.get_state()
    snap["state"] = base.rules.game.new_initial_state(fen)
    base.set_state(snap)
    return env


def test_connect_four_beats_random_95_of_100():
    env = gym.make("palaestra/ConnectFour-v0", opponent="random")
    wins = 0
    for seed in range(100):
        result = run_episode(env, MCTSAgent(simulations=60, rollout="random", seed=seed), seed=seed)
        wins += result.success
    assert wins >= 95, f"MCTS won only {wins}/100 against random"


@pytest.mark.parametrize("fen", MATE_IN_1 + MATE_IN_2)
def test_chess_finds_forced_mate(fen):
    board = chess.Board(fen)
    depth = 1 if fen in MATE_IN_1 else 2
    assert _mate_in(board, depth) and (depth == 1 or not _mate_in(board, 1))
    env = _chess_at(fen)
    agent = MCTSAgent(simulations=4000, rollout=None, seed=0)
    agent.reset(env)
    info = {}
    for ply in range(depth):
        obs, info = env.unwrapped.observe()
        action = agent.act(obs, info)
        move = env.unwrapped.format_action(action)
        board = chess.Board(env.unwrapped.rules.board(env.unwrapped._state).fen())
        board.push_uci(move)
        # the move keeps a forced mate within the remaining moves
        assert board.is_checkmate() or _all_replies_mate(board, depth - ply - 1), (fen, move)
        assert agent.root.exact == 1.0  # the solver proved the win
        _, reward, terminated, truncated, info = env.step(action)
        if terminated:
            break
    assert terminated and reward == 1.0 and info["success"]


def _all_replies_mate(board, n):
    return n >= 1 and not board.is_game_over() and all(_after(board, r, n) for r in list(board.legal_moves))


def test_negamax_blocks_and_takes_immediate_wins():
    env = gym.make("palaestra/ConnectFour-v0", opponent=None)
    env.reset(seed=0)
    base = env.unwrapped
    for col in [0, 6, 0, 6, 0]:  # x threatens column 1; o (to move) must block
        env.step(col)
    agent = MCTSAgent(simulations=300, seed=0)
    agent.reset(env)
    assert agent.act(*base.observe()) == 0
    env.step(1)  # o does not block; x to move wins at once
    assert agent.act(*base.observe()) == 0
    assert agent.last_search[0]["action"] == "1" and agent.last_search[0]["q"] == 1.0


def test_search_children_are_reported_and_state_restored():
    env = gym.make("palaestra/ConnectFour-v0", opponent="random", text=True)
    obs, info = env.reset(seed=3)
    before = env.unwrapped.render_text()
    agent = make("mcts", simulations=40, seed=0)
    agent.reset(env)
    action = agent.act(obs, info)
    assert isinstance(action, str) and action in [c["action"] for c in agent.last_search]
    assert env.unwrapped.render_text() == before
    assert sum(c["visits"] for c in agent.last_search) >= 39
    assert {"action", "visits", "q", "prior", "critique"} <= set(agent.last_search[0])
    assert abs(sum(c["prior"] for c in agent.last_search) - 1.0) < 1e-6
    obs, reward, terminated, truncated, info = env.step(action)
    assert "invalid_action" not in info


def test_batched_leaves_and_subtree_reuse():
    env = gym.make("palaestra/ConnectFour-v0", opponent="random")
    agent = MCTSAgent(simulations=64, batch_size=8, seed=1)
    wins = sum(run_episode(env, agent, seed=s).success for s in range(6))
    assert wins >= 5
    assert agent.stats["reused_visits"] > 0  # the subtree under the opponent's reply was kept


def test_dirichlet_noise_and_time_budget_and_ucb1():
    env = gym.make("palaestra/Hex-v0", board_size=5, opponent="random")
    agent = MCTSAgent(simulations=None, time_budget=0.05, selection="ucb1", dirichlet=0.3, seed=0)
    result = run_episode(env, agent, seed=0)
    assert result.terminated and agent.stats["simulations"] > 0
    again = MCTSAgent(simulations=30, dirichlet=0.3, seed=5)
    r1 = run_episode(env, again, seed=1)
    r2 = run_episode(env, MCTSAgent(simulations=30, dirichlet=0.3, seed=5), seed=1)
    assert (r1.ret, r1.steps) == (r2.ret, r2.steps)  # seeded search, seeded env: same game


def test_bad_options_say_what_to_do():
    with pytest.raises(ValueError, match="puct"):
        MCTSAgent(selection="best")
    with pytest.raises(ValueError, match="budget"):
        MCTSAgent(simulations=None)
