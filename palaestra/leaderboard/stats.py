"""Ranks that intervals support, and the overlap notes that keep reports from naming false winners.

The intervals themselves come from :mod:`palaestra.core.stats` (one Wilson interval and one
bootstrap for every report in palaestra).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from palaestra.core.stats import bootstrap_mean_ci, wilson

__all__ = ["Ranked", "bootstrap_mean_ci", "overlap", "overlap_notes", "rank_with_ties", "wilson", "any_tied"]


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


def _clearly_better(a: Ranked, b: Ranked) -> bool:
    """``a`` beats ``b`` by the intervals: ``a``'s lies wholly above ``b``'s."""
    return all(math.isfinite(v) for v in (*a.ci, *b.ci)) and a.ci[0] > b.ci[1]


def rank_with_ties(items: list[Ranked]) -> list[Ranked]:
    """Sort by value; rank = 1 + the number of items whose interval lies wholly above this one's.

    Ties never chain: an item is ranked below everything that clearly beats it, even when a
    neighbour in between overlaps both (random at 60% is not "1=" with two agents at 100%
    whose intervals exclude it). A rank shared by several items is written with ``=``
    (``"1="``), so a table never shows a winner that its intervals do not support.
    """
    items = sorted(items, key=lambda r: (-r.value if math.isfinite(r.value) else math.inf, r.name))
    numbers = [1 + sum(_clearly_better(other, item) for other in items if other is not item) for item in items]
    for item, number in zip(items, numbers):
        item.rank = f"{number}{'=' if numbers.count(number) > 1 else ''}"
    return items


def any_tied(ranks) -> bool:
    """Whether any rank in ``ranks`` (strings such as ``"2="``) is shared."""
    return any(str(r).endswith("=") for r in ranks)


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
