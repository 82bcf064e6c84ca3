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


def carrot_agent(simulations: int = 200, c: float = 0.5, cost_weight: float = 0.1, seed: int | None = 0, **options):
    """MCTS as CARROT sets it up: cost-penalised UCB1, node value = reward of stopping there."""
    from palaestra.agents import make

    opts = dict(simulations=int(simulations), selection="ucb-cost", c_puct=float(c), cost_weight=float(cost_weight),
                rollout=None, value_fn=stop_value, seed=seed)
    opts.update(options)
    return make("mcts", **opts)
