"""BFCL's AST rules for single-turn calls, written for palaestra (Python entries).

A decoded reply is a list of calls ``{name: {param: value}}``; a possible answer is a
list of ``{name: {param: [allowed values]}}`` where ``""`` among the allowed values
means the parameter may be left out. The rules follow ``bfcl_eval``'s ``ast_checker``
step for step (``tests/test_tools_bfcl_agreement.py`` compares the two verdict by
verdict):

- the function name matches (as written: a prompting model's names are not rewritten);
- every required parameter is present, no parameter outside the schema or the
  possible answer is given, and each optional one left out is marked optional;
- types follow the schema with Python's exact types (``True`` is not an integer; an int
  passes as a float; a tuple passes as a ``tuple`` parameter but not as an ``array``);
  a value of the possible answer's own type is accepted as a "variable"; arrays' items
  are checked one level deep;
- each value is among the allowed ones, strings compared after normalisation (lower
  case; spaces and ``,./-_*^`` removed; ``'`` as ``"``), dicts key by key, lists element
  by element; an allowed value ``""`` of a list parameter reads as the empty list (so
  ``[]`` passes where the possible answer is ``[""]``);
- ``simple``: exactly one call; ``multiple``: one call, against the expected
  function's schema; ``parallel*``: as many calls as expected, each expected call
  taking the first model call that fits it (BFCL's first-fit; ``matching="perfect"``
  is palaestra's stricter-to-pass-fairly variant that tries every assignment).
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


def _type_check(param, value, options, declared: str, expected, nested) -> tuple[dict, bool]:
    """BFCL's ``type_checker``: (verdict, is_variable)."""
    answer_type = _answer_type(options)
    variable = answer_type is not None and answer_type != expected
    if type(value) == expected:  # noqa: E721 - exact types, as BFCL
        if nested is None:
            return _verdict(True), variable
        for option in options:
            fits = True
            if type(option) == list:  # noqa: E721
                for item in value:
                    if not _type_check(param, item, option, str(nested), nested, None)[0]["valid"]:
                        fits = False
                        break
            if fits:
                return _verdict(True), variable
        failure = _verdict(False, "type_error:nested", f"items of {param!r} should be {nested.__name__}: {value!r}")
        if answer_type is not None and type(value) == answer_type:  # noqa: E721
            return failure, True
        return failure, variable
    if answer_type is not None and type(value) == answer_type:  # noqa: E721
        return _verdict(True), True
    return _verdict(False, "type_error:simple",
                    f"{param!r} should be {declared}, got {type(value).__name__} ({value!r})"), variable


def _std(v):
    return standardize(v) if type(v) == str else v  # noqa: E721


def _dict_check(value: dict, options: list) -> bool:
    """BFCL's ``dict_checker``."""
    for option in options:
        if option == "":
            continue
        ok = True
        for key, item in value.items():
            if key not in option:
                ok = False
                break
            if _std(item) not in [_std(option[key][i]) for i in range(len(option[key]))]:
                ok = False
                break
        if ok:
            for key, allowed in option.items():
                if key not in value and "" not in allowed:
                    ok = False
                    break
        if ok:
            return True
    return False


def _list_dict_check(value: list, options: list) -> bool:
    """BFCL's ``list_dict_checker``: the dicts in order; ``""`` has length 0 (so ``[]`` fits it)."""
    for option in options:
        if len(value) != len(option):
            continue
        if all(_dict_check(value[i], [option[i]]) for i in range(len(value))):
            return True
    return False


def _list_check(value, options: list) -> bool:
    """BFCL's ``list_checker``: ``""`` becomes ``[]``."""
    std_value = [_std(v) for v in value]
    std_options = [[_std(option[j]) for j in range(len(option))] for option in options]
    return std_value in std_options


NESTED_CONVERSION = ("Array", "ArrayList", "array")


def _convert(param, value, declared: str, props: dict, language: str):
    """Java/JavaScript: (verdict or None, value, expected type, nested type) after BFCL's
    type converters turned the source text into a Python value."""
    from bfcl_eval.constants.type_mappings import JAVA_TYPE_CONVERSION, JS_TYPE_CONVERSION

    if language == "java":
        from bfcl_eval.eval_checker.ast_eval.type_convertor.java_type_converter import java_type_converter as conv

        table = JAVA_TYPE_CONVERSION
    else:
        from bfcl_eval.eval_checker.ast_eval.type_convertor.js_type_converter import js_type_converter as conv

        table = JS_TYPE_CONVERSION
    expected, nested = table[declared], None
    if type(value) != str:  # noqa: E721
        return (_verdict(False, f"type_error:{'java' if language == 'java' else 'js'}",
                         f"{param!r} should be {language} source text, got {type(value).__name__}"), value, expected,
                None)
    if declared in NESTED_CONVERSION:
        nested_type = props[param]["items"]["type"]
        nested = table[nested_type]
        value = conv(value, declared, nested_type)
    else:
        value = conv(value, declared)
    return None, value, expected, nested


def check_call(doc: dict, call: dict, possible: dict, language: str = "python") -> dict:
    """BFCL's ``simple_function_checker``: one call ``{name: args}`` against one function doc
    and its possible answer (``language``: python, java or javascript)."""
    allowed = list(possible.values())[0]
    name = doc["name"]
    if name not in call:
        return _verdict(False, "simple_function_checker:wrong_func_name",
                        f"expected a call of {name!r}, got {list(call)}")
    args = call[name]
    props = doc["parameters"]["properties"]
    for param in doc["parameters"]["required"]:
        if param not in args:
            return _verdict(False, "simple_function_checker:missing_required", f"missing required parameter {param!r}")
    for param, value in args.items():
        if param not in props or param not in allowed:
            return _verdict(False, "simple_function_checker:unexpected_param", f"unexpected parameter {param!r}")
        declared = props[param]["type"]
        if language == "python":
            expected = TYPES[declared]
            nested = TYPES[props[param]["items"]["type"]] if declared in NESTED else None
        else:
            failure, value, expected, nested = _convert(param, value, declared, props, language)
            if failure:
                return failure
        if declared == "tuple" and type(value) == tuple:  # noqa: E721
            value = list(value)
        if language == "python" and declared == "float" and type(value) == int:  # noqa: E721
            value = float(value)
        verdict, variable = _type_check(param, value, allowed[param], declared, expected, nested)
        if not verdict["valid"]:
            return verdict
        if not variable:
            if expected is dict:
                if not _dict_check(value, allowed[param]):
                    return _verdict(False, "value_error:dict", f"{param!r}: {value!r} is not among {allowed[param]!r}")
                continue
            if expected is list and nested is dict:
                if not _list_dict_check(value, allowed[param]):
                    return _verdict(False, "value_error:list_dict",
                                    f"{param!r}: {value!r} is not among {allowed[param]!r}")
                continue
            if expected is str:
                if standardize(value) not in [standardize(o) for o in allowed[param] if type(o) == str]:  # noqa: E721
                    return _verdict(False, "value_error:string",
                                    f"{param!r}: {value!r} is not among {allowed[param]!r}")
                continue
            if expected is list:
                if not _list_check(value, allowed[param]):
                    return _verdict(False, "value_error:list/tuple",
                                    f"{param!r}: {value!r} is not among {allowed[param]!r}")
                continue
        if value not in allowed[param]:
            return _verdict(False, "value_error:others", f"{param!r}: {value!r} is not among {allowed[param]!r}")
    for param, options in allowed.items():
        if param not in args and "" not in options:
            return _verdict(False, "simple_function_checker:missing_optional", f"parameter {param!r} is needed here")
    return _verdict(True)


def _find_doc(docs: list[dict], name: str) -> dict | None:
    return next((d for d in docs if d["name"] == name), None)


def _safe_check(doc, call, possible, language="python") -> dict:
    """check_call, with BFCL's crashes on odd values (a parameter named None, an unhashable
    value) read as a failed call rather than an exception."""
    if doc is None:
        return _verdict(False, "simple_function_checker:missing_doc", "the expected function has no description")
    try:
        return check_call(doc, call, possible, language)
    except (TypeError, KeyError, AttributeError, ValueError, NotImplementedError) as exc:
        return _verdict(False, "simple_function_checker:unreadable", f"the call cannot be checked ({exc})")


def check(docs: list[dict], calls: list[dict], possible: list[dict], category: str,
          matching: str = "first_fit", language: str = "python") -> dict:
    """BFCL's AST verdict for a single-turn entry of ``category``.

    ``matching``: ``"first_fit"`` (BFCL) or ``"perfect"`` (any assignment of model calls to
    expected calls; palaestra's strict protocol).
    """
    if "parallel" in category:
        if len(calls) != len(possible):
            return _verdict(False, "parallel_function_checker_no_order:wrong_count",
                            f"expected {len(possible)} calls, got {len(calls)}")
        if matching == "first_fit":
            used: set[int] = set()
            for i, expected in enumerate(possible):
                doc = _find_doc(docs, next(iter(expected)))
                match = next((j for j in range(len(calls)) if j not in used
                              and _safe_check(doc, calls[j], expected, language)["valid"]), None)
                if match is None:
                    return _verdict(False, "parallel_function_checker_no_order:cannot_find_match",
                                    f"no remaining call fits expected call {i} ({next(iter(expected))})")
                used.add(match)
            return _verdict(True)
        memo: dict[tuple[int, int], bool] = {}

        def fits(i, j):
            if (i, j) not in memo:
                doc = _find_doc(docs, next(iter(possible[i])))
                memo[(i, j)] = _safe_check(doc, calls[j], possible[i], language)["valid"]
            return memo[(i, j)]

        taken = [False] * len(calls)

        def assign(i):
            if i == len(possible):
                return True
            for j in range(len(calls)):
                if not taken[j] and fits(i, j):
                    taken[j] = True
                    if assign(i + 1):
                        return True
                    taken[j] = False
            return False

        if assign(0):
            return _verdict(True)
        return _verdict(False, "parallel_function_checker_no_order:cannot_find_match",
                        "the calls do not match the expected calls in any order")
    if "multiple" in category:
        if len(calls) != len(possible):
            return _verdict(False, "multiple_function_checker:wrong_count",
                            f"expected {len(possible)} call, got {len(calls)}")
        return _safe_check(_find_doc(docs, next(iter(possible[0]))), calls[0], possible[0], language)
    if len(calls) != 1:
        return _verdict(False, "simple_function_checker:wrong_count", f"expected 1 call, got {len(calls)}")
    return _safe_check(docs[0], calls[0], possible[0], language)


def agentic_verdict(reply: str, answers: list[str], protocol: str) -> dict:
    """BFCL's ``agentic_checker``; ``protocol="strict"`` also refuses a reply longer than
    three times the longest answer plus 40 characters (a list of guesses does not pay)."""
    from bfcl_eval.eval_checker.agentic_eval.agentic_checker import agentic_checker

    result = agentic_checker(reply, answers)
    if not result["valid"]:
        return {"valid": False, "error_type": result.get("error_type", "agentic:answer_not_found"),
                "error": "none of the expected answers is in the reply"}
    if protocol == "strict" and len(reply) > 3 * max(len(a) for a in answers) + 40:
        return {"valid": False, "error_type": "strict:answer_too_long",
                "error": "the reply holds an expected answer but is too long to count as one answer"}
    return {"valid": True, "error_type": "", "error": ""}
