"""Policies that try to be paid by ToolUse-v0 without doing its tasks.

Used by ``benchmarks/tools.py --adversarial`` (the figures in the README) and by the
tests, which bound what each may reach. Every policy is a function ``(env, rng) ->
action`` called until the episode ends; none reads the task's hidden data.

- ``constant``: the same final answer on every task (a refusal, a question back,
  ``done``, a number, a status, a weekday);
- ``shotgun``: one answer listing every candidate value: each status, each weekday,
  the integers 0-1000, refusal and ask phrases (cut to the answer limit), as prose or
  as semicolon-separated values;
- ``calls + shotgun``: the oracle's own calls (the database as required), then the
  shotgun answer: the answer check alone must stop it;
- ``repeat-last``: a random valid call, repeated until the step limit;
- ``random``: the action space's random valid actions (calls, sometimes an answer).
"""

from __future__ import annotations

import calendar
import random
from collections import Counter
from collections.abc import Callable

from .env import MAX_ANSWER_CHARS
from .world import STATUSES

REFUSAL = "cannot: none of my tools can do this."
ASK_ORDER = "ask: which order do you mean?"


def shotgun_text(separator: str = " ") -> str:
    """Every candidate value at once, cut to the answer limit."""
    words = list(STATUSES) + list(calendar.day_name) + [
        "cannot", "unable", "no tool", "not possible", "order number", "which date and time", "which product",
        "which customer", "done"] + [str(i) for i in range(1001)]
    return separator.join(words)[:MAX_ANSWER_CHARS]


def constant(text: str) -> Callable:
    return lambda env, rng: {"answer": text}


def calls_then(text: str) -> Callable:
    """The oracle's calls (read from the task: an upper bound on any policy's calls), then ``text``."""

    def policy(env, rng):
        plan = env.oracle_actions()
        return plan[0] if plan and "answer" not in plan[0] else {"answer": text}

    return policy


def repeat_last(env, rng):
    last = getattr(env, "_adversary_last", None)
    if last is None or env._steps == 0:
        last = env.sample_action(rng)
        while "answer" in last:
            last = env.sample_action(rng)
        env._adversary_last = last
    return last


def random_actions(env, rng):
    return env.sample_action(rng)


POLICIES: dict[str, Callable] = {
    "constant refusal": constant(REFUSAL),
    "constant question (order)": constant(ASK_ORDER),
    "constant done": constant("done"),
    "constant 1": constant("1"),
    "constant delivered": constant("delivered"),
    "constant Monday": constant("Monday"),
    "shotgun prose": constant(shotgun_text(" ")),
    "shotgun values": constant(shotgun_text("; ")),
    "calls + shotgun": calls_then(shotgun_text("; ")),
    "repeat-last call": repeat_last,
    "random actions": random_actions,
}


def success_by_tier(env, policy: Callable, ids: list[str], seed: int = 0) -> Counter:
    """Successes of ``policy`` per tier over ``ids`` (one episode each)."""
    wins = Counter()
    for k, tid in enumerate(ids):
        rng = random.Random(f"{seed}-{tid}")
        env.reset(options={"task": tid})
        env._adversary_last = None
        info, ended = {}, False
        while not ended:
            _, _, term, trunc, info = env.step(policy(env, rng))
            ended = term or trunc
        wins[env.task.data["tier"]] += bool(info.get("success"))
    return wins
