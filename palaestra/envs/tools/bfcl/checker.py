"""BFCL's AST rules for single-turn calls, written for palaestra (Python entries).

A model output is a list of calls ``{name: {param: value}}``; a possible answer is a
list of ``{name: {param: [allowed values]}}`` where ``""`` among the allowed values
means the parameter may be left out. The rules, as BFCL states them:

- the function name matches;
- every required parameter is present, no parameter outside the schema or the
  possible answer is given, and each optional one left out is marked optional;
- types follow the schema (an int passes as a float; a value of the possible
  answer's own type is accepted as a "variable"); arrays' items are checked one level;
- each value is among the allowed ones, strings compared after normalisation (lower
  case; spaces and ``,./-_*^`` removed; ``'`` as ``"``), dicts key by key, lists
  element by element;
- ``simple``: exactly one call; ``multiple``: one call, against the expected
  function's schema; ``parallel*``: as many calls as expected, matched in any order.
"""

from __future__ import annotations

import re

TYPES = {"string": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list,
         "dict": dict, "any": str}
NESTED = ("array", "tuple")
_STRIP = re.compile(r"[ ,./\-_*^]")


def standardize(text: str) -> str:
    return _STRIP.sub("", text).lower().replace("'", '"')


def _verdict(valid: bool, error_type: str = "", message: str = "") -> dict:
    return {"valid": valid, "error_type": error_type, "error": message}


def _answer_type(options: list):
    for option in options:
        if option != "":
            return type(option)
    return None


def _std_options(options: list) -> list:
    return [standardize(o) if isinstance(o, str) else o for o in options]


def _check_type(param, value, options, declared: str, nested) -> tuple[dict, bool]:
    """(verdict, is_variable) of ``value`` against the declared type."""
    expected = TYPES[declared]
    answer_type = _answer_type(options)
    variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if nested is None:
            return _verdict(True), variable
        for option in options:
            if not isinstance(option, list):  # "" (optional) accepts any items
                return _verdict(True), variable
            inner_type = _answer_type(option)
            if all(type(v) is nested or (inner_type is not None and type(v) is inner_type) for v in value):
                return _verdict(True), variable
        return _verdict(False, "type_error:nested",
                        f"items of {param!r} should be {nested.__name__}: {value!r}"), variable
    if answer_type is not None and type(value) is answer_type:
        return _verdict(True), True
    return _verdict(False, "type_error:simple",
                    f"{param!r} should be {declared}, got {type(value).__name__} ({value!r})"), variable


def _dict_ok(value: dict, option) -> bool:
    if option == "" or not isinstance(option, dict):
        return False
    for key, item in value.items():
        if key not in option:
            return False
        if (standardize(item) if isinstance(item, str) else item) not in _std_options(option[key]):
            return False
    return all(key in value or "" in allowed for key, allowed in option.items())


def _check_value(param, value, options, expected, nested) -> dict:
    if expected is dict:
        if any(_dict_ok(value, option) for option in options):
            return _verdict(True)
        return _verdict(False, "value_error:dict", f"{param!r}: {value!r} is not among {options!r}")
    if expected is list and nested is dict:
        for option in options:
            if isinstance(option, list) and len(option) == len(value) and all(
                    isinstance(v, dict) and _dict_ok(v, o) for v, o in zip(value, option)):
                return _verdict(True)
        return _verdict(False, "value_error:list_dict", f"{param!r}: {value!r} is not among {options!r}")
    if expected is str:
        if standardize(value) in [standardize(o) for o in options if isinstance(o, str)]:
            return _verdict(True)
        return _verdict(False, "value_error:string", f"{param!r}: {value!r} is not among {options!r}")
    if expected is list:
        std_value = [standardize(v) if isinstance(v, str) else v for v in value]
        std_options = [_std_options(o) if isinstance(o, (list, str)) else o for o in options]
        std_options = [[] if o == "" else o for o in std_options]
        if std_value in std_options:
            return _verdict(True)
        return _verdict(False, "value_error:list", f"{param!r}: {value!r} is not among {options!r}")
    if value in options:
        return _verdict(True)
    return _verdict(False, "value_error:others", f"{param!r}: {value!r} is not among {options!r}")


def check_call(doc: dict, call: dict, possible: dict) -> dict:
    """One call ``{name: args}`` against one function doc and its possible answer."""
    (expected_name, allowed), = possible.items()
    name = doc["name"]
    if name not in call:
        return _verdict(False, "wrong_func_name", f"expected a call of {name!r}, got {list(call)}")
    args = call[name]
    props = doc["parameters"].get("properties", {})
    for param in doc["parameters"].get("required", []):
        if param not in args:
            return _verdict(False, "missing_required", f"missing required parameter {param!r}")
    for param, value in args.items():
        if param not in props or param not in allowed:
            return _verdict(False, "unexpected_param", f"unexpected parameter {param!r}")
        declared = props[param]["type"]
        expected = TYPES[declared]
        nested = TYPES[props[param]["items"]["type"]] if declared in NESTED else None
        if declared == "float" and type(value) is int:
            value = float(value)
        verdict, variable = _check_type(param, value, allowed[param], declared, nested)
        if not verdict["valid"]:
            return verdict
        if variable:
            if value not in allowed[param]:
                return _verdict(False, "value_error:variable", f"{param!r}: {value!r} is not among {allowed[param]!r}")
            continue
        verdict = _check_value(param, value, allowed[param], expected, nested)
        if not verdict["valid"]:
            return verdict
    for param, options in allowed.items():
        if param not in args and "" not in options:
            return _verdict(False, "missing_optional", f"parameter {param!r} is needed here")
    return _verdict(True)


def _find_doc(docs: list[dict], name: str) -> dict | None:
    return next((d for d in docs if d["name"] == name), None)


def check(docs: list[dict], calls: list[dict], possible: list[dict], category: str) -> dict:
    """BFCL's AST verdict for a single-turn entry of ``category``."""
    if "parallel" in category:
        if len(calls) != len(possible):
            return _verdict(False, "wrong_count", f"expected {len(possible)} calls, got {len(calls)}")
        # order-free: a perfect matching of expected calls to model calls (backtracking)
        memo: dict[tuple[int, int], bool] = {}

        def fits(i, j):
            if (i, j) not in memo:
                doc = _find_doc(docs, next(iter(possible[i])))
                memo[(i, j)] = doc is not None and check_call(doc, calls[j], possible[i])["valid"]
            return memo[(i, j)]

        used = [False] * len(calls)

        def match(i):
            if i == len(possible):
                return True
            for j in range(len(calls)):
                if not used[j] and fits(i, j):
                    used[j] = True
                    if match(i + 1):
                        return True
                    used[j] = False
            return False

        if match(0):
            return _verdict(True)
        return _verdict(False, "cannot_find_match", "the calls do not match the expected calls in any order")
    if "multiple" in category:
        if len(calls) != len(possible):
            return _verdict(False, "wrong_count", f"expected {len(possible)} call, got {len(calls)}")
        doc = _find_doc(docs, next(iter(possible[0])))
        return check_call(doc, calls[0], possible[0])
    if len(calls) != 1:
        return _verdict(False, "wrong_count", f"expected 1 call, got {len(calls)}")
    return check_call(docs[0], calls[0], possible[0])
