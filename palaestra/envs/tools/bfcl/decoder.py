"""BFCL's default prompting decoder, read the way BFCL reads a model's reply.

BFCL (``bfcl_eval.model_handler.utils``) decodes a prompting model's reply with
``default_decode_ast_prompting``: strip backticks, newlines and spaces from both ends,
wrap the text in ``[...]`` when it does not start/end with a bracket, parse it as one
Python expression and require a list (or tuple) of calls. :func:`decode` follows it
rule for rule:

- only keyword arguments are read; positional arguments are dropped silently (a call
  ``f(1, b=2)`` decodes as ``{"f": {"b": 2}}``);
- a value is a literal (``...`` becomes ``"..."``), a list, a dict, a tuple (kept as a
  tuple: it fails an ``array`` parameter, as in BFCL), a bare name (``nickname=ProjectDB``
  gives the string ``"ProjectDB"``), a call without keywords (its source text), a call
  with keywords (a nested ``{name: {args}}``), a subscript (its source text), a unary
  operator on a number (BFCL negates the operand whatever the operator: ``+5`` is ``-5``),
  or arithmetic (``port=5431 + 1`` is ``5432``);
- anything else (sets, comparisons, f-strings, attributes, lambdas, ``**`` in a dict)
  makes the whole reply undecodable, and so does a list element that is not a call.

The one place palaestra departs from BFCL on purpose: BFCL runs arithmetic with
``eval``, so ``a=__import__('os').getpid() + 1`` would run code and ``a=2**10**10``
would hang. Here arithmetic is computed over literals only (names and calls inside it
make the reply undecodable, as a ``NameError`` does in BFCL) and results past Python's
4,300-digit integer limit or 100,000 items become a value that matches nothing
(:data:`OVERSIZED`), so the reply still counts as a call. README lists these cases.

Multi-turn replies go through :func:`execution_calls` as well, BFCL's
``decoded_output_to_execution_list``: a dict argument whose values are all dicts is
read by BFCL as a nested call, and an empty dict makes the reply undecodable.
"""

from __future__ import annotations

import ast
import math
import operator
import re

MAX_REPLY = 100_000  # characters of a reply that are decoded; a longer reply does not decode
MAX_DIGITS = 4300  # Python's int-to-string limit: BFCL cannot print a larger integer
MAX_ITEMS = 100_000  # characters of a string / items of a list built by arithmetic


class DecodeError(ValueError):
    """The reply is not in BFCL's function-call format (BFCL: decoding raised)."""


class _Oversized:
    """The result of arithmetic too large to compute safely: equal to nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<oversized arithmetic result>"

    def __eq__(self, other) -> bool:
        return False

    def __hash__(self) -> int:
        return 0


OVERSIZED = _Oversized()


RETURN_FORMATS = ("python", "json", "verbose_xml", "concise_xml")


def decode(reply: str, language: str = "python", return_format: str = "python", tool_call_tag: bool = False):
    """BFCL's ``default_decode_ast_prompting(reply, language)``: ``[{name: {param: value}}]``.

    Python replies are read here (see the module docstring). Java and JavaScript replies
    go to BFCL's own tree-sitter parsers (``parse_java_function_call``,
    ``parse_javascript_function_call``), which read the first call only and give string
    values (BFCL's checker converts them by the declared type); they may return ``{}`` or
    ``None`` when they find no call, which BFCL's eval runner then fails as output in the
    wrong format. ``return_format`` and ``tool_call_tag`` are the format-sensitivity
    variants of BFCL's prompt (``ret_fmt=json`` asks for ``[{"function": ..., "parameters":
    ...}]``, the XML ones for ``<functions>...</functions>``, the tag for
    ``<TOOLCALL>...</TOOLCALL>``); their replies go to BFCL's own JSON and XML parsers.
    Raises :class:`DecodeError` where BFCL's decoder raises.
    """
    if not isinstance(reply, str):
        raise DecodeError(f"a reply is text, got {type(reply).__name__}")
    if len(reply) > MAX_REPLY:
        raise DecodeError(f"the reply is {len(reply)} characters long; at most {MAX_REPLY} are decoded")
    text = reply.strip("`\n ")
    if not text.startswith("["):
        text = "[" + text
    if not text.endswith("]"):
        text = text + "]"
    if tool_call_tag:  # BFCL's ast_parse: the calls inside <TOOLCALL>...</TOOLCALL>
        match = re.search(r"<TOOLCALL>(.*?)</TOOLCALL>", text, re.DOTALL)
        if not match:
            raise DecodeError("no <TOOLCALL>...</TOOLCALL> section in the reply")
        text = match.group(1).strip()
    if language != "python":
        return _decode_tree_sitter(text[1:-1], language)
    if return_format != "python":
        return _decode_other_format(text, return_format)
    text = text.strip().strip("'")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        raise DecodeError(f"not a Python list of calls ({type(exc).__name__}: {exc})") from None
    body = tree.body
    try:
        if isinstance(body, ast.Call):
            return [_call(body)]
        if not isinstance(body, (ast.List, ast.Tuple, ast.Set)):
            raise DecodeError(f"the reply is a {type(body).__name__}, not a list of calls")
        out = []
        for elem in body.elts:
            if not isinstance(elem, ast.Call):
                raise DecodeError(f"an element of the list is a {type(elem).__name__}, not a function call")
            out.append(_call(elem))
        return out
    except RecursionError:
        raise DecodeError("the reply is nested too deeply") from None


MAX_DEPTH = 200  # syntax-tree depth of a Java/JavaScript reply: BFCL's parsers recurse and crash the process past it


def _tree_depth(parser, source: str, limit: int) -> int:
    """Depth of tree-sitter's tree for ``source``, walked without recursion (stops past ``limit``)."""
    cursor = parser.parse(bytes(source, "utf8")).walk()
    depth = deepest = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return deepest
            depth -= 1


def _decode_tree_sitter(source: str, language: str):
    try:
        if language == "java":
            from bfcl_eval.model_handler.parser import java_parser as module

            parse = module.parse_java_function_call
        elif language == "javascript":
            from bfcl_eval.model_handler.parser import js_parser as module

            parse = module.parse_javascript_function_call
        else:
            raise ValueError(f"unknown language {language!r}: use python, java or javascript")
    except ImportError as exc:
        from palaestra.core import MissingDependency

        raise MissingDependency(f"tree-sitter for BFCL's {language} parser ({exc})",
                                "pip install tree_sitter==0.21.3 tree-sitter-java==0.21.0 "
                                "tree-sitter-javascript==0.21.4") from exc
    # BFCL's parsers print and walk the tree recursively: a deep tree (many nested brackets or
    # a long chain of operators) takes the whole process down, so it is refused first
    if _tree_depth(module.parser, source, MAX_DEPTH) > MAX_DEPTH:
        raise DecodeError(f"the reply's syntax tree is more than {MAX_DEPTH} levels deep")
    try:
        return parse(source)
    except RecursionError:
        raise DecodeError("the reply is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - BFCL's parsers raise SyntaxError / Exception on bad input
        raise DecodeError(f"not a {language} call ({type(exc).__name__}: {exc})") from None


def _decode_other_format(text: str, return_format: str):
    """BFCL's JSON and XML readers (``ast_parse`` with ``ReturnFormat.JSON`` / ``*_XML``)."""
    from bfcl_eval.model_handler.parser import json_parser, xml_parser

    try:
        if return_format == "json":
            match = re.search(r"\[.*\]", text, re.DOTALL)
            return json_parser.parse_json_function_call(match.group(0) if match else text)
        if return_format in ("verbose_xml", "concise_xml"):
            match = re.search(r"<functions>(.*?)</functions>", text, re.DOTALL)
            if not match:
                raise DecodeError("no <functions>...</functions> section in the reply")
            parse = (xml_parser.parse_verbose_xml_function_call if return_format == "verbose_xml"
                     else xml_parser.parse_concise_xml_function_call)
            return parse(match.group(0))
    except DecodeError:
        raise
    except RecursionError:
        raise DecodeError("the reply is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - BFCL's parsers raise KeyError / ParseError / ValueError
        raise DecodeError(f"not a {return_format} list of calls ({type(exc).__name__}: {exc})") from None
    raise ValueError(f"unknown return format {return_format!r}: use one of {', '.join(RETURN_FORMATS)}")


def is_call_list(decoded) -> bool:
    """BFCL's ``is_function_calling_format_output``: a list of ``{name: {args}}``."""
    return type(decoded) == list and all(  # noqa: E721 - exact types, as BFCL
        type(item) == dict and len(item) == 1 and type(next(iter(item.values()))) == dict  # noqa: E721
        for item in decoded)


def _call(node: ast.Call) -> dict:
    parts = []
    func = node.func
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if isinstance(func, ast.Name):
        parts.append(func.id)
    name = ".".join(reversed(parts))
    args = {}
    for kw in node.keywords:
        args[kw.arg] = _value(kw.value)  # ``**kw`` gives the key None, as in BFCL
    return {name: args}


def _value(node):
    if isinstance(node, ast.Constant):
        return "..." if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp):
        operand = node.operand
        if not isinstance(operand, ast.Constant):
            raise DecodeError(f"a unary operator on {type(operand).__name__} is not decoded")
        try:
            return -operand.value
        except TypeError:
            raise DecodeError(f"cannot negate {operand.value!r}") from None
    if isinstance(node, ast.List):
        return [_value(v) for v in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                raise DecodeError("'**' inside a dict is not decoded")
            k = _value(key)
            try:
                out[k] = _value(value)
            except TypeError:
                raise DecodeError(f"the dict key {k!r} is not hashable") from None
        return out
    if isinstance(node, ast.BinOp):
        return _arith(node)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        if not node.keywords:
            return ast.unparse(node)
        return _call(node)
    if isinstance(node, ast.Tuple):
        return tuple(_value(v) for v in node.elts)
    if isinstance(node, ast.Lambda):
        raise DecodeError("a lambda is not decoded")
    if isinstance(node, ast.Subscript):
        return ast.unparse(node.value) + "[" + ast.unparse(node.slice) + "]"
    raise DecodeError(f"unsupported value {type(node).__name__}")


# ---- arithmetic over literals (BFCL: eval(ast.unparse(node))) ------------------------------
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift, ast.BitOr: operator.or_,
           ast.BitXor: operator.xor, ast.BitAnd: operator.and_, ast.MatMult: operator.matmul}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Invert: operator.invert, ast.Not: operator.not_}
_WIDTH = re.compile(r"%[^a-zA-Z%]*?(\*|[0-9]{5,})")
_MAX_BITS = int(MAX_DIGITS * math.log2(10))


def _arith(node):
    try:
        return _eval(node, 0)
    except DecodeError:
        raise
    except RecursionError:
        raise DecodeError("the arithmetic is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - BFCL's eval raises the same and the decode fails
        raise DecodeError(f"the arithmetic fails ({type(exc).__name__}: {exc})") from None


def _bits(v) -> int:
    return abs(v).bit_length() if isinstance(v, int) else 0


def _eval(node, depth):
    if depth > 100:
        raise DecodeError("the arithmetic is nested too deeply")
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_eval(e, depth + 1) for e in node.elts]
        return {ast.List: list, ast.Tuple: tuple, ast.Set: set}[type(node)](items)
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise DecodeError("'**' inside arithmetic is not decoded")
        return {_eval(k, depth + 1): _eval(v, depth + 1) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        v = _eval(node.operand, depth + 1)
        return OVERSIZED if v is OVERSIZED else _UNARY[type(node.op)](v)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        a, b = _eval(node.left, depth + 1), _eval(node.right, depth + 1)
        if a is OVERSIZED or b is OVERSIZED:
            return OVERSIZED
        op = type(node.op)
        if op is ast.Pow and isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            if b * math.log2(abs(a)) > _MAX_BITS:
                return OVERSIZED
        if op is ast.LShift and isinstance(a, int) and isinstance(b, int) and a and b > 0 \
                and _bits(a) + b > _MAX_BITS:
            return OVERSIZED
        if op is ast.Mult:
            if isinstance(a, int) and isinstance(b, int) and _bits(a) + _bits(b) > _MAX_BITS:
                return OVERSIZED
            for seq, n in ((a, b), (b, a)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_ITEMS:
                    return OVERSIZED
        fmt = a if isinstance(a, str) else a.decode("latin-1") if isinstance(a, bytes) else None
        if op is ast.Mod and fmt is not None and _WIDTH.search(fmt):
            return OVERSIZED  # "%0999999999d" % 1 would build a gigabyte
        result = _BINOPS[op](a, b)
        if isinstance(result, (str, bytes, list, tuple)) and len(result) > MAX_ITEMS:
            return OVERSIZED
        return result
    raise DecodeError(f"{ast.unparse(node)[:60]!r} is not arithmetic over literals (palaestra does not run code)")


# ---- multi-turn: BFCL's decoded_output_to_execution_list -----------------------------------------
def _check_executable(value) -> bool:
    """BFCL's ``parse_nested_value`` on one argument: False if BFCL would read it as a nested call.

    Raises DecodeError where BFCL's conversion raises (an empty dict, an oversized value).
    """
    if isinstance(value, dict):
        if all(isinstance(v, dict) for v in value.values()):
            if not value:
                raise DecodeError("an empty dict argument does not convert to an executable call")
            (_, args), *_ = value.items()
            for v in args.values():
                _check_executable(v)
            return False
        for v in value.values():
            _check_executable(v)
        return True
    if isinstance(value, (list, tuple, set)):
        for v in value:
            _check_executable(v)
    if value is OVERSIZED:
        raise DecodeError("an arithmetic result too large to print")
    return True


def execution_calls(decoded: list[dict]) -> list[tuple[str, dict, bool]]:
    """(name, arguments, runnable) per decoded call, as BFCL's ``decode_execute`` turns them
    into call strings; ``runnable`` is False where an argument reads as a nested call."""
    out = []
    for call in decoded:
        for name, args in call.items():
            runnable = all([_check_executable(v) for v in args.values()])
            out.append((name, args, runnable))
    return out
