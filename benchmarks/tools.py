"""Oracle episodes per second on the tool-use envs, with the number of tasks, side by side
with BFCL's own evaluator judging the same ground-truth answers.

- ToolUse-v0: the oracle plays every generated task (reset, calls on the episode's
  SQLite copy, final answer, tau-bench grading with the end-state hash).
- BFCL-v0 single-turn: the ground truth through the env (reset, parse, AST check),
  against ``bfcl_eval``'s ``ast_checker`` alone on the same answers (no env around it).
- BFCL-v0 multi-turn: the ground truth through the env (API instances, per-turn state
  and response checks), against ``bfcl_eval``'s ``multi_turn_checker`` on the same calls.

- ToolUse-v0 adversaries (``--adversarial``): constant answers, shotgun answers listing
  every candidate, the oracle's calls then a shotgun answer, a repeated call, random
  actions (``palaestra.envs.tools.adversaries``), each over every task, success per tier.

Run: ``python benchmarks/tools.py`` (``--quick`` for a smaller sample, ``--adversarial``
for the adversaries' table only).
"""

from __future__ import annotations

import argparse
import copy
import random
import time

from rich.console import Console
from rich.progress import Progress
from rich.table import Table


def _oracle_episodes(env, ids, progress, label) -> tuple[float, int, int]:
    task = progress.add_task(label, total=len(ids))
    wins = 0
    start = time.perf_counter()
    for tid in ids:
        env.reset(options={"task": tid})
        info = {}
        for action in env.task.solve(env):
            _, _, term, trunc, info = env.step(action)
            if term or trunc:
                break
        wins += bool(info.get("success"))
        progress.advance(task)
    return len(ids) / (time.perf_counter() - start), wins, len(ids)


def _bfcl_checker():
    from palaestra.envs.tools.bfcl import reference

    check = reference.ast_checker()  # BFCL's own ast_checker, imported without its SDK dependencies
    return lambda e, model: check(e["function"], model, e["ground_truth"], e["category"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller sample of each suite")
    parser.add_argument("--adversarial", action="store_true", help="only the ToolUse-v0 adversaries, every task")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    if args.adversarial:
        _adversaries(console)
        return
    rng = random.Random(0)
    rows = []

    from palaestra.envs.tools.env import ToolUseEnv

    with Progress(console=console, transient=True) as progress:
        env = ToolUseEnv()
        ids = env.task_ids if not args.quick else rng.sample(env.task_ids, 150)
        rate, wins, n = _oracle_episodes(env, ids, progress, "ToolUse-v0 oracle")
        rows.append(("ToolUse-v0 oracle", n, wins, rate, None, None))

        try:
            from palaestra.envs.tools.bfcl.env import BFCLEnv
            from palaestra.envs.tools.bfcl.multi_turn import APIWorld, parse_ground_truth  # noqa: F401
        except ImportError:
            console.print("[yellow]bfcl-eval is not installed (pip install --no-deps bfcl-eval): BFCL rows skipped.")
        else:
            single = BFCLEnv(category="single_turn")
            ids = [t for t in single.task_ids if single.entries[t].get("ground_truth")]
            ids = ids if not args.quick else rng.sample(ids, 600)
            rate, wins, n = _oracle_episodes(single, ids, progress, "BFCL single-turn ground truth")
            check = _bfcl_checker()
            answers = []
            for tid in ids:
                single.reset(options={"task": tid})
                action = single.task.solve(single)[0]
                calls = action if isinstance(action, list) else [action]
                answers.append((single.entries[tid], [{c["name"]: c["arguments"]} for c in calls]))
            start = time.perf_counter()
            peer_wins = sum(bool(check(e, copy.deepcopy(m))["valid"]) for e, m in answers)
            peer = len(answers) / (time.perf_counter() - start)
            rows.append(("BFCL-v0 single-turn GT", n, wins, rate, peer, peer_wins))

            multi = BFCLEnv(category="multi_turn")
            ids = multi.task_ids if not args.quick else rng.sample(multi.task_ids, 120)
            rate, wins, n = _oracle_episodes(multi, ids, progress, "BFCL multi-turn ground truth")
            from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker

            start = time.perf_counter()
            peer_wins = 0
            for k, tid in enumerate(ids):
                e = multi.entries[tid]
                decoded = [[list(turn)] if turn else [[]] for turn in e["ground_truth"]]
                verdict = multi_turn_checker(decoded, e["ground_truth"], e, e["category"], f"bench{k}")
                peer_wins += bool(verdict["valid"])
            peer = len(ids) / (time.perf_counter() - start)
            rows.append(("BFCL-v0 multi-turn GT", n, wins, rate, peer, peer_wins))

    table = Table(title="Oracle episodes per second (one process, 1 thread)")
    for col in ("suite", "tasks", "success", "palaestra ep/s", "BFCL eval ep/s", "BFCL success",
                "ratio"):
        table.add_column(col, justify="right" if col != "suite" else "left")
    for name, n, wins, rate, peer, peer_wins in rows:
        table.add_row(name, str(n), f"{wins}/{n}", f"{rate:,.0f}", "—" if peer is None else f"{peer:,.0f}",
                      "—" if peer_wins is None else f"{peer_wins}/{n}",
                      "—" if peer is None else f"{rate / peer:.2f}x")
    console.print(table)
    console.print("GT = ground truth; ratio = palaestra ep/s / BFCL evaluator ep/s. palaestra's episodes include reset, parsing, transcript and snapshot-ready state; BFCL's "
                  "evaluator only judges the answers (and, multi-turn, executes them).")


def _adversaries(console) -> None:
    from palaestra.envs.tools.adversaries import POLICIES, success_by_tier
    from palaestra.envs.tools.env import ToolUseEnv
    from palaestra.envs.tools.tasks import TIERS, task_specs

    env = ToolUseEnv()
    per_tier = {t: sum(s["tier"] == t for s in task_specs(0).values()) for t in TIERS}
    table = Table(title=f"ToolUse-v0: adversarial policies, success over all {len(env.task_ids)} tasks")
    for col in ("policy", *(f"{t} /{n}" for t, n in per_tier.items()), "all"):
        table.add_column(col, justify="right" if col != "policy" else "left")
    for name, policy in POLICIES.items():
        wins = success_by_tier(env, policy, env.task_ids)
        table.add_row(name, *(str(wins[t]) for t in TIERS), f"{sum(wins.values())} ({sum(wins.values()) / len(env.task_ids):.1%})")
    env.close()
    console.print(table)
    console.print("The refuse tier holds 36 requests to refuse, 24 to ask back and 60 look-alikes to do; "
                  "an answer that reads as a refusal is right on those 36 only.")


if __name__ == "__main__":
    main()
