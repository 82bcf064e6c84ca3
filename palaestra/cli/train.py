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
                 mode: str, alpha: float | None, prompt_style: str, history: int | None, same_seed: bool):
    from palaestra.training import demo_pairs, episode_pairs, step_pairs

    sources = [str(r) for r in recordings]
    total = None
    for kind in [k.strip() for k in kinds.split(",") if k.strip()]:
        if kind == "step":
            got = step_pairs(sources, min_margin=min_margin, min_visits=min_visits, mode=mode, alpha=alpha,
                             prompt_style=prompt_style, max_history=history)
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


def _settings(lr, epochs, max_steps, batch_size, grad_accum, max_length, seed, lora_r, lora_alpha, beta=0.1,
              loss_type="sigmoid", device=None, threads=1, evaluate=False, sft_weight=0.0):
    from palaestra.training.trainers import TrainSettings

    return TrainSettings(learning_rate=lr, epochs=epochs, max_steps=max_steps, batch_size=batch_size,
                         grad_accum=grad_accum, max_length=max_length, seed=seed, lora_r=lora_r, lora_alpha=lora_alpha,
                         beta=beta, loss_type=loss_type, device=device, threads=threads or None, evaluate=evaluate,
                         sft_weight=sft_weight)


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
):
    """Build preference pairs from recordings and save them (TRL's conversational format)."""
    total = _build_pairs(recordings, pairs, demos, min_margin, min_visits, mode, alpha, prompt_style, history,
                         same_seed)
    ds = total.dataset
    if out.suffix == ".jsonl":
        out.parent.mkdir(parents=True, exist_ok=True)
        ds.to_json(str(out), lines=True)
    else:
        ds.save_to_disk(str(out))
    console.print(f"{total.summary()}\nsaved {len(ds)} pairs to [bold]{out}[/]")


def sft_cmd(
    recordings: list[Path] = typer.Argument(..., help="Recording folders (or folders holding them)."),
    model: str = typer.Option(..., "--model", help="A model folder or hub id (`palaestra model tiny DIR` builds one)."),
    out: Path = typer.Option(..., "--out", help="Folder for the trained model."),
    agents: Optional[list[str]] = typer.Option(None, "--agent", help="Only episodes by these agents (e.g. oracle, human)."),
    all_episodes: bool = typer.Option(False, "--all-episodes", help="Imitate failed episodes too."),
    prompt_style: str = typer.Option("agent", help="agent (LLMAgent's prompt) or chat (full multi-turn prefix)."),
    history: Optional[int] = typer.Option(None, help="Earlier steps in the prompt."),
    lr: float = typer.Option(1e-4, "--lr", help="Learning rate."),
    epochs: float = typer.Option(1.0),
    max_steps: int = typer.Option(-1, help="Stop after N optimiser steps (overrides --epochs)."),
    batch_size: int = typer.Option(4),
    grad_accum: int = typer.Option(1),
    max_length: int = typer.Option(1024, help="Tokens of prompt + action; older history is dropped to fit."),
    lora_r: int = typer.Option(0, help="LoRA rank (0: full fine-tuning)."),
    lora_alpha: int = typer.Option(16),
    seed: int = typer.Option(0),
    device: Optional[str] = typer.Option(None, help="cpu or cuda (default: cuda when available)."),
    threads: int = typer.Option(1, help="torch threads on CPU (more is slower on a busy machine)."),
):
    """Supervised fine-tuning (TRL SFTTrainer) on successful or oracle/human episodes."""
    from palaestra.training import sft_examples, train_sft

    ex = sft_examples([str(r) for r in recordings], only_success=not all_episodes, agents=agents or None,
                      prompt_style=prompt_style, max_history=history)
    _print_report(ex)
    if not ex.made:
        raise typer.Exit(code=1)
    res = train_sft(ex, model, out, _settings(lr, epochs, max_steps, batch_size, grad_accum, max_length, seed,
                                              lora_r, lora_alpha, device=device, threads=threads))
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
    same_seed: bool = typer.Option(True, "--same-seed/--any-seed"),
    beta: float = typer.Option(0.1, help="DPO beta (deviation from the reference)."),
    loss_type: str = typer.Option("sigmoid", help="TRL loss type: sigmoid, ipo, hinge, robust, ..."),
    sft_weight: float = typer.Option(0.0, help="Add TRL's sft loss (NLL of the chosen reply) with this weight (RPO)."),
    lr: float = typer.Option(5e-6, "--lr", help="Learning rate."),
    epochs: float = typer.Option(1.0),
    max_steps: int = typer.Option(-1, help="Stop after N optimiser steps (overrides --epochs)."),
    batch_size: int = typer.Option(4),
    grad_accum: int = typer.Option(1),
    max_length: int = typer.Option(1024, help="Tokens of prompt + action; older history is dropped to fit."),
    lora_r: int = typer.Option(0, help="LoRA rank (0: full fine-tuning with a copied reference model)."),
    lora_alpha: int = typer.Option(16),
    seed: int = typer.Option(0),
    device: Optional[str] = typer.Option(None, help="cpu or cuda (default: cuda when available)."),
    threads: int = typer.Option(1, help="torch threads on CPU."),
    evaluate: bool = typer.Option(False, "--evaluate", help="Report the DPO loss on the pairs before and after."),
):
    """Off-policy DPO (TRL DPOTrainer) on preference pairs built from recordings."""
    from palaestra.training import train_dpo

    total = _build_pairs(recordings, pairs, demos, min_margin, min_visits, mode, alpha, prompt_style, history,
                         same_seed)
    if total is None or not total.made:
        console.print("[red]no pairs[/]: record with a searching agent (`palaestra record ID --agent mcts --text --out DIR`) "
                      "or lower --min-margin / --min-visits.")
        raise typer.Exit(code=1)
    res = train_dpo(total, model, out, _settings(lr, epochs, max_steps, batch_size, grad_accum, max_length, seed,
                                                 lora_r, lora_alpha, beta, loss_type, device, threads, evaluate,
                                                 sft_weight))
    console.print(res.summary())


def improve_cmd(
    env_id: str = typer.Argument(..., help="An env id, e.g. palaestra/ConnectFour-v0"),
    model: str = typer.Option(..., "--model", help="The starting policy (a model folder or hub id)."),
    rounds: int = typer.Option(1, "--rounds", min=1),
    out: Path = typer.Option(Path("recordings/improve"), "--out", help="Recordings, models and improve.json go here."),
    train_seeds: int = typer.Option(16, help="Collect on seeds 0..N-1."),
    test_seeds: int = typer.Option(32, help="Evaluate on seeds 10000..10000+N-1 (held out)."),
    simulations: int = typer.Option(50, help="MCTS simulations per move."),
    critic: str = typer.Option("llm", help="MCTS critic: llm (self-critique) or none."),
    mcts_opt: Optional[list[str]] = typer.Option(None, "--mcts-opt", help="More MCTS options key=value."),
    env_opt: Optional[list[str]] = typer.Option(None, "--env-opt", help="Env kwarg key=value (repeatable)."),
    min_margin: float = typer.Option(0.1),
    min_visits: int = typer.Option(1),
    pair_mode: str = typer.Option("best_worst+policy", help="Step pairs: best_worst, all, policy, or combined with +."),
    beta: float = typer.Option(0.1),
    loss_type: str = typer.Option("sigmoid"),
    sft_weight: float = typer.Option(1.0, help="Weight of the NLL term on chosen replies (keeps them likely)."),
    lr: float = typer.Option(5e-5, "--lr"),
    epochs: float = typer.Option(2.0),
    max_steps: int = typer.Option(-1),
    batch_size: int = typer.Option(4),
    lora_r: int = typer.Option(0),
    eval_temperature: float = typer.Option(0.0, help="Sampling temperature of the evaluated policy."),
    seed: int = typer.Option(0),
    device: Optional[str] = typer.Option(None),
    threads: int = typer.Option(1),
    db: Optional[Path] = typer.Option(None, help="Leaderboard SQLite store for the evaluations (default: "
                                                  "recordings/leaderboard.sqlite when it exists)."),
):
    """Self-improvement: per round, MCTS collects, step pairs, DPO, evaluation of the plain policy."""
    from palaestra.training.loop import ImproveSettings, improve, rounds_table
    from palaestra.training.trainers import TrainSettings

    mcts = {"simulations": simulations, "critic": None if critic == "none" else critic, "rollout": "random"}
    mcts.update(parse_opts(mcts_opt))
    settings = ImproveSettings(
        env_id=env_id, env_kwargs=parse_opts(env_opt), rounds=rounds, train_seeds=list(range(train_seeds)),
        test_seeds=list(range(10_000, 10_000 + test_seeds)), mcts=mcts,
        pairs={"min_margin": min_margin, "min_visits": min_visits, "mode": pair_mode}, probe="policy" in pair_mode,
        dpo=TrainSettings(learning_rate=lr, epochs=epochs, max_steps=max_steps, batch_size=batch_size, beta=beta,
                          loss_type=loss_type, sft_weight=sft_weight, lora_r=lora_r, seed=seed, device=device, threads=threads or None),
        eval_temperature=eval_temperature, device=device, threads=threads or None, seed=seed)
    done = []

    def show(r):
        done.append(r)
        console.print(rounds_table(done, title=f"self-improvement on {env_id}"))

    if db is None and Path("recordings/leaderboard.sqlite").exists():
        db = Path("recordings/leaderboard.sqlite")
    improve(model, out, settings, console=console, db=db, on_round=show)
    if db is not None:
        console.print(f"evaluations added to the leaderboard store [bold]{db}[/] (`palaestra leaderboard`)")
    console.print(f"details in [bold]{out / 'improve.json'}[/]")


def register(app: typer.Typer) -> None:
    train_app.command("pairs")(pairs_cmd)
    train_app.command("sft")(sft_cmd)
    train_app.command("dpo")(dpo_cmd)
    app.add_typer(train_app, name="train")
    app.command("improve")(improve_cmd)
