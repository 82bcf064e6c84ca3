"""Final answers of ToolUse-v0: the forms a task states, and a strict reader for each.

Every task says which form its final answer takes, and the grader reads that form
and nothing else (no substring test, no "some number in the text is close enough"):

- ``value``: one value. A number item holds exactly one number (``42``, ``20.67 km``,
  ``$1,234.50``), compared within the task's tolerance; a text item (a status, a
  weekday, an email, a city, ``done``) is the value itself, up to case, surrounding
  quotes and a final full stop.
- ``values``: several values in the order asked, separated by semicolons (or a JSON
  list). Exactly as many items as asked; each item is read as a ``value``.
- ``refusal``: the request cannot be done with the tools (``cannot: <why>``, or any
  answer with a refusal phrase such as "I can't" and no question in it).
- ``ask``: a detail is missing: one question back (``ask: <question>``, or any answer
  with a ``?``) about that detail and no other (``order``, ``date``, ``product`` or
  ``customer``, recognised by their words).

An answer is first read as a question (``ask:`` or a ``?``), else as a refusal
(``cannot:`` or a refusal phrase), else as values; a shotgun answer that lists every
candidate therefore holds too many items, too many numbers in an item, or asks about
every detail at once, and fails. Nothing here knows a task's expected answer except
the ``expected`` argument the grader passes in.
"""

from __future__ import annotations

import json
import re

FORMS = ("value", "values", "refusal", "ask")
ASK_TOPICS = ("order", "date", "product", "customer")

REFUSAL = re.compile(
    r"\b(?:cannot|can't|can ?not|unable|not able|no tool|don't have|do not have|not possible|not supported)\b",
    re.IGNORECASE)
_TOPIC_WORDS = {
    "order": re.compile(r"\border(?:s|'s)?\b|#", re.IGNORECASE),
    "date": re.compile(r"\b(?:date|day|when|time|hour)s?\b", re.IGNORECASE),
    "product": re.compile(r"\b(?:product|item|unit|quantity)s?\b|\bhow many\b", re.IGNORECASE),
    "customer": re.compile(r"\b(?:customer(?:s|'s)?|who|whose|whom)\b", re.IGNORECASE),
}
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\d)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_TRIM = " \t\r\n\"'`*.!,:"


def kind_of(answer: str) -> str:
    """How an answer reads: ``ask``, ``refusal`` or ``values``."""
    text = answer.strip()
    head = text[:7].lower()
    if head.startswith("ask:") or "?" in text:
        return "ask"
    if head.startswith("cannot:") or REFUSAL.search(text):
        return "refusal"
    return "values"


def items_of(answer: str) -> list[str]:
    """The values of a ``values`` answer: a JSON list, else the parts between semicolons."""
    text = answer.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):
            parsed = None
        if isinstance(parsed, list):
            return [v if isinstance(v, str) else json.dumps(v) for v in parsed]
    return [part.strip() for part in re.split(r"[;\n]", text) if part.strip(_TRIM)]


def numbers_in(item: str) -> list[float]:
    """The numbers written in one item (``1,234.5`` is one number; a date is three)."""
    text = _THOUSANDS.sub("", item)
    return [float(m) for m in _NUMBER.findall(text)]


def _clean(text: str) -> str:
    return " ".join(text.strip(_TRIM).lower().split())


def item_problem(item: str, expected: dict) -> str | None:
    """Why one item is not the expected value (None when it is); never names the value."""
    if "number" in expected:
        found = numbers_in(item)
        if len(found) != 1:
            return f"a number was asked for and the item holds {len(found)} numbers"
        if abs(found[0] - float(expected["number"])) > float(expected.get("tol", 0.0)) + 1e-9:
            return "the number is wrong"
        return None
    if "text" in expected:
        return None if _clean(item) == _clean(expected["text"]) else "the value is wrong (or has words around it)"
    raise ValueError(f"unknown expected value {expected!r}")


def topics_of(question: str) -> set[str]:
    """The details a question back asks about."""
    return {topic for topic, words in _TOPIC_WORDS.items() if words.search(question)}


def judge(answer: str | None, expected: dict) -> tuple[bool, dict]:
    """(right, details) of a final answer against the task's answer spec.

    ``expected`` is ``{"form": "value", "value": {...}}``, ``{"form": "values",
    "values": [...]}``, ``{"form": "refusal"}`` or ``{"form": "ask", "about": topic}``.
    ``details`` says how the answer was read and what was wrong, without the expected
    value.
    """
    form = expected["form"]
    if form not in FORMS:
        raise ValueError(f"unknown answer form {form!r}; forms: {', '.join(FORMS)}")
    if answer is None:
        return False, {"form": form, "read_as": None, "problem": "no final answer"}
    kind = kind_of(answer)
    details = {"form": form, "read_as": kind, "problem": None}
    if form in ("value", "values"):
        if kind != "values":
            details["problem"] = f"values were asked for and the answer reads as a {kind}"
            return False, details
        wanted = [expected["value"]] if form == "value" else list(expected["values"])
        items = items_of(answer)
        details["items"] = len(items)
        if len(items) != len(wanted):
            details["problem"] = f"{len(wanted)} value(s) were asked for and the answer gives {len(items)}"
            return False, details
        problems = [item_problem(i, w) for i, w in zip(items, wanted)]
        wrong = [f"item {k + 1}: {p}" for k, p in enumerate(problems) if p]
        details["problem"] = "; ".join(wrong) or None
        return not wrong, details
    if form == "refusal":
        if kind != "refusal":
            details["problem"] = f"a refusal was right and the answer reads as {kind}"
        return kind == "refusal", details
    if kind != "ask":
        details["problem"] = f"a question back was right and the answer reads as {kind}"
        return False, details
    topics = topics_of(answer)
    details["asks_about"] = sorted(topics)
    if topics != {expected["about"]}:
        details["problem"] = (f"the question asks about {', '.join(sorted(topics)) or 'nothing recognisable'}; "
                              "it must ask about the missing detail only")
        return False, details
    return True, details
