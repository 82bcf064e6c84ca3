"""Confidence intervals and the overlap check that keeps reports from naming false winners."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


from palaestra.core.stats import wilson  # noqa: E402,F401  (one Wilson interval for every report)


def bootstrap_mean(values, confidence: float = 0.95, resamples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Bootstrap interval of a mean (scipy's ``bootstrap``, BCa; percentile when BCa degenerates).

    Constant samples give a zero-width interval at the value; fewer than two values give
    ``(nan, nan)`` (no interval can be claimed from one episode).
    """
    x = np.asarray(list(values), dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    if np.ptp(x) == 0:
        return float(x[0]), float(x[0])
    from scipy.stats import bootstrap

    for method in ("BCa", "percentile"):
        with np.errstate(all="ignore"):
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=resamples,
                                method=method, rng=np.random.default_rng(seed), vectorized=True)
        lo, hi = float(res.confidence_interval.low), float(res.confidence_interval.high)
        if math.isfinite(lo) and math.isfinite(hi):
            return lo, hi
    return math.nan, math.nan


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether two intervals share a point (an unknown interval overlaps everything)."""
    if any(not math.isfinite(v) for v in (*a, *b)):
        return True
    return a[0] <= b[1] and b[0] <= a[1]


@dataclass
class Ranked:
    name: str
    value: float
    ci: tuple[float, float]
    rank: str = ""  # "1", "2=", ...


def rank_with_ties(items: list[Ranked]) -> list[Ranked]:
    """Sort by value; an item shares its rank with the item above while their intervals overlap.

    Ranks are written ``"1"`` for a clear position and ``"2="`` when tied with a neighbour,
    so a table never shows a winner that its intervals do not support.
    """
    items = sorted(items, key=lambda r: (-r.value if math.isfinite(r.value) else math.inf, r.name))
    group_start = 0
    groups: list[int] = []
    for i, item in enumerate(items):
        if i > 0 and not overlap(items[i - 1].ci, item.ci):
            group_start = i
        groups.append(group_start)
    for i, item in enumerate(items):
        tied = groups.count(groups[i]) > 1
        item.rank = f"{groups[i] + 1}{'=' if tied else ''}"
    return items


def overlap_notes(items: list[Ranked], what: str, more: str = "episodes") -> list[str]:
    """Sentences naming neighbours whose intervals overlap, and clear leads."""
    items = sorted(items, key=lambda r: (-r.value if math.isfinite(r.value) else math.inf, r.name))
    notes = []
    for a, b in zip(items, items[1:]):
        if overlap(a.ci, b.ci):
            notes.append(f"{a.name} and {b.name}: 95% intervals of {what} overlap, so the data do not "
                         f"say which is better; run more {more}.")
    if len(items) >= 2 and not overlap(items[0].ci, items[1].ci):
        notes.insert(0, f"{items[0].name} leads on {what}: its 95% interval does not overlap the next one's.")
    return notes
