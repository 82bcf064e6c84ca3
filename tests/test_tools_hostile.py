"""Hostile arguments to ToolUse-v0's tools (issue 16): each reproduction, run as written,
ends in a clear error that names the bound it broke, and nothing big reaches the
transcript or the snapshot. Before the bounds these ran for 8-60 s, took up to 3 GB, put
250 MB into the transcript, or raised OverflowError / RecursionError out of step().

Time is not asserted (the machine is shared); ``elapsed < 10 s`` only guards a hang.
"""

import json
import time

import gymnasium as gym
import pytest

import palaestra  # noqa: F401  (registers the ids)
from palaestra.core import InvalidAction
from palaestra.envs.tools.env import ToolUseEnv

HANG_GUARD_S = 10.0
SMALL = 20_000  # characters: more than any bounded error or result, far below the old 250 MB


def _env():
    env = ToolUseEnv(max_steps=100)
    env.reset(seed=0)
    return env


def _last_result(env) -> str:
    return env.transcript()[-1]["content"]


TOOL_ERRORS = {  # call -> words the error must hold (the bound, named)
    "calculator round to -10**7 digits": (
        {"name": "calculator", "arguments": {"expression": "round(7, -10**7)"}}, "round's digits", "-20 to 20"),
    "calculator round to -10**9 digits": (
        {"name": "calculator", "arguments": {"expression": "round(7, -10**9)"}}, "round's digits", "-20 to 20"),
    "printf of a billion characters": (
        {"name": "run_sql", "arguments": {"query": "SELECT length(printf('%.*c', 999999999, 'x'))"}},
        "printf width or precision", "20,000"),
    "doubling recursive CTE": (
        {"name": "run_sql", "arguments": {"query": "WITH RECURSIVE c(x) AS (SELECT 'x' UNION ALL SELECT x || x FROM c) "
                                                   "SELECT length(x) FROM c LIMIT 40"}},
        "SQLITE_LIMIT_LENGTH", "20,000"),
    "50 rows of 5 million characters": (
        {"name": "run_sql", "arguments": {"query": "SELECT printf('%.*c', 5000000, 'x') FROM orders LIMIT 50"}},
        "printf width or precision", "20,000"),
    "50 rows of 19,000 characters": (
        {"name": "run_sql", "arguments": {"query": "SELECT printf('%.*c', 19000, 'x') FROM orders LIMIT 50"}},
        "the limit is 20,000", "fewer rows"),
    "a unit that pint evaluates as 9**9**9": (
        {"name": "convert_units", "arguments": {"value": 1, "from_unit": "9**9**9 meter", "to_unit": "foot"}},
        "not an exponent", "from_unit"),
    "a unit exponent tower": (
        {"name": "convert_units", "arguments": {"value": 1, "from_unit": "m**9**9**9", "to_unit": "foot"}},
        "exponents cannot be raised", "from_unit"),
}


@pytest.mark.parametrize("case", sorted(TOOL_ERRORS))
def test_hostile_tool_calls_end_in_an_error_that_names_the_bound(case):
    action, *needles = TOOL_ERRORS[case]
    env = _env()
    start = time.perf_counter()
    env.step(action)
    assert time.perf_counter() - start < HANG_GUARD_S
    result = json.loads(_last_result(env))
    assert set(result) == {"error"}, result
    for needle in needles:
        assert needle in result["error"], result["error"]
    assert len(json.dumps(env.get_state()["messages"])) < SMALL
    assert len(env.render_text()) < SMALL
    # the episode goes on: the next ordinary call works
    env.step({"name": "run_sql", "arguments": {"query": "SELECT count(*) AS n FROM orders"}})
    assert json.loads(_last_result(env))["rows"] == [[300]]


REFUSED_ARGUMENTS = {  # arguments past a schema bound: InvalidAction naming it, nothing changes
    "a 400-digit value": ({"value": 10**400, "from_unit": "meter", "to_unit": "foot"}, "300 digits"),
    "a value past 1e15": ({"value": 10**100, "from_unit": "meter", "to_unit": "foot"}, "at most 1e+15"),
    "a 90k-character unit": ({"value": 1, "from_unit": "meter*" * 15000, "to_unit": "foot"}, "the limit is 40"),
    "5,000 nested parentheses": ({"value": 1, "from_unit": "(" * 5000 + "meter" + ")" * 5000, "to_unit": "foot"},
                                 "the limit is 40"),
}


@pytest.mark.parametrize("case", sorted(REFUSED_ARGUMENTS))
def test_convert_units_bounds_are_checked_where_the_arguments_enter(case):
    arguments, needle = REFUSED_ARGUMENTS[case]
    env = _env()
    before = env.render_text()
    with pytest.raises(InvalidAction) as err:
        env.step({"name": "convert_units", "arguments": arguments})
    assert needle in str(err.value) and len(str(err.value)) < 1000
    assert env.render_text() == before
    # the text view turns it into an observation, as for any invalid action
    text_env = gym.make("palaestra/ToolUse-v0", text=True)
    text_env.reset(seed=0)
    text = json.dumps({"name": "convert_units", "arguments": arguments})
    start = time.perf_counter()
    obs, reward, term, trunc, info = text_env.step(text)
    assert time.perf_counter() - start < HANG_GUARD_S
    assert needle in info["invalid_action"] and reward == 0.0 and not term
    text_env.close()
    # a direct ToolWorld.call (no env check) reports the same bound as the tool's error
    result = env.world.call("convert_units", arguments)
    assert needle in result["error"]


def test_every_tool_argument_has_a_bound_in_its_schema():
    from palaestra.envs.tools.world import TOOLS

    for tool in TOOLS.values():
        for name, prop in tool.parameters["properties"].items():
            if prop.get("type") == "string" and "enum" not in prop:
                assert 0 < prop.get("maxLength", 0) <= 2000, (tool.name, name)
            elif prop.get("type") in ("integer", "number"):
                assert "minimum" in prop and "maximum" in prop, (tool.name, name)


def test_lone_surrogates_and_long_answers_are_refused_with_the_reason():
    env = _env()
    with pytest.raises(InvalidAction, match="lone surrogate"):
        env.step({"name": "search_products", "arguments": {"query": "x\ud800y"}})
    with pytest.raises(InvalidAction, match="lone surrogate"):
        env.step({"answer": "x\ud800y"})
    with pytest.raises(InvalidAction, match="2,000"):
        env.step({"answer": "7 " * 5000})
    assert env._steps == 0


def test_ordinary_sql_and_units_still_work():
    env = _env()
    env.step({"name": "run_sql", "arguments": {"query": "SELECT printf('%.2f', total) FROM orders ORDER BY id LIMIT 1"}})
    assert json.loads(_last_result(env))["rows"][0][0].count(".") == 1
    env.step({"name": "convert_units", "arguments": {"value": 10, "from_unit": "kilometer / hour", "to_unit": "mile / hour"}})
    assert json.loads(_last_result(env))["value"] == pytest.approx(6.2137, abs=1e-4)
    env.step({"name": "convert_units", "arguments": {"value": 2, "from_unit": "m**2", "to_unit": "foot ** 2"}})
    assert json.loads(_last_result(env))["value"] == pytest.approx(21.5278, abs=1e-4)


def test_every_tool_at_the_edges_of_its_bounds_answers_with_a_result_or_an_error():
    """Each tool's every argument at its limits (longest strings of wildcards, quotes,
    backslashes, NULs, emoji, parentheses; smallest and largest numbers): a result or
    an error each time, never an exception out of step() and never a big result."""
    import itertools

    from palaestra.envs.tools.world import TOOL_ORDER, TOOLS

    def strings(n):
        return ["%" * n, "'" * n, "\\" * n, "\x00" * n, "😀" * n, "(" * n, "9" * n, "**" * (n // 2),
                "9999-12-31", "0001-01-01", ""]

    env = ToolUseEnv(max_steps=10**6)
    env.reset(seed=0)
    calls = 0
    for name in TOOL_ORDER:
        options = {}
        for param, prop in TOOLS[name].parameters["properties"].items():
            if "enum" in prop:
                options[param] = prop["enum"][:1]
            elif prop["type"] == "string":
                options[param] = strings(prop["maxLength"])
            else:
                options[param] = [prop["minimum"], prop["maximum"], 0]
        for k, combo in enumerate(itertools.product(*options.values())):
            if len(options) > 2 and k % 9:
                continue
            arguments = dict(zip(options, combo))
            try:
                env.step({"name": name, "arguments": arguments})
            except InvalidAction as err:  # a bound (minLength, minimum 1): named, nothing ran
                assert "argument" in str(err) and len(str(err)) < 1000
                continue
            calls += 1
            assert len(_last_result(env)) < SMALL, (name, _last_result(env)[:200])
    assert calls > 300
    assert len(env.render_text()) < 40 * SMALL  # the observation shows each result cut to 4,000 characters
