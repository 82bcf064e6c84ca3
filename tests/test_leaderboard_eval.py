"""The eval runner: oracle vs random with honest intervals, resumable, the same rows whatever the workers."""

import os
import signal
import subprocess
import sys
import time

import pytest

from palaestra.leaderboard import EnvSpec, ResultStore, evaluate, parse_agents, summarize

KEYS = ("agent", "config_hash", "env_id", "env_hash", "task_id", "seed", "ret", "success", "steps")


def _rows(store):
    return sorted(tuple(r[k] for k in KEYS) for r in store.episodes())


def test_oracle_beats_random_on_two_envs_with_separate_intervals(tmp_path):
    store = ResultStore(tmp_path / "lb.sqlite")
    envs = [EnvSpec("palaestra/WebShop-v0"), EnvSpec("palaestra/ToolUse-v0")]
    report = evaluate(parse_agents(["random", "oracle"]), envs, episodes=20, seed=100, store=store, workers=2,
                      progress=False)
    assert report.failed == 0, report.errors
    assert report.stored == 80 and store.count() == 80
    summary = summarize(store)
    assert {b.env_id for b in summary.envs} == {"palaestra/WebShop-v0", "palaestra/ToolUse-v0"}
    for board in summary.envs:
        by = {r.agent: r for r in board.rows}
        oracle, random_ = by["oracle"], by["random"]
        assert oracle.episodes == random_.episodes == 20
        assert oracle.success > random_.success
        assert oracle.success_ci[0] > random_.success_ci[1], (board.env_id, oracle.success_ci, random_.success_ci)
        assert [r.agent for r in board.rows] == ["oracle", "random"] and oracle.rank == "1" and random_.rank == "2"
        assert any(n.startswith("oracle leads on success rate") for n in board.notes)
    # every row carries what the issue lists
    row = store.episodes()[0]
    for col in ("agent", "config_hash", "env_id", "env_kwargs", "task_id", "seed", "ret", "success", "steps",
                "wall_s", "tokens", "version", "created"):
        assert row[col] is not None, col


def test_rerun_skips_stored_episodes_and_workers_do_not_change_results(tmp_path):
    agents = parse_agents(["random", "m8=mcts[simulations=8]"])
    envs = [EnvSpec("palaestra/ConnectFour-v0", {"opponent": "random"})]
    one = ResultStore(tmp_path / "one.sqlite")
    r1 = evaluate(agents, envs, episodes=6, seed=0, store=one, workers=1, progress=False)
    assert (r1.stored, r1.skipped, r1.failed) == (12, 0, 0)
    again = evaluate(agents, envs, episodes=8, seed=0, store=one, workers=1, progress=False)
    assert (again.planned, again.skipped, again.stored) == (16, 12, 4)
    two = ResultStore(tmp_path / "two.sqlite")
    evaluate(agents, envs, episodes=8, seed=0, store=two, workers=2, progress=False)
    assert _rows(one) == _rows(two)  # same seeds, same results, whichever process ran what


def test_a_killed_eval_loses_only_episodes_in_flight(tmp_path):
    db = tmp_path / "crash.sqlite"
    cmd = [sys.executable, "-c", "from palaestra.cli import main; main()", "eval", "--agent", "oracle",
           "--env", "palaestra/Segmentation-v0", "--episodes", "30", "--workers", "1", "--db", str(db), "--no-show"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        stored = 0
        while time.time() < deadline and proc.poll() is None:
            if db.exists():
                stored = ResultStore(db).count()
                if stored >= 3:
                    break
            time.sleep(0.2)
        assert proc.poll() is None, "the eval finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = ResultStore(db).count()
    assert 3 <= before < 30
    report = evaluate(parse_agents(["oracle"]), [EnvSpec("palaestra/Segmentation-v0")], episodes=30, seed=0,
                      store=ResultStore(db), workers=1, progress=False)
    assert report.skipped == before and report.stored == 30 - before
    assert sorted(r["seed"] for r in ResultStore(db).episodes()) == list(range(30))


@pytest.mark.slow  # imports torch and transformers (about 10 s)
def test_llm_agent_rows_carry_tokens_and_share_one_model(tmp_path):
    from palaestra.leaderboard import runner

    store = ResultStore(tmp_path / "llm.sqlite")
    report = evaluate(parse_agents(["llm[model=tiny,max_new_tokens=8]"]), [EnvSpec("palaestra/ConnectFour-v0")],
                      episodes=2, seed=0, store=store, workers=1, text=True, progress=False)
    assert report.failed == 0, report.errors
    rows = store.episodes()
    assert len(rows) == 2 and all(r["tokens"] > 0 for r in rows)
    assert len(runner._LMS) == 1  # loaded once for both episodes
