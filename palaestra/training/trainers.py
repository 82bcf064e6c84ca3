"""SFT and DPO with TRL on a local model, saved so that ``TransformersLM`` loads it back.

:func:`train_dpo` wraps ``trl.DPOTrainer``, :func:`train_sft` wraps ``trl.SFTTrainer``.
Both load the model from a folder (or hub id) themselves, keep prompts within the
model's context by dropping the oldest history exchanges (never the instructions or
the current observation), show a rich progress bar, and save the trained weights and
tokenizer (with its chat template) to ``out_dir`` with a ``palaestra_training.json``
describing the run.

The DPO reference model is a deep copy of the loaded policy passed as ``ref_model``:
without it TRL reloads the reference *by the name in the model's config*, which for a
model built or trained locally is a folder that may have moved, or a hub id that is
not the same weights. With LoRA (``lora_r > 0``) no copy is needed: TRL computes the
reference by disabling the adapter; the adapter is merged before saving.
"""

from __future__ import annotations

import copy
import json
import math
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class TrainSettings:
    learning_rate: float = 5e-5
    epochs: float = 1.0
    max_steps: int = -1          # > 0 overrides epochs
    batch_size: int = 2
    grad_accum: int = 1
    max_length: int = 1024       # tokens of prompt + completion (prompts are trimmed to fit)
    seed: int = 0
    lora_r: int = 0              # 0: full fine-tuning; > 0: LoRA rank through peft
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    threads: int | None = 1      # torch.set_num_threads; None leaves it
    device: str | None = None    # None: CUDA when available, else CPU
    warmup_steps: int = 0
    # DPO only
    beta: float = 0.1
    loss_type: str = "sigmoid"
    sft_weight: float = 0.0      # > 0 adds TRL's "sft" loss (NLL of the chosen reply; RPO) with this weight
    evaluate: bool = False       # DPO loss on the training pairs before and after training


# Settings that make the tiny offline model (2 x 64 GPT-2, `palaestra model tiny`) learn on
# CPU: the library defaults (lr 5e-5, batch 2-4) are for billion-parameter models and move
# a tiny random-init model by almost nothing (SFT loss 7.56 -> 6.61, DPO eval loss
# 0.6931 -> 0.6929 with the old CLI defaults). Chosen on training loss and train-pair
# reward accuracy only, never on held-out games.
PRESETS = {
    "tiny": {
        "sft": {"learning_rate": 2e-3, "epochs": 2.0, "batch_size": 32, "warmup_steps": 10},
        "dpo": {"learning_rate": 3e-4, "epochs": 2.0, "batch_size": 32, "beta": 0.1, "sft_weight": 1.0,
                "warmup_steps": 5},
    },
    "default": {"sft": {}, "dpo": {}},
}


def preset(name: str, kind: str, **overrides) -> "TrainSettings":
    """TrainSettings from a named preset (``"tiny"`` or ``"default"``) for ``kind``
    (``"sft"`` or ``"dpo"``), with ``overrides`` on top."""
    if name not in PRESETS:
        raise ValueError(f"preset {name!r}: use one of {', '.join(PRESETS)}.")
    if kind not in ("sft", "dpo"):
        raise ValueError(f"kind {kind!r}: use 'sft' or 'dpo'.")
    return TrainSettings(**{**PRESETS[name][kind], **overrides})


@dataclass
class TrainResult:
    path: Path
    kind: str
    examples: int
    trimmed: int
    dropped_too_long: int
    steps: int
    losses: list[float] = field(default_factory=list)
    loss_before: float | None = None
    loss_after: float | None = None
    reward_accuracy: float | None = None
    wall_s: float = 0.0
    max_length_note: str = ""

    def summary(self) -> str:
        first = f"{self.losses[0]:.4f}" if self.losses else "-"
        last = f"{self.losses[-1]:.4f}" if self.losses else "-"
        extra = ""
        if self.loss_before is not None and self.loss_after is not None:
            extra = f"; eval loss {self.loss_before:.4f} -> {self.loss_after:.4f}"
        if self.reward_accuracy is not None:
            extra += f"; reward accuracy {self.reward_accuracy:.1%} (chosen scored above rejected, training pairs)"
        if self.max_length_note:
            extra += f"; {self.max_length_note}"
        return (f"{self.kind}: {self.examples} examples ({self.trimmed} trimmed, {self.dropped_too_long} too long), "
                f"{self.steps} steps, loss {first} -> {last}{extra}, {self.wall_s:.1f} s; saved to {self.path}")


@contextmanager
def _quiet():
    """Our rich bar replaces the progress bars and log prints of datasets/transformers."""
    import datasets
    import transformers

    ds_on = datasets.utils.logging.is_progress_bar_enabled()
    tf_on = transformers.utils.logging.is_progress_bar_enabled()
    datasets.utils.logging.disable_progress_bar()
    transformers.utils.logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            # TRL's configs default gradient_checkpointing=True; turning it off for small models names the
            # deprecated field, which transformers 5 warns about on every run.
            warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)
            yield
    finally:
        if ds_on:
            datasets.utils.logging.enable_progress_bar()
        if tf_on:
            transformers.utils.logging.enable_progress_bar()


def _drop_printer(trainer) -> None:
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def _device(settings: TrainSettings):
    import torch

    if settings.device:
        return settings.device
    return "cuda" if torch.cuda.is_available() else "cpu"


def load_policy(model_path, settings: TrainSettings):
    """The model in float32 (on CUDA training runs in bfloat16 autocast, the weights and the
    optimiser stay float32) and its tokenizer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if settings.threads:
        torch.set_num_threads(int(settings.threads))
    dtype = torch.float32
    try:
        tok = AutoTokenizer.from_pretrained(str(model_path))
        model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=dtype)
    except OSError as err:
        raise OSError(f"could not load a causal LM from {model_path!r}: {err}. Pass a folder saved with "
                      "save_pretrained (e.g. `palaestra model tiny DIR`) or a hub id.") from err
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    if not getattr(tok, "chat_template", None):
        raise ValueError(f"the tokenizer of {model_path} has no chat template; palaestra's prompts are chat messages. "
                         "Set tokenizer.chat_template (e.g. a ChatML template) and save it with the model.")
    return model, tok


def _context(model) -> int | None:
    cfg = model.config
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        v = getattr(cfg, key, None)
        if isinstance(v, int) and v > 0:
            return v
    return None


def _cap(settings: "TrainSettings", model) -> tuple["TrainSettings", str]:
    """``max_length`` no longer than the model's positions (beyond them GPT-2 raises an
    IndexError mid-training); the note says when it was lowered."""
    limit = _context(model)
    if limit is None or settings.max_length <= limit:
        return settings, ""
    note = f"max_length {settings.max_length} lowered to the model's {limit} positions"
    return TrainSettings(**{**asdict(settings), "max_length": limit}), note


def _none_fit(n: int, settings: "TrainSettings", what: str) -> ValueError:
    return ValueError(
        f"all {n} {what} are longer than max_length={settings.max_length} tokens (prompt + reply), so none is left "
        "to train on. Raise --max-length (up to the model's context), shorten the prompts (--history 0, a compact "
        "prompt), or use a model with a longer context.")


def _fit(rows: list[dict], tokenizer, max_length: int, completion_keys: tuple[str, ...]):
    from .prompts import fit_to_length

    kept, trimmed, dropped = [], 0, 0
    for row in rows:
        prompt = fit_to_length(row["prompt"], [row[k] for k in completion_keys], tokenizer, max_length)
        if prompt is None:
            dropped += 1
            continue
        if len(prompt) != len(row["prompt"]):
            trimmed += 1
        kept.append({**row, "prompt": prompt})
    return kept, trimmed, dropped


def _rows(data) -> list[dict]:
    if hasattr(data, "rows") and isinstance(getattr(data, "rows"), list):
        return list(data.rows)
    if hasattr(data, "to_list"):
        return data.to_list()
    return list(data)


class _RichProgress:
    """A ``transformers.TrainerCallback`` drawing a rich progress bar with the running loss."""

    def __new__(cls, description: str, enabled: bool = True):
        from transformers import TrainerCallback

        class Callback(TrainerCallback):
            def __init__(self):
                self.progress = None
                self.task = None
                self.losses: list[float] = []

            def on_train_begin(self, args, state, control, **kw):
                if enabled:
                    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

                    self.progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                             TextColumn("{task.fields[loss]}"), TimeElapsedColumn(), transient=False)
                    self.progress.start()
                    self.task = self.progress.add_task(description, total=state.max_steps, loss="")

            def on_log(self, args, state, control, logs=None, **kw):
                if logs and "loss" in logs and "eval_loss" not in logs:
                    self.losses.append(float(logs["loss"]))
                    if self.progress is not None:
                        self.progress.update(self.task, loss=f"loss {logs['loss']:.4f}")

            def on_step_end(self, args, state, control, **kw):
                if self.progress is not None:
                    self.progress.update(self.task, completed=state.global_step)

            def on_train_end(self, args, state, control, **kw):
                if self.progress is not None:
                    self.progress.stop()
                    self.progress = None

        return Callback()


def _common_args(settings: TrainSettings, out_dir: Path, progress: bool) -> dict:
    dev = _device(settings)
    return dict(
        output_dir=str(out_dir / "checkpoints"),
        per_device_train_batch_size=settings.batch_size,
        per_device_eval_batch_size=settings.batch_size,
        gradient_accumulation_steps=settings.grad_accum,
        learning_rate=settings.learning_rate,
        num_train_epochs=settings.epochs,
        max_steps=settings.max_steps if settings.max_steps and settings.max_steps > 0 else -1,
        warmup_steps=settings.warmup_steps,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=not dev.startswith("cuda"),
        seed=settings.seed,
        data_seed=settings.seed,
        max_length=settings.max_length,
        disable_tqdm=True,
        dataloader_num_workers=0,
        gradient_checkpointing=False,
        bf16=dev.startswith("cuda") and _bf16_ok(),
        remove_unused_columns=True,
    )


def _bf16_ok() -> bool:
    import torch

    return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())


def _peft_config(settings: TrainSettings):
    if not settings.lora_r:
        return None
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha, lora_dropout=settings.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")


def _save(trainer, tokenizer, out_dir: Path, settings: TrainSettings, meta: dict) -> None:
    model = trainer.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    import torch

    model = model.to(torch.float32)  # saved in float32: loads on any device
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    (out_dir / "palaestra_training.json").write_text(json.dumps({**meta, "settings": asdict(settings)}, indent=1,
                                                                default=str))


def train_dpo(pairs, model, out_dir, settings: TrainSettings | None = None, progress: bool = True,
              **overrides) -> TrainResult:
    """Train ``model`` (a folder or hub id) with ``trl.DPOTrainer`` on ``pairs`` (a
    :class:`~palaestra.training.pairs.PairSet`, a ``datasets.Dataset`` or a list of rows in
    the conversational preference format); save to ``out_dir``. ``overrides`` set fields
    of :class:`TrainSettings` (``beta``, ``loss_type``, ``learning_rate``, ``max_steps``...)."""
    with _quiet():
        return _train_dpo(pairs, model, out_dir, settings, progress, **overrides)


def _train_dpo(pairs, model, out_dir, settings, progress, **overrides) -> TrainResult:
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    settings = settings or TrainSettings(learning_rate=5e-6)
    settings = TrainSettings(**{**asdict(settings), **overrides})
    out_dir = Path(out_dir)
    start = time.perf_counter()
    policy, tok = load_policy(model, settings)
    settings, note = _cap(settings, policy)
    given = _rows(pairs)
    rows, trimmed, too_long = _fit(given, tok, settings.max_length, ("chosen", "rejected"))
    if not rows and given:
        raise _none_fit(len(given), settings, "preference pairs")
    if not rows:
        raise ValueError("no preference pairs to train on (all dropped or none given). Record episodes with a "
                         "searching agent (`--agent mcts`) and check the pair report for why pairs were dropped.")
    from .pairs import pair_features

    dataset = Dataset.from_list(rows, features=pair_features())
    dataset = dataset.select_columns(["prompt", "chosen", "rejected"])
    peft_config = _peft_config(settings)
    ref = None if peft_config is not None else copy.deepcopy(policy)
    losses, weights = [settings.loss_type], [1.0]
    if settings.sft_weight > 0:  # keeps the chosen replies likely: DPO alone can push both down (RPO)
        losses, weights = losses + ["sft"], weights + [float(settings.sft_weight)]
    args = DPOConfig(beta=settings.beta, loss_type=losses, loss_weights=weights, precompute_ref_log_probs=False,
                     **_common_args(settings, out_dir, progress))
    callback = _RichProgress(f"DPO ({len(rows)} pairs)", enabled=progress)
    trainer = DPOTrainer(model=policy, ref_model=ref, args=args, train_dataset=dataset, processing_class=tok,
                         peft_config=peft_config, callbacks=[callback])
    _drop_printer(trainer)
    before = after = acc = None
    if settings.evaluate:
        before = float(trainer.evaluate(eval_dataset=trainer.train_dataset)["eval_loss"])
    trainer.train()
    if settings.evaluate:
        ev = trainer.evaluate(eval_dataset=trainer.train_dataset)
        after = float(ev["eval_loss"])
        acc = ev.get("eval_rewards/accuracies")
    result = TrainResult(out_dir, "dpo", len(rows), trimmed, too_long, trainer.state.global_step,
                         [x for x in callback.losses if not math.isnan(x)], before, after,
                         None if acc is None else float(acc), 0.0, note)
    result.wall_s = time.perf_counter() - start
    _save(trainer, tok, out_dir, settings, {"kind": "dpo", "base_model": str(model), "pairs": len(rows),
                                            "trimmed": trimmed, "dropped_too_long": too_long,
                                            "losses": result.losses, "loss_before": before, "loss_after": after})
    return result


def train_sft(examples, model, out_dir, settings: TrainSettings | None = None, progress: bool = True,
              **overrides) -> TrainResult:
    """Fine-tune ``model`` with ``trl.SFTTrainer`` on prompt/completion ``examples`` (an
    :class:`~palaestra.training.pairs.ExampleSet`, a ``datasets.Dataset`` or rows); the loss
    is on the completions (the actions) only. Save to ``out_dir``."""
    with _quiet():
        return _train_sft(examples, model, out_dir, settings, progress, **overrides)


def _train_sft(examples, model, out_dir, settings, progress, **overrides) -> TrainResult:
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    settings = settings or TrainSettings(learning_rate=1e-3)
    settings = TrainSettings(**{**asdict(settings), **overrides})
    out_dir = Path(out_dir)
    start = time.perf_counter()
    policy, tok = load_policy(model, settings)
    settings, note = _cap(settings, policy)
    given = _rows(examples)
    rows, trimmed, too_long = _fit(given, tok, settings.max_length, ("completion",))
    if not rows and given:
        raise _none_fit(len(given), settings, "examples")
    if not rows:
        raise ValueError("no examples to train on: record successful (or oracle/human) episodes first, or pass "
                         "--all-episodes to imitate failed ones too.")
    dataset = Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
    args = SFTConfig(completion_only_loss=True, packing=False, **_common_args(settings, out_dir, progress))
    callback = _RichProgress(f"SFT ({len(rows)} examples)", enabled=progress)
    trainer = SFTTrainer(model=policy, args=args, train_dataset=dataset, processing_class=tok,
                         peft_config=_peft_config(settings), callbacks=[callback])
    _drop_printer(trainer)
    before = after = None
    if settings.evaluate:
        before = float(trainer.evaluate(eval_dataset=trainer.train_dataset)["eval_loss"])
    trainer.train()
    if settings.evaluate:
        after = float(trainer.evaluate(eval_dataset=trainer.train_dataset)["eval_loss"])
    result = TrainResult(out_dir, "sft", len(rows), trimmed, too_long, trainer.state.global_step,
                         [x for x in callback.losses if not math.isnan(x)], before, after, max_length_note=note)
    result.wall_s = time.perf_counter() - start
    _save(trainer, tok, out_dir, settings, {"kind": "sft", "base_model": str(model), "examples": len(rows),
                                            "trimmed": trimmed, "dropped_too_long": too_long,
                                            "losses": result.losses, "loss_before": before, "loss_after": after})
    return result
