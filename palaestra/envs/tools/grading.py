"""tau-bench style grading: the database end state and the required outputs.

Success = the episode's database hashes (canonically) to the oracle's end state,
every required output appears in the final answer, and, where the task says so,
no tool was called. ``details`` carries each part (partial credit for analysis).
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def normalise(text: str) -> str:
    text = str(text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,234 -> 1234
    return " ".join(text.split())


def numbers_in(text: str) -> list[float]:
    out = []
    for match in _NUMBER.findall(normalise(text)):
        try:
            out.append(float(match.replace(",", "")))
        except ValueError:
            continue
    return out


def output_found(expected: dict, answer: str) -> bool:
    """``{"text": s}``: s appears; ``{"number": v, "tol": t}``: a number within t;
    ``{"any": [...]}``: one of the phrases appears."""
    norm = normalise(answer)
    if "text" in expected:
        return normalise(expected["text"]) in norm
    if "number" in expected:
        tol = float(expected.get("tol", 0.0)) + 1e-9
        return any(abs(x - float(expected["number"])) <= tol for x in numbers_in(answer))
    if "any" in expected:
        return any(normalise(p) in norm for p in expected["any"])
    raise ValueError(f"unknown expected output {expected!r}")


def describe_output(expected: dict) -> str:
    if "text" in expected:
        return repr(expected["text"])
    if "number" in expected:
        tol = expected.get("tol", 0)
        return f"{float(expected['number']):g}" + (f" (±{tol:g})" if tol else "")
    return "one of " + ", ".join(repr(p) for p in expected["any"])


def grade(db_hash: str, expected_hash: str, answer: str | None, outputs: list[dict],
          calls: int, no_calls: bool) -> tuple[float, dict]:
    found = [output_found(o, answer or "") for o in outputs]
    db_match = db_hash == expected_hash
    calls_ok = (calls == 0) if no_calls else True
    answered = answer is not None
    parts = [db_match, calls_ok, answered] + found
    success = all(parts)
    details = {
        "db_match": db_match,
        "outputs": [{"expected": describe_output(o), "found": f} for o, f in zip(outputs, found)],
        "answered": answered,
        "calls": calls,
        "calls_ok": calls_ok,
        "partial": sum(parts) / len(parts),
    }
    return (1.0 if success else 0.0), details


def pass_hat_k(trials: dict[str, list[bool]], k: int) -> float:
    """tau-bench's pass^k: the chance that k trials of a task all succeed, averaged over tasks.

    ``trials`` maps a task id to its trial outcomes (at least ``k`` each); per task the
    unbiased estimate is C(successes, k) / C(trials, k).
    """
    from math import comb

    if k < 1:
        raise ValueError("k must be at least 1.")
    short = [t for t, outcomes in trials.items() if len(outcomes) < k]
    if short:
        raise ValueError(f"{len(short)} task(s) have fewer than k={k} trials (e.g. {short[0]!r}); run more trials.")
    if not trials:
        raise ValueError("no trials given.")
    return sum(comb(sum(map(bool, o)), k) / comb(len(o), k) for o in trials.values()) / len(trials)
