"""The result store: one SQLite file, one row per finished episode or game.

WAL mode lets readers work while a writer commits; every write is a short transaction
retried with backoff when another process holds the lock, so several ``palaestra eval``
processes (or workers) can write to one file at once without losing rows. Rows carry a
unique key (configuration hash, env hash, seed), which makes runs resumable: a rerun
asks which keys exist and skips them, and ``INSERT OR IGNORE`` keeps the first result if
two runs race on the same episode.
"""

from __future__ import annotations

import os
import random
import socket
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

DEFAULT_DB = os.path.join("recordings", "leaderboard.sqlite")

SCHEMA = """
CREATE TABLE IF NOT EXISTS episodes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    agent TEXT NOT NULL,            -- label shown in reports
    agent_spec TEXT NOT NULL,       -- JSON: target, options, label
    config_hash TEXT NOT NULL,      -- hash of target + options
    env_id TEXT NOT NULL,
    env_kwargs TEXT NOT NULL,       -- canonical JSON
    env_hash TEXT NOT NULL,
    task_id TEXT,
    seed INTEGER NOT NULL,
    ret REAL NOT NULL,
    success INTEGER NOT NULL,
    steps INTEGER NOT NULL,
    invalid_actions INTEGER NOT NULL DEFAULT 0,
    wall_s REAL NOT NULL,
    tokens INTEGER NOT NULL DEFAULT 0,
    version TEXT NOT NULL,
    backend TEXT,
    host TEXT,
    created TEXT NOT NULL,
    UNIQUE (config_hash, env_hash, seed)
);
CREATE INDEX IF NOT EXISTS episodes_env ON episodes (env_id, env_hash);
CREATE TABLE IF NOT EXISTS matches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tournament TEXT,
    env_id TEXT NOT NULL,
    env_kwargs TEXT NOT NULL,
    env_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    first TEXT NOT NULL,            -- config hash of the player who moved first
    second TEXT NOT NULL,
    first_agent TEXT NOT NULL,      -- labels
    second_agent TEXT NOT NULL,
    first_spec TEXT NOT NULL,
    second_spec TEXT NOT NULL,
    score REAL NOT NULL,            -- for the first player: 1 win, 0.5 draw, 0 loss
    outcome TEXT NOT NULL,          -- "first", "second", "draw", "truncated", "forfeit-first", ...
    plies INTEGER NOT NULL,
    wall_s REAL NOT NULL,
    version TEXT NOT NULL,
    backend TEXT,
    host TEXT,
    created TEXT NOT NULL,
    UNIQUE (env_hash, first, second, seed)
);
CREATE INDEX IF NOT EXISTS matches_env ON matches (env_id, env_hash);
"""

EPISODE_COLUMNS = ("agent", "agent_spec", "config_hash", "env_id", "env_kwargs", "env_hash", "task_id", "seed",
                   "ret", "success", "steps", "invalid_actions", "wall_s", "tokens", "version", "backend", "host",
                   "created")
MATCH_COLUMNS = ("tournament", "env_id", "env_kwargs", "env_hash", "seed", "first", "second", "first_agent",
                 "second_agent", "first_spec", "second_spec", "score", "outcome", "plies", "wall_s", "version",
                 "backend", "host", "created")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def host_name() -> str:
    return socket.gethostname()


class StoreBusy(RuntimeError):
    pass


class ResultStore:
    """A SQLite result file; safe to open from many processes at once.

    ``retries`` and ``busy_timeout`` bound how long a write waits for the lock: SQLite's
    own busy handler waits ``busy_timeout`` seconds, then this class backs off with
    jitter and tries again, up to ``retries`` times, before raising ``StoreBusy``.
    """

    def __init__(self, path: str | os.PathLike = DEFAULT_DB, busy_timeout: float = 10.0, retries: int = 20):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout, self.retries = float(busy_timeout), int(retries)
        self._conn: sqlite3.Connection | None = None
        self._pid = None
        self._retry(self._init_schema)

    # ---- connection ------------------------------------------------------------------
    @property
    def conn(self) -> sqlite3.Connection:
        # a connection must not cross fork(): reopen in a child process
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            # per connection; with WAL, NORMAL keeps every commit through a crash of the process
            # (only a power cut may undo the last commits) and skips an fsync per row
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __getstate__(self):
        return {"path": str(self.path), "busy_timeout": self.busy_timeout, "retries": self.retries}

    def __setstate__(self, d):
        self.__init__(d["path"], d["busy_timeout"], d["retries"])

    def _init_schema(self):
        conn = self.conn
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise sqlite3.OperationalError(f"could not switch {self.path} to WAL mode (got {mode}); "
                                           "is it on a network file system? Use a local path.")
        conn.executescript(SCHEMA)

    def _retry(self, fn, *args):
        delay = 0.01
        for attempt in range(self.retries + 1):
            try:
                return fn(*args)
            except sqlite3.OperationalError as exc:
                msg = str(exc).lower()
                if "locked" not in msg and "busy" not in msg:
                    raise
                if attempt == self.retries:
                    raise StoreBusy(
                        f"{self.path} stayed locked through {self.retries} retries; another process holds a long "
                        "write transaction. Try again, or raise busy_timeout."
                    ) from exc
                try:
                    self.conn.rollback()
                except sqlite3.Error:
                    pass
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 1.0)

    # ---- writing ---------------------------------------------------------------------
    def _insert(self, table: str, columns: tuple[str, ...], rows: list[dict]) -> int:
        sql = f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        values = [tuple(r.get(c) for c in columns) for r in rows]

        def write():
            conn = self.conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                before = conn.total_changes
                conn.executemany(sql, values)
                added = conn.total_changes - before
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return added

        return self._retry(write)

    def add_episode(self, row: dict) -> bool:
        """Store one episode's result; False if that (config, env, seed) was already there."""
        return self.add_episodes([row]) == 1

    def add_episodes(self, rows: Iterable[dict]) -> int:
        rows = [self._episode_defaults(r) for r in rows]
        return self._insert("episodes", EPISODE_COLUMNS, rows) if rows else 0

    def add_match(self, row: dict) -> bool:
        row = dict(row)
        row.setdefault("created", now_iso())
        row.setdefault("host", host_name())
        return self._insert("matches", MATCH_COLUMNS, [row]) == 1

    @staticmethod
    def _episode_defaults(row: dict) -> dict:
        row = dict(row)
        row["success"] = int(bool(row.get("success")))
        row.setdefault("invalid_actions", 0)
        row.setdefault("tokens", 0)
        row.setdefault("created", now_iso())
        row.setdefault("host", host_name())
        missing = [c for c in ("agent", "agent_spec", "config_hash", "env_id", "env_kwargs", "env_hash", "seed",
                               "ret", "steps", "wall_s", "version") if row.get(c) is None]
        if missing:
            raise ValueError(f"episode row lacks {', '.join(missing)}")
        return row

    # ---- reading ---------------------------------------------------------------------
    def _query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        return self._retry(lambda: self.conn.execute(sql, params).fetchall())

    def done_seeds(self, config_hash: str, env_hash: str) -> set[int]:
        rows = self._query("SELECT seed FROM episodes WHERE config_hash = ? AND env_hash = ?", (config_hash, env_hash))
        return {int(r["seed"]) for r in rows}

    def done_matches(self, env_hash: str) -> set[tuple[str, str, int]]:
        rows = self._query("SELECT first, second, seed FROM matches WHERE env_hash = ?", (env_hash,))
        return {(r["first"], r["second"], int(r["seed"])) for r in rows}

    def episodes(self, env_id: str | None = None) -> list[dict]:
        if env_id is None:
            rows = self._query("SELECT * FROM episodes ORDER BY id")
        else:
            rows = self._query("SELECT * FROM episodes WHERE env_id = ? ORDER BY id", (env_id,))
        return [dict(r) for r in rows]

    def matches(self, env_id: str | None = None) -> list[dict]:
        if env_id is None:
            rows = self._query("SELECT * FROM matches ORDER BY id")
        else:
            rows = self._query("SELECT * FROM matches WHERE env_id = ? ORDER BY id", (env_id,))
        return [dict(r) for r in rows]

    def count(self, table: str = "episodes") -> int:
        if table not in ("episodes", "matches"):
            raise ValueError("table must be 'episodes' or 'matches'")
        return int(self._query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"])
