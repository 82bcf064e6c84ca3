"""The SQLite result store: WAL mode, concurrent writers lose no row, duplicates are ignored."""

import multiprocessing as mp
import sqlite3

from palaestra.leaderboard.store import ResultStore


def _row(writer: int, i: int) -> dict:
    return {
        "agent": f"w{writer}", "agent_spec": "{}", "config_hash": f"cfg{writer}", "env_id": "palaestra/Test-v0",
        "env_kwargs": "{}", "env_hash": "env0", "task_id": f"t{i}", "seed": i, "ret": float(i % 3),
        "success": i % 2 == 0, "steps": i, "wall_s": 0.001, "version": "test",
    }


def _writer(path: str, writer: int, n: int, barrier) -> None:
    store = ResultStore(path, busy_timeout=0.05)  # a short busy wait, so the retry loop does real work
    barrier.wait()
    for i in range(n):
        assert store.add_episode(_row(writer, i))  # one transaction per row: the worst case for contention
    store.close()


def test_four_processes_write_400_rows_and_lose_none(tmp_path):
    path = str(tmp_path / "results.sqlite")
    ResultStore(path).close()
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_writer, args=(path, w, 100, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    store = ResultStore(path)
    assert store.count() == 400
    rows = store.episodes()
    assert {(r["config_hash"], r["seed"]) for r in rows} == {(f"cfg{w}", i) for w in range(4) for i in range(100)}
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_same_episode_twice_keeps_the_first(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    assert store.add_episode(_row(0, 1)) is True
    again = dict(_row(0, 1), ret=99.0)
    assert store.add_episode(again) is False
    rows = store.episodes()
    assert len(rows) == 1 and rows[0]["ret"] == 1.0
    assert store.done_seeds("cfg0", "env0") == {1}
    assert store.done_seeds("cfg0", "other") == set()


def test_rows_missing_fields_are_refused_with_the_names(tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    bad = _row(0, 0)
    del bad["ret"], bad["version"]
    try:
        store.add_episode(bad)
    except ValueError as err:
        assert "ret" in str(err) and "version" in str(err)
    else:
        raise AssertionError("a row without ret/version was accepted")
