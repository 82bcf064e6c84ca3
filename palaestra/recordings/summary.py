"""Statistics of recordings (what ``palaestra recordings PATH`` prints)."""

from __future__ import annotations

import statistics
import warnings
from collections import Counter
from pathlib import Path

from .reader import TruncatedLineWarning, load_dicts


def stats(path: str | Path) -> dict:
    """Counts, success rate, returns, length distribution, agents and envs under ``path``."""
    skipped: list = []
    returns, lengths, successes = [], [], 0
    agents: Counter = Counter()
    envs: Counter = Counter()
    tasks: set = set()
    searched_steps = steps = 0
    per_agent: dict[str, list] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TruncatedLineWarning)
        for ep in load_dicts(path, report=skipped):
            returns.append(float(ep["return"]))
            lengths.append(int(ep["length"]))
            successes += bool(ep["success"])
            agents[ep["agent"]] += 1
            envs[ep["env_id"]] += 1
            tasks.add((ep["env_id"], ep["task_id"]))
            steps += len(ep["steps"])
            searched_steps += sum(1 for s in ep["steps"] if s.get("search"))
            per_agent.setdefault(ep["agent"], []).append((bool(ep["success"]), float(ep["return"])))
    n = len(returns)
    out = {
        "episodes": n,
        "steps": steps,
        "searched_steps": searched_steps,
        "success_rate": successes / n if n else 0.0,
        "mean_return": statistics.fmean(returns) if n else 0.0,
        "std_return": statistics.pstdev(returns) if n else 0.0,
        "length": _distribution(lengths),
        "agents": dict(agents.most_common()),
        "envs": dict(envs.most_common()),
        "tasks": len(tasks),
        "per_agent": {
            a: {"episodes": len(v), "success_rate": sum(s for s, _ in v) / len(v),
                "mean_return": statistics.fmean(r for _, r in v)}
            for a, v in per_agent.items()
        },
        "skipped_lines": skipped,
    }
    return out


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
