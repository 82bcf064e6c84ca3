"""Preference pairs from recordings, as a ``datasets.Dataset`` in TRL's conversational format.

Three builders (DESIGN.md section 5), each returning a :class:`PairSet`: the dataset plus
how many pairs were made and, reason by reason, why other candidates were dropped.

- :func:`step_pairs` — step level, from the search tree recorded at each step (Agent Q,
  MCTS-DPO, rStar-Math): among the root's children with at least ``min_visits`` visits,
  the best against the worst by Q (``mode="best_worst"``), every pair whose Q gap is at
  least ``min_margin`` (``mode="all"``), or the best against the policy's own reply
  recorded at that state (``mode="policy"``; modes combine with ``+``). The prompt
  carries the step's prefix: instructions, history, current observation — by default
  exactly the prompt ``LLMAgent`` sends (``prompt_style="agent"``), or the full
  multi-turn conversation (``prompt_style="chat"``).
- :func:`episode_pairs` — episode level: a successful and a failed episode of the same
  task (and seed). By default the pair sits where the two first act differently from
  the same state (``mode="divergence"``); ``mode="trajectory"`` pairs whole
  continuations after the first observation.
- :func:`demo_pairs` — human (or oracle) demos against agent actions at the same state.

Rows: ``prompt`` (messages), ``chosen`` / ``rejected`` (one assistant message each, or
the continuation in trajectory mode), and metadata: ``source``, ``env_id``, ``task_id``,
``seed``, ``episode_id``, ``step``, ``chosen_q``, ``rejected_q``, ``chosen_visits``,
``rejected_visits``, ``margin``.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from .episodes import read_episodes, step_is_invalid
from .prompts import assistant, step_messages, system_text

_MESSAGE = {"role": "string", "content": "string"}
META_COLUMNS = {
    "source": "string", "env_id": "string", "task_id": "string", "seed": "int64", "episode_id": "string",
    "step": "int64", "chosen_q": "float64", "rejected_q": "float64", "chosen_visits": "int64",
    "rejected_visits": "int64", "margin": "float64",
}


def pair_features():
    from datasets import Features, List, Value

    msgs = List({k: Value(v) for k, v in _MESSAGE.items()})
    feats = {"prompt": msgs, "chosen": msgs, "rejected": msgs}
    feats.update({k: Value(v) for k, v in META_COLUMNS.items()})
    return Features(feats)


@dataclass
class PairSet:
    """A preference dataset and the account of how it was built."""

    source: str
    rows: list[dict] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    seen: int = 0  # candidates looked at (steps, episode groups, demo steps)
    unit: str = "steps"

    @property
    def made(self) -> int:
        return len(self.rows)

    @property
    def dataset(self):
        from datasets import Dataset

        return Dataset.from_list(self.rows, features=pair_features())

    def __len__(self) -> int:
        return len(self.rows)

    def __add__(self, other: "PairSet") -> "PairSet":
        return PairSet(f"{self.source}+{other.source}", self.rows + other.rows, self.dropped + other.dropped,
                       self.seen + other.seen, self.unit if self.unit == other.unit else "candidates")

    def summary(self) -> str:
        reasons = "; ".join(f"{n} {why}" for why, n in self.dropped.most_common()) or "none"
        return f"{self.source}: {self.made} pairs from {self.seen} {self.unit}; dropped: {reasons}"


def _row(source, ep, t, prompt, chosen, rejected, cq=None, rq=None, cv=None, rv=None) -> dict:
    seed = ep.get("seed")
    margin = (cq - rq) if (cq is not None and rq is not None) else None
    return {
        "prompt": prompt, "chosen": chosen, "rejected": rejected, "source": source,
        "env_id": ep.get("env_id"), "task_id": ep.get("task_id"), "seed": None if seed is None else int(seed),
        "episode_id": None if ep.get("episode_id") is None else str(ep.get("episode_id")), "step": int(t),
        "chosen_q": cq, "rejected_q": rq, "chosen_visits": cv, "rejected_visits": rv, "margin": margin,
    }


def _value(child: dict, alpha: float | None) -> float | None:
    """The child's value: its recorded Q, or ``alpha * Q + (1 - alpha) * critique`` (Agent Q)
    when ``alpha`` is given and the child carries a numeric critique."""
    q = child.get("q")
    if q is None or (isinstance(q, float) and math.isnan(q)):
        return None
    q = float(q)
    crit = child.get("critique")
    if alpha is not None and isinstance(crit, (int, float)) and not isinstance(crit, bool):
        return alpha * q + (1.0 - alpha) * float(crit)
    return q


def _modes(mode) -> list[str]:
    modes = [m.strip() for m in (mode.split("+") if isinstance(mode, str) else mode) if m.strip()]
    bad = [m for m in modes if m not in ("best_worst", "all", "policy")]
    if bad or not modes:
        raise ValueError(f"mode {mode!r}: use 'best_worst', 'all' or 'policy', or a combination like "
                         "'best_worst+policy'.")
    return modes


def _bounds(child: dict, value: float, z: float | None) -> tuple[float, float]:
    """(lower, upper) confidence bound of a child's value: exact when the solver proved it,
    else ``value -/+ z * sd / sqrt(visits)`` with the recorded spread of its returns (1,
    the widest for returns in [-1, 1], when not recorded) shrunk towards 1 by one
    pseudo-observation. ``z=None``: no interval."""
    proven = child.get("proven")
    if proven is not None:
        return float(proven), float(proven)
    if z is None:
        return value, value
    n = int(child.get("visits") or 0)
    if n <= 0:
        return -math.inf, math.inf
    sd = child.get("q_sd")
    sd = 1.0 if sd is None or (isinstance(sd, float) and math.isnan(sd)) else float(sd)
    # one pseudo-return of variance 1 (the widest for returns in [-1, 1]): two visits that
    # both lost do not make a sure loss
    sd = math.sqrt((sd * sd * (n - 1) + 1.0) / n)
    half = z * sd / math.sqrt(n)
    return value - half, value + half


def step_pairs(source, *, min_visits: int = 1, min_margin: float = 0.1, mode="best_worst",
               alpha: float | None = None, max_history: int | None = None, prompt_style: str = "agent",
               max_pairs_per_step: int = 4, instructions: str | None = None,
               confidence: float | None = 1.96) -> PairSet:
    """Step-level pairs from the search children recorded at each step.

    At each step with ``search`` children: keep children with ``visits >= min_visits``
    and a Q value (children the solver proved are kept whatever their visits: a winning
    move found at once has 1 visit); ``mode="best_worst"`` pairs the best with the worst
    (MCTS-DPO), ``mode="all"`` every pair that passes, the largest gaps first, at most
    ``max_pairs_per_step``. A pair is made only when the search is sure of it: the
    chosen child's lower confidence bound beats the rejected one's upper bound
    (``confidence`` is the z of the bounds, 1.96 by default, from each child's visits
    and the recorded spread ``q_sd`` of its returns; solver-proven values are exact;
    ``confidence=None`` compares plain Q values), and the Q gap is at least
    ``min_margin``. ``alpha`` re-blends Q with a numeric critique.

    ``mode="policy"`` uses the child marked ``"policy": true`` (the plain policy's own
    reply at that state, recorded by the collector): the best child is chosen over it
    when it passes the same test, or always when the reply was not a valid action
    (``"invalid": true``). Modes combine with ``+`` (``"best_worst+policy"``); a pair
    found by two modes is kept once.
    """
    modes = _modes(mode)
    z = None if confidence is None else float(confidence)
    out = PairSet("step", unit="steps")
    for ep in read_episodes(source, instructions):
        steps = ep.get("steps", [])
        for t, step in enumerate(steps):
            out.seen += 1
            children = step.get("search") or []
            if not children:
                out.dropped["steps without a search tree"] += 1
                continue
            scored = []  # (value, action, visits, lower, upper)
            seen_actions = set()
            probe = None
            for c in children:
                action = str(c.get("action", "")).strip()
                v = _value(c, alpha)
                if c.get("policy"):
                    lo, hi = _bounds(c, v, z) if v is not None else (-math.inf, math.inf)
                    probe = (v, action, int(c.get("visits") or 0), bool(c.get("invalid")), lo, hi)
                if c.get("invalid"):
                    continue
                if v is None or not action or action in seen_actions:
                    continue
                if int(c.get("visits") or 0) < min_visits and c.get("proven") is None:
                    continue
                seen_actions.add(action)
                scored.append((v, action, int(c.get("visits") or 0)) + _bounds(c, v, z))
            scored.sort(key=lambda x: (-x[3], -x[0]))  # the surest best first
            candidates: list[tuple] = []
            if "best_worst" in modes or "all" in modes:
                if len(scored) < 2:
                    out.dropped[f"steps with fewer than 2 children of >= {min_visits} visits"] += 1
                elif "all" in modes:
                    candidates += sorted(itertools.combinations(scored, 2), key=lambda p: p[1][0] - p[0][0])
                else:
                    candidates.append((scored[0], min(scored[1:], key=lambda x: (x[4], x[0]))))
            if "policy" in modes:
                if probe is None:
                    out.dropped["steps without the policy's own reply"] += 1
                elif not scored:
                    out.dropped[f"steps with no child of >= {min_visits} visits"] += 1
                elif probe[3]:  # the policy's reply was not a valid action: any good child beats it
                    candidates.append((scored[0], (None, probe[1], probe[2]), "invalid"))
                elif probe[1] == scored[0][1]:
                    out.dropped["steps where the policy already chose the best child"] += 1
                elif probe[0] is not None:
                    candidates.append((scored[0], (probe[0], probe[1], probe[2], probe[4], probe[5])))
                else:
                    out.dropped["steps where the search never tried the policy's move"] += 1
            made_here = 0
            prompt = None
            done = set()
            for cand in candidates:
                best, worst = cand[0], cand[1]
                if (best[1], worst[1]) in done:
                    continue
                if len(cand) < 3:
                    if best[0] - worst[0] < min_margin:
                        out.dropped[f"pairs with a Q gap below {min_margin}"] += 1
                        continue
                    if z is not None and not best[3] > worst[4]:
                        out.dropped["pairs whose confidence intervals overlap"] += 1
                        continue
                if made_here >= max_pairs_per_step:
                    out.dropped[f"pairs beyond {max_pairs_per_step} per step"] += 1
                    continue
                prompt = prompt or step_messages(ep, t, max_history, prompt_style)
                out.rows.append(_row("step", ep, t, prompt, assistant(best[1]), assistant(worst[1]),
                                     best[0], worst[0], best[2], worst[2]))
                done.add((best[1], worst[1]))
                made_here += 1
    return out


def _same_run(ep: dict, same_seed: bool) -> tuple:
    return (ep.get("env_id"), ep.get("task_id")) + ((ep.get("seed"),) if same_seed else ())


def episode_pairs(source, *, same_seed: bool = True, mode: str = "divergence", max_pairs_per_group: int = 4,
                  max_history: int | None = None, prompt_style: str = "agent", instructions: str | None = None) -> PairSet:
    """Episode-level pairs: a successful against a failed episode of the same task (and seed).

    ``mode="divergence"``: replay both from the start while they see the same
    observations and take the same actions; the pair is the first step where the same
    observation got different actions (the success's action chosen). Episodes whose
    observations differ before their actions do (a non-deterministic env or opponent)
    are dropped. ``mode="trajectory"``: the prompt is the first observation and each
    side is the episode's whole continuation (assistant actions and the observations
    between them).
    """
    if mode not in ("divergence", "trajectory"):
        raise ValueError(f"mode must be 'divergence' or 'trajectory', got {mode!r}")
    out = PairSet("episode", unit="episode pairs")
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for ep in read_episodes(source, instructions):
        if ep.get("steps"):
            groups[_same_run(ep, same_seed)].append(ep)
    for key, eps in groups.items():
        wins = [e for e in eps if e.get("success")]
        losses = [e for e in eps if not e.get("success")]
        if not wins or not losses:
            out.seen += 1
            out.dropped["tasks without both a success and a failure"] += 1
            continue
        made_here = 0
        for win, loss in itertools.product(wins, losses):
            out.seen += 1
            if made_here >= max_pairs_per_group:
                out.dropped[f"episode pairs beyond {max_pairs_per_group} per task"] += 1
                continue
            if mode == "trajectory":
                if str(win["steps"][0].get("observation")) != str(loss["steps"][0].get("observation")):
                    out.dropped["episode pairs that start from different observations"] += 1
                    continue
                prompt = step_messages(win, 0, 0, prompt_style)
                out.rows.append(_row("episode", win, 0, prompt, _continuation(win), _continuation(loss)))
                made_here += 1
                continue
            row = None
            for t, (sw, sl) in enumerate(zip(win["steps"], loss["steps"])):
                if str(sw.get("observation")) != str(sl.get("observation")):
                    out.dropped["episode pairs whose observations differ before their actions"] += 1
                    row = False
                    break
                if str(sw.get("action")).strip() != str(sl.get("action")).strip():
                    if step_is_invalid(sw):
                        out.dropped["episode pairs diverging at an invalid action of the success"] += 1
                        row = False
                        break
                    row = _row("episode", win, t, step_messages(win, t, max_history, prompt_style),
                               assistant(sw.get("action")), assistant(sl.get("action")))
                    break
            if row is None:
                out.dropped["episode pairs with no differing action"] += 1
            elif row:
                out.rows.append(row)
                made_here += 1
    return out


def _continuation(ep: dict) -> list[dict]:
    msgs = []
    steps = ep["steps"]
    for i, s in enumerate(steps):
        if i > 0:
            msgs.append({"role": "user", "content": str(s.get("observation", ""))})
        msgs.append({"role": "assistant", "content": str(s.get("action", ""))})
    return msgs


def demo_pairs(demos, agent_runs, *, require_demo_success: bool = True, max_history: int | None = None, prompt_style: str = "agent",
               instructions: str | None = None) -> PairSet:
    """Human (or oracle) demo actions chosen over agent actions taken at the same state.

    A state is matched on (env id, task id, observation text). Every different action
    an agent took there becomes a pair with the demo's action chosen; the prompt is the
    demo's prefix. Steps of failed demos are skipped unless ``require_demo_success`` is
    False.
    """
    out = PairSet("demo", unit="demo steps")
    index: dict[tuple, Counter] = defaultdict(Counter)
    for ep in read_episodes(agent_runs, instructions):
        for s in ep.get("steps", []):
            if step_is_invalid(s):
                continue
            index[(ep.get("env_id"), ep.get("task_id"), str(s.get("observation")))][str(s.get("action")).strip()] += 1
    for ep in read_episodes(demos, instructions):
        for t, s in enumerate(ep.get("steps", [])):
            out.seen += 1
            if require_demo_success and not ep.get("success"):
                out.dropped["steps of failed demos"] += 1
                continue
            if step_is_invalid(s):
                out.dropped["invalid demo actions"] += 1
                continue
            agent_actions = index.get((ep.get("env_id"), ep.get("task_id"), str(s.get("observation"))))
            if not agent_actions:
                out.dropped["demo steps with no agent step at the same state"] += 1
                continue
            mine = str(s.get("action")).strip()
            others = [a for a in agent_actions if a != mine]
            if not others:
                out.dropped["demo steps where the agents chose the same action"] += 1
                continue
            prompt = step_messages(ep, t, max_history, prompt_style)
            for other in others:
                out.rows.append(_row("demo", ep, t, prompt, assistant(mine), assistant(other),
                                     cv=None, rv=agent_actions[other]))
    return out


# ---- supervised examples -----------------------------------------------------------------


@dataclass
class ExampleSet:
    """Prompt/completion examples for SFT and the account of what was left out."""

    rows: list[dict] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    episodes: int = 0

    @property
    def made(self) -> int:
        return len(self.rows)

    @property
    def dataset(self):
        from datasets import Dataset, Features, List, Value

        msgs = List({k: Value(v) for k, v in _MESSAGE.items()})
        feats = Features({"prompt": msgs, "completion": msgs, "source": Value("string"), "env_id": Value("string"),
                          "task_id": Value("string"), "episode_id": Value("string"), "step": Value("int64")})
        return Dataset.from_list(self.rows, features=feats)

    def summary(self) -> str:
        reasons = "; ".join(f"{n} {why}" for why, n in self.dropped.most_common()) or "none"
        return f"sft: {self.made} examples from {self.episodes} episodes; dropped: {reasons}"


def _targets(step: dict, target: str, samples: int) -> list[str]:
    """The completions one recorded step teaches: its action, the search's best child,
    or ``samples`` children in proportion to their visits (largest remainders)."""
    if target == "action":
        return [str(step.get("action"))]
    children = [c for c in (step.get("search") or []) if not c.get("invalid")]
    if not children:
        return []
    wins = [c for c in children if c.get("proven") is not None and float(c["proven"]) >= 1.0]
    if wins:  # the solver proved these win: all the mass goes to them
        children = wins
    visits = [max(0, int(c.get("visits") or 0)) for c in children]
    if target == "best" or sum(visits) == 0:
        return [str(max(children, key=lambda c: (int(c.get("visits") or 0), c.get("q") or -math.inf))["action"])]
    total = sum(visits)
    quotas = [samples * v / total for v in visits]
    counts = [int(q) for q in quotas]
    for i in sorted(range(len(children)), key=lambda i: -(quotas[i] - counts[i]))[: samples - sum(counts)]:
        counts[i] += 1
    return [str(c["action"]) for c, k in zip(children, counts) for _ in range(k)]


def sft_examples(source, *, only_success: bool = True, agents: list[str] | None = None, max_history: int | None = None, prompt_style: str = "agent",
                 instructions: str | None = None, target: str = "action", visit_samples: int = 4) -> ExampleSet:
    """Prompt/completion examples of the episodes worth imitating: successful ones
    (``only_success``), and only from ``agents`` (e.g. ``["oracle", "human"]``) when given.

    ``target`` is what each step teaches: ``"action"`` (the action taken), ``"best"``
    (the search's best child: a solver-proven win, else the most visited) or
    ``"visits"`` (the search's visit distribution, as ``visit_samples`` rows per state
    whose completions follow the children's visit counts; AlphaZero's policy target in
    a form SFT takes). Search targets need steps recorded with their ``search``; steps
    without one are dropped and counted."""
    if target not in ("action", "best", "visits"):
        raise ValueError(f"target={target!r}: use 'action', 'best' (the search's best child) or 'visits' "
                         "(its visit distribution).")
    out = ExampleSet()
    for ep in read_episodes(source, instructions):
        out.episodes += 1
        agent = str(ep.get("agent") or "")
        if agents and not any(agent == a or agent.startswith(a + "(") or agent.startswith(a + ":") for a in agents):
            out.dropped[f"episodes by other agents than {', '.join(agents)}"] += 1
            continue
        if only_success and not ep.get("success"):
            out.dropped["failed episodes"] += 1
            continue
        for t, s in enumerate(ep.get("steps", [])):
            if step_is_invalid(s):
                out.dropped["invalid steps"] += 1
                continue
            completions = _targets(s, target, int(visit_samples))
            if not completions:
                out.dropped["steps without a search tree"] += 1
                continue
            prompt = step_messages(ep, t, max_history, prompt_style)
            for text in completions:
                out.rows.append({"prompt": prompt, "completion": assistant(text),
                                 "source": agent or "unknown", "env_id": ep.get("env_id"), "task_id": ep.get("task_id"),
                                 "episode_id": None if ep.get("episode_id") is None else str(ep["episode_id"]),
                                 "step": t})
    return out


__all__ = ["PairSet", "ExampleSet", "step_pairs", "episode_pairs", "demo_pairs", "sft_examples", "pair_features",
           "system_text"]
