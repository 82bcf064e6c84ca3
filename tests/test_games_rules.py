import copy
import pickle

import chess
import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import api_test

import palaestra  # noqa: F401
from palaestra.core import InvalidAction
from palaestra.envs.games import aec


@pytest.mark.parametrize("name,kwargs", [("connect_four", {}), ("hex", {"board_size": 5}), ("hex", {"board_size": 5, "swap": True}), ("chess", {}), ("chess960", {})])
def test_aec_api_and_snapshots(name, kwargs):
    env = aec(name, **kwargs)
    api_test(env, num_cycles=60, verbose_progress=False)
    env.reset(seed=3)
    for _ in range(6):
        mask = env.observe(env.agent_selection)["action_mask"]
        env.step(int(np.flatnonzero(mask)[0]))
    snap = env.get_state()
    for clone in (copy.deepcopy(env), pickle.loads(pickle.dumps(env))):
        assert clone.render() == env.render() if env.render_mode else str(clone._state) == str(env._state)
        assert clone.agent_selection == env.agent_selection
    mask = env.observe(env.agent_selection)["action_mask"]
    env.step(int(np.flatnonzero(mask)[-1]))
    env.set_state(snap)
    assert str(env._state) == str(snap["state"])
    with pytest.raises(InvalidAction):
        env.step(int(np.flatnonzero(env.observe(env.agent_selection)["action_mask"] == 0)[0]))


def test_chess960_seeds_give_distinct_legal_starts():
    env = gym.make("palaestra/Chess960-v0")
    starts = set()
    for seed in range(100):
        env.reset(seed=seed, options={"agent_player": 0})  # no opponent move before we look
        fen = str(env.unwrapped._state)
        board = chess.Board(fen, chess960=True)
        assert board.is_valid(), fen
        assert fen.split()[2] != "-", "every Chess960 start keeps castling rights"
        starts.add(fen.split()[0])
    assert len(starts) == 100
    ids = set()
    for seed in range(960):
        env.reset(seed=seed, options={"agent_player": 0})
        ids.add(env.unwrapped.task.id)
    assert len(ids) == 960  # every start position reachable


def test_san_and_uci_both_play():
    env = gym.make("palaestra/Chess-v0", text=True, agent_player=0)
    env.reset(seed=0)
    obs, _, _, _, info = env.step("e2e4")
    assert "invalid_action" not in info and "Last move" in obs
    obs, _, _, _, info = env.step("Nf3")
    assert "invalid_action" not in info
    obs, _, _, _, info = env.step("e2e9")
    assert "not a legal move" in info["invalid_action"]


def test_task_option_and_alternating_colour():
    env = gym.make("palaestra/Chess960-v0")
    env.reset(seed=5, options={"task": "chess960:17:p1"})
    assert env.unwrapped.task.id == "chess960:17:p1"
    sides = {gym.make("palaestra/ConnectFour-v0").reset(seed=s)[1]["task_id"] for s in range(4)}
    assert sides == {"connect_four:standard:p0", "connect_four:standard:p1"}


def test_illegal_native_action_lists_legal_moves():
    env = gym.make("palaestra/ConnectFour-v0", agent_player=0)
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match="Legal now"):
        env.step(99)


def test_self_play_planning_env_backs_up_negamax_rewards():
    env = gym.make("palaestra/ConnectFour-v0", agent_player=0)
    env.reset(seed=0)
    sim = env.unwrapped.planning_env()
    sim.set_state(env.unwrapped.get_state())
    assert sim.num_players == 2 and sim.to_play() == 0
    # x wins in column 1 after x,o,x,o,x,o in columns 1,2
    reward = None
    for col in [0, 1, 0, 1, 0, 1, 0]:
        _, reward, term, _, _ = sim.step(col)
    assert term and reward == 1.0  # reward to the player who just moved


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("text", [False, True])
def test_make_vec(mode, text):
    envs = gym.make_vec("palaestra/ConnectFour-v0", num_envs=2, vectorization_mode=mode, text=text)
    try:
        obs, info = envs.reset(seed=0)
        for _ in range(3):
            if text:  # a legal column of each sub-env, as text (columns are 1-based in text)
                masks = info["action_mask"]
                actions = tuple(str(int(np.flatnonzero(m)[0]) + 1) for m in masks)
            else:
                actions = np.array([int(np.flatnonzero(m)[0]) for m in obs["action_mask"]])
            obs, rew, term, trunc, info = envs.step(actions)
            assert len(rew) == 2
            # every action was valid: the text view flags an invalid one in info["invalid_action"]
            assert not np.any(info.get("_invalid_action", False)), info.get("invalid_action")
        assert np.all(np.asarray(info["plies"]) >= 5)  # three moves each, and the opponent's replies
        # and an illegal text action is reported as invalid, not silently played
        if text:
            obs, rew, term, trunc, info = envs.step(("9", "x"))
            assert np.all(info["_invalid_action"]) and all("9" in m or "x" in m for m in info["invalid_action"])
    finally:
        envs.close()


@pytest.mark.stockfish
def test_game_against_stockfish_runs_to_the_end():
    env = gym.make("palaestra/Chess-v0", opponent="stockfish", opponent_options={"depth": 1, "skill": 0}, agent_player=0)
    obs, info = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(400):
        obs, reward, term, trunc, info = env.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
        if term or trunc:
            break
    assert term and info["outcome"] in ("loss", "draw", "win")
    env.close()


def test_chess_from_fen_and_search_step():
    env = gym.make("palaestra/Chess-v0", agent_player=0)
    _, info = env.reset(seed=0, options={"fen": "k7/8/1K6/8/8/8/8/6Q1 w - - 0 1"})
    assert info["task_id"] == "chess:k7/8/1K6/8/8/8/8/6Q1 w - - 0 1:p0"
    base = env.unwrapped
    snap = base.get_state()
    mate = base.parse_action("Qg8#")
    assert base.search_step(mate) == (1.0, True, False)
    base.set_state(snap)
    _, reward, term, _, info = env.step(mate)
    assert reward == 1.0 and term and info["outcome"] == "win"
    again = gym.make("palaestra/Chess-v0")
    again.reset(seed=3, options={"task": info["task_id"]})
    assert again.unwrapped.task.id == info["task_id"]
    with pytest.raises(ValueError, match="not a legal position"):
        env.reset(options={"fen": "k7/8/1K6/8/8/8/8/7Q w - - 0 1"})  # black in check, white to move


def test_moves_openspiel_cannot_name_still_format():
    # OpenSpiel's action_to_string fails on a legal move here (chess_board.cc sq != kInvalidSquare)
    from palaestra.envs.games.world import ChessRules

    rules = ChessRules()
    state = rules.game.new_initial_state("k7/8/1K6/8/8/8/8/7Q w - - 0 1")
    texts = [rules.format(state, a) for a in state.legal_actions()]
    assert len(set(texts)) == len(texts) == len(state.legal_actions())
    assert all(rules.parse(state, t) == a for t, a in zip(texts, state.legal_actions()))
