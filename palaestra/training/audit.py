"""Auditing preference pairs: re-judge a sample with a stronger search at the same state.

A step pair says "at this state, action A is better than action B" because a search
said so. ``audit_pairs`` replays each sampled pair's episode to that state (reset with
the recorded seed, then the recorded actions; the replay must reproduce the recorded
observation), runs ``MCTSAgent`` with ``simulations`` (default 2,000) there, and
compares the two actions' values in that stronger tree: **agree** (chosen ahead by more
than ``tie``), **disagree** (rejected ahead by more than ``tie``) or **near-tie**.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from .episodes import read_episodes


@dataclass
class AuditReport:
    simulations: int
    tie: float
    verdicts: Counter = field(default_factory=Counter)
    rows: list[dict] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return sum(self.verdicts[k] for k in ("agree", "disagree", "near-tie"))

    @property
    def agreement(self) -> float | None:
        return self.verdicts["agree"] / self.judged if self.judged else None

    def summary(self) -> str:
        parts = ", ".join(f"{self.verdicts[k]} {k}" for k in ("agree", "disagree", "near-tie"))
        skipped = {k: v for k, v in self.verdicts.items() if k not in ("agree", "disagree", "near-tie")}
        extra = "; " + ", ".join(f"{v} {k}" for k, v in skipped.items()) if skipped else ""
        rate = f" ({self.agreement:.0%} agree)" if self.agreement is not None else ""
        return f"pair audit with MCTS-{self.simulations} (tie < {self.tie}): {parts}{rate}{extra}"


def _content(msgs) -> str:
    return str(msgs[0]["content"]).strip() if msgs else ""


def audit_pairs(pairs, recordings, simulations: int = 2000, sample: int = 100, seed: int = 0, tie: float = 0.05,
                mcts: dict | None = None) -> AuditReport:
    """Re-judge up to ``sample`` of ``pairs`` (a PairSet or rows) made from ``recordings``."""
    import gymnasium as gym

    import palaestra  # noqa: F401
    from palaestra.agents.mcts import MCTSAgent

    rows = list(getattr(pairs, "rows", pairs))
    rng = random.Random(seed)
    chosen_rows = rows if len(rows) <= sample else rng.sample(rows, int(sample))
    episodes = {str(ep.get("episode_id")): ep for ep in read_episodes(recordings)}
    report = AuditReport(int(simulations), float(tie))
    envs: dict = {}
    try:
        for row in chosen_rows:
            ep = episodes.get(str(row.get("episode_id")))
            if ep is None or row.get("step") is None:
                report.verdicts["pairs whose episode is not in the recordings"] += 1
                continue
            kwargs = {k: v for k, v in (ep.get("env_kwargs") or {}).items() if k != "text"}
            key = (ep.get("env_id"), repr(sorted(kwargs.items())))
            if key not in envs:
                envs[key] = gym.make(ep["env_id"], text=True, **kwargs)
            env = envs[key]
            obs, info = env.reset(seed=ep.get("seed"))
            t = int(row["step"])
            ok = True
            for s in ep["steps"][:t]:
                obs, _, term, trunc, info = env.step(str(s["action"]))
                if term or trunc:
                    ok = False
                    break
            if not ok or env.unwrapped.render_text() != str(ep["steps"][t].get("observation")):
                report.verdicts["pairs whose state the replay did not reproduce"] += 1
                continue
            agent = MCTSAgent(**{"rollout": "random", **(mcts or {}), "simulations": int(simulations),
                                 "seed": int(seed), "search_reward": "true"})
            agent.reset(env)
            agent.act(obs, info)
            by = {str(c["action"]): c for c in agent.last_search or []}
            c, r = by.get(_content(row["chosen"])), by.get(_content(row["rejected"]))
            if c is None or r is None or c.get("q") is None or r.get("q") is None:
                report.verdicts["pairs the stronger search could not value"] += 1
                continue
            gap = float(c["q"]) - float(r["q"])
            verdict = "agree" if gap > tie else ("disagree" if gap < -tie else "near-tie")
            report.verdicts[verdict] += 1
            report.rows.append({"episode_id": row.get("episode_id"), "step": t, "chosen": _content(row["chosen"]),
                                "rejected": _content(row["rejected"]), "gap": gap, "verdict": verdict})
    finally:
        for env in envs.values():
            env.close()
    return report


__all__ = ["audit_pairs", "AuditReport"]
