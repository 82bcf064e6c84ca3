"""tau-bench style grading: the database end state and the final answer, read in its form.

Success = the episode's database hashes (canonically) to the oracle's end state, the
final answer is right in the form the task states (:func:`palaestra.envs.tools.answers.judge`:
one value, several values, a refusal, a question back about the missing detail) and,
where the task says so, no tool was called. ``details`` carries each part (partial credit
for analysis) and never the expected values; it does tell which form was right and
whether the database matches, so all of it is scorer-only (``ToolUseEnv.scorer_info_keys``:
the agent-side planning view drops it).
"""

from __future__ import annotations

from .answers import judge


def grade(db_hash: str, expected_hash: str, answer: str | None, expected_answer: dict,
          calls: int, no_calls: bool) -> tuple[float, dict]:
    answer_ok, answer_details = judge(answer, expected_answer)
    db_match = db_hash == expected_hash
    calls_ok = (calls == 0) if no_calls else True
    answered = answer is not None
    parts = [db_match, calls_ok, answered, answer_ok]
    details = {
        "db_match": db_match,
        "answer_ok": answer_ok,
        "answer": answer_details,
        "answered": answered,
        "calls": calls,
        "calls_ok": calls_ok,
        "partial": sum(parts) / len(parts),
    }
    return (1.0 if all(parts) else 0.0), details


def pass_hat_k(trials: dict[str, list[bool]], k: int) -> float:
    """tau-bench's pass^k: the chance that k trials of a task all succeed, averaged over tasks.

    ``trials`` maps a task id to its trial outcomes (at least ``k`` each); per task the
    unbiased estimate is C(successes, k) / C(trials, k).
    """
    from math import comb

    if k < 1:
        raise ValueError("k must be at least 1.")
    short = [t for t, outcomes in trials.items() if len(outcomes) < k]
    if short:
        raise ValueError(f"{len(short)} task(s) have fewer than k={k} trials (e.g. {short[0]!r}); run more trials.")
    if not trials:
        raise ValueError("no trials given.")
    return sum(comb(sum(map(bool, o)), k) / comb(len(o), k) for o in trials.values()) / len(trials)
