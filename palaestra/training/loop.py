"""The self-improvement loop: search collects, the tree ranks steps, DPO improves the policy.

Per round (Agent Q / MCTS-DPO, off-policy):

1. **collect** — MCTS with the current policy as its language model (LLM self-critique
   by default) plays the train seeds; every episode is recorded with the root's
   children at each step (``RecordEpisodes`` + the shared runner);
2. **pairs** — step-level pairs from those recordings (best vs worst child by Q, with a
   margin and minimum visits);
3. **train** — ``trl.DPOTrainer`` from the current policy (reference = its copy);
4. **evaluate** — the new policy as a plain ``LLMAgent`` (no search) on held-out test
   seeds: success rate with a 95% Wilson interval, mean return with a bootstrap interval,
   and the gain over round 0 with a paired bootstrap interval (same seeds).

Round 0 evaluates the starting model. Results go to ``OUT/improve.json`` and, when the
leaderboard store is installed, to its SQLite file as one row per evaluated episode.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .trainers import TrainSettings, train_dpo


@dataclass
class ImproveSettings:
    env_id: str
    env_kwargs: dict = field(default_factory=dict)
    eval_env_kwargs: dict | None = None   # held-out tasks (e.g. {"split": "test"}); None: env_kwargs
    rounds: int = 1
    train_seeds: list[int] = field(default_factory=lambda: list(range(0, 16)))
    test_seeds: list[int] = field(default_factory=lambda: list(range(10_000, 10_032)))
    mcts: dict = field(default_factory=lambda: {"simulations": 50, "critic": "llm", "rollout": "random"})
    pairs: dict = field(default_factory=lambda: {"min_margin": 0.1, "min_visits": 1, "mode": "best_worst+policy"})
    probe: bool = True            # record the policy's own reply at each collected state (for mode "policy")
    collect_actor: str = "search"  # "search": MCTS acts; "policy": the policy acts where valid (on-policy states)
    dpo: TrainSettings = field(default_factory=lambda: TrainSettings(learning_rate=5e-5, epochs=2, batch_size=4,
                                                                     sft_weight=1.0))
    eval_temperature: float = 0.0
    eval_retries: int = 2
    max_steps: int = 200          # per episode
    device: str | None = None     # for the language model at play time
    threads: int | None = 1
    seed: int = 0


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
    invalid_actions: int
    collect_success: float | None = None
    pairs: int = 0
    pair_report: str = ""
    loss_before: float | None = None
    loss_after: float | None = None
    gain: float | None = None            # mean return minus round 0's, same seeds
    gain_ci: tuple[float, float] | None = None
    success_gain: float | None = None
    success_gain_ci: tuple[float, float] | None = None
    collect_s: float = 0.0
    train_s: float = 0.0
    eval_s: float = 0.0


from palaestra.core.stats import bootstrap_mean_ci, wilson  # noqa: E402,F401


def _lm(path, settings: ImproveSettings):
    from palaestra.agents.llm.transformers_lm import TransformersLM

    return TransformersLM(path, device=settings.device, max_threads=settings.threads)


def _make_env(settings: ImproveSettings, evaluation: bool = False):
    import gymnasium as gym

    import palaestra  # noqa: F401  (registers ids)

    kwargs = settings.eval_env_kwargs if evaluation and settings.eval_env_kwargs is not None else settings.env_kwargs
    return gym.make(settings.env_id, text=True, **kwargs)


def evaluate(model_path, settings: ImproveSettings, progress=None, label: str = "evaluate") -> list:
    """The plain LLM agent (no search) on the test seeds: a list of ``EpisodeResult``."""
    from palaestra.agents.llm_agent import LLMAgent
    from palaestra.runner import run_episode

    agent = LLMAgent(model=_lm(model_path, settings), temperature=settings.eval_temperature,
                     retries=settings.eval_retries, seed=settings.seed)
    env = _make_env(settings, evaluation=True)
    task = progress.add_task(label, total=len(settings.test_seeds)) if progress else None
    results = []
    for seed in settings.test_seeds:
        results.append(run_episode(env, agent, seed=int(seed), max_steps=settings.max_steps))
        if progress:
            progress.update(task, advance=1)
    env.close()
    return results


class PolicyProbe:
    """MCTS acts; at each state the plain policy's own greedy reply is recorded too.

    Before every move the policy answers the prompt ``LLMAgent`` would send; the
    search children then mark that reply with ``"policy": true`` (a new child with
    ``"invalid": true`` when the reply is not a legal action). ``step_pairs(mode=
    "policy")`` turns these into on-policy pairs: the search's best child over the
    policy's own choice where the search found it worse (Agent Q's candidates are the
    policy's samples; here the policy's mistakes are what DPO sees rejected).

    ``act_with="policy"`` lets the policy's valid replies drive the episode (the search
    still runs and labels every state; it acts only where the policy's reply is invalid),
    so the pairs come from the states the policy itself reaches — where its mistakes are.
    """

    name = "mcts+probe"
    last_search = None

    def __init__(self, mcts, lm, max_new_tokens: int = 48, history: int = 4, act_with: str = "search"):
        if act_with not in ("search", "policy"):
            raise ValueError(f"act_with={act_with!r}: use 'search' (MCTS acts) or 'policy' (the policy acts where "
                             "its reply is valid, the search labels every state).")
        self.mcts, self.lm, self.act_with = mcts, lm, act_with
        self.max_new_tokens, self.history_len = int(max_new_tokens), int(history)

    @property
    def usage(self) -> dict:
        return self.mcts.usage

    def reset(self, env) -> None:
        self.mcts.reset(env)
        self.env, self.base, self.history = env, env.unwrapped, []

    def _probe(self) -> tuple[str, bool]:
        from palaestra.agents.llm.prompts import parse_reply, state_messages
        from palaestra.core import InvalidAction

        messages = state_messages(self.base, self.history, history_len=self.history_len)
        reply = self.lm.generate([messages], n=1, temperature=0.0, max_new_tokens=self.max_new_tokens)[0][0]
        try:
            native, _ = parse_reply(reply, self.base.parse_action)
        except InvalidAction:
            return reply.strip()[:200], False
        legal = self.base.legal_actions()
        if legal is not None and native not in legal:
            return reply.strip()[:200], False
        return self.base.format_action(native), True

    def act(self, observation, info):
        probe, valid = self._probe()
        action = self.mcts.act(observation, info)
        search = [dict(c) for c in (self.mcts.last_search or [])]
        match = next((c for c in search if valid and str(c.get("action")).strip() == probe), None)
        if match is not None:
            match["policy"] = True
        else:
            search.append({"action": probe, "visits": 0, "q": None, "prior": 0.0, "critique": None,
                           "policy": True, "invalid": not valid})
        self.last_search = search
        if self.act_with == "policy" and valid:
            native = self.base.parse_action(probe)
            action = probe if isinstance(action, str) else native
            self.mcts.root = None  # the tree below another move is no use next step
            if getattr(self.mcts, "history", None):
                self.mcts.history[-1] = ("", probe)  # its LLM prompts carry the moves actually made
        self.history.append(("", action if isinstance(action, str) else self.base.format_action(action)))
        return action


def collect(model_path, folder: Path, settings: ImproveSettings, progress=None, label: str = "collect") -> list:
    """MCTS (+ critique) with the current policy on the train seeds, recorded into ``folder``
    (with the policy's own reply at each state when ``settings.probe``)."""
    from palaestra.agents import make
    from palaestra.runner import run_episode
    from palaestra.wrappers.record import RecordEpisodes

    opts = dict(settings.mcts)
    opts.setdefault("seed", settings.seed)
    lm = _lm(model_path, settings)
    agent = make("mcts", llm=lm, **opts)
    if settings.probe or settings.collect_actor == "policy":
        agent = PolicyProbe(agent, lm, act_with=settings.collect_actor)
    env = RecordEpisodes(_make_env(settings), folder, agent_name=f"mcts({Path(str(model_path)).name})",
                         env_id=settings.env_id, env_kwargs=settings.env_kwargs, save_images=False)
    task = progress.add_task(label, total=len(settings.train_seeds)) if progress else None
    results = []
    try:
        for seed in settings.train_seeds:
            results.append(run_episode(env, agent, seed=int(seed), max_steps=settings.max_steps))
            if progress:
                progress.update(task, advance=1)
    finally:
        env.close()
    return results


def _summarise(rnd: int, model: str, results: list, seed: int) -> RoundResult:
    n = len(results)
    wins = sum(bool(r.success) for r in results)
    rets = [float(r.ret) for r in results]
    return RoundResult(rnd, model, n, wins, wins / max(1, n), wilson(wins, n), sum(rets) / max(1, n),
                       bootstrap_mean_ci(rets, seed=seed), rets, sum(r.invalid_actions for r in results))


def _store(results: list, model: str, settings: ImproveSettings, rnd: int, db, label: str = "improve") -> int:
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
    spec = AgentSpec("llm", {"model": str(model), "temperature": settings.eval_temperature,
                             "retries": settings.eval_retries}, label=f"{label}-round{rnd}", view="text")
    rows = [{
        "agent": spec.name, "agent_spec": spec.to_json(), "config_hash": spec.config_hash,
        "env_id": settings.env_id, "env_kwargs": canonical_json(kwargs), "env_hash": env_key(settings.env_id, kwargs),
        "task_id": r.task_id, "seed": int(r.seed), "ret": float(r.ret), "success": bool(r.success),
        "steps": int(r.steps), "invalid_actions": int(r.invalid_actions), "wall_s": float(r.wall_s),
        "tokens": int(r.tokens), "version": getattr(palaestra, "__version__", "0"), "backend": "improve",
    } for r in results]
    with ResultStore(db) as store:
        return store.add_episodes(rows)


def improve(model, out_dir, settings: ImproveSettings, console=None, db=None, on_round=None) -> list[RoundResult]:
    """Run ``settings.rounds`` rounds from ``model``; returns round 0 (the start) and each round."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .pairs import step_pairs

    console = console or Console()
    out = Path(out_dir)
    if (out / "improve.json").exists() or (out / "round1").exists():
        raise FileExistsError(f"{out} already holds an improve run (recordings would mix); pass a new --out "
                              "or delete that folder.")
    out.mkdir(parents=True, exist_ok=True)
    random.seed(settings.seed)
    rounds: list[RoundResult] = []
    current = str(model)

    def bar():
        return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=console, transient=True)

    import transformers

    transformers.utils.logging.disable_progress_bar()  # our bars replace its "Loading weights" bars
    t0 = time.perf_counter()
    with bar() as progress:
        base = evaluate(current, settings, progress, "round 0: evaluate the start model")
    r0 = _summarise(0, current, base, settings.seed)
    r0.eval_s = time.perf_counter() - t0
    rounds.append(r0)
    _store(base, current, settings, 0, db, out.name)
    (out / "improve.json").write_text(json.dumps({"settings": asdict(settings), "rounds": [asdict(r0)]}, indent=1,
                                                 default=str))
    if on_round:
        on_round(r0)
    for rnd in range(1, settings.rounds + 1):
        folder = out / f"round{rnd}"
        t0 = time.perf_counter()
        with bar() as progress:
            collected = collect(current, folder / "collect", settings, progress, f"round {rnd}: collect (MCTS)")
        collect_s = time.perf_counter() - t0
        pairs = step_pairs(folder / "collect", **settings.pairs)
        console.print(f"round {rnd}: {pairs.summary()}")
        t0 = time.perf_counter()
        loss_before = loss_after = None
        if pairs.made:
            dpo = TrainSettings(**{**asdict(settings.dpo), "evaluate": True})
            trained = train_dpo(pairs, current, folder / "model", dpo)
            loss_before, loss_after = trained.loss_before, trained.loss_after
            current = str(folder / "model")
        else:
            console.print(f"[yellow]round {rnd}: no pairs, the policy is unchanged[/]")
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with bar() as progress:
            results = evaluate(current, settings, progress, f"round {rnd}: evaluate")
        r = _summarise(rnd, current, results, settings.seed)
        r.eval_s, r.collect_s, r.train_s = time.perf_counter() - t0, collect_s, train_s
        r.collect_success = sum(bool(c.success) for c in collected) / max(1, len(collected))
        r.pairs, r.pair_report = pairs.made, pairs.summary()
        r.loss_before, r.loss_after = loss_before, loss_after
        diffs = [a - b for a, b in zip(r.returns, r0.returns)]
        r.gain, r.gain_ci = sum(diffs) / max(1, len(diffs)), bootstrap_mean_ci(diffs, seed=settings.seed)
        sdiffs = [float(a.success) - float(b.success) for a, b in zip(results, base)]
        r.success_gain, r.success_gain_ci = sum(sdiffs) / max(1, len(sdiffs)), bootstrap_mean_ci(sdiffs, seed=settings.seed)
        rounds.append(r)
        _store(results, current, settings, rnd, db, out.name)
        if on_round:
            on_round(r)
        (out / "improve.json").write_text(json.dumps({"settings": asdict(settings), "rounds": [asdict(x) for x in rounds]},
                                                     indent=1, default=str))
    (out / "improve.json").write_text(json.dumps({"settings": asdict(settings), "rounds": [asdict(x) for x in rounds]},
                                                 indent=1, default=str))
    return rounds


def rounds_table(rounds: list[RoundResult], title: str = "self-improvement"):
    """A rich table: one row per round."""
    from rich.table import Table

    table = Table(title=title, caption="brackets: 95% CIs (Wilson for success, bootstrap for returns; "
                                        "gain: paired bootstrap over the same test seeds)")
    for col in ("round", "pairs", "DPO loss", "MCTS win", "test success", "mean return", "gain vs 0", "invalid", "s"):
        table.add_column(col, justify="right")
    for r in rounds:
        loss = "-" if r.loss_before is None else f"{r.loss_before:.2f}>{r.loss_after:.2f}"
        coll = "-" if r.collect_success is None else f"{r.collect_success:.0%}"
        gain = "-" if r.gain is None else f"{r.gain:+.2f} [{r.gain_ci[0]:+.2f},{r.gain_ci[1]:+.2f}]"
        table.add_row(str(r.round), str(r.pairs) if r.round else "-", loss, coll,
                      f"{r.success:.0%} [{100 * r.success_ci[0]:.0f},{100 * r.success_ci[1]:.0f}]",
                      f"{r.mean_return:+.2f} [{r.return_ci[0]:+.2f},{r.return_ci[1]:+.2f}]", gain,
                      str(r.invalid_actions), f"{r.collect_s + r.train_s + r.eval_s:.0f}")
    return table
