"""Baselines for chunk selection, by name through ``palaestra.agents.make``:

- ``topk`` (NaiveRAG): candidates in retrieval order while they fit, up to ``k`` of them;
- ``greedy``: append the candidate with the best marginal reward (``env.reward_of``),
  stop when no candidate improves it by more than ``min_gain``;
- ``carrot``: the generic MCTS agent set up as CARROT: cost-penalised UCB
  (``selection="ucb-cost"``), each node valued by the reward of stopping there.

They work on the native and the text view (``text_view`` decides what ``act`` returns).
"""

from __future__ import annotations

from palaestra.agents.base import text_view


def _base(env):
    base = env.unwrapped
    if not hasattr(base, "problem") or not hasattr(base, "reward_of"):
        raise TypeError(f"{type(base).__name__} is not a chunk-selection env; these agents play "
                        "palaestra/ChunkSelection-v0.")
    return base


class TopKAgent:
    """Top-k by first-stage retrieval score until the budget is full (NaiveRAG)."""

    name = "topk"

    def __init__(self, k: int | None = None, **_ignored):
        self.k = None if k in (None, "none", 0) else int(k)
        self.env = None

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, _base(env), text_view(env)

    def act(self, observation, info):
        base = self.base
        legal = set(base.legal_actions())
        action = base.top_n
        if self.k is None or len(base.chosen) < self.k:
            ranked = sorted((a for a in legal if a != base.top_n), key=lambda a: base.problem.candidates[a].rank)
            if ranked:
                action = ranked[0]
        return base.format_action(action) if self.text else action


class GreedyAgent:
    """Greedy by marginal utility: the best one-chunk extension, or stop."""

    name = "greedy"

    def __init__(self, min_gain: float = 1e-9, **_ignored):
        self.min_gain = float(min_gain)
        self.env = None

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, _base(env), text_view(env)

    def act(self, observation, info):
        base = self.base
        now = base.reward_of(base.chosen)
        adds = [a for a in base.legal_actions() if a != base.top_n]
        action, best = base.top_n, now + self.min_gain
        values = base.utility.values(base.problem, [base.chosen + (a,) for a in adds]) if adds else []
        for a, u in zip(adds, values):
            seq = base.chosen + (a,)
            v = u - base.cost_penalty * base.problem.cost(seq) / max(1, base.problem.budget)
            if v > best:
                action, best = a, v
        return base.format_action(action) if self.text else action


def stop_value(env) -> float:
    """Value of a search node: the reward of stopping there (CARROT returns the best node
    at any depth)."""
    return env.unwrapped.stop_value()


def stop_values(leaves: list[dict]) -> list[float]:
    """Batch form of :func:`stop_value` for MCTS's ``evaluator``: one utility call for all
    leaves (the reranker embeds them in one batch)."""
    if not leaves:
        return []
    env = leaves[0]["env"].unwrapped
    seqs = []
    for leaf in leaves:
        env.set_state(leaf["state"])
        seqs.append(env.chosen)
    return env.rewards_of(seqs)


def carrot_agent(simulations: int = 200, c: float = 0.5, cost_weight: float = 0.1, batch_size: int = 1,
                 seed: int | None = 0, per_type: dict | None = None, **options):
    """MCTS as CARROT sets it up: cost-penalised UCB1 (``c``, ``cost_weight``), each node
    valued by the reward of stopping there; ``batch_size`` leaves are valued per utility
    call (use 8 or so with the reranker or reader utilities).

    ``per_type`` maps a query type (factoid, multihop, comparison, list, user) to its own
    settings, as CARROT tunes (C, iterations, lambda) per query type, e.g.
    ``{"multihop": {"simulations": 400, "c": 1.0}, "factoid": {"simulations": 50}}``.
    """
    base = dict(simulations=int(simulations), c=float(c), cost_weight=float(cost_weight), batch_size=int(batch_size),
                seed=seed, **options)
    if not per_type:
        return _carrot_mcts(**base)
    return CarrotAgent(base, per_type)


def _carrot_mcts(simulations, c, cost_weight, batch_size, seed, **options):
    from palaestra.agents import make

    opts = dict(simulations=int(simulations), selection="ucb-cost", c_puct=float(c), cost_weight=float(cost_weight),
                rollout=None, evaluator=stop_values, batch_size=int(batch_size), seed=seed)
    opts.update(options)
    return make("mcts", **opts)


class CarrotAgent:
    """CARROT with per-query-type settings: one MCTS agent per type, picked at ``reset``."""

    name = "carrot"

    def __init__(self, base: dict, per_type: dict):
        from .world import QTYPES

        bad = [t for t in per_type if t not in QTYPES + ("user",)]
        if bad:
            raise ValueError(f"per_type names unknown query types {bad}; use some of {', '.join(QTYPES)}, user")
        self.base, self.per_type = dict(base), {k: dict(v) for k, v in per_type.items()}
        self._agents: dict[str, object] = {}
        self.current = None

    def _agent_for(self, qtype: str):
        if qtype not in self._agents:
            opts = dict(self.base)
            opts.update(self.per_type.get(qtype, {}))
            self._agents[qtype] = _carrot_mcts(**opts)
        return self._agents[qtype]

    def reset(self, env) -> None:
        self.current = self._agent_for(_base(env).problem.question.qtype)
        self.current.reset(env)

    def act(self, observation, info):
        return self.current.act(observation, info)

    @property
    def last_search(self):
        return None if self.current is None else self.current.last_search

    @last_search.setter
    def last_search(self, value):
        if self.current is not None:
            self.current.last_search = value

    @property
    def stats(self) -> dict:
        return {} if self.current is None else self.current.stats
