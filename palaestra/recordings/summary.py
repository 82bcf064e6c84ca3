"""Statistics of recordings (what ``palaestra recordings PATH`` prints).

Success and return are only ever summarised per env: a folder tree holding several
envs (the demo's, say) gets one entry per env in ``per_env``, and its top-level
``success_rate``/``mean_return``/``std_return``/``length`` are None (pooling a
chess win rate with a segmentation success rate means nothing).
"""

from __future__ import annotations

import statistics
import warnings
from collections import Counter
from pathlib import Path

from .reader import TruncatedLineWarning, episode_files, load_dicts

POOLED = ("success_rate", "mean_return", "std_return", "length", "agents", "per_agent", "tasks", "searched_steps")


class _EnvStats:
    def __init__(self):
        self.returns: list[float] = []
        self.lengths: list[int] = []
        self.successes = 0
        self.agents: Counter = Counter()
        self.tasks: set = set()
        self.seeds: set = set()
        self.steps = self.searched_steps = 0
        self.per_agent: dict[str, list] = {}

    def add(self, ep: dict) -> None:
        self.returns.append(float(ep["return"]))
        self.lengths.append(int(ep["length"]))
        self.successes += bool(ep["success"])
        self.agents[ep["agent"]] += 1
        self.tasks.add(ep["task_id"])
        if ep.get("seed") is not None:
            self.seeds.add(int(ep["seed"]))
        self.steps += len(ep["steps"])
        self.searched_steps += sum(1 for s in ep["steps"] if s.get("search"))
        self.per_agent.setdefault(ep["agent"], []).append((bool(ep["success"]), float(ep["return"])))

    def summary(self) -> dict:
        n = len(self.returns)
        return {
            "episodes": n,
            "steps": self.steps,
            "searched_steps": self.searched_steps,
            "success_rate": self.successes / n if n else 0.0,
            "mean_return": statistics.fmean(self.returns) if n else 0.0,
            "std_return": statistics.pstdev(self.returns) if n else 0.0,
            "length": _distribution(self.lengths),
            "agents": dict(self.agents.most_common()),
            "tasks": len(self.tasks),
            "seeds": sorted(self.seeds),
            "per_agent": {
                a: {"episodes": len(v), "success_rate": sum(s for s, _ in v) / len(v),
                    "mean_return": statistics.fmean(r for _, r in v)}
                for a, v in self.per_agent.items()
            },
        }


def stats(path: str | Path) -> dict:
    """Counts, and per env: success rate, returns, length distribution, agents, seeds.

    With one env under ``path`` its figures are also at the top level; with several,
    the top-level success/return/length entries are None: read ``per_env``.
    """
    skipped: list = []
    per_env: dict[str, _EnvStats] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedLineWarning)
        for ep in load_dicts(path, report=skipped):
            per_env.setdefault(ep["env_id"], _EnvStats()).add(ep)
    envs = {e: s.summary() for e, s in sorted(per_env.items(), key=lambda kv: -len(kv[1].returns))}
    out = {
        "episodes": sum(s["episodes"] for s in envs.values()),
        "steps": sum(s["steps"] for s in envs.values()),
        "envs": {e: s["episodes"] for e, s in envs.items()},
        "per_env": envs,
        "skipped_lines": skipped,
    }
    if len(envs) == 1:
        (only,) = envs.values()
        out.update({k: only[k] for k in POOLED})
    else:
        out.update({k: None for k in POOLED})
        if not envs:
            out.update(success_rate=0.0, mean_return=0.0, std_return=0.0, length=_distribution([]),
                       agents={}, per_agent={}, tasks=0, searched_steps=0)
    return out


def held_seeds(folder: str | Path) -> list[int]:
    """The seeds of the episodes already recorded in ``folder`` (empty if none or no folder)."""
    folder = Path(folder)
    if not folder.exists() or not episode_files(folder):
        return []
    seeds = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedLineWarning)
        for ep in load_dicts(folder):
            if ep.get("seed") is not None:
                seeds.add(int(ep["seed"]))
    return sorted(seeds)


def seed_ranges(seeds: list[int]) -> str:
    """``[0, 1, 2, 5, 7, 8]`` -> ``"0-2, 5, 7-8"``."""
    parts: list[str] = []
    for s in sorted(set(seeds)):
        if parts and s == int(parts[-1].split("-")[-1]) + 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{s}"
        else:
            parts.append(str(s))
    return ", ".join(parts)


def _distribution(values: list[int]) -> dict:
    if not values:
        return {"min": 0, "p25": 0, "median": 0, "p75": 0, "max": 0, "mean": 0.0, "histogram": []}
    ordered = sorted(values)

    def q(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]

    lo, hi = ordered[0], ordered[-1]
    bins = min(10, hi - lo + 1)
    width = max(1, -(-(hi - lo + 1) // bins))
    hist = []
    for b in range(bins):
        start = lo + b * width
        if start > hi:
            break
        end = min(hi, start + width - 1)
        hist.append({"from": start, "to": end, "count": sum(1 for v in values if start <= v <= end)})
    return {"min": lo, "p25": q(0.25), "median": q(0.5), "p75": q(0.75), "max": hi,
            "mean": statistics.fmean(values), "histogram": hist}
