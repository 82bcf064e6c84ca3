"""Small statistics every report shares: the Wilson interval and the bootstrap of a mean.

One implementation of each for all of palaestra (leaderboards, training reports,
benchmarks). The bootstrap is the percentile bootstrap: numpy only (so ``core`` needs no
scipy), seeded, and well defined for every sample (scipy's BCa degenerates on constant or
tiny samples and then needs a fallback anyway); for the means of tens of episodes that
reports show, its intervals differ from BCa's by well under the intervals' width.
"""

from __future__ import annotations

import math
from statistics import NormalDist


def wilson(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a success rate (no continuity correction); (0, 1) for n = 0."""
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def bootstrap_mean_ci(values, reps: int = 2000, seed: int = 0, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean (for paired differences pass the differences).

    Fewer than two values give ``(nan, nan)``: no interval can be claimed from one episode.
    A constant sample gives a zero-width interval at its value.
    """
    import numpy as np

    arr = np.asarray(list(values), dtype=float)
    if arr.size < 2:
        return float("nan"), float("nan")
    if np.ptp(arr) == 0:
        return float(arr[0]), float(arr[0])
    rng = np.random.default_rng(seed)
    means = arr[rng.integers(0, arr.size, size=(reps, arr.size))].mean(axis=1)
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
