"""The oracle: branch-and-bound for the best chunk sequence within the budget.

Maximises the env's terminal reward ``utility(seq) - cost_penalty * cost(seq) / budget``
over every completion of a fixed prefix. Order-invariant utilities (answer, gold) are
searched over sets (include/exclude, candidates in index order); order-dependent ones
(reranker, reader) over sequences. Among equally good sequences (within ``tol``) the
cheapest in tokens wins, so the oracle's "tokens used" is a minimum. A node is pruned
when ``utility.upper_bound`` minus the cost already spent cannot beat the incumbent, and
cannot tie it more cheaply. ``max_evals`` caps the work: the
result says whether the optimum was proven.
"""

from __future__ import annotations

from dataclasses import dataclass

from .problem import Problem
from .utility import Utility


@dataclass
class OracleResult:
    sequence: tuple[int, ...]
    value: float
    proven: bool
    evaluations: int


def best_sequence(problem: Problem, utility: Utility, prefix=(), cost_penalty: float = 0.0,
                  max_evals: int = 200_000, tol: float = 1e-9) -> OracleResult:
    prefix = tuple(prefix)
    budget = problem.budget
    costs = [c.cost for c in problem.candidates]
    spent0 = sum(costs[i] for i in prefix)
    if spent0 > budget:
        raise ValueError(f"the prefix {prefix} costs {spent0} tokens, over the budget of {budget}")
    evals = 0
    truncated = False

    def reward(seq, spent) -> float:
        nonlocal evals
        evals += 1
        return utility.value(problem, seq) - cost_penalty * spent / max(1, budget)

    best_seq, best_val, best_cost = prefix, reward(prefix, spent0), spent0
    rest = [i for i in range(problem.n) if i not in set(prefix)]

    def better(v: float, cost: int) -> bool:
        return v > best_val + tol or (v >= best_val - tol and cost < best_cost)

    def hopeless(bound: float, spent: int) -> bool:
        # extensions only add cost: nothing below can beat the incumbent or tie it cheaper
        return bound < best_val - tol or (bound <= best_val + tol and spent >= best_cost)

    if utility.order_invariant:
        def dfs(pos: int, seq: tuple, spent: int):
            nonlocal best_seq, best_val, best_cost, truncated
            if evals >= max_evals:
                truncated = True
                return
            left = budget - spent
            remaining = [j for j in rest[pos:] if costs[j] <= left]
            if not remaining:
                return
            if hopeless(utility.upper_bound(problem, seq, remaining) - cost_penalty * spent / max(1, budget), spent):
                return
            for k, j in enumerate(rest[pos:], pos):
                if costs[j] > left:
                    continue
                s2, sp2 = seq + (j,), spent + costs[j]
                v = reward(s2, sp2)
                if better(v, sp2):
                    best_seq, best_val, best_cost = s2, v, sp2
                dfs(k + 1, s2, sp2)
                if truncated:
                    return
        dfs(0, prefix, spent0)
    else:
        def dfs_seq(seq: tuple, spent: int):
            nonlocal best_seq, best_val, best_cost, truncated, evals
            if evals >= max_evals:
                truncated = True
                return
            left = budget - spent
            remaining = [j for j in rest if j not in seq and costs[j] <= left]
            if not remaining:
                return
            if hopeless(utility.upper_bound(problem, seq, remaining) - cost_penalty * spent / max(1, budget), spent):
                return
            kids = [seq + (j,) for j in remaining]
            vals = utility.values(problem, kids)  # one batch per node
            evals += len(kids)
            for s2, u in zip(kids, vals):
                sp2 = spent + costs[s2[-1]]
                v = u - cost_penalty * sp2 / max(1, budget)
                if better(v, sp2):
                    best_seq, best_val, best_cost = s2, v, sp2
            for s2 in kids:
                dfs_seq(s2, spent + costs[s2[-1]])
                if truncated:
                    return

        dfs_seq(prefix, spent0)
    return OracleResult(best_seq, float(best_val), not truncated, evals)


def oracle_actions(problem: Problem, utility: Utility, chosen=(), cost_penalty: float = 0.0,
                   max_evals: int = 200_000, stop: int | None = None) -> list[int]:
    """Native actions from the state with ``chosen`` already picked: add the rest of the
    best sequence, then stop (the stop action is ``stop``, by default ``problem.n``)."""
    res = best_sequence(problem, utility, chosen, cost_penalty, max_evals)
    return list(res.sequence[len(tuple(chosen)):]) + [problem.n if stop is None else stop]
