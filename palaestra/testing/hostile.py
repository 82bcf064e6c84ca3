"""Hostile text actions every env must survive quickly: an error observation, never a crash.

Families (each also substituted into the env's own action templates, so that a payload
reaches the env's parsers, tools and engines, not only its front door):

- ``huge numbers``: thousands of digits, ``1e999999``, nested powers;
- ``deep nesting``: thousands of brackets, parentheses and JSON levels;
- ``long strings``: a megabyte of text, a megabyte-long token;
- ``lone surrogates``: ``\\ud800`` alone and inside words (not encodable as UTF-8);
- ``resource bombs``: expressions, SQL and arguments that ask for unbounded time or memory.

:func:`check_hostile` steps each through the text view with a per-call guard: a call that
takes more than ``cpu_limit_s`` seconds of this process's CPU time (2 s; CPU, not wall
clock, because test machines are shared) or more than ``wall_limit_s`` of wall-clock time
(a hang, e.g. an engine told to think forever) fails the env, naming the input.
"""

from __future__ import annotations

import re
import signal
import threading
import time
from dataclasses import dataclass, field

import gymnasium as gym

from .policies import as_text, oracle_plan, random_native

_NINES = "9" * 5000
FAMILIES: dict[str, list[str]] = {
    "huge numbers": [_NINES, "-" + _NINES, "1e999999", "10**10**10", "9" * 400 + ".5", "0x" + "f" * 3000,
                     "2**99999999"],
    "deep nesting": ["[" * 5000 + "]" * 5000, "(" * 5000 + ")" * 5000, '{"a":' * 3000 + "1" + "}" * 3000,
                     "f(" * 2000 + ")" * 2000],
    "long strings": ["x" * 1_000_000, "word " * 200_000, '"' + "y" * 500_000 + '"'],
    "lone surrogates": ["\ud800", "x\ud800y", "\udfff" * 10, "search[x\ud800y]", "answer: \ud83d"],
    "resource bombs": [
        'calculator(expression="round(7, -10**7)")',
        'calculator(expression="9**9**9**9")',
        "run_sql(query=\"SELECT length(printf('%.*c', 999999999, 'x'))\")",
        "run_sql(query=\"WITH RECURSIVE r(s) AS (SELECT 'x' UNION ALL SELECT s||s FROM r) SELECT length(s) FROM r\")",
        "run_sql(query=\"SELECT printf('%.*c', 5000000, 'x') FROM orders LIMIT 50\")",
        'convert_units(value=' + "9" * 400 + ', from_unit="m", to_unit="km")',
        'convert_units(value=1, from_unit="' + "(" * 5000 + "m" + ")" * 5000 + '", to_unit="km")',
        "logarithm(value=2, base=10, precision=200000)",
        "power(base=" + "9" * 300 + ", exponent=20)",
        "multiply(a=" + "7" * 4000 + ", b=" + "3" * 4000 + ")",
    ],
}

#: payloads substituted into the env's own action templates
SLOT_PAYLOADS = [_NINES, "(" * 3000, "x" * 200_000, "x\ud800y", "1e999999", "-" + "9" * 400]


def _templates(base, seed: int) -> list[str]:
    import random

    texts = []
    plan = oracle_plan(base)
    texts += [as_text(base, a) for a in plan[:3]]
    rng = random.Random(seed)
    for _ in range(3):
        try:
            texts.append(as_text(base, random_native(base, rng)))
        except Exception:  # noqa: BLE001 - a template is a convenience
            pass
    return list(dict.fromkeys(t for t in texts if isinstance(t, str) and t))


def _substituted(template: str) -> list[str]:
    out = []
    for payload in SLOT_PAYLOADS:
        numbers = re.sub(r"\d+", lambda m: payload if payload[0].isdigit() or payload[0] == "-" else m.group(0),
                         template, count=1)
        if numbers != template:
            out.append(numbers)
        for open_, close in (("(", ")"), ("[", "]"), ('"', '"')):
            i, j = template.find(open_), template.rfind(close)
            if 0 <= i < j:
                out.append(template[: i + 1] + payload + template[j:])
    return out


def hostile_inputs(base, seed: int = 0, per_family: int | None = None) -> list[tuple[str, str]]:
    """(family, text) pairs: the fixed families plus payloads put into the env's own actions."""
    pairs = [(fam, text) for fam, texts in FAMILIES.items() for text in texts[:per_family]]
    for template in _templates(base, seed):
        pairs += [("in an action", text) for text in _substituted(template)]
    return list(dict.fromkeys(pairs))


class CallTooSlow(AssertionError):
    pass


@dataclass
class HostileReport:
    env_id: str
    inputs: int = 0
    invalid: int = 0
    worst_cpu_s: float = 0.0
    slowest: str = ""
    errors: list[str] = field(default_factory=list)


def _short(text: str) -> str:
    shown = text if len(text) <= 60 else text[:40] + f"...({len(text)} chars)"
    return ascii(shown)


def _restore(base, start, report) -> bool:
    try:
        base.set_state(start)
        return True
    except Exception as exc:  # noqa: BLE001
        report.errors.append(f"set_state failed after a hostile input: {type(exc).__name__}: {exc!s:.200}")
        return False


def check_hostile(env_id: str, *, seed: int = 0, cpu_limit_s: float = 2.0, wall_limit_s: float = 30.0,
                  per_family: int | None = None, **kwargs) -> HostileReport:
    """Step every hostile input (from the same start state) through ``env_id``'s text view.

    Each call must return (an invalid action is fine: it needs an explanation and must
    leave the state unchanged) within ``cpu_limit_s`` of CPU time and ``wall_limit_s`` of
    wall clock. Raises ``AssertionError`` listing every input that crashed, hung or ran long.
    """
    report = HostileReport(env_id)
    tenv = gym.make(env_id, text=True, max_invalid=None, **kwargs)
    base = tenv.unwrapped
    use_alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM")
    try:
        tenv.reset(seed=seed)
        start = base.get_state()
        before = base.render_text()
        for family, text in hostile_inputs(base, seed, per_family):
            report.inputs += 1
            label = f"{family} {_short(text)}"

            def _alarm(signum, frame, label=label):
                raise CallTooSlow(f"step hung on hostile input ({label}) for over {wall_limit_s:.0f} s")

            old = signal.signal(signal.SIGALRM, _alarm) if use_alarm else None
            if use_alarm:
                signal.setitimer(signal.ITIMER_REAL, wall_limit_s)
            cpu0 = time.process_time()
            try:
                _, _, _, _, info = tenv.step(text)
            except Exception as exc:  # noqa: BLE001 - the kit reports every crash
                if isinstance(exc, CallTooSlow):
                    report.errors.append(str(exc))
                else:
                    report.errors.append(f"step raised {type(exc).__name__} on hostile input ({label}): "
                                         f"{exc!s:.200}")
                if not _restore(base, start, report):
                    break
                continue
            finally:
                if use_alarm:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                    signal.signal(signal.SIGALRM, old)
            cpu = time.process_time() - cpu0
            if cpu > report.worst_cpu_s:
                report.worst_cpu_s, report.slowest = cpu, label
            if cpu > cpu_limit_s:
                report.errors.append(f"step took {cpu:.1f} s of CPU on hostile input ({label}); bound every "
                                     f"argument where it enters (limit {cpu_limit_s} s)")
            if "invalid_action" in info:
                report.invalid += 1
                if base.render_text() != before:
                    report.errors.append(f"the rejected hostile input ({label}) changed the state")
            if not _restore(base, start, report):
                break
        report.errors = list(dict.fromkeys(report.errors))
        assert not report.errors, f"{env_id} fails on hostile input:\n- " + "\n- ".join(report.errors)
    finally:
        tenv.close()
    return report
