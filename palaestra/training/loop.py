"""The self-improvement loop: the policy plays, search labels its states, the policy learns.

Per round (Agent Q / MCTS-DPO / ReST-MCTS*):

1. **collect** — the current policy (``LLMAgent`` scoring the legal actions, sampling
   at ``policy_temperature``) plays ``episodes_per_round`` fresh train seeds; MCTS
   (``mcts``: ``simulations``, no critique by default, ``search_reward="true"``
   recorded) labels every state it reaches, in ``workers`` parallel processes;
2. **learn** — ``learner="dpo"``: step pairs where the search is sure (the chosen
   child's lower confidence bound above the rejected one's upper bound, or solver-
   proven), including the search's best against the policy's own move, then TRL's
   ``DPOTrainer`` from the current policy; ``learner="sft"`` (the compute-matched
   control): the *same kind and number* of search labels as SFT targets (the visit
   distribution), from the current policy;
3. **evaluate** — the new policy, greedy over the legal actions, on held-out test seeds
   (``test_seeds``, in parallel): success with a Wilson interval, and the paired gain
   over round 0 with a paired bootstrap interval (same seeds);
4. **audit** (``audit`` > 0) — that many of the round's pairs re-judged by MCTS with
   ``audit_simulations``.

Round 0 evaluates the starting model. Results go to ``OUT/improve.json`` and, when the
leaderboard store is installed and ``db`` given, to its SQLite file.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from palaestra.core.stats import bootstrap_mean_ci, wilson

from .trainers import TrainSettings, preset, train_dpo, train_sft


def _default_pairs() -> dict:
    return {"mode": "best_worst+policy", "min_margin": 0.0, "min_visits": 1, "confidence": 1.96}


@dataclass
class ImproveSettings:
    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    eval_env_kwargs: dict | None = None   # held-out tasks (e.g. {"split": "test"}); None: env_kwargs
    rounds: int = 2
    episodes_per_round: int = 100         # fresh train seeds each round
    train_seed_start: int = 0             # round r plays seeds start + (r-1)*episodes ... start + r*episodes - 1
    test_seeds: list[int] = field(default_factory=lambda: list(range(10_000, 10_400)))
    mcts: dict = field(default_factory=lambda: {"simulations": 200, "rollout": "random", "search_reward": "true"})
    policy_temperature: float = 1.0       # the collecting policy samples (exploration); 0: greedy
    prompt: str = "full"                  # "full" or "compact": the policy's prompt (recorded)
    history: int = 4
    learner: str = "dpo"                  # "dpo", or "sft" (the compute-matched control)
    pairs: dict = field(default_factory=_default_pairs)
    sft_target: str = "visits"            # the control's targets: "visits", "best" or "action"
    visit_samples: int = 4
    dpo: TrainSettings = field(default_factory=lambda: preset("tiny", "dpo"))
    sft: TrainSettings = field(default_factory=lambda: preset("tiny", "sft"))
    eval_temperature: float = 0.0
    max_steps: int = 200                  # per episode
    workers: int = 2
    backend: str = "process"
    audit: int = 0                        # pairs re-judged per round (0: none)
    audit_simulations: int = 2000
    device: str | None = None
    threads: int | None = 1
    seed: int = 0

    def __post_init__(self):
        if self.learner not in ("dpo", "sft"):
            raise ValueError(f"learner={self.learner!r}: use 'dpo' (pairs) or 'sft' (the same search labels as SFT "
                             "targets: the compute-matched control).")
        if isinstance(self.dpo, dict):
            self.dpo = TrainSettings(**self.dpo)
        if isinstance(self.sft, dict):
            self.sft = TrainSettings(**self.sft)

    def round_seeds(self, rnd: int) -> list[int]:
        start = self.train_seed_start + (rnd - 1) * self.episodes_per_round
        return list(range(start, start + self.episodes_per_round))


@dataclass
class RoundResult:
    round: int
    model: str
    episodes: int
    successes: int
    success: float
    success_ci: tuple[float, float]
    mean_return: float
    return_ci: tuple[float, float]
    returns: list[float]
    successes_by_seed: list[int] = field(default_factory=list)
    invalid_actions: int = 0
    collect_success: float | None = None
    labelled_states: int = 0
    pairs: int = 0                       # DPO pairs, or SFT examples for the control
    pair_report: str = ""
    audit: str = ""
    audit_agreement: float | None = None
    loss_before: float | None = None
    loss_after: float | None = None
    reward_accuracy: float | None = None
    gain: float | None = None            # mean return minus round 0's, same seeds
    gain_ci: tuple[float, float] | None = None
    success_gain: float | None = None
    success_gain_ci: tuple[float, float] | None = None
    collect_s: float = 0.0
    train_s: float = 0.0
    eval_s: float = 0.0


def _collect_settings(settings: ImproveSettings, model: str, seeds: list[int], evaluation: bool):
    from .collect import CollectSettings

    kwargs = settings.eval_env_kwargs if evaluation and settings.eval_env_kwargs is not None else settings.env_kwargs
    return CollectSettings(settings.env_id, dict(kwargs), list(seeds), dict(settings.mcts), actor="policy",
                           model=str(model), policy_temperature=settings.eval_temperature if evaluation else
                           settings.policy_temperature, prompt=settings.prompt, history=settings.history,
                           label=not evaluation, max_steps=settings.max_steps, workers=settings.workers,
                           backend=settings.backend, threads=settings.threads or 1, device=settings.device)


def evaluate(model_path, settings: ImproveSettings, folder) -> list[dict]:
    """The policy (greedy over the legal actions, no search) on the test seeds, in parallel:
    one result dict per seed (``seed``, ``success``, ``return``, ...), in seed order."""
    from .collect import collect

    return collect(_collect_settings(settings, model_path, settings.test_seeds, True), folder).results


def _summarise(rnd: int, model: str, results: list[dict], seed: int) -> RoundResult:
    n = len(results)
    wins = [int(bool(r["success"])) for r in results]
    rets = [float(r["return"]) for r in results]
    return RoundResult(rnd, str(model), n, sum(wins), sum(wins) / max(1, n), wilson(sum(wins), n),
                       sum(rets) / max(1, n), bootstrap_mean_ci(rets, seed=seed), rets, wins,
                       sum(int(r.get("invalid_actions", 0)) for r in results))


def paired(a: RoundResult, b: RoundResult, seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Mean success difference a - b over the same seeds, with a paired bootstrap 95% interval."""
    diffs = [float(x - y) for x, y in zip(a.successes_by_seed, b.successes_by_seed)]
    return sum(diffs) / max(1, len(diffs)), bootstrap_mean_ci(diffs, seed=seed)


def _store(results: list[dict], model: str, settings: ImproveSettings, rnd: int, db, label: str = "improve") -> int:
    """Add the evaluated episodes to the leaderboard's SQLite store (when installed); rows added."""
    if db is None:
        return 0
    try:
        from palaestra.leaderboard.spec import AgentSpec, canonical_json, env_key
        from palaestra.leaderboard.store import ResultStore
    except ImportError:
        return 0
    import palaestra

    kwargs = settings.eval_env_kwargs if settings.eval_env_kwargs is not None else settings.env_kwargs
    spec = AgentSpec("llm", {"model": str(model), "temperature": settings.eval_temperature, "policy": "legal",
                             "prompt": settings.prompt}, label=f"{label}-round{rnd}", view="text")
    rows = [{
        "agent": spec.name, "agent_spec": spec.to_json(), "config_hash": spec.config_hash,
        "env_id": settings.env_id, "env_kwargs": canonical_json(kwargs), "env_hash": env_key(settings.env_id, kwargs),
        "task_id": r.get("task_id"), "seed": int(r["seed"]), "ret": float(r["return"]), "success": bool(r["success"]),
        "steps": int(r["length"]), "invalid_actions": int(r.get("invalid_actions", 0)), "wall_s": 0.0,
        "tokens": 0, "version": getattr(palaestra, "__version__", "0"), "backend": "improve",
    } for r in results]
    with ResultStore(db) as store:
        return store.add_episodes(rows)


def _save(out: Path, settings: ImproveSettings, rounds: list[RoundResult]) -> None:
    (out / "improve.json").write_text(json.dumps({"settings": asdict(settings), "rounds": [asdict(x) for x in rounds]},
                                                 indent=1, default=str))


def improve(model, out_dir, settings: ImproveSettings, console=None, db=None, on_round=None,
            start: RoundResult | None = None) -> list[RoundResult]:
    """Run ``settings.rounds`` rounds from ``model``; returns round 0 (the start) and each round.
    ``start`` reuses an evaluation of ``model`` on the same test seeds as round 0."""
    from rich.console import Console

    from .audit import audit_pairs
    from .collect import collect
    from .pairs import sft_examples, step_pairs

    console = console or Console()
    out = Path(out_dir)
    if (out / "improve.json").exists() or (out / "round1").exists():
        raise FileExistsError(f"{out} already holds an improve run (recordings would mix); pass a new --out "
                              "or delete that folder.")
    out.mkdir(parents=True, exist_ok=True)
    random.seed(settings.seed)
    current = str(model)
    import transformers

    transformers.utils.logging.disable_progress_bar()
    if start is None:
        t0 = time.perf_counter()
        results0 = evaluate(current, settings, out / "round0" / "eval")
        r0 = _summarise(0, current, results0, settings.seed)
        r0.eval_s = time.perf_counter() - t0
        _store(results0, current, settings, 0, db, out.name)
    else:
        r0 = start
    rounds = [r0]
    _save(out, settings, rounds)
    if on_round:
        on_round(r0)
    for rnd in range(1, settings.rounds + 1):
        folder = out / f"round{rnd}"
        t0 = time.perf_counter()
        rep = collect(_collect_settings(settings, current, settings.round_seeds(rnd), False), folder / "collect")
        collect_s = time.perf_counter() - t0
        console.print(f"round {rnd} collect: {rep.summary()}")
        t0 = time.perf_counter()
        loss_before = loss_after = acc = None
        made, report, audit = 0, "", None
        if settings.learner == "dpo":
            pairs = step_pairs(folder / "collect", **settings.pairs)
            made, report = pairs.made, pairs.summary()
            console.print(f"round {rnd}: {report}")
            if settings.audit and pairs.made:
                audit = audit_pairs(pairs, folder / "collect", simulations=settings.audit_simulations,
                                    sample=settings.audit, seed=settings.seed)
                console.print(f"round {rnd}: {audit.summary()}")
            if pairs.made:
                dpo = TrainSettings(**{**asdict(settings.dpo), "evaluate": True, "device": settings.device})
                trained = train_dpo(pairs, current, folder / "model", dpo, progress=False)
                loss_before, loss_after, acc = trained.loss_before, trained.loss_after, trained.reward_accuracy
                console.print(f"round {rnd}: {trained.summary()}")
                current = str(folder / "model")
        else:
            ex = sft_examples(folder / "collect", only_success=False, target=settings.sft_target,
                              visit_samples=settings.visit_samples)
            made, report = ex.made, ex.summary()
            console.print(f"round {rnd}: {report}")
            if ex.made:
                sft = TrainSettings(**{**asdict(settings.sft), "evaluate": True, "device": settings.device})
                trained = train_sft(ex, current, folder / "model", sft, progress=False)
                loss_before, loss_after = trained.loss_before, trained.loss_after
                console.print(f"round {rnd}: {trained.summary()}")
                current = str(folder / "model")
        if not made:
            console.print(f"[yellow]round {rnd}: nothing to learn from, the policy is unchanged[/]")
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        results = evaluate(current, settings, folder / "eval")
        r = _summarise(rnd, current, results, settings.seed)
        r.eval_s, r.collect_s, r.train_s = time.perf_counter() - t0, collect_s, train_s
        r.collect_success = rep.wins / max(1, rep.episodes)
        r.labelled_states = rep.labelled
        r.pairs, r.pair_report = made, report
        if audit is not None:
            r.audit, r.audit_agreement = audit.summary(), audit.agreement
        r.loss_before, r.loss_after, r.reward_accuracy = loss_before, loss_after, acc
        diffs = [a - b for a, b in zip(r.returns, r0.returns)]
        r.gain, r.gain_ci = sum(diffs) / max(1, len(diffs)), bootstrap_mean_ci(diffs, seed=settings.seed)
        r.success_gain, r.success_gain_ci = paired(r, r0, settings.seed)
        rounds.append(r)
        _store(results, current, settings, rnd, db, out.name)
        if on_round:
            on_round(r)
        _save(out, settings, rounds)
    _save(out, settings, rounds)
    return rounds


def rounds_table(rounds: list[RoundResult], title: str = "self-improvement"):
    """A rich table: one row per round."""
    from rich.table import Table

    table = Table(title=title, caption="brackets: 95% CIs (Wilson for success; gain: paired bootstrap over the same "
                                        "test seeds)")
    for col in ("round", "labelled", "pairs/ex", "loss", "reward acc", "audit", "test success",
                "success gain vs 0", "s"):
        table.add_column(col, justify="right")
    for r in rounds:
        loss = "-" if r.loss_before is None else f"{r.loss_before:.3f}>{r.loss_after:.3f}"
        acc = "-" if r.reward_accuracy is None else f"{r.reward_accuracy:.0%}"
        aud = "-" if r.audit_agreement is None else f"{r.audit_agreement:.0%}"
        gain = "-" if r.success_gain is None else (f"{100 * r.success_gain:+.1f} [{100 * r.success_gain_ci[0]:+.1f},"
                                                   f"{100 * r.success_gain_ci[1]:+.1f}]")
        table.add_row(str(r.round), str(r.labelled_states) if r.round else "-", str(r.pairs) if r.round else "-",
                      loss, acc, aud, f"{r.success:.1%} [{100 * r.success_ci[0]:.1f},{100 * r.success_ci[1]:.1f}]",
                      gain, f"{r.collect_s + r.train_s + r.eval_s:.0f}")
    return table
