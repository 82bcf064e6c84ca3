"""The episode's SQLite database: an in-memory copy of a read-only template file.

Every episode works on its own ``:memory:`` copy (``Connection.backup`` from the
template opened with ``mode=ro``), so nothing an agent does reaches the file. An
authorizer (``set_authorizer``) refuses ATTACH/DETACH, PRAGMA, schema changes and
any function outside a whitelist; queries from the agent's SQL tool may only read.
A progress handler stops any statement that runs past its time limit.
Refusals are logged (``security_log``) so the env can report them in ``info``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time

_SAFE_FUNCTIONS = {
    "count", "sum", "total", "avg", "min", "max", "abs", "round", "lower", "upper", "length",
    "substr", "substring", "trim", "ltrim", "rtrim", "replace", "instr", "coalesce", "ifnull",
    "nullif", "date", "time", "datetime", "julianday", "strftime", "group_concat", "printf",
    "cast", "like", "glob", "iif", "typeof",
}
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE}
_WRITE_ACTIONS = {sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE}
_ACTION_NAMES = {
    getattr(sqlite3, n): n[len("SQLITE_"):]
    for n in (
        "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE", "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE",
        "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW",
        "SQLITE_DELETE", "SQLITE_DROP_INDEX", "SQLITE_DROP_TABLE", "SQLITE_DROP_TEMP_INDEX",
        "SQLITE_DROP_TEMP_TABLE", "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER",
        "SQLITE_DROP_VIEW", "SQLITE_INSERT", "SQLITE_PRAGMA", "SQLITE_READ", "SQLITE_SELECT",
        "SQLITE_TRANSACTION", "SQLITE_UPDATE", "SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_ALTER_TABLE",
        "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_CREATE_VTABLE", "SQLITE_DROP_VTABLE", "SQLITE_FUNCTION",
        "SQLITE_SAVEPOINT", "SQLITE_RECURSIVE",
    )
    if hasattr(sqlite3, n)
}


#: SQLite's own limits on every connection (``Connection.setlimit``): a single function
#: call (``printf('%.*c', 999999999, 'x')``, ``x || x`` in a recursive CTE) cannot build a
#: value past MAX_VALUE_CHARS, so no statement outgrows its time limit or memory in one step
MAX_VALUE_CHARS = 20_000
MAX_RESULT_CHARS = 20_000  # the agent's SQL result, all rows together, as JSON
LIMITS = {
    "SQLITE_LIMIT_LENGTH": MAX_VALUE_CHARS,
    "SQLITE_LIMIT_SQL_LENGTH": 4_000,
    "SQLITE_LIMIT_LIKE_PATTERN_LENGTH": 256,  # the tools wrap a 200-character query in %...%
    "SQLITE_LIMIT_EXPR_DEPTH": 100,
    "SQLITE_LIMIT_COMPOUND_SELECT": 20,
    "SQLITE_LIMIT_VDBE_OP": 25_000,
    "SQLITE_LIMIT_FUNCTION_ARG": 16,
    "SQLITE_LIMIT_ATTACHED": 0,
}


_PRINTF_SPEC = re.compile(r"%([-+ 0#,!]*)(\*|\d+)?(?:\.(\*|\d+))?(l{0,2})([a-zA-Z%])")


def printf_problem(fmt, args) -> str | None:
    """Why a ``printf`` call would build a value past MAX_VALUE_CHARS, or None.

    SQLite 3.40's ``%.*c`` keeps looping after its length limit trips
    (``printf('%.*c', 999999999, 'x')``: 5 s of CPU), so widths and precisions are
    checked before SQLite's printf runs.
    """
    if not isinstance(fmt, str):
        return None
    arg = 0
    for m in _PRINTF_SPEC.finditer(fmt):
        if m.group(5) == "%":
            continue
        for part in (m.group(2), m.group(3)):
            if part == "*":
                value = args[arg] if arg < len(args) else 0
                arg += 1
                try:
                    size = abs(int(value or 0))
                except (TypeError, ValueError, OverflowError):
                    size = 0
            elif part:
                size = int(part) if len(part) < 12 else MAX_VALUE_CHARS + 1
            else:
                continue
            if size > MAX_VALUE_CHARS:
                return (f"printf width or precision {size:,} exceeds the sandbox's limit of {MAX_VALUE_CHARS:,} "
                        "characters per value")
        arg += 1
    return None


class SandboxError(RuntimeError):
    """A statement the sandbox refused or stopped; ``security`` marks escape attempts."""

    def __init__(self, message: str, security: bool = False):
        super().__init__(message)
        self.security = security


class EpisodeDatabase:
    """One episode's private database, restorable from bytes (``serialize``)."""

    def __init__(self, template_path: str | None = None, data: bytes | None = None, time_limit_s: float = 1.0):
        self.time_limit_s = time_limit_s
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        if data is not None:
            self.conn.deserialize(data)
        elif template_path is not None:
            src = sqlite3.connect(f"file:{template_path}?mode=ro", uri=True)
            try:
                src.backup(self.conn)
            finally:
                src.close()
        for name, value in LIMITS.items():
            if hasattr(sqlite3, name):
                self.conn.setlimit(getattr(sqlite3, name), value)
        self.conn.row_factory = sqlite3.Row
        self._mode = "tool"  # "tool": the world's own statements; "user": the agent's SQL
        self._denied: list[str] = []
        self.security_log: list[dict] = []
        self._deadline = None
        self.dirty = False  # True once a write changed a row (else the data is the template's)
        self._bound_error: str | None = None
        self._printf_conn: sqlite3.Connection | None = None  # made on the first printf
        self.conn.create_function("printf", -1, self._printf, deterministic=True)
        self.conn.set_authorizer(self._authorize)
        self.conn.set_progress_handler(self._progress, 1000)

    # ---- guards -------------------------------------------------------------------
    def _authorize(self, action, arg1, arg2, dbname, source):
        if dbname not in (None, "main") and action in _READ_ACTIONS | _WRITE_ACTIONS:
            return self._deny(action, f"database {dbname!r}")
        if action in _READ_ACTIONS:
            if action == sqlite3.SQLITE_READ and arg1 is not None and arg1.startswith("sqlite_") and self._mode == "user":
                return self._deny(action, f"internal table {arg1!r}")
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() in _SAFE_FUNCTIONS:
                return sqlite3.SQLITE_OK
            return self._deny(action, f"function {arg2!r}")
        if action in _WRITE_ACTIONS and self._mode == "tool" and not (arg1 or "").startswith("sqlite_"):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_TRANSACTION and self._mode == "tool":
            return sqlite3.SQLITE_OK
        detail = " ".join(str(x) for x in (arg1, arg2) if x)
        return self._deny(action, detail)

    def _deny(self, action, detail):
        name = _ACTION_NAMES.get(action, str(action))
        self._denied.append(f"{name} {detail}".strip())
        return sqlite3.SQLITE_DENY

    def _printf(self, fmt, *args):
        """SQLite's own printf, behind a check of its widths and precisions."""
        why = printf_problem(fmt, args)
        if why:
            self._bound_error = why
            raise ValueError(why)
        if self._printf_conn is None:
            self._printf_conn = sqlite3.connect(":memory:", check_same_thread=False)
            self._printf_conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_CHARS)
        marks = ", ".join("?" * (len(args) + 1))
        return self._printf_conn.execute(f"SELECT printf({marks})", (fmt, *args)).fetchone()[0]

    def _progress(self):
        if self._deadline is not None and time.monotonic() > self._deadline:
            return 1  # interrupts the statement
        return 0

    # ---- running statements ----------------------------------------------------------
    def _run(self, sql: str, params=(), mode: str = "tool", max_rows: int | None = None):
        self._mode, self._denied, self._bound_error = mode, [], None
        self._deadline = time.monotonic() + self.time_limit_s
        try:
            cur = self.conn.execute(sql, params)
            rows = cur.fetchmany(max_rows) if max_rows else cur.fetchall()
            more = bool(max_rows) and cur.fetchone() is not None
            columns = [d[0] for d in cur.description] if cur.description else []
            return columns, [tuple(r) for r in rows], more
        except sqlite3.DatabaseError as exc:
            if self._denied:
                raise SandboxError(f"refused by the sandbox: {'; '.join(self._denied)}.", security=True) from None
            if self._bound_error:
                raise SandboxError(f"refused: {self._bound_error}.") from None
            if "too big" in str(exc):
                raise SandboxError(f"a value would exceed the sandbox's limit of {MAX_VALUE_CHARS:,} characters "
                                   "(SQLITE_LIMIT_LENGTH); select shorter values.") from None
            if "interrupted" in str(exc):
                raise SandboxError(f"the query ran past its time limit of {self.time_limit_s:g} s and was stopped.") from None
            raise SandboxError(f"SQL error: {str(exc).rstrip('.')}.") from None
        except (sqlite3.ProgrammingError, sqlite3.Warning, ValueError, OverflowError) as exc:
            raise SandboxError(f"SQL error: {str(exc).rstrip('.')}.") from None
        finally:
            self._deadline = None
            self._mode = "tool"

    def query(self, sql: str, params=()) -> list[dict]:
        """Rows of a trusted (world) statement as dicts."""
        columns, rows, _ = self._run(sql, params, mode="tool")
        return [dict(zip(columns, r)) for r in rows]

    def execute(self, sql: str, params=()) -> int:
        """Run a trusted (world) write; returns the number of rows changed."""
        before = self.conn.total_changes
        self._run(sql, params, mode="tool")
        self.conn.commit()
        changed = self.conn.total_changes - before
        self.dirty = self.dirty or changed > 0
        return changed

    def user_query(self, sql: str, max_rows: int = 50) -> dict:
        """The agent's read-only SQL: columns, rows (at most ``max_rows``), truncated flag."""
        if not isinstance(sql, str) or not sql.strip():
            raise SandboxError("give one SQL SELECT statement.")
        columns, rows, more = self._run(sql, (), mode="user", max_rows=max_rows)
        result = {"columns": columns, "rows": [list(r) for r in rows], "truncated": more}
        size = len(json.dumps(result, ensure_ascii=False, default=str))
        if size > MAX_RESULT_CHARS:
            raise SandboxError(f"the result is {size:,} characters long; the limit is {MAX_RESULT_CHARS:,}. "
                               "Select fewer rows or shorter columns.")
        return result

    # ---- snapshots and grading --------------------------------------------------------
    def to_bytes(self) -> bytes:
        return self.conn.serialize()

    def canonical_hash(self) -> str:
        """sha256 of every table's rows in primary-key order (tau-bench's end-state hash)."""
        self._mode = "tool"
        return hash_connection(self.conn)

    def close(self):
        self.conn.close()
        if self._printf_conn is not None:
            self._printf_conn.close()


def hash_connection(conn: sqlite3.Connection) -> str:
    """sha256 over every table's rows in primary-key order (authorizer-safe: reads only)."""
    digest = hashlib.sha256()
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    for table in tables:
        digest.update(table.encode() + b"\x00")
        rows = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
        digest.update(repr([tuple(r) for r in rows]).encode())  # SQLite values repr deterministically
    return digest.hexdigest()
