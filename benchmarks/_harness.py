"""The shared benchmark harness: palaestra and its peer, alternating, repeated, CPU time.

Each contender is a zero-argument callable that does a fixed amount of work and returns
how many units it did (steps, plies, simulations). ``alternate`` runs the contenders in
turn, reversing the order every round so that neither side always runs first (warm
caches, a busy neighbour), timing each run with ``time.process_time`` (this process's
CPU time: other work on a shared machine does not count). ``ratio`` is the median over
rounds of the paired per-round ratios. Figures are ratios; nothing here asserts a speed.
Where CPU time does not fit (fsync waits, work done in child processes) pass
``clock=WALL`` and say so: ``report(..., clock_name="wall time")``.

    from _harness import alternate, report
    rates = alternate({"palaestra": ours, "PettingZoo": theirs}, rounds=5)
    report("Connect Four steps/s", rates, [("palaestra", "PettingZoo", 10.0)])
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

#: the clock for work that waits on the disk or runs in child processes
WALL = time.perf_counter


def alternate(contenders: dict[str, Callable[[], float]], rounds: int = 5, warmup: int = 1,
              clock: Callable[[], float] = time.process_time) -> dict[str, list[float]]:
    """Units per second of ``clock`` (CPU time by default) of each contender, one figure
    per round (after ``warmup``)."""
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    names = list(contenders)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            t0 = clock()
            units = contenders[name]()
            dt = max(clock() - t0, 1e-9)
            if r >= warmup:
                rates[name].append(units / dt)
    return rates


def ratio(rates: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of rate[a] / rate[b] (paired by round)."""
    return statistics.median(x / y for x, y in zip(rates[a], rates[b]))


def report(title: str, rates: dict[str, list[float]], pairs: list[tuple], unit: str = "units/CPU-s",
           clock_name: str = "CPU time") -> dict:
    """Print the median rates and the median ratios of ``pairs`` = [(a, b, target or None)]."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    n = len(next(iter(rates.values())))
    table = Table(title=f"{title} (median of {n} alternating rounds, {clock_name})")
    table.add_column("contender")
    table.add_column(unit, justify="right")
    table.add_column("min..max", justify="right")
    for name, values in rates.items():
        table.add_row(name, f"{statistics.median(values):,.0f}", f"{min(values):,.0f}..{max(values):,.0f}")
    console.print(table)
    out = {}
    for pair in pairs:
        a, b = pair[0], pair[1]
        target = pair[2] if len(pair) > 2 else None
        value = ratio(rates, a, b)
        out[(a, b)] = value
        verdict = "" if target is None else f" (target >= {target:g}x: {'met' if value >= target else 'NOT met'})"
        console.print(f"  {a} / {b}: [bold]{value:.2f}x[/]{verdict}")
    return out
