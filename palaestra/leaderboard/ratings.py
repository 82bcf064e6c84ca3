"""Ratings from game results: OpenSkill (sequential) and Bradley-Terry (order-independent).

OpenSkill (Weng-Lin Plackett-Luce, the ``openskill`` package) updates after each game in
the order played and gives ``mu``, ``sigma`` and the conservative ``mu - 3 sigma``.
Bradley-Terry fits all games at once by maximum likelihood (draws count half a win for
each side, a weak Gaussian prior keeps unbeaten players finite), so the match order
does not matter; bootstrap resampling of the games gives its 95% intervals. Both are
reported on an Elo-like scale for Bradley-Terry (400 / ln 10 per unit of log-strength,
mean 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ELO = 400.0 / math.log(10.0)


@dataclass
class Game:
    first: str  # player keys
    second: str
    score: float  # for the first player: 1 win, 0.5 draw, 0 loss


@dataclass
class SkillRating:
    player: str
    mu: float
    sigma: float
    games: int

    @property
    def conservative(self) -> float:
        return self.mu - 3.0 * self.sigma


def openskill_ratings(games: list[Game], players: list[str] | None = None) -> dict[str, SkillRating]:
    from openskill.models import PlackettLuce

    model = PlackettLuce()
    names = list(players or [])
    for g in games:
        for p in (g.first, g.second):
            if p not in names:
                names.append(p)
    ratings = {p: model.rating(name=p) for p in names}
    played = {p: 0 for p in names}
    for g in games:
        a, b = ratings[g.first], ratings[g.second]
        if g.score > 0.5:
            ranks = [0, 1]
        elif g.score < 0.5:
            ranks = [1, 0]
        else:
            ranks = [0, 0]
        [[a2], [b2]] = model.rate([[a], [b]], ranks=ranks)
        ratings[g.first], ratings[g.second] = a2, b2
        played[g.first] += 1
        played[g.second] += 1
    return {p: SkillRating(p, float(r.mu), float(r.sigma), played[p]) for p, r in ratings.items()}


@dataclass
class BTRating:
    player: str
    elo: float  # Elo-scale strength, players' mean 0
    low: float  # bootstrap 95% interval
    high: float
    games: int
    score: float  # points per game (win 1, draw 0.5)


def _fit_bt(n: int, first: np.ndarray, second: np.ndarray, score: np.ndarray, weights: np.ndarray,
            prior: float, iterations: int = 60) -> np.ndarray:
    """Penalised maximum likelihood, by Newton's method, for B weightings of the games at once.

    ``weights`` has shape (B, G): replicate b counts game g ``weights[b, g]`` times (the
    bootstrap); the log-likelihood is concave and the prior makes it strictly so.
    """
    games = len(first)
    incidence = np.zeros((games, n))
    incidence[np.arange(games), first] += 1.0
    incidence[np.arange(games), second] -= 1.0
    theta = np.zeros((weights.shape[0], n))
    eye = np.eye(n)
    for _ in range(iterations):
        d = theta @ incidence.T  # (B, G)
        p = 1.0 / (1.0 + np.exp(-d))
        grad = -(weights * (score - p)) @ incidence + prior * theta
        curv = weights * p * (1.0 - p)
        hess = np.einsum("bg,gi,gj->bij", curv, incidence, incidence) + prior * eye
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        biggest = np.abs(step).max(axis=1, keepdims=True)
        step = step * np.minimum(1.0, 1.0 / np.maximum(biggest, 1e-12))  # damp early, huge steps
        theta = theta - step
        if biggest.max() < 1e-9:
            break
    return theta - theta.mean(axis=1, keepdims=True)


def bradley_terry(games: list[Game], players: list[str] | None = None, bootstrap: int = 500, seed: int = 0,
                  prior: float = 0.01) -> dict[str, BTRating]:
    """Bradley-Terry strengths (Elo scale) with percentile bootstrap intervals over games."""
    names = list(players or [])
    for g in games:
        for p in (g.first, g.second):
            if p not in names:
                names.append(p)
    index = {p: i for i, p in enumerate(names)}
    n = len(names)
    if not games:
        return {p: BTRating(p, 0.0, math.nan, math.nan, 0, math.nan) for p in names}
    first = np.array([index[g.first] for g in games])
    second = np.array([index[g.second] for g in games])
    score = np.array([float(g.score) for g in games])
    theta = _fit_bt(n, first, second, score, np.ones((1, len(games))), prior)[0]
    rng = np.random.default_rng(seed)
    samples = []
    for start in range(0, int(bootstrap), 100):  # bounded memory: 100 replicates at a time
        b = min(100, int(bootstrap) - start)
        w = rng.multinomial(len(games), np.full(len(games), 1.0 / len(games)), size=b).astype(float)
        samples.extend(_fit_bt(n, first, second, score, w, prior))
    out = {}
    played = np.bincount(first, minlength=n) + np.bincount(second, minlength=n)
    points = np.bincount(first, score, n) + np.bincount(second, 1 - score, n)
    arr = np.array(samples) if samples else None
    for p, i in index.items():
        if arr is not None:
            lo, hi = np.percentile(arr[:, i], [2.5, 97.5])
        else:
            lo = hi = math.nan
        out[p] = BTRating(p, float(theta[i] * ELO), float(lo * ELO), float(hi * ELO), int(played[i]),
                          float(points[i] / played[i]) if played[i] else math.nan)
    return out
