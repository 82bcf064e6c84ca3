"""Chunk selection (CORAG/CARROT) on held-out tasks, scored by the hidden utility.

Agents see only the agent-side view (query, chunk texts, retrieval scores, token costs,
MiniLM embeddings); the score is the env's hidden answer utility (per-hop credit). For
each budget (64/128/256 tokens) on the same test-split tasks (generated world, seeds 4
mod 5, entities disjoint from the train split):

- top-k (NaiveRAG): retrieval order while chunks fit;
- greedy and CARROT-MCTS on the *same* agent-side objective, twice: the MiniLM reranker
  proxy (``pooled``: query vs. ordered set, CARROT's utility) and a learned value model
  trained here on train-split tasks only (CORAG's learned component);
- the oracle ceiling (branch-and-bound on the hidden utility, the cheapest of the best).

Mean reward, paired differences with percentile-bootstrap 95% intervals
(``palaestra.core.stats``), tokens used, and each agent's agent-side objective value
(to tell a weak search from a weak objective), all from one run.

Run: ``python benchmarks/retrieval.py`` (``--tasks 200 --train-tasks 400 --simulations 150``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import gymnasium as gym  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import palaestra  # noqa: E402,F401
from palaestra.agents import make  # noqa: E402
from palaestra.core.stats import bootstrap_mean_ci  # noqa: E402
from palaestra.envs.retrieval.oracle import best_sequence  # noqa: E402
from palaestra.envs.retrieval.value_model import ValueModel  # noqa: E402
from palaestra.runner import run_episode  # noqa: E402


def _ci(xs) -> str:
    m = statistics.fmean(xs)
    lo, hi = bootstrap_mean_ci(xs)
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def _diff(a, b) -> str:
    d = [x - y for x, y in zip(a, b)]
    m = statistics.fmean(d)
    lo, hi = bootstrap_mean_ci(d)
    mark = " *" if lo > 0 or hi < 0 else ""
    return f"{m:+.3f} [{lo:+.3f}, {hi:+.3f}]{mark}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", type=int, default=200, help="held-out (test-split) tasks")
    ap.add_argument("--train-tasks", type=int, default=400, help="train-split tasks for the value model")
    ap.add_argument("--budgets", default="64,128,256")
    ap.add_argument("--top-n", type=int, default=10)
    ap.add_argument("--simulations", type=int, default=150, help="MCTS node evaluations per search")
    ap.add_argument("--retriever", default="bm25")
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    console = Console(width=None if Console().is_terminal else 170)
    budgets = [int(b) for b in args.budgets.split(",")]
    train_seeds = [s for s in range(10 * args.train_tasks) if s % 5 != 4][: args.train_tasks]
    test_seeds = [5 * k + 4 for k in range(args.tasks)]

    from palaestra.envs.retrieval.world import world

    train_queries = {world(0).question(s).query for s in train_seeds}
    overlap = sum(1 for s in test_seeds if world(0).question(s).query in train_queries)
    console.print(f"{len(test_seeds)} held-out tasks (test split), {len(train_seeds)} train-split tasks for the value "
                  f"model; test queries also among the train queries: {overlap}.")
    for budget in budgets:
        _run_budget(args, console, budget, train_seeds, test_seeds)
    console.print("* the paired 95% interval excludes zero. Tokens: mean tokens used (the oracle's is the cheapest "
                  "of the best). 'reranker proxy' / 'learned value': each agent's final sequence under the two "
                  "agent-side objectives (a search that wins there but not on the hidden reward has a weak "
                  "objective, not a weak search).")


def _run_budget(args, console, budget: int, train_seeds, test_seeds) -> None:
    t0 = time.process_time()
    train_env = gym.make("palaestra/ChunkSelection-v0", budget=budget, top_n=args.top_n, retriever=args.retriever)
    model = ValueModel.train(train_env, train_seeds)
    train_env.close()
    train_s = time.process_time() - t0
    sims = args.simulations
    agents = {
        "top-k (NaiveRAG)": lambda: make("topk"),
        "greedy, reranker proxy": lambda: make("greedy"),
        f"CARROT MCTS, reranker proxy ({args.simulations})": lambda: make("carrot", simulations=args.simulations),
        "greedy, learned value": lambda: make("greedy", value_model=model),
        f"CARROT MCTS, learned value ({args.simulations})": lambda: make("carrot", simulations=args.simulations,
                                                                          value_model=model),
        f"CARROT MCTS, learned value ({4 * sims})": lambda: make("carrot", simulations=4 * sims, value_model=model),
    }
    names = list(agents)
    env = gym.make("palaestra/ChunkSelection-v0", budget=budget, top_n=args.top_n, retriever=args.retriever)
    base = env.unwrapped
    view = base.planning_env()
    made = {k: f() for k, f in agents.items()}
    rets = {k: [] for k in names + ["oracle"]}
    toks = {k: [] for k in names + ["oracle"]}
    proxy = {k: [] for k in names}
    learned = {k: [] for k in names}
    cpu = {k: 0.0 for k in names}
    proven = 0
    for seed in test_seeds:
        for k in names:
            t = time.process_time()
            res = run_episode(env, made[k], seed=seed)
            cpu[k] += time.process_time() - t
            assert base.task.split == "test"
            rets[k].append(res.ret)
            toks[k].append(res.info["tokens_used"])
            proxy[k].append(view.agent_values([base.chosen])[0])
            learned[k].append(model.values(view, [base.chosen])[0])
        best = best_sequence(base.problem, base.utility)
        proven += best.proven
        rets["oracle"].append(best.value)
        toks["oracle"].append(base.problem.cost(best.sequence))
    env.close()
    table = Table(title=f"budget {budget} tokens: {len(test_seeds)} held-out tasks, top-{args.top_n} "
                        f"{args.retriever}, hidden answer utility (per-hop credit); mean [95% bootstrap CI]; "
                        f"value model trained at this budget on {len(train_seeds)} train-split tasks "
                        f"({model.meta['rows']} sets, {train_s:.0f} s CPU)")
    for col in ("agent", "hidden reward", "vs top-k (paired)", "vs greedy, same objective (paired)", "tokens",
                "reranker proxy", "learned value", "CPU s/task"):
        table.add_column(col, justify="left" if col == "agent" else "right")
    pairs = {names[2]: names[1], names[4]: names[3], names[5]: names[3]}
    for k in names:
        table.add_row(k, _ci(rets[k]), "—" if k == names[0] else _diff(rets[k], rets[names[0]]),
                      _diff(rets[k], rets[pairs[k]]) if k in pairs else "",
                      f"{statistics.fmean(toks[k]):.1f}", f"{statistics.fmean(proxy[k]):.3f}",
                      f"{statistics.fmean(learned[k]):.3f}", f"{cpu[k] / len(test_seeds):.3f}")
    table.add_row(f"oracle ceiling ({proven}/{len(test_seeds)} proven)", _ci(rets["oracle"]),
                  _diff(rets["oracle"], rets[names[0]]), "", f"{statistics.fmean(toks['oracle']):.1f}", "", "",
                  "")
    console.print(table)


if __name__ == "__main__":
    main()
