"""How often chance lets a policy that does not try the task succeed, per env.

The adversarial battery (:func:`palaestra.testing.check_adversarial`) plays policies
that never try the task (a constant action, repeating the last action, random actions)
and fails the env when any of them succeeds more often than the bound stated here
allows. (An answer listing every candidate, leaving the task's page and invalid actions
are held to :data:`STRICT` everywhere.) An env
not listed gets :data:`STRICT`: no such policy may ever succeed. Loosen a bound only
with a one-line reason that says why chance allows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ChanceBound:
    #: the success rate chance allows a policy that does not try the task
    rate: float
    #: one line: why chance allows that rate in this env
    reason: str


STRICT = ChanceBound(0.0, "strict default: a policy that does not try the task never succeeds")

_GAME = ChanceBound(
    1.0,
    "reward from the rules against a sampled opponent (random by default): any legal play may win, "
    "and winning by the rules is the task",
)

#: env id (or an id prefix ending in ``*``) -> its bound; the longest match wins
CHANCE_BOUNDS: dict[str, ChanceBound] = {
    "palaestra/ConnectFour-v0": _GAME,
    "palaestra/Hex-v0": _GAME,
    "palaestra/Chess-v0": _GAME,
    "palaestra/Chess960-v0": _GAME,
    "palaestra/ChunkSelection-v0": ChanceBound(
        0.3,
        "success is complete evidence among the chosen chunks: random picks among 10 candidates under "
        "the budget cover the 2-3 gold chunks by luck (measured 9 of 40 seeds)",
    ),
    "palaestra/miniwob.*": ChanceBound(
        0.5,
        "MiniWoB pages with a few controls are solved by a random click about half the time "
        "(click-button: random 3 of 6 seeds)",
    ),
    "palaestra/miniwob.click-test-v0": ChanceBound(
        1.0,
        "the page has one button and the task is to click it: any click policy does the task "
        "(constant and random: 6 of 6 seeds)",
    ),
}


def chance_bound(env_id: str) -> ChanceBound:
    """The bound stated for ``env_id`` (:data:`STRICT` when none is)."""
    if env_id in CHANCE_BOUNDS:
        return CHANCE_BOUNDS[env_id]
    prefixes = [k for k in CHANCE_BOUNDS if k.endswith("*") and env_id.startswith(k[:-1])]
    if prefixes:
        return CHANCE_BOUNDS[max(prefixes, key=len)]
    return STRICT


def binomial_tail(successes: int, n: int, rate: float) -> float:
    """P(X >= successes) for X ~ Binomial(n, rate): how surprising the count is at that rate."""
    if successes <= 0:
        return 1.0
    if rate <= 0.0:
        return 0.0
    if rate >= 1.0:
        return 1.0
    return sum(math.comb(n, k) * rate**k * (1 - rate) ** (n - k) for k in range(successes, n + 1))


def beyond_chance(successes: int, n: int, bound: ChanceBound, alpha: float = 0.01) -> bool:
    """Whether ``successes`` of ``n`` is more than ``bound`` allows (one-sided test at ``alpha``)."""
    return binomial_tail(successes, n, bound.rate) < alpha
