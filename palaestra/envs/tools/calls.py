"""Tool-call actions: parsing text (JSON or Python call syntax), canonical form, text.

Native actions (the same structure the text parses to):

- one call: ``{"name": "get_order", "arguments": {"order_id": 1043}}``
- parallel calls: a list of such dicts
- a final answer: ``{"answer": "The order has shipped."}``

Text also accepts Python call syntax (``get_order(order_id=1043)``, or a list
``[f(a=1), g(b=2)]`` as BFCL prompts ask for), OpenAI's ``{"function": {"name",
"arguments": "<json string>"}}`` form, BFCL's ``{"get_order": {"order_id": 1043}}``
form, and ``answer: ...`` for a final answer.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any, Callable

from palaestra.core import InvalidAction

GRAMMAR = (
    'a tool call as JSON {"name": "<tool>", "arguments": {...}}, a JSON list of such calls '
    "(run in order, as parallel calls), a Python-style call such as tool(arg=1), or a final "
    'answer {"answer": "..."} (also written: answer: ...)'
)

MAX_CALLS = 16
MAX_TEXT = 100_000


MAX_DEPTH = 20
MAX_INT_DIGITS = 300  # beyond a float's range; Python cannot even print ints past 4,300 digits


def json_problem(value, depth: int = 0) -> str | None:
    """What keeps ``value`` from being a plain, bounded JSON value (None when nothing).

    Bounds: nesting at most ``MAX_DEPTH`` levels, integers at most ``MAX_INT_DIGITS``
    digits, strings at most ``MAX_TEXT`` characters and valid Unicode (no lone
    surrogates), finite floats. Every argument of every tool passes through this first.
    """
    if depth > MAX_DEPTH:
        return f"it is nested deeper than {MAX_DEPTH} levels"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_DIGITS * 3.33:
            return f"an integer has more than {MAX_INT_DIGITS} digits (the limit for any number)"
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a finite number"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, list):
        for v in value:
            why = json_problem(v, depth + 1)
            if why:
                return why
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"a key is a {type(k).__name__}, not a string"
            why = text_problem(k) or json_problem(v, depth + 1)
            if why:
                return why
        return None
    return f"a {type(value).__name__} is not a JSON value"


def text_problem(text: str, limit: int = MAX_TEXT) -> str | None:
    """Why a string is not acceptable text (too long, lone surrogates), or None."""
    if len(text) > limit:
        return f"a string is {len(text):,} characters long (the limit is {limit:,})"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (f"a string holds {text[exc.start]!r} at position {exc.start}, a lone surrogate that is not valid "
                "Unicode text")
    return None


def _canonical_call(obj) -> dict:
    """A call dict in canonical form, from any accepted dict shape."""
    if not isinstance(obj, dict):
        raise InvalidAction(f"a tool call must be a JSON object, got {type(obj).__name__}. Write {GRAMMAR}.")
    obj = dict(obj)
    if "function" in obj and isinstance(obj["function"], dict):  # OpenAI tool_calls entry
        obj = dict(obj["function"])
    for ignorable in ("id", "type"):
        obj.pop(ignorable, None)
    if "name" not in obj:
        if len(obj) == 1:  # BFCL style {"tool": {args}}
            (name, args), = obj.items()
            obj = {"name": name, "arguments": args}
        else:
            raise InvalidAction(f"a tool call needs a \"name\"; got keys {sorted(obj)}. Write {GRAMMAR}.")
    extra = set(obj) - {"name", "arguments"}
    if extra:
        raise InvalidAction(f"unexpected key(s) {sorted(extra)} in a tool call; use only \"name\" and \"arguments\".")
    name = obj["name"]
    if not isinstance(name, str) or not name.strip():
        raise InvalidAction("the tool name must be a non-empty string.")
    if len(name) > 200 or text_problem(name):
        raise InvalidAction("the tool name must be valid text of at most 200 characters.")
    args = obj.get("arguments", {})
    if isinstance(args, str):  # OpenAI sends arguments as a JSON string
        try:
            args = json.loads(args) if args.strip() else {}
        except (json.JSONDecodeError, RecursionError) as exc:
            raise InvalidAction(f"the arguments string of {name!r} is not valid JSON ({exc}).") from None
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise InvalidAction(f"the arguments of {name!r} must be a JSON object, got {type(args).__name__}.")
    why = json_problem(args)
    if why:
        raise InvalidAction(f"the arguments of {name!r} are refused: {why}.")
    return {"name": name.strip(), "arguments": args}


def canonical_action(action) -> dict | list:
    """The canonical native form of an action, or InvalidAction saying what is wrong."""
    if isinstance(action, tuple):
        action = list(action)
    if isinstance(action, dict) and "answer" in action:
        extra = set(action) - {"answer"}
        if extra:
            raise InvalidAction(f"a final answer has only the key \"answer\"; remove {sorted(extra)}.")
        answer = action["answer"]
        why = json_problem(answer)
        if why:
            raise InvalidAction(f"the answer is refused: {why}.")
        if not isinstance(answer, str):
            answer = json.dumps(answer, ensure_ascii=False)
        return {"answer": answer}
    if isinstance(action, list):
        if not action:
            raise InvalidAction(f"an empty list calls no tool. Write {GRAMMAR}.")
        if len(action) > MAX_CALLS:
            raise InvalidAction(f"{len(action)} calls at once; at most {MAX_CALLS} are allowed in one step.")
        return [_canonical_call(c) for c in action]
    if isinstance(action, dict):
        return _canonical_call(action)
    raise InvalidAction(f"{type(action).__name__} is not an action. Write {GRAMMAR}.")


def _dotted_name(node) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return _dotted_name(node.value) + "." + node.attr
    raise InvalidAction("a call must name a tool, like get_order(order_id=1).")


def _literal(node, name: str):
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        raise InvalidAction(
            f"an argument of {name!r} is not a literal value (numbers, strings, lists, dicts, True/False/None)."
        ) from None


def _tuples_to_lists(value):
    if isinstance(value, (list, tuple)):
        return [_tuples_to_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _tuples_to_lists(v) for k, v in value.items()}
    return value


def _python_call(node, positional: Callable[[str], list[str]] | None) -> dict:
    if not isinstance(node, ast.Call):
        raise InvalidAction(f"not a tool call. Write {GRAMMAR}.")
    name = _dotted_name(node.func)
    args = {}
    if node.args:
        order = positional(name) if positional else None
        if not order or len(node.args) > len(order):
            raise InvalidAction(f"{name}: give arguments by name, e.g. {name}(arg=value).")
        for pname, value in zip(order, node.args):
            args[pname] = _tuples_to_lists(_literal(value, name))
    for kw in node.keywords:
        if kw.arg is None:
            raise InvalidAction(f"{name}: **kwargs are not allowed; name each argument.")
        if kw.arg in args:
            raise InvalidAction(f"{name}: argument {kw.arg!r} given twice.")
        args[kw.arg] = _tuples_to_lists(_literal(kw.value, name))
    return _canonical_call({"name": name, "arguments": args})


_FENCE = re.compile(r"```[a-zA-Z]*\s*\n?(.*?)```", re.DOTALL)


def parse_action_text(text: str, positional: Callable[[str], list[str]] | None = None):
    """Parse one action from text; ``positional(name)`` gives parameter order, if known.

    Text with prose around one fenced code block (as language models often reply) is
    read from the block.
    """
    try:
        return _parse_whole(text, positional)
    except InvalidAction:
        blocks = _FENCE.findall(text) if isinstance(text, str) and len(text) <= MAX_TEXT else []
        if len(blocks) == 1 and blocks[0].strip() and blocks[0].strip() != text.strip():
            return _parse_whole(blocks[0], positional)
        raise


def _parse_whole(text: str, positional):
    if not isinstance(text, str):
        raise InvalidAction(f"an action is text; got {type(text).__name__}.")
    if len(text) > MAX_TEXT:
        raise InvalidAction(f"the action is {len(text)} characters long; at most {MAX_TEXT} are read.")
    stripped = text.strip()
    if stripped.startswith("```"):  # a fenced block, as language models like to write
        stripped = stripped.strip("`").strip()
        if stripped.startswith(("json", "python")):
            stripped = stripped.split(None, 1)[1] if " " in stripped or "\n" in stripped else ""
    if not stripped:
        raise InvalidAction(f"empty action. Write {GRAMMAR}.")
    lower = stripped[:7].lower()
    if lower.startswith("answer:"):
        return canonical_action({"answer": stripped[7:].strip()})
    if stripped[0] in "{[":
        try:
            obj = json.loads(stripped)
        except (json.JSONDecodeError, RecursionError, ValueError) as exc:
            if stripped[0] == "[":  # maybe a Python list of calls
                return _parse_python(stripped, positional, json_error=str(exc))
            raise InvalidAction(f"malformed JSON ({exc}). Write {GRAMMAR}.") from None
        return canonical_action(obj)
    return _parse_python(stripped, positional)


def _parse_python(text: str, positional, json_error: str | None = None):
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, TypeError):
        why = f"malformed JSON ({json_error})" if json_error else "not JSON and not a Python call"
        raise InvalidAction(f"{why}. Write {GRAMMAR}.") from None
    body = tree.body
    if isinstance(body, (ast.List, ast.Tuple)):
        if not body.elts:
            raise InvalidAction(f"an empty list calls no tool. Write {GRAMMAR}.")
        if len(body.elts) > MAX_CALLS:
            raise InvalidAction(f"{len(body.elts)} calls at once; at most {MAX_CALLS} are allowed in one step.")
        return [_python_call(e, positional) for e in body.elts]
    return _python_call(body, positional)


def format_action_text(action) -> str:
    """Canonical text of a native action (JSON)."""
    return json.dumps(canonical_action(action), ensure_ascii=False)


def calls_of(action) -> list[dict]:
    """The calls of an action (empty for a final answer)."""
    if isinstance(action, dict) and "answer" in action:
        return []
    return list(action) if isinstance(action, list) else [action]


def call_text(call: dict) -> str:
    """``name(arg=value, ...)`` for showing a call to a person."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in call["arguments"].items())
    return f"{call['name']}({args})"


def result_text(value: Any, limit: int | None = None) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f" ... [{len(text) - limit} more characters]"
    return text
