"""`palaestra train pairs|sft|dpo` and `palaestra improve`: learning from recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._common import console, parse_opts

train_app = typer.Typer(help="Learn from recordings: preference pairs, SFT and DPO with TRL.", no_args_is_help=True)

_PAIRS_HELP = ("Pair builders, comma-separated: step (best vs worst search child by Q), episode (success vs failure "
               "of the same task and seed), demo (human/oracle demos vs agent actions; needs --demos).")


def _print_report(report) -> None:
    from rich.table import Table

    table = Table(title=f"{report.source} pairs" if hasattr(report, "source") else "SFT examples")
    table.add_column("made / dropped", justify="right")
    table.add_column("why")
    table.add_row(f"[green]{report.made}[/]", "kept")
    for why, n in report.dropped.most_common():
        table.add_row(str(n), why)
    console.print(table)


def _build_pairs(recordings: list[Path], kinds: str, demos: list[Path] | None, min_margin: float, min_visits: int,
                 mode: str, alpha: float | None, prompt_style: str, history: int | None, same_seed: bool,
                 confidence: float | None = 1.96):
    from palaestra.training import demo_pairs, episode_pairs, step_pairs

    sources = [str(r) for r in recordings]
    total = None
    for kind in [k.strip() for k in kinds.split(",") if k.strip()]:
        if kind == "step":
            got = step_pairs(sources, min_margin=min_margin, min_visits=min_visits, mode=mode, alpha=alpha,
                             prompt_style=prompt_style, max_history=history,
                             confidence=confidence if confidence and confidence > 0 else None)
        elif kind == "episode":
            got = episode_pairs(sources, same_seed=same_seed, prompt_style=prompt_style, max_history=history)
        elif kind == "demo":
            if not demos:
                raise typer.BadParameter("--pairs demo needs --demos DIR (recordings of human or oracle play).")
            got = demo_pairs([str(d) for d in demos], sources, prompt_style=prompt_style, max_history=history)
        else:
            raise typer.BadParameter(f"unknown pair builder {kind!r}; use step, episode or demo.")
        _print_report(got)
        total = got if total is None else total + got
    return total


def _preset_name(name: str, model: str) -> str:
    """``auto``: the tiny preset for small models (hidden size <= 256 in config.json), else default."""
    if name != "auto":
        return name
    cfg = Path(str(model)) / "config.json"
    if cfg.exists():
        import json

        c = json.loads(cfg.read_text())
        if int(c.get("n_embd") or c.get("hidden_size") or 10**6) <= 256:
            return "tiny"
    return "default"


def _settings(kind, preset_name, model, lr, epochs, max_steps, batch_size, grad_accum, max_length, seed, lora_r,
              lora_alpha, beta=None, loss_type="sigmoid", device=None, threads=1, evaluate=False, sft_weight=None):
    """TrainSettings: the preset's values, then every flag given on the command line."""
    from palaestra.training.trainers import preset

    name = _preset_name(preset_name, model)
    given = {"learning_rate": lr, "epochs": epochs, "batch_size": batch_size, "beta": beta, "sft_weight": sft_weight}
    settings = preset(name, kind, **{k: v for k, v in given.items() if v is not None})
    console.print(f"training preset [bold]{name}[/]: lr {settings.learning_rate:g}, {settings.epochs:g} epochs, "
                  f"batch {settings.batch_size}" + (f", beta {settings.beta:g}, sft weight {settings.sft_weight:g}"
                                                    if kind == "dpo" else ""))
    from dataclasses import replace

    return replace(settings, max_steps=max_steps, grad_accum=grad_accum, max_length=max_length, seed=seed,
                   lora_r=lora_r, lora_alpha=lora_alpha, loss_type=loss_type, device=device, threads=threads or None,
                   evaluate=evaluate)


_PRESET_HELP = "Training preset: auto (tiny for models of hidden size <= 256, else default), tiny or default; flags override it."


def pairs_cmd(
    recordings: list[Path] = typer.Argument(..., help="Recording folders (or folders holding them)."),
    out: Path = typer.Option(..., "--out", help="Where to save the dataset (datasets.save_to_disk), or a .jsonl file."),
    pairs: str = typer.Option("step", "--pairs", help=_PAIRS_HELP),
    demos: Optional[list[Path]] = typer.Option(None, "--demos", help="Demo recordings for --pairs demo."),
    min_margin: float = typer.Option(0.1, help="Smallest Q gap of a step pair."),
    min_visits: int = typer.Option(1, help="Fewest visits of a search child to take part."),
    mode: str = typer.Option("best_worst", help="Step pairs: best_worst, all, policy (the policy's own reply, recorded by `improve`) or a combination like best_worst+policy."),
    alpha: Optional[float] = typer.Option(None, help="Blend Q with numeric critiques: alpha*Q + (1-alpha)*critique."),
    prompt_style: str = typer.Option("agent", help="agent (LLMAgent's prompt) or chat (full multi-turn prefix)."),
    history: Optional[int] = typer.Option(None, help="Earlier steps in the prompt (default: agent 4, chat all)."),
    same_seed: bool = typer.Option(True, "--same-seed/--any-seed", help="Episode pairs: same task and seed only."),
    confidence: float = typer.Option(1.96, help="Step pairs only where the chosen child's lower bound beats the "
                                                "rejected one's upper bound (z of the bounds; 0: compare plain Q)."),
    audit: int = typer.Option(0, "--audit", help="Re-judge this many sampled step pairs with a stronger search "
                                                 "and print the agreement."),
    audit_simulations: int = typer.Option(2000, help="Simulations of the auditing search."),
    seed: int = typer.Option(0, help="Seed of sampling, shuffling and the weights."),
):
    """Build preference pairs from recordings and save them (TRL's conversational format)."""
    total = _build_pairs(recordings, pairs, demos, min_margin, min_visits, mode, alpha, prompt_style, history,
                         same_seed, confidence)
    ds = total.dataset
    if out.suffix == ".jsonl":
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.to_json(str(out), lines=True)
    else:
        ds.save_to_disk(str(out))
    console.print(f"{total.summary()}\nsaved {len(ds)} pairs to [bold]{out}[/]")
    if audit > 0:
        from palaestra.training.audit import audit_pairs

        step_rows = [r for r in total.rows if r["source"] == "step"]
        report = audit_pairs(step_rows, [str(r) for r in recordings], simulations=audit_simulations, sample=audit,
                             seed=seed)
        console.print(report.summary())


def sft_cmd(
    recordings: list[Path] = typer.Argument(..., help="Recording folders (or folders holding them)."),
    model: str = typer.Option(..., "--model", help="A model folder or hub id (`palaestra model tiny DIR` builds one)."),
    out: Path = typer.Option(..., "--out", help="Folder for the trained model."),
    agents: Optional[list[str]] = typer.Option(None, "--agent", help="Only episodes by these agents (e.g. oracle, human)."),
    all_episodes: bool = typer.Option(False, "--all-episodes", help="Imitate failed episodes too."),
    prompt_style: str = typer.Option("agent", help="agent (LLMAgent's prompt) or chat (full multi-turn prefix)."),
    history: Optional[int] = typer.Option(None, help="Earlier steps in the prompt."),
    target: str = typer.Option("action", help="What each step teaches: action (taken), best (the search's best "
                                              "child) or visits (the search's visit distribution)."),
    visit_samples: int = typer.Option(4, help="Rows per state for --target visits."),
    preset_name: str = typer.Option("auto", "--preset", help=_PRESET_HELP),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default: the preset's)."),
    epochs: Optional[float] = typer.Option(None, help="Training epochs."),
    max_steps: int = typer.Option(-1, help="Stop after N optimiser steps (overrides --epochs)."),
    batch_size: Optional[int] = typer.Option(None, help="Examples per device batch."),
    grad_accum: int = typer.Option(1, help="Gradient accumulation steps."),
    max_length: int = typer.Option(1024, help="Tokens of prompt + action; older history is dropped to fit."),
    lora_r: int = typer.Option(0, help="LoRA rank (0: full fine-tuning)."),
    lora_alpha: int = typer.Option(16, help="LoRA alpha."),
    seed: int = typer.Option(0, help="Seed of sampling, shuffling and the weights."),
    device: Optional[str] = typer.Option(None, help="cpu or cuda (default: cuda when available)."),
    threads: int = typer.Option(1, help="torch threads on CPU (more is slower on a busy machine)."),
):
    """Supervised fine-tuning (TRL SFTTrainer) on successful or oracle/human episodes."""
    from palaestra.training import sft_examples, train_sft

    ex = sft_examples([str(r) for r in recordings], only_success=not all_episodes, agents=agents or None,
                      prompt_style=prompt_style, max_history=history, target=target, visit_samples=visit_samples)
    _print_report(ex)
    if not ex.made:
        raise typer.Exit(code=1)
    try:
        res = train_sft(ex, model, out, _settings("sft", preset_name, model, lr, epochs, max_steps, batch_size,
                                                  grad_accum, max_length, seed, lora_r, lora_alpha, device=device,
                                                  threads=threads))
    except ValueError as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(code=1)
    console.print(res.summary())


def dpo_cmd(
    recordings: list[Path] = typer.Argument(..., help="Recording folders (or folders holding them)."),
    model: str = typer.Option(..., "--model", help="The policy to improve: a model folder or hub id."),
    out: Path = typer.Option(..., "--out", help="Folder for the trained model."),
    pairs: str = typer.Option("step", "--pairs", help=_PAIRS_HELP),
    demos: Optional[list[Path]] = typer.Option(None, "--demos", help="Demo recordings for --pairs demo."),
    min_margin: float = typer.Option(0.1, help="Smallest Q gap of a step pair."),
    min_visits: int = typer.Option(1, help="Fewest visits of a search child to take part."),
    mode: str = typer.Option("best_worst", help="Step pairs: best_worst, all, policy (the policy's own reply, recorded by `improve`) or a combination like best_worst+policy."),
    alpha: Optional[float] = typer.Option(None, help="Blend Q with numeric critiques: alpha*Q + (1-alpha)*critique."),
    prompt_style: str = typer.Option("agent", help="agent (LLMAgent's prompt) or chat (full multi-turn prefix)."),
    history: Optional[int] = typer.Option(None, help="Earlier steps in the prompt."),
    same_seed: bool = typer.Option(True, "--same-seed/--any-seed", help="Pair only episodes of the same seed (--any-seed pairs across seeds)."),
    confidence: float = typer.Option(1.96, help="Step pairs only where the search is sure (z of the bounds; 0: off)."),
    preset_name: str = typer.Option("auto", "--preset", help=_PRESET_HELP),
    beta: Optional[float] = typer.Option(None, help="DPO beta (deviation from the reference)."),
    loss_type: str = typer.Option("sigmoid", help="TRL loss type: sigmoid, ipo, hinge, robust, ..."),
    sft_weight: Optional[float] = typer.Option(None, help="Add TRL's sft loss (NLL of the chosen reply) with this weight (RPO)."),
    lr: Optional[float] = typer.Option(None, "--lr", help="Learning rate (default: the preset's)."),
    epochs: Optional[float] = typer.Option(None, help="Training epochs."),
    max_steps: int = typer.Option(-1, help="Stop after N optimiser steps (overrides --epochs)."),
    batch_size: Optional[int] = typer.Option(None, help="Examples per device batch."),
    grad_accum: int = typer.Option(1, help="Gradient accumulation steps."),
    max_length: int = typer.Option(1024, help="Tokens of prompt + action; older history is dropped to fit."),
    lora_r: int = typer.Option(0, help="LoRA rank (0: full fine-tuning with a copied reference model)."),
    lora_alpha: int = typer.Option(16, help="LoRA alpha."),
    seed: int = typer.Option(0, help="Seed of sampling, shuffling and the weights."),
    device: Optional[str] = typer.Option(None, help="cpu or cuda (default: cuda when available)."),
    threads: int = typer.Option(1, help="torch threads on CPU."),
    evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate", help="Report the DPO loss and reward accuracy "
                                                                          "on the pairs before and after."),
):
    """Off-policy DPO (TRL DPOTrainer) on preference pairs built from recordings."""
    from palaestra.training import train_dpo

    total = _build_pairs(recordings, pairs, demos, min_margin, min_visits, mode, alpha, prompt_style, history,
                         same_seed, confidence)
    if total is None or not total.made:
        console.print("[red]no pairs[/]: record with a searching agent (`palaestra record ID --agent mcts --text --out DIR`) "
                      "or lower --min-margin / --min-visits.")
        raise typer.Exit(code=1)
    try:
        res = train_dpo(total, model, out, _settings("dpo", preset_name, model, lr, epochs, max_steps, batch_size,
                                                     grad_accum, max_length, seed, lora_r, lora_alpha, beta, loss_type,
                                                     device, threads, evaluate, sft_weight))
    except ValueError as err:
        console.print(f"[red]{err}[/]")
        raise typer.Exit(code=1)
    console.print(res.summary())


def improve_cmd(
    env_id: str = typer.Argument(..., help="An env id, e.g. palaestra/ConnectFour-v0"),
    model: str = typer.Option(..., "--model", help="The starting policy (a model folder or hub id)."),
    rounds: int = typer.Option(2, "--rounds", min=1, help="Self-improvement rounds after round 0 (collect, pairs, DPO, evaluate)."),
    out: Path = typer.Option(Path("recordings/improve"), "--out", help="Recordings, models and improve.json go here."),
    episodes: int = typer.Option(100, "--episodes", help="Episodes the policy plays per round (fresh train seeds)."),
    train_seed_start: int = typer.Option(0, help="Round r plays seeds START+(r-1)*EPISODES onwards."),
    test_seeds: int = typer.Option(400, help="Held-out evaluation games per round."),
    test_seed_start: int = typer.Option(10_000, help="Evaluate on seeds START..START+N-1."),
    simulations: int = typer.Option(200, help="MCTS simulations per labelled state."),
    critic: str = typer.Option("none", help="MCTS critic: none (default) or llm (self-critique)."),
    mcts_opt: Optional[list[str]] = typer.Option(None, "--mcts-opt", help="More MCTS options key=value."),
    env_opt: Optional[list[str]] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable; JSON values)."),
    eval_env_opt: Optional[list[str]] = typer.Option(None, "--eval-env-opt", help="Env kwargs for evaluation only."),
    policy_temperature: float = typer.Option(1.0, help="Sampling temperature of the collecting policy."),
    prompt: str = typer.Option("full", help="The policy's prompt: full or compact (state only)."),
    history: int = typer.Option(4, help="Earlier actions in the full prompt."),
    learner: str = typer.Option("dpo", help="dpo (pairs), or sft (the same search labels as SFT targets: the "
                                            "compute-matched control)."),
    pair_mode: str = typer.Option("best_worst+policy", help="Step pairs: best_worst, all, policy, or combined with +."),
    min_margin: float = typer.Option(0.0, help="Smallest q gap between the chosen and the rejected child for a pair."),
    min_visits: int = typer.Option(1, help="Visits each child of a pair needs."),
    confidence: float = typer.Option(1.96, help="z of the pair bounds (0: compare plain Q)."),
    sft_target: str = typer.Option("visits", help="SFT control targets: visits, best or action."),
    visit_samples: int = typer.Option(4, help="Samples drawn from each state's visit distribution for SFT targets."),
    preset_name: str = typer.Option("auto", "--preset", help=_PRESET_HELP),
    lr: Optional[float] = typer.Option(None, "--lr", help="DPO learning rate (default: the preset's)."),
    epochs: Optional[float] = typer.Option(None, help="DPO epochs."),
    batch_size: Optional[int] = typer.Option(None, help="DPO batch size."),
    beta: Optional[float] = typer.Option(None, help="DPO's beta (strength of the pull towards the reference model)."),
    sft_weight: Optional[float] = typer.Option(None, help="Weight of the NLL term on chosen replies (RPO)."),
    loss_type: str = typer.Option("sigmoid", help="DPO loss (TRL's loss_type: sigmoid, ipo, ...)."),
    sft_lr: Optional[float] = typer.Option(None, help="SFT learning rate (learner sft)."),
    sft_epochs: Optional[float] = typer.Option(None, help="Epochs of the round-0 SFT."),
    sft_batch_size: Optional[int] = typer.Option(None, help="Batch size of the round-0 SFT."),
    max_length: int = typer.Option(1024, help="Training tokens of prompt + reply (capped at the model's context)."),
    lora_r: int = typer.Option(0, help="LoRA rank (0: train every weight)."),
    eval_temperature: float = typer.Option(0.0, help="Sampling temperature of the evaluated policy."),
    max_steps: int = typer.Option(200, help="Steps per episode at most."),
    workers: int = typer.Option(2, help="Parallel processes for collection and evaluation."),
    backend: str = typer.Option("process", help="process, ray or auto."),
    audit: int = typer.Option(0, help="Pairs per round re-judged by a stronger search (0: none)."),
    audit_simulations: int = typer.Option(2000, help="Simulations of the stronger search that re-judges a sample of pairs."),
    seed: int = typer.Option(0, help="Seed of sampling, shuffling and the weights."),
    device: Optional[str] = typer.Option(None, help="Torch device (default: cuda when there is one, else cpu)."),
    threads: int = typer.Option(1, help="Torch CPU threads."),
    db: Optional[Path] = typer.Option(None, help="Leaderboard SQLite store for the evaluations (default: "
                                                  "recordings/leaderboard.sqlite when it exists)."),
):
    """Self-improvement: per round the policy plays, MCTS labels its states, DPO (or SFT) learns, evaluation."""
    from palaestra.training.loop import ImproveSettings, improve, rounds_table
    from palaestra.training.trainers import preset

    name = _preset_name(preset_name, model)
    mcts = {"simulations": simulations, "critic": None if critic == "none" else critic, "rollout": "random",
            "search_reward": "true"}
    mcts.update(parse_opts(mcts_opt))
    dpo = preset(name, "dpo", **{k: v for k, v in {"learning_rate": lr, "epochs": epochs, "batch_size": batch_size,
                                                   "beta": beta, "sft_weight": sft_weight}.items() if v is not None},
                 loss_type=loss_type, max_length=max_length, lora_r=lora_r, seed=seed, threads=threads or None)
    sft = preset(name, "sft", **{k: v for k, v in {"learning_rate": sft_lr, "epochs": sft_epochs,
                                                   "batch_size": sft_batch_size}.items() if v is not None},
                 max_length=max_length, lora_r=lora_r, seed=seed, threads=threads or None)
    settings = ImproveSettings(
        env_id=env_id, env_kwargs=parse_opts(env_opt), eval_env_kwargs=parse_opts(eval_env_opt) or None,
        rounds=rounds, episodes_per_round=episodes, train_seed_start=train_seed_start,
        test_seeds=list(range(test_seed_start, test_seed_start + test_seeds)), mcts=mcts,
        policy_temperature=policy_temperature, prompt=prompt, history=history, learner=learner,
        pairs={"mode": pair_mode, "min_margin": min_margin, "min_visits": min_visits,
               "confidence": confidence if confidence > 0 else None},
        sft_target=sft_target, visit_samples=visit_samples, dpo=dpo, sft=sft, eval_temperature=eval_temperature,
        max_steps=max_steps, workers=workers, backend=backend, audit=audit, audit_simulations=audit_simulations,
        device=device, threads=threads or None, seed=seed)
    done = []

    def show(r):
        done.append(r)
        console.print(rounds_table(done, title=f"self-improvement on {env_id} ({learner})"))

    if db is None and Path("recordings/leaderboard.sqlite").exists():
        db = Path("recordings/leaderboard.sqlite")
    improve(model, out, settings, console=console, db=db, on_round=show)
    if db is not None:
        console.print(f"evaluations added to the leaderboard store [bold]{db}[/] (`palaestra leaderboard`)")
    console.print(f"details in [bold]{out / 'improve.json'}[/]")


def value_cmd(
    recordings: list[Path] = typer.Argument(..., metavar="RECORDINGS...", help="Recording folders whose steps carry the search (agent mcts)."),
    out: Path = typer.Option(..., help="Folder to save the value model to (value_model.json + weights)."),
    backend: str = typer.Option("native", help="native (a network on the native observation: games) or text (MiniLM on the text view)."),
    epochs: int = typer.Option(40, min=1, help="Training epochs (the best epoch on held-aside episodes is kept)."),
    lr: float = typer.Option(1e-3, help="Adam learning rate."),
    pair_weight: float = typer.Option(0.5, min=0.0, help="Weight of the pairwise loss on Q-ranked children (0: value regression only)."),
    margin: float = typer.Option(0.1, min=0.0, help="Smallest q gap for a pair of children."),
    min_visits: int = typer.Option(2, min=1, help="Visits each child of a pair needs."),
    holdout: float = typer.Option(0.2, min=0.0, max=0.9, help="Share of whole episodes held out for the report."),
    seed: int = typer.Option(0, help="Seed of the split and the weights."),
):
    """Train a value model on recorded search (q-values and Q-ranked children) for mcts-value and beam."""
    from palaestra.training.value import TextValueModel, save_value_model, train_value
    from palaestra.training.value_data import from_recordings, native_features, text_features

    from ._common import fail, writable_file

    if backend not in ("native", "text"):
        fail(f"--backend {backend!r}: use native or text.")
    writable_file(out / "value_model.json", "value model")
    try:
        data = from_recordings(recordings, featurize=native_features if backend == "native" else text_features,
                               margin=margin, min_visits=min_visits)
    except (FileNotFoundError, TypeError) as err:
        fail(str(err))
    if len(data) == 0:
        fail("no searched steps in these recordings: record with a searching agent, e.g. "
             "`palaestra record palaestra/ConnectFour-v0 --agent mcts --episodes 100`.")
    train, held = data.split(holdout, seed=seed) if holdout > 0 else (data, None)
    model = TextValueModel(seed=seed) if backend == "text" else None
    model, report = train_value(train, model, heldout=held, epochs=epochs, lr=lr, pair_weight=pair_weight, seed=seed)
    save_value_model(model, out, report, data.envs)
    for line in report.lines():
        console.print(line, highlight=False)
    console.print(f"value model in [bold]{out}[/] for {', '.join(sorted(data.envs))}; use it with "
                  f"--agent mcts-value --agent-opt value_model={out} (or beam)")


def register(app: typer.Typer) -> None:
    train_app.command("value")(value_cmd)
    train_app.command("pairs")(pairs_cmd)
    train_app.command("sft")(sft_cmd)
    train_app.command("dpo")(dpo_cmd)
    app.add_typer(train_app, name="train")
    app.command("improve")(improve_cmd)
