"""RecordEpisodes: the format, crash safety (real SIGKILL), truncated lines, the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents import RandomAgent
from palaestra.recordings import Episode, Step, TruncatedLineWarning, load, load_dicts, read_meta
from palaestra.runner import run_episode
from palaestra.wrappers import RecordEpisodes
from palaestra.wrappers.record import RecordingLocked

ENV = "palaestra/ConnectFour-v0"


def record(path, n, text=True, agent="random", seed0=0):
    env = RecordEpisodes(gym.make(ENV, text=text), path, agent_name=agent)
    bot = RandomAgent(seed=seed0)
    results = [run_episode(env, bot, seed=seed0 + i) for i in range(n)]
    env.close()
    return results


def test_format_matches_design(tmp_path):
    results = record(tmp_path, 3)
    meta = read_meta(tmp_path)
    assert meta["format"] == 1 and meta["env_id"] == ENV and meta["agent"] == "random"
    assert {"env_kwargs", "instructions", "versions", "created"} <= set(meta)
    assert meta["versions"]["gymnasium"] == gym.__version__
    raw = list(load_dicts(tmp_path))
    assert len(raw) == 3
    for d, res in zip(raw, results):
        assert list(d)[:12] == ["episode_id", "env_id", "task_id", "seed", "goal", "agent", "steps",
                                "final_observation", "return", "success", "length", "created"]
        assert d["task_id"] == res.task_id and d["seed"] == res.seed
        assert d["return"] == pytest.approx(res.ret) and d["success"] == res.success
        assert d["length"] == len(d["steps"]) == res.steps
        assert d["goal"].startswith("Win the game of connect four")
        for t, s in enumerate(d["steps"]):
            assert s["t"] == t and s["action"] in "1234567"
            assert s["observation"].startswith("Goal:")  # the text of the state before the action
            assert "action_mask" not in s["info"] and s["info"]["task_id"] == d["task_id"]
        assert d["steps"][-1]["terminated"] and "Game over" in d["final_observation"]
        # observation of step t+1 is what step t led to
        for a, b in zip(d["steps"], d["steps"][1:]):
            assert a["observation"] != b["observation"]
    eps = list(load(tmp_path))
    assert all(isinstance(e, Episode) and isinstance(e.steps[0], Step) for e in eps)
    assert [e.to_dict() for e in eps] == raw
    assert getattr(eps[0], "return") == eps[0]["return"] == eps[0].return_ == raw[0]["return"]


def test_replaying_recorded_actions_reproduces_the_episode(tmp_path):
    """The recording is enough to rebuild the episode: same seed + same action texts."""
    record(tmp_path, 2, text=False)
    for ep in load(tmp_path):
        env = gym.make(ENV, text=True)
        obs, _ = env.reset(seed=ep.seed)
        for s in ep.steps:
            assert obs == s.observation
            obs, r, term, trunc, info = env.step(s.action)
            assert r == s.reward and term == s.terminated
        assert obs == ep.final_observation and info["success"] == ep.success


def test_search_annotations_reach_the_next_step(tmp_path):
    class Searcher(RandomAgent):
        def act(self, obs, info):
            action = super().act(obs, info)
            self.last_search = [
                {"action": action, "visits": 7, "q": 0.5, "prior": 0.25, "critique": "good"},
                {"action": "9", "visits": 1, "q": -1.0, "prior": 0.1},
            ]
            return action

    env = RecordEpisodes(gym.make(ENV, text=True), tmp_path, agent_name="searcher")
    run_episode(env, Searcher(seed=3), seed=5)
    env.close()
    (ep,) = load(tmp_path)
    for s in ep.steps:
        assert s.search[0]["action"] == s.action and s.search[0]["visits"] == 7
        assert s.search[1]["critique"] is None
        assert s.best_child["action"] == s.action


def test_annotate_is_attached_once_and_native_actions_become_text(tmp_path):
    env = RecordEpisodes(gym.make(ENV), tmp_path, agent_name="scripted")
    env.reset(seed=0)
    env.annotate(note="first", search=[{"action": 3, "visits": 2, "q": 0.0, "prior": 0.5}])
    env.step(3)
    env.step(3)
    env.close()  # episode in flight: not written
    assert list(load(tmp_path)) == []
    assert env.last_episode is None


def test_undo_rewind_keeps_the_final_line_of_play(tmp_path):
    env = RecordEpisodes(gym.make(ENV, text=True, agent_player=0), tmp_path, agent_name="human:test")
    start, _ = env.reset(seed=1)
    base = env.unwrapped
    snap = base.get_state()
    env.step("1")
    env.step("2")
    base.set_state(snap)
    env.rewind(0)
    obs = None
    for col in "4444444":
        obs, r, term, trunc, info = env.step(col if col in base.ui_state()["legal"] else base.ui_state()["legal"][0])
        if term or trunc:
            break
    env.close()
    (ep,) = load(tmp_path)
    assert ep.agent == "human:test" and ep.steps[0].action == "4"
    assert ep.steps[0].observation == start  # the undone moves are gone
    assert ep.final_observation == obs


def test_lock_refuses_a_second_writer_and_is_released_on_close(tmp_path):
    first = RecordEpisodes(gym.make(ENV), tmp_path, agent_name="a")
    with pytest.raises(RecordingLocked, match="another writer"):
        RecordEpisodes(gym.make(ENV), tmp_path, agent_name="b")
    # another process is refused too
    code = textwrap.dedent(f"""
        import gymnasium as gym, palaestra
        from palaestra.wrappers import RecordEpisodes
        from palaestra.wrappers.record import RecordingLocked
        try:
            RecordEpisodes(gym.make("{ENV}"), {str(tmp_path)!r})
        except RecordingLocked as e:
            print("LOCKED", e)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "LOCKED" in out.stdout and f"pid {os.getpid()}" in out.stdout, out.stderr
    first.close()
    second = RecordEpisodes(gym.make(ENV), tmp_path, agent_name="b")
    second.close()


def test_other_env_in_same_folder_is_refused(tmp_path):
    RecordEpisodes(gym.make(ENV), tmp_path).close()
    with pytest.raises(Exception, match="holds recordings of"):
        RecordEpisodes(gym.make("palaestra/Hex-v0", board_size=5), tmp_path)


def test_truncated_last_line_is_reported_and_skipped_then_isolated_by_the_next_writer(tmp_path):
    record(tmp_path, 3)
    file = tmp_path / "episodes.jsonl"
    good = file.read_bytes()
    line = good.split(b"\n")[0]
    file.write_bytes(good + line[: len(line) // 2])  # a writer killed mid-write
    report = []
    with pytest.warns(TruncatedLineWarning, match="last line is not a complete episode"):
        eps = list(load(tmp_path, report=report))
    assert len(eps) == 3 and len(report) == 1 and report[0]["line"] == 4
    with pytest.warns(UserWarning, match="partial episode"):
        record(tmp_path, 1, seed0=10)
    with pytest.warns(TruncatedLineWarning, match="line 4 is not a complete episode"):
        eps = list(load(tmp_path))
    assert [e.seed for e in eps] == [0, 1, 2, 10]


KILL_SCRIPT = """
import sys, time, gymnasium as gym, palaestra
from palaestra.agents import RandomAgent
from palaestra.wrappers import RecordEpisodes
path, mode = sys.argv[1], sys.argv[2]
env = RecordEpisodes(gym.make("palaestra/ConnectFour-v0", text=True), path, agent_name="random")
bot = RandomAgent(seed=0)
seed = 0
while True:
    obs, info = env.reset(seed=seed)
    bot.reset(env)
    while True:
        obs, r, term, trunc, info = env.step(bot.act(obs, info))
        if mode == "hold" and seed == 3 and env.steps_in_flight == 4:
            print("IN-FLIGHT", flush=True)
            time.sleep(600)
        if term or trunc:
            break
    seed += 1
    print("DONE", seed, flush=True)
"""


def _spawn(tmp_path, mode):
    script = tmp_path / "writer.py"
    script.write_text(KILL_SCRIPT)
    out = tmp_path / "rec"
    proc = subprocess.Popen([sys.executable, str(script), str(out), mode], stdout=subprocess.PIPE, text=True)
    return proc, out


def test_sigkill_loses_only_the_episode_in_flight(tmp_path):
    proc, out = _spawn(tmp_path, "hold")
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.startswith("IN-FLIGHT"):
                break
        assert lines[-1] == "IN-FLIGHT" and lines[-2] == "DONE 3"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no partial line: the in-flight episode never touched the file
        eps = list(load(out))
    assert [e.seed for e in eps] == [0, 1, 2]
    assert all(e.steps[-1].terminated or e.steps[-1].truncated for e in eps)
    # the kernel released the dead writer's lock: a new writer appends
    record(out, 1, seed0=50)
    assert [e.seed for e in load(out)] == [0, 1, 2, 50]


def test_sigkill_at_an_arbitrary_moment_leaves_only_whole_episodes(tmp_path):
    proc, out = _spawn(tmp_path, "run")
    try:
        done = 0
        for line in proc.stdout:
            done = int(line.split()[1])
            if done >= 5:
                break
        time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedLineWarning)  # a kill mid-write is allowed to leave one
        eps = list(load(out))
    assert len(eps) >= done
    assert [e.seed for e in eps] == list(range(len(eps)))
    for e in eps:
        assert e.length == len(e.steps) > 0 and (e.steps[-1].terminated or e.steps[-1].truncated)


def test_typed_episodes_feed_the_training_reader(tmp_path):
    """Episode objects convert back to the recorded dicts (``"return"`` included)."""
    from palaestra.training.episodes import read_episodes

    record(tmp_path, 2)
    typed = list(load(tmp_path))
    raw = list(load_dicts(tmp_path))
    assert [e.to_dict() for e in typed] == raw
    converted = read_episodes(typed)
    assert [e["return"] for e in converted] == [d["return"] for d in raw]
    assert [len(e["steps"]) for e in converted] == [d["length"] for d in raw]


def test_episodes_with_other_kwargs_than_the_folder_say_so(tmp_path):
    record(tmp_path, 1, text=True)
    env = RecordEpisodes(gym.make(ENV, text=True, agent_player=1), tmp_path, agent_name="random")
    run_episode(env, RandomAgent(seed=0), seed=7)
    env.close()
    first, second = load_dicts(tmp_path)
    assert "env_kwargs" not in first and second["env_kwargs"] == {"text": True, "agent_player": 1}
    assert read_meta(tmp_path)["env_kwargs"] == {"text": True}


def test_real_mcts_search_children_are_recorded(tmp_path):
    from palaestra.agents import make

    env = RecordEpisodes(gym.make(ENV, agent_player=0), tmp_path, agent_name="mcts")  # native view
    run_episode(env, make("mcts", simulations=30, seed=0), seed=0)
    env.close()
    (ep,) = load(tmp_path)
    for s in ep.steps:
        assert s.search and sum(c["visits"] for c in s.search) > 0
        assert all(isinstance(c["action"], str) and c["action"] in "1234567" for c in s.search)
        assert s.action in {c["action"] for c in s.search}
