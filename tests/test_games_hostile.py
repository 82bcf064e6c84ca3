"""Issue #16, games items: engines that always end, checked settings, seeding, snapshots,
observations from the observer's side, Chess960 numbering, gymnasium's check_env."""

import gc
import os
import subprocess
import sys
import textwrap
import time
import warnings

import chess
import gymnasium as gym
import numpy as np
import pytest

import palaestra  # noqa: F401
from palaestra.core import InvalidAction

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GAME_IDS = ["palaestra/ConnectFour-v0", "palaestra/Hex-v0", "palaestra/Chess-v0", "palaestra/Chess960-v0"]


def _stockfish_children() -> list[int]:
    """Live (not zombie) stockfish processes whose parent is this process."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/comm") as fh:
                comm = fh.read()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and "stockfish" in comm and fields[0] != "Z":
            out.append(int(pid))
    return out


# ---- Stockfish ---------------------------------------------------------------------------
@pytest.mark.stockfish
@pytest.mark.parametrize("how", ["env", "run_episode"])
def test_script_that_never_closes_a_stockfish_env_exits(how):
    body = {
        "env": """
            env = gym.make("palaestra/Chess-v0", text=True, opponent="stockfish", opponent_options={"depth": 2})
            env.reset(seed=1)
        """,
        "run_episode": """
            from palaestra.agents import RandomAgent
            from palaestra.runner import run_episode
            env = gym.make("palaestra/Chess-v0", opponent="stockfish", opponent_options={"depth": 1}, max_plies=6)
            run_episode(env, RandomAgent(0), seed=0)
        """,
    }[how]
    script = "import gymnasium as gym, palaestra\n" + textwrap.dedent(body) + "print('finished')\n"
    env = dict(os.environ, PYTHONPATH=ROOT)
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "finished" in res.stdout


@pytest.mark.stockfish
def test_deleted_unclosed_envs_leave_no_engine_after_gc():
    gc.collect()
    before = set(_stockfish_children())
    envs = []
    for _ in range(10):
        env = gym.make("palaestra/Chess-v0", opponent="stockfish", opponent_options={"depth": 1}, agent_player=1)
        env.reset(seed=0)  # the engine plays White's first move: it is running
        envs.append(env)
    assert len(set(_stockfish_children()) - before) == 10
    del envs, env
    gc.collect()
    deadline = time.monotonic() + 5
    while set(_stockfish_children()) - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not set(_stockfish_children()) - before


@pytest.mark.stockfish
def test_stockfish_limits_new_game_per_episode_and_move_list():
    env = gym.make("palaestra/Chess-v0", opponent="stockfish", opponent_options={"movetime": 0.05}, agent_player=1)
    try:
        env.reset(seed=1)
        engine = env.unwrapped.opponent.engine
        assert engine.sent[-3:] == ["ucinewgame", "position startpos", "go movetime 50"]  # no depth 8 added
        first = env.unwrapped.python_board().move_stack[0].uci()
        env.step(env.unwrapped.parse_action("g8f6"))
        assert engine.sent[-2:] == [f"position startpos moves {first} g8f6", "go movetime 50"]
        env.reset(seed=2)
        assert engine.sent[-3:] == ["ucinewgame", "position startpos", "go movetime 50"]  # one per game
    finally:
        env.close()
    assert not _stockfish_children()


@pytest.mark.stockfish
def test_stockfish_full_strength_replays_game_for_game():
    def game():
        env = gym.make("palaestra/Chess-v0", opponent="stockfish", opponent_options={"depth": 6}, agent_player=0)
        rng = np.random.default_rng(3)
        out = []
        try:
            for seed in (0, 1):
                obs, _ = env.reset(seed=seed)
                for _ in range(8):
                    obs, _, term, trunc, _ = env.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
                    if term or trunc:
                        break
                out.append(env.unwrapped.python_board().fen())
        finally:
            env.close()
        return out

    assert game() == game()


@pytest.mark.stockfish
def test_chess960_engine_gets_the_start_and_the_moves():
    env = gym.make("palaestra/Chess960-v0", opponent="stockfish", opponent_options={"depth": 2}, agent_player=1)
    try:
        env.reset(seed=0, options={"position": 0})
        sent = env.unwrapped.opponent.engine.sent
        assert sent[-2].startswith("position fen bbqnnrkr/pppppppp/8/8/8/8/PPPPPPPP/BBQNNRKR w HFhf - 0 1")
    finally:
        env.close()


@pytest.mark.parametrize("options,match", [
    ({"depth": None}, "unlimited search"),
    ({"depth": 0}, "depth=0"),
    ({"movetime": -1}, "movetime=-1"),
    ({"movetime": float("nan")}, "movetime=nan"),
    ({"elo": 1000}, "1350..2850"),
    ({"elo": 2851}, "1350..2850"),
    ({"skill": 21}, "0..20"),
    ({"depth": "deep"}, "not an integer"),
    ({"threads": 0}, "threads=0"),
])
def test_stockfish_settings_are_checked_before_the_engine_starts(options, match):
    from palaestra.envs.games.stockfish import check_settings

    with pytest.raises(ValueError, match=match):
        check_settings(**options)


def test_stockfish_movetime_alone_means_no_depth_limit():
    from palaestra.envs.games.stockfish import check_settings

    assert check_settings(movetime=0.5)["depth"] is None
    assert check_settings()["depth"] == 8
    assert check_settings(depth=4, movetime=0.5)["depth"] == 4


@pytest.mark.stockfish
def test_leaderboard_stockfish_agent_uses_the_same_wrapper():
    from palaestra.envs.games.stockfish import StockfishEngine
    from palaestra.leaderboard.reference import StockfishAgent

    with pytest.raises(ValueError, match="unlimited"):
        StockfishAgent(depth=None)
    agent = StockfishAgent(depth=1)
    assert isinstance(agent.engine, StockfishEngine)
    env = gym.make("palaestra/Chess-v0", agent_player=0)
    obs, info = env.reset(seed=0)
    agent.reset(env)
    env.step(agent.act(obs, info))
    obs, info = env.unwrapped.observe()
    env.step(agent.act(obs, info))
    assert agent.engine.sent[-2].startswith("position startpos moves ")
    assert len(agent.engine.sent[-2].split()) == 5  # two of its moves and the random reply between
    agent.close()


# ---- PettingZoo AEC --------------------------------------------------------------------
def test_aec_factory_works_twice():
    from palaestra.envs import games  # the attribute, as users call it

    first = games.aec("connect_four")
    second = games.aec("hex", board_size=5)
    assert type(first).__name__ == type(second).__name__ == "GameAEC"


# ---- gymnasium conventions -------------------------------------------------------------
@pytest.mark.parametrize("env_id", GAME_IDS)
def test_check_env_passes_20_runs_in_a_row(env_id):
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(20):
            check_env(gym.make(env_id).unwrapped, skip_render_check=True)
        for _ in range(5):
            check_env(gym.make(env_id, opponent=None).unwrapped, skip_render_check=True)


def test_illegal_native_action_loses_or_raises_as_asked():
    # fill column 0 in self-play, then hand the position to an env with an opponent
    sim = gym.make("palaestra/ConnectFour-v0", opponent=None).unwrapped
    sim.reset(seed=0)
    for _ in range(6):
        sim.step(0)
    env = gym.make("palaestra/ConnectFour-v0", agent_player=0)
    env.reset(seed=0)
    env.unwrapped.set_state({**env.unwrapped.get_state(), "state": sim.get_state()["state"]})
    obs, reward, term, trunc, info = env.step(0)
    assert (reward, term, trunc) == (-1.0, True, False)
    assert "not legal" in info["illegal_action"] and info["outcome"] == "loss"
    assert not obs["action_mask"].any()
    strict = gym.make("palaestra/ConnectFour-v0", agent_player=0, illegal_action="raise")
    strict.reset(seed=0)
    strict.unwrapped.set_state({**strict.unwrapped.get_state(), "state": sim.get_state()["state"]})
    with pytest.raises(InvalidAction, match="not legal"):
        strict.step(0)
    with pytest.raises(InvalidAction):
        env.reset(seed=0)
        env.step(7)  # outside the space: always an error


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_reset_without_seed_continues_the_seeded_stream(env_id):
    def episodes():
        env = gym.make(env_id)
        out = []
        for k in range(4):
            obs, info = env.reset(seed=11) if k == 0 else env.reset()
            trace = [info["task_id"]]
            for _ in range(4):
                legal = np.flatnonzero(obs["action_mask"])
                obs, _, term, trunc, info = env.step(int(legal[len(legal) // 2]))
                trace.append(env.unwrapped.render_text())
                if term or trunc:
                    break
            out.append(trace)
        return out

    first, second = episodes(), episodes()
    assert first == second
    assert len({tuple(t) for t in first}) > 1  # later episodes differ from the first


@pytest.mark.parametrize("env_id", GAME_IDS)
def test_set_state_on_a_never_reset_env_then_step(env_id):
    source = gym.make(env_id, agent_player=0)
    obs, _ = source.reset(seed=4)
    source.step(int(np.flatnonzero(obs["action_mask"])[0]))
    snap = source.unwrapped.get_state()
    fresh = gym.make(env_id, agent_player=0)
    fresh.unwrapped.set_state(snap)
    obs, info = fresh.unwrapped.observe()
    action = int(np.flatnonzero(obs["action_mask"])[0])
    a = fresh.step(action)
    source.unwrapped.set_state(snap)
    b = source.step(action)
    assert fresh.unwrapped.render_text() == source.unwrapped.render_text()
    assert np.array_equal(a[0]["observation"], b[0]["observation"]) and a[1:4] == b[1:4]
    untouched = gym.make(env_id)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        untouched.step(0)


# ---- observations from the observer's side ---------------------------------------------
def _mine_and_theirs(game, obs):
    if game == "connect_four":
        return obs[0], obs[1]
    if game == "hex":
        return obs[5:9].sum(0), obs[0:4].sum(0)
    return obs[0:12:2].sum(0), obs[1:12:2].sum(0)  # chess: own pieces in the even planes


@pytest.mark.parametrize("env_id,game", [("palaestra/ConnectFour-v0", "connect_four"),
                                         ("palaestra/Hex-v0", "hex"), ("palaestra/Chess-v0", "chess")])
def test_gym_observation_is_from_the_agents_side(env_id, game):
    for seat in (0, 1):
        env = gym.make(env_id, agent_player=seat)
        obs, info = env.reset(seed=0)
        mine, theirs = _mine_and_theirs(game, obs["observation"])
        if game == "chess":  # own pieces on the near ranks (rank index 0-1), the other's far
            assert mine[:2].sum() >= 15 and theirs[6:].sum() >= 15
        elif seat == 1:  # the opponent (first mover) has placed one stone, the agent none
            assert (mine.sum(), theirs.sum()) == (0, 1)
        else:
            assert (mine.sum(), theirs.sum()) == (0, 0)
            obs, *_ = env.step(int(np.flatnonzero(obs["action_mask"])[0]))
            mine, theirs = _mine_and_theirs(game, obs["observation"])
            assert (mine.sum(), theirs.sum()) == (1, 1)
    # self-play: the side to move's view; Connect Four after one disc: "theirs" holds it
    env = gym.make("palaestra/ConnectFour-v0", opponent=None)
    obs, _ = env.reset(seed=0)
    obs, *_ = env.step(3)
    assert obs["observation"][1].sum() == 1 and obs["observation"][0].sum() == 0


@pytest.mark.parametrize("name,kwargs", [("connect_four", {}), ("hex", {"board_size": 5}), ("chess", {})])
def test_aec_observations_differ_by_player(name, kwargs):
    from palaestra.envs.games import aec

    env = aec(name, **kwargs)
    env.reset(seed=0)
    mask = env.observe(env.agent_selection)["action_mask"]
    env.step(int(np.flatnonzero(mask)[0]))
    a = env.observe("player_0")["observation"]
    b = env.observe("player_1")["observation"]
    assert not np.array_equal(a, b)
    mine_a, theirs_a = _mine_and_theirs(name, a)
    mine_b, theirs_b = _mine_and_theirs(name, b)
    assert np.array_equal(mine_a.sum(), theirs_b.sum()) and np.array_equal(theirs_a.sum(), mine_b.sum())


# ---- Chess960 --------------------------------------------------------------------------
def test_chess960_reaches_all_960_starts_with_standard_numbers():
    env = gym.make("palaestra/Chess960-v0", agent_player=0)
    starts = {}
    for seed in range(960):
        env.reset(seed=seed)
        board = chess.Board(str(env.unwrapped._state), chess960=True)
        position = int(env.unwrapped.task.id.split(":")[1])
        assert board.chess960_pos() == position
        starts[board.board_fen()] = position
    assert len(starts) == 960
    assert "brkbrnnq/pppppppp/8/8/8/8/PPPPPPPP/BRKBRNNQ" in starts  # OpenSpiel 2.0.2's table lacks it
    env.reset(options={"position": 518})
    assert str(env.unwrapped._state).split()[0] == chess.STARTING_BOARD_FEN
    with pytest.raises(ValueError, match="0..959"):
        env.reset(options={"position": 960})


def _rss_kb() -> int:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:"))


@pytest.mark.slow
@pytest.mark.stockfish
def test_200_make_reset_close_cycles_leave_no_engine_and_no_growth():
    def cycle():
        env = gym.make("palaestra/Chess-v0", opponent="stockfish", opponent_options={"depth": 1}, agent_player=1)
        env.reset(seed=0)
        env.close()

    for _ in range(20):  # warm caches and allocators first
        cycle()
    gc.collect()
    before = _rss_kb()
    for _ in range(200):
        cycle()
    gc.collect()
    assert not _stockfish_children()
    assert _rss_kb() <= before * 1.05, (before, _rss_kb())
