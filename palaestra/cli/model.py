"""``palaestra model ...``: local language models for tests and demos."""

from __future__ import annotations

import typer

model_app = typer.Typer(help="Local language models: build the offline tiny model.", no_args_is_help=True)


@model_app.command("tiny")
def tiny(
    out_dir: str = typer.Argument(..., metavar="OUT_DIR", help="folder to write the model and tokenizer to"),
    seed: int = typer.Option(0, help="seed of the weights and the synthetic corpus"),
    vocab_size: int = typer.Option(2048, help="byte-level BPE vocabulary size"),
    n_layer: int = typer.Option(2, help="transformer layers"),
    n_embd: int = typer.Option(64, help="embedding width"),
    train_steps: int = typer.Option(0, help="warm-up training steps on the local corpus (0: random weights)"),
):
    """Write a tiny GPT-2-style model + BPE tokenizer (with a chat template) to OUT_DIR."""
    from palaestra.agents.llm.tiny import build_tiny_model
    from palaestra.cli._common import console

    with console.status("building the tiny model..."):
        path = build_tiny_model(out_dir, seed=seed, vocab_size=vocab_size, n_layer=n_layer, n_embd=n_embd,
                                train_steps=train_steps)
    size = sum(p.stat().st_size for p in path.iterdir()) / 1e6
    console.print(f"[green]wrote[/] {path} ({size:.1f} MB). Use it with: --agent llm --agent-opt model={path}")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
