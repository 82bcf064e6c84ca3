"""Issue #23: native vectorized Connect Four and Hex, the bitboard Connect Four, mcts-cpp."""

import pickle
import random

import gymnasium as gym
import numpy as np
import pyspiel
import pytest
from gymnasium.vector import AutoresetMode

import palaestra  # noqa: F401
from palaestra.core import InvalidAction
from palaestra.envs.games.connect_four import C4State
from palaestra.envs.games.vector import ConnectFourVectorEnv, HexVectorEnv


def test_bitboard_connect_four_matches_openspiel_move_for_move():
    game = pyspiel.load_game("connect_four")
    rng = random.Random(0)
    for _ in range(2000):
        ours, theirs = C4State(), game.new_initial_state()
        while not theirs.is_terminal():
            assert ours.legal_actions() == theirs.legal_actions()
            assert str(ours) == str(theirs)
            tensor = np.array(theirs.observation_tensor(0), dtype=np.float32).reshape(3, 6, 7)
            assert np.array_equal(ours.observation(0), tensor)
            assert np.array_equal(ours.observation(1), tensor[[1, 0, 2]])
            action = rng.choice(theirs.legal_actions())
            ours.apply_action(action)
            theirs.apply_action(action)
            assert ours.current_player() == theirs.current_player()
        assert ours.is_terminal() and ours.returns() == theirs.returns() and str(ours) == str(theirs)
        assert str(ours.to_spiel()) == str(theirs)
    state = pickle.loads(pickle.dumps(ours))
    assert str(state) == str(ours) and state.history() == ours.history()
    with pytest.raises(ValueError, match="illegal"):
        ours.apply_action(0)


def _lockstep(env_id, games, num_envs=64, seed=3, **kwargs):
    """Play the vector env and num_envs single envs side by side (random legal actions,
    a few illegal ones); returns the number of finished games."""
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **kwargs)
    singles = [gym.make(env_id, **kwargs) for _ in range(num_envs)]
    vobs, _ = venv.reset(seed=seed)
    results = [env.reset(seed=seed + i) for i, env in enumerate(singles)]
    rng = np.random.default_rng(seed)
    ended = np.zeros(num_envs, dtype=bool)
    finished = 0
    while finished < games:
        for i, (obs, info) in enumerate(results):
            assert np.array_equal(vobs["observation"][i], obs["observation"])
            assert np.array_equal(vobs["action_mask"][i], obs["action_mask"])
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in vobs["action_mask"]])
        if rng.random() < 0.05:  # now and then an illegal (occupied) cell
            i = int(rng.integers(num_envs))
            full = np.flatnonzero(vobs["action_mask"][i] == 0)
            if full.size and not ended[i]:
                actions[i] = full[0]
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(actions)
        results = []
        for i, env in enumerate(singles):
            if ended[i]:  # Gymnasium 1.x next-step autoreset: this step reset the sub-env
                assert (vrew[i], vterm[i], vtrunc[i]) == (0.0, False, False)
                results.append(env.reset())
                continue
            obs, rew, term, trunc, info = env.step(int(actions[i]))
            assert (rew, term, trunc) == (vrew[i], vterm[i], vtrunc[i])
            assert info["plies"] == vinfo["plies"][i] and info["to_play"] == vinfo["to_play"][i]
            assert ("illegal_action" in info) == bool(vinfo.get("illegal", np.zeros(num_envs, bool))[i])
            results.append((obs, info))
            finished += term or trunc
        ended = vterm | vtrunc
    venv.close()
    return finished


@pytest.mark.slow
@pytest.mark.parametrize("env_id,kwargs,games", [
    ("palaestra/ConnectFour-v0", {}, 10_000),
    ("palaestra/ConnectFour-v0", {"opponent": None}, 10_000),
    ("palaestra/ConnectFour-v0", {"agent_player": 1, "max_plies": 9}, 2_000),
    ("palaestra/Hex-v0", {"board_size": 5}, 10_000),
    ("palaestra/Hex-v0", {"board_size": 7, "opponent": None}, 2_000),
    ("palaestra/Hex-v0", {}, 500),
])
def test_vector_env_agrees_with_single_env_move_for_move(env_id, kwargs, games):
    assert _lockstep(env_id, games, **kwargs) >= games


def test_vector_env_agrees_quick():
    assert _lockstep("palaestra/ConnectFour-v0", 300, num_envs=16) >= 300
    assert _lockstep("palaestra/Hex-v0", 100, num_envs=16, board_size=5) >= 100


def test_make_vec_uses_the_native_entry_point_and_next_step_autoreset():
    envs = gym.make_vec("palaestra/ConnectFour-v0", num_envs=4, vectorization_mode="vector_entry_point")
    assert isinstance(envs.unwrapped, ConnectFourVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.single_observation_space["observation"].shape == (3, 6, 7)
    obs, info = envs.reset(seed=0)
    assert obs["observation"].shape == (4, 3, 6, 7) and obs["action_mask"].shape == (4, 7)
    assert envs.observation_space.contains(obs)
    hexes = gym.make_vec("palaestra/Hex-v0", num_envs=3, vectorization_mode="vector_entry_point", board_size=5)
    assert isinstance(hexes.unwrapped, HexVectorEnv)
    obs, _ = hexes.reset(seed=1)
    assert obs["observation"].shape == (3, 9, 5, 5) and obs["action_mask"].shape == (3, 25)


def test_vector_env_reset_mask_seeds_and_continuation():
    a = ConnectFourVectorEnv(num_envs=4)
    b = ConnectFourVectorEnv(num_envs=4)
    oa, _ = a.reset(seed=[5, 6, 7, 8])
    ob, _ = b.reset(seed=5)
    assert np.array_equal(oa["observation"], ob["observation"])
    for _ in range(3):  # reset() continues every sub-env's stream, reproducibly
        oa, _ = a.reset()
        ob, _ = b.reset()
        assert np.array_equal(oa["observation"], ob["observation"])
    a.step(np.array([int(np.flatnonzero(m)[0]) for m in oa["action_mask"]]))
    moved = a.bits.copy()
    a.reset(options={"reset_mask": np.array([True, False, False, False])})
    discs = sum(bin(int(x)).count("1") for x in a.bits[0])
    assert discs == a.agent[0] and a.plies[0] == discs  # empty, or the opponent's first disc
    assert np.array_equal(a.bits[1:], moved[1:])


@pytest.mark.parametrize("kwargs,match", [
    ({"text": True}, "text view"),
    ({"opponent": "mcts"}, "vectorization_mode='sync'"),
    ({"num_envs": 0}, "num_envs"),
    ({"agent_player": 2}, "agent_player"),
    ({"max_plies": 0}, "max_plies"),
])
def test_vector_env_refuses_what_it_cannot_do(kwargs, match):
    kwargs = {"num_envs": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        ConnectFourVectorEnv(**kwargs)


def test_vector_env_bad_actions():
    env = ConnectFourVectorEnv(num_envs=2)
    env.reset(seed=0)
    with pytest.raises(InvalidAction, match="outside"):
        env.step(np.array([0, 9]))
    with pytest.raises(InvalidAction, match="2 ints"):
        env.step(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="swap"):
        HexVectorEnv(num_envs=2, swap=True)
    strict = ConnectFourVectorEnv(num_envs=1, opponent=None, illegal_action="raise")
    strict.reset(seed=0)
    for _ in range(6):
        strict.step(np.array([0]))
    with pytest.raises(InvalidAction, match="not legal"):
        strict.step(np.array([0]))


def test_mcts_cpp_agent_beats_random_and_plays_text():
    from palaestra.agents import make
    from palaestra.runner import run_episode

    env = gym.make("palaestra/ConnectFour-v0")
    wins = sum(run_episode(env, make("mcts-cpp", simulations=200, seed=s), seed=s).success for s in range(10))
    assert wins >= 9
    agent = make("mcts-cpp", simulations=50, seed=0)
    text_env = gym.make("palaestra/ConnectFour-v0", text=True)
    result = run_episode(text_env, agent, seed=1)
    # the solver stops a search early once the root is proven
    assert 0 < agent.stats["simulations"] <= 50 * agent.stats["moves"] and result.steps > 0
    hex_env = gym.make("palaestra/Hex-v0", board_size=5)
    assert run_episode(hex_env, make("mcts-cpp", simulations=100), seed=0).steps > 0
    with pytest.raises(ValueError, match="simulations"):
        make("mcts-cpp", simulations=0)


def test_mcts_cpp_refuses_non_game_envs():
    from palaestra.agents.openspiel_mcts import OpenSpielMCTSAgent

    class NotAGame:
        unwrapped = object()

    with pytest.raises(ValueError, match="OpenSpiel games only"):
        OpenSpielMCTSAgent().reset(NotAGame())


def test_mcts_opponent_on_the_bitboard_state():
    env = gym.make("palaestra/ConnectFour-v0", opponent="mcts", opponent_options={"simulations": 50}, agent_player=1)
    obs, info = env.reset(seed=0)
    assert info["plies"] == 1 and obs["observation"][1].sum() == 1


def test_vector_win_on_the_last_cell_stays_a_win_while_other_envs_move():
    """A win that also fills the board is a win, also when the opponent moves elsewhere
    in the same batch step (found by the 10,000-game lockstep: it turned into a draw)."""
    history = [5, 0, 4, 3, 1, 1, 3, 3, 2, 2, 0, 0, 1, 5, 2, 2, 5, 1, 1, 4, 1, 5, 6, 0, 6, 4, 4, 4, 5, 2, 2, 6, 3, 6,
               5, 4, 6, 0, 6, 3, 0, 3]  # o wins with the 42nd disc
    state = C4State()
    for a in history[:-1]:
        state.apply_action(a)
    env = ConnectFourVectorEnv(num_envs=2, agent_player=1)
    env.reset(seed=0)
    # sub-env 0: the agent (o) to play the last cell; sub-env 1: its game goes on
    env.cur[0], env.oth[0] = state.bits[1], state.bits[0]
    env.player[0], env.plies[0] = 1, 41
    obs, reward, term, trunc, info = env.step(np.array([history[-1], 0]))
    assert reward[0] == 1.0 and term[0] and env.winner[0] == 1 and info["outcome"][0] == 1
    assert not term[1] and env.plies[1] == 3
