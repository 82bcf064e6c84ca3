"""A safe arithmetic evaluator: Python's ``ast``, a whitelist of nodes, never ``eval``.

Numbers, ``+ - * / // % **``, parentheses, the names ``pi`` and ``e`` and a few
functions (``sqrt``, ``round``, ``abs``, ``min``, ``max``, ``floor``, ``ceil``,
``log``, ``exp``, ``sin``, ``cos``, ``tan``). Everything else (names, attributes,
imports, subscripts, lambdas, comprehensions, strings) is refused, as are huge
exponents and results (``MAX_EXPONENT``, ``MAX_MAGNITUDE``), long or deep expressions
(``MAX_LENGTH``, ``MAX_NODES``) and ``round`` to more than ``MAX_ROUND_DIGITS`` digits,
so an expression cannot run code or run for long.
"""

from __future__ import annotations

import ast
import math
import operator

MAX_LENGTH = 300
MAX_EXPONENT = 1000
MAX_MAGNITUDE = 1e100
MAX_NODES = 200
MAX_ROUND_DIGITS = 20  # round(7, -10**7) would build 10**10**7 first: minutes of CPU


class CalculatorError(ValueError):
    """An expression the calculator will not evaluate; ``security`` marks escape attempts."""

    def __init__(self, message: str, security: bool = False):
        super().__init__(message)
        self.security = security


_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_NAMES = {"pi": math.pi, "e": math.e}
_FUNCS = {
    "sqrt": math.sqrt,
    "round": round,
    "abs": abs,
    "min": min,
    "max": max,
    "floor": math.floor,
    "ceil": math.ceil,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
}


def _check_number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CalculatorError(f"{value!r} is not a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise CalculatorError("the result is not a finite number.")
    if abs(value) > MAX_MAGNITUDE:
        raise CalculatorError(f"a value exceeds the calculator's limit of {MAX_MAGNITUDE:g}.")
    return value


def _eval(node):
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        return _check_number(node.value) if not isinstance(node.value, str) else _refuse_string()
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            if abs(right) > MAX_EXPONENT:
                raise CalculatorError(f"exponent {right} is too large (the limit is {MAX_EXPONENT}).")
            if abs(left) > 1 and abs(right) * math.log10(abs(left)) > math.log10(MAX_MAGNITUDE):
                raise CalculatorError(f"{left} ** {right} exceeds the calculator's limit of {MAX_MAGNITUDE:g}.")
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise CalculatorError("division by zero.")
        try:
            return _check_number(_BINOPS[type(node.op)](left, right))
        except (OverflowError, ValueError, ZeroDivisionError) as exc:
            raise CalculatorError(f"arithmetic error: {exc}.") from None
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _check_number(_UNARY[type(node.op)](_eval(node.operand)))
    if isinstance(node, ast.Name):
        if node.id in _NAMES:
            return _NAMES[node.id]
        raise CalculatorError(
            f"unknown name {node.id!r}; only numbers, pi, e and {', '.join(sorted(_FUNCS))} are allowed.",
            security=node.id.startswith("_") or node.id in ("eval", "exec", "open", "compile", "globals", "locals"),
        )
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS:
            raise CalculatorError(
                f"only these functions may be called: {', '.join(sorted(_FUNCS))}.", security=True
            )
        if node.keywords:
            raise CalculatorError("calculator functions take positional arguments only.")
        if len(node.args) > 10:
            raise CalculatorError("too many arguments.")
        args = [_eval(a) for a in node.args]
        if node.func.id == "round" and len(args) == 2:
            digits = args[1]
            if not isinstance(digits, int) or abs(digits) > MAX_ROUND_DIGITS:
                raise CalculatorError(f"round's digits must be a whole number from -{MAX_ROUND_DIGITS} to "
                                      f"{MAX_ROUND_DIGITS}; got {digits!r}.")
        try:
            return _check_number(_FUNCS[node.func.id](*args))
        except (TypeError, ValueError, OverflowError) as exc:
            raise CalculatorError(f"{node.func.id}: {exc}.") from None
    kind = type(node).__name__
    security = isinstance(
        node,
        (ast.Attribute, ast.Subscript, ast.Lambda, ast.ListComp, ast.GeneratorExp, ast.DictComp,
         ast.SetComp, ast.NamedExpr, ast.Starred),
    )
    raise CalculatorError(f"{kind} is not allowed in an arithmetic expression.", security=security)


def _refuse_string():
    raise CalculatorError("strings are not allowed in an arithmetic expression.", security=True)


def evaluate(expression: str) -> int | float:
    """The value of an arithmetic expression, or CalculatorError saying why not."""
    if not isinstance(expression, str):
        raise CalculatorError("the expression must be a string.")
    if len(expression) > MAX_LENGTH:
        raise CalculatorError(f"the expression is longer than {MAX_LENGTH} characters.")
    lowered = expression.replace(" ", "")
    if "__" in lowered or "import" in lowered:
        raise CalculatorError("the expression looks like code, not arithmetic.", security=True)
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise CalculatorError(f"{expression!r} is not an arithmetic expression.") from None
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError(f"the expression has more than {MAX_NODES} parts.")
    value = _eval(tree)
    if isinstance(value, float):
        value = round(value, 10)
        if value.is_integer() and abs(value) < 1e15:
            value = int(value)
    return value
