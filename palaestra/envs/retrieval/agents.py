"""Chunk-selection agents, by name through ``palaestra.agents.make``. They see the env
only through its agent-side view (``env.unwrapped.planning_env()``, see ``planning``):
the query, candidate texts, scores and costs, and the agent-side utility; never the
gold labels or the scorer's utility.

- ``topk`` (NaiveRAG): candidates in retrieval order while they fit, up to ``k``;
- ``greedy``: append the candidate with the best marginal agent-side value
  (``view.agent_values``: the same objective CARROT searches), stop when none improves
  it by more than ``min_gain``;
- ``carrot``: CORAG/CARROT's search as published: one Monte Carlo tree search over
  ordered chunk combinations per episode (the decision is the configuration), selection
  by cost-aware UCB (``Q + c sqrt(ln N / n) - cost_weight * cost(a) / budget``), every
  node valued by the agent-side utility of stopping there, and the best node found at
  any depth returned; the agent then plays that sequence and stops. ``value_model=``
  replaces the agent-side utility by a learned value model (``value_model.py``, trained
  on the train split), ``per_type=`` gives per-query-type settings (CARROT's
  configuration by query type).

They work on the native and the text view (``text_view`` decides what ``act`` returns).
"""

from __future__ import annotations

import math
import random

from palaestra.agents.base import text_view


def _refuse(agent: str, unknown: dict, known: str) -> None:
    if unknown:
        raise ValueError(f"agent {agent!r} has no option(s) {', '.join(sorted(unknown))}; its options: {known}")


def _view(env):
    base = env.unwrapped
    if not callable(getattr(base, "planning_env", None)) or not hasattr(base, "agent_values"):
        raise TypeError(f"{type(base).__name__} is not a chunk-selection env; these agents play "
                        "palaestra/ChunkSelection-v0.")
    return base.planning_env()


class _Agent:
    name = "agent"
    env = None

    def reset(self, env) -> None:
        self.env, self.view, self.text = env, _view(env), text_view(env)

    def _out(self, action):
        return self.view.format_action(action) if self.text else action


class TopKAgent(_Agent):
    """Top-k by first-stage retrieval score until the budget is full (NaiveRAG)."""

    name = "topk"

    def __init__(self, k: int | None = None, **unknown):
        _refuse("topk", unknown, "k")
        self.k = None if k in (None, "none", 0) else int(k)

    def act(self, observation, info):
        view = self.view
        action = view.top_n
        if self.k is None or len(view.chosen) < self.k:
            cands = view.candidates()
            ranked = sorted((a for a in view.legal_actions() if a != view.top_n), key=lambda a: cands[a].rank)
            if ranked:
                action = ranked[0]
        return self._out(action)


class GreedyAgent(_Agent):
    """Greedy by marginal agent-side value: the best one-chunk extension, or stop."""

    name = "greedy"

    def __init__(self, min_gain: float = 1e-9, value_model=None, **unknown):
        _refuse("greedy", unknown, "min_gain, value_model")
        self.min_gain = float(min_gain)
        self.value_model = _load_value_model(value_model)

    def _values(self, seqs):
        return _values(self.view, self.value_model, seqs)

    def act(self, observation, info):
        view = self.view
        chosen = tuple(view.chosen)
        adds = [a for a in view.legal_actions() if a != view.top_n]
        vals = self._values([chosen] + [chosen + (a,) for a in adds])
        action, best = view.top_n, vals[0] + self.min_gain
        for a, v in zip(adds, vals[1:]):
            if v > best:
                action, best = a, v
        return self._out(action)


def _values(view, value_model, seqs) -> list[float]:
    if value_model is None:
        return view.agent_values(seqs)
    return value_model.values(view, seqs)


def _load_value_model(spec):
    if spec is None or spec == "none":
        return None
    if isinstance(spec, str):
        from .value_model import ValueModel

        return ValueModel.load(spec)
    if not callable(getattr(spec, "values", None)):
        raise ValueError("value_model must be a path to a saved model or an object with values(view, seqs)")
    return spec


class _Node:
    __slots__ = ("children", "cost", "n", "seq", "untried", "value", "w")

    def __init__(self, seq: tuple, cost: int, value: float):
        self.seq, self.cost, self.value = seq, cost, value
        self.n, self.w = 1, value
        self.children: dict[int, _Node] = {}
        self.untried: list[int] | None = None


class CarrotAgent(_Agent):
    """CORAG/CARROT: one MCTS per episode over ordered chunk combinations, cost-aware UCB,
    the best node at any depth (see the module docstring).

    ``simulations``: node evaluations per search (each expansion values all children of a
    leaf in one utility call); ``c``: the UCB exploration constant; ``cost_weight``: the
    cost term's weight (CARROT's lambda); ``value_model``: a learned value model (path or
    object), else the env's agent-side utility; ``per_type``: settings per query type,
    e.g. ``{"multihop": {"simulations": 400}}``.
    """

    name = "carrot"

    def __init__(self, simulations: int = 150, c: float = 0.3, cost_weight: float = 0.05, value_model=None,
                 per_type: dict | None = None, rollout: str = "random", seed: int | None = 0, **unknown):
        from .world import QTYPES

        _refuse("carrot", unknown, "simulations, c, cost_weight, value_model, per_type, rollout, seed")
        if rollout not in ("random", "none"):
            raise ValueError(f"rollout={rollout!r}: use 'random' (expand one child, then a random rollout whose "
                             "prefixes are all valued) or 'none' (expand every child of a leaf at once)")
        self.rollout = rollout

        self.settings = {"simulations": int(simulations), "c": float(c), "cost_weight": float(cost_weight)}
        if self.settings["simulations"] < 1:
            raise ValueError(f"simulations must be at least 1, got {simulations}")
        per_type = dict(per_type or {})
        bad = [t for t in per_type if t not in QTYPES + ("user",)]
        if bad:
            raise ValueError(f"per_type names unknown query types {bad}; use some of {', '.join(QTYPES)}, user")
        for t, opts in per_type.items():
            unknown = set(opts) - set(self.settings)
            if unknown:
                raise ValueError(f"per_type[{t!r}] has unknown settings {sorted(unknown)}; use {sorted(self.settings)}")
        self.per_type = per_type
        self.value_model = _load_value_model(value_model)
        self.rng = random.Random(seed)
        self.plan: list[int] = []
        self.last_search: list | None = None
        self.search_result: dict | None = None
        self.stats = {"searches": 0, "evaluations": 0}

    def reset(self, env) -> None:
        super().reset(env)
        self.plan, self._expect = [], None

    # ---- acting: one search per episode, then play its best node ----------------------
    def act(self, observation, info):
        view = self.view
        chosen = tuple(view.chosen)
        if self._expect != chosen:  # first move, or the state moved under us: search (again)
            best = self.search()
            self.plan = list(best[len(chosen):])
        action = view.top_n
        legal = set(view.legal_actions())
        if self.plan and self.plan[0] in legal:
            action = self.plan.pop(0)
        else:
            self.plan = []
        self._expect = chosen + ((action,) if action != view.top_n else ())
        return self._out(action)

    def search(self) -> tuple[int, ...]:
        """One MCTS from the current state; returns the best sequence found at any depth."""
        view = self.view
        cfg = dict(self.settings)
        cfg.update(self.per_type.get(view.qtype, {}))
        cands = view.candidates()
        budget = float(view.budget)
        start = view.get_state()
        root = _Node(tuple(view.chosen), sum(cands[i].cost for i in view.chosen),
                     _values(view, self.value_model, [tuple(view.chosen)])[0])
        best, evals = root, 1
        self.evaluated = {root.seq: root.value}  # every sequence valued in this search
        try:
            while evals < cfg["simulations"]:
                node, path = root, [root]
                while True:  # selection down to a node with untried actions
                    if node.untried is None:
                        node.untried = self._legal(start, node.seq)
                    if node.untried or not node.children:
                        break
                    node = self._ucb(node, cfg, cands, budget)
                    path.append(node)
                if not node.untried:  # a leaf that nothing fits after: back it up again
                    self._backup(path, node.value)
                    evals += 1
                    continue
                if self.rollout == "none":  # expand every child of the leaf in one utility call
                    kids = node.untried[: max(1, cfg["simulations"] - evals)]
                else:  # expand one child, then a random rollout from it
                    kids = node.untried[:1]
                node.untried = node.untried[len(kids):]
                seqs = [node.seq + (a,) for a in kids]
                roll = self._rollout(seqs[0], node.cost + cands[kids[0]].cost, cands, budget) \
                    if self.rollout == "random" else []
                roll = roll[: max(0, cfg["simulations"] - evals - len(seqs))]  # the budget is exact
                vals = _values(view, self.value_model, seqs + roll)
                evals += len(seqs) + len(roll)
                self.evaluated.update(zip(seqs + roll, vals))
                for s_, v in zip(roll, vals[len(seqs):]):
                    cost = sum(cands[i].cost for i in s_)
                    if (v, -cost) > (best.value, -best.cost):
                        best = _Node(s_, cost, float(v))
                tail = max(vals[len(seqs):], default=float("-inf"))
                for a, s_, v in zip(kids, seqs, vals):
                    child = _Node(s_, node.cost + cands[a].cost, float(v))
                    node.children[a] = child
                    # the backed-up value: the best place to stop on this path (any depth)
                    child.w = max(child.value, tail)
                    self._backup(path, child.w)
                    if (child.value, -child.cost) > (best.value, -best.cost):
                        best = child
        finally:
            view.set_state(start)
        self.stats["searches"] += 1
        self.stats["evaluations"] += evals
        self.search_result = {"best": list(best.seq), "value": best.value, "evaluations": evals,
                              "root_visits": root.n}
        # the runner hands this to recorders: the root's children, as every search agent does
        self.last_search = [{"action": a, "text": view.format_action(a), "visits": ch.n, "q": ch.w / ch.n,
                             "prior": 1.0, "critique": None} for a, ch in root.children.items()]
        return best.seq

    def _rollout(self, seq: tuple, cost: int, cands, budget: float) -> list[tuple]:
        """Random additions after ``seq`` until nothing fits: every prefix, to be valued."""
        left = budget - cost
        rest = [i for i in range(len(cands)) if i not in seq]
        self.rng.shuffle(rest)
        out = []
        for i in rest:
            if cands[i].cost <= left:
                seq = seq + (i,)
                left -= cands[i].cost
                out.append(seq)
        return out

    def _legal(self, start: dict, seq: tuple) -> list[int]:
        """Legal additions after ``seq``, asked of the view through a snapshot."""
        state = dict(start)
        state.update(chosen=seq, done=False)
        self.view.set_state(state)
        top = self.view.top_n
        acts = [a for a in self.view.legal_actions() if a != top]
        self.rng.shuffle(acts)
        return acts

    def _ucb(self, node: _Node, cfg: dict, cands, budget: float) -> _Node:
        log_n = math.log(max(1, node.n))

        def score(item):
            a, ch = item
            return (ch.w / ch.n + cfg["c"] * math.sqrt(log_n / ch.n)
                    - cfg["cost_weight"] * cands[a].cost / max(1.0, budget))

        return max(node.children.items(), key=score)[1]

    @staticmethod
    def _backup(path, value: float):
        for n in path:
            n.n += 1
            n.w += value


def carrot_agent(**options) -> CarrotAgent:
    """``palaestra.agents.make("carrot", ...)``: see :class:`CarrotAgent`."""
    return CarrotAgent(**options)
