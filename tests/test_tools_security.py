"""Escapes from the calculator and the SQL tool are refused, logged in info, and the
database outside the episode (the template file, other episodes) stays untouched."""

import hashlib
import os
import stat

import pytest

from palaestra.envs.tools.calculator import CalculatorError, evaluate
from palaestra.envs.tools.env import ToolUseEnv
from palaestra.envs.tools.tasks import task_specs
from palaestra.envs.tools.world import template_path

CALCULATOR_ESCAPES = [
    "__import__('os').system('touch {marker}')",
    "().__class__.__bases__[0].__subclasses__()",
    "open('{marker}', 'w')",
    "eval('1+1')",
    "exec('import os')",
    "globals()",
    "lambda: 1",
    "[x for x in range(10**9)]",
    "(1).__class__",
    "'a' * 10**9",
    "x[0]",
    "compile('1', 'f', 'eval')",
]
CALCULATOR_LIMITS = ["9**9**9", "2**10**10", "10**1000", "1e308*10", "1/0", "(" * 400 + "1" + ")" * 400]

SQL_ESCAPES = [
    "ATTACH DATABASE '{marker}' AS evil",
    "VACUUM INTO '{marker}'",
    "PRAGMA writable_schema = ON",
    "PRAGMA table_info(orders)",
    "SELECT load_extension('{marker}')",
    "DROP TABLE orders",
    "DELETE FROM orders",
    "UPDATE orders SET status = 'cancelled'",
    "INSERT INTO events VALUES (999, 'x', '2026-01-01', '10:00', 30)",
    "CREATE TABLE evil (a)",
    "CREATE TEMP TABLE evil (a)",
    "SELECT sql FROM sqlite_master",
    "SELECT randomblob(1000000000)",
]


def _sha(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def test_calculator_refuses_code_and_huge_numbers():
    for text in CALCULATOR_ESCAPES:
        with pytest.raises(CalculatorError) as err:
            evaluate(text.format(marker="/tmp/x"))
        assert err.value.security or "not allowed" in str(err.value), text
    for text in CALCULATOR_LIMITS:
        with pytest.raises(CalculatorError):
            evaluate(text)
    assert evaluate("round((12.5 + 3) * 4 / 3, 2)") == 20.67
    assert evaluate("2 ** 10 + sqrt(16) - abs(-1)") == 1027


def test_escapes_through_the_env_are_refused_logged_and_leave_no_trace(tmp_path):
    template = template_path(0)
    before = _sha(template)
    assert not os.stat(template).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH), "template must be read-only"
    marker = str(tmp_path / "pwned")
    env = ToolUseEnv(tier="single", max_steps=100)
    env.reset(seed=0)
    db_hash = env.world.db.canonical_hash()
    attempts = 0
    for text in CALCULATOR_ESCAPES:
        _, _, _, _, info = env.step({"name": "calculator", "arguments": {"expression": text.format(marker=marker)}})
        attempts += 1
        assert "error" in env.transcript()[-1]["content"]
    for text in SQL_ESCAPES:
        _, _, _, _, info = env.step({"name": "run_sql", "arguments": {"query": text.format(marker=marker)}})
        attempts += 1
        assert "refused" in env.transcript()[-1]["content"], (text, env.transcript()[-1])
    logged = info["security"]
    assert len(logged) >= len(SQL_ESCAPES) + 6
    assert {e["tool"] for e in logged} == {"calculator", "run_sql"}
    assert all(e["refused"] for e in logged)
    assert not os.path.exists(marker) and not list(tmp_path.iterdir())
    assert env.world.db.canonical_hash() == db_hash, "a refused statement changed the episode's database"
    assert _sha(template) == before, "the template database changed"
    env.close()


def test_sql_time_limit_stops_runaway_queries():
    env = ToolUseEnv(tier="single", time_limit_s=0.2)
    env.reset(seed=0)
    runaway = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    env.step({"name": "run_sql", "arguments": {"query": runaway}})
    assert "time limit" in env.transcript()[-1]["content"]
    env.step({"name": "run_sql", "arguments": {"query": "SELECT count(*) AS n FROM orders"}})
    assert '"rows": [[300]]' in env.transcript()[-1]["content"]


def test_episodes_are_isolated_from_each_other_and_from_the_template():
    template = template_path(0)
    before = _sha(template)
    a, b = ToolUseEnv(tier="state"), ToolUseEnv(tier="state")
    a.reset(options={"task": "state-000"})
    b.reset(options={"task": "state-000"})
    for action in a.task.solve(a):
        a.step(action)
    order_id = task_specs(0)["state-000"]["oracle"][0]["arguments"]["order_id"]
    assert a.world.call("get_order", {"order_id": order_id})["status"] == "cancelled"
    assert b.world.call("get_order", {"order_id": order_id})["status"] == "pending"
    b.reset(options={"task": "state-000"})
    assert b.world.call("get_order", {"order_id": order_id})["status"] == "pending"
    assert _sha(template) == before


@pytest.mark.skipif(__import__("importlib").util.find_spec("bfcl_eval") is None,
                    reason="bfcl-eval is not installed: pip install --no-deps bfcl-eval")
def test_bfcl_api_calls_that_would_run_for_minutes_are_refused():
    from palaestra.envs.tools.bfcl.env import BFCLEnv

    env = BFCLEnv(category="multi_turn_base")
    tid = next(t for t in env.task_ids if "MathAPI" in env.entries[t]["involved_classes"])
    env.reset(options={"task": tid})
    env.step({"name": "power", "arguments": {"base": 10, "exponent": 10**9}})
    assert "exceeds the sandbox's limit" in env.transcript()[-1]["content"]
    env.step({"name": "power", "arguments": {"base": 2, "exponent": 10}})
    assert "1024" in env.transcript()[-1]["content"]
