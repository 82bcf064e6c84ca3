"""A tiny GPT-2-style model with a byte-level BPE tokenizer, built offline in seconds.

Everything LLM-shaped in palaestra (LLMAgent, MCTS with self-critique, DPO) runs on it
in tests and demos without downloading weights. The tokenizer is trained with
``tokenizers`` on local text (Python's own sources and docstrings, palaestra's
contracts, and board/tool/web phrases); the model is randomly initialised from the
seed, and optionally trained for a few steps on the same text. Both are saved with
``save_pretrained`` so that ``transformers.AutoModelForCausalLM.from_pretrained`` and
``AutoTokenizer.from_pretrained`` load the folder like any hub model.
"""

from __future__ import annotations

import hashlib
import json
import os
import string
import sysconfig
from pathlib import Path

# ChatML-style template: any role, generation prompt for the assistant.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_STDLIB = ["textwrap.py", "string.py", "random.py", "heapq.py", "json/__init__.py", "json/decoder.py", "argparse.py", "functools.py"]


def _synthetic_lines(seed: int) -> list[str]:
    """Phrases palaestra's envs and agents use, so the tokenizer has tokens for them."""
    import random

    rng = random.Random(seed)
    files = string.ascii_lowercase[:8]
    lines = []
    for _ in range(400):
        col = rng.randint(1, 7)
        sq = f"{rng.choice(files)}{rng.randint(1, 8)}{rng.choice(files)}{rng.randint(1, 8)}"
        cell = f"{rng.choice(string.ascii_lowercase[:11])}{rng.randint(1, 11)}"
        lines += [
            f"Action: {col}",
            f"Legal moves: {' '.join(str(i) for i in range(1, 8))}",
            f"Action: {sq}",
            f"Action: {cell}",
            f"Best action: {rng.randint(1, 9)}",
            f"click[{rng.choice(['Buy Now', 'Next', 'Back to Search', 'size', 'color'])}]",
            f"search[{rng.choice(['red shoes', 'usb cable', 'green tea', 'desk lamp'])}]",
            f"select({rng.randint(0, 40)})",
            f'call {{"name": "get_weather", "arguments": {{"city": "Paris", "days": {rng.randint(1, 7)}}}}}',
            f"Positive point: ({rng.randint(0, 999)}, {rng.randint(0, 999)})",
            "Goal: win the game. To move: first (x) (you)",
            ". . . x o . .",
        ]
    return lines


def corpus(seed: int = 0) -> list[str]:
    """The local text the tokenizer (and the optional warm-up training) reads."""
    texts: list[str] = []
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    for rel in _STDLIB:
        path = stdlib / rel
        if path.exists():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    core = Path(__file__).resolve().parents[2] / "core"
    for path in sorted(core.glob("*.py")):
        texts.append(path.read_text(encoding="utf-8"))
    texts.append("\n".join(_synthetic_lines(seed)))
    return texts


def _train_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts, vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL, show_progress=False)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token="<|endoftext|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = 2048
    return tok


def _warm_up(model, tok, texts, steps: int, seed: int, block: int = 128, lr: float = 3e-3):
    """A few steps of next-token training so that samples look like the corpus."""
    import torch

    ids = []
    for text in texts:
        ids.extend(tok(text)["input_ids"] + [tok.pad_token_id])
    data = torch.tensor(ids, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        starts = torch.randint(0, len(data) - block - 1, (8,), generator=gen)
        batch = torch.stack([data[s : s + block] for s in starts])
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def build_tiny_model(
    out_dir,
    seed: int = 0,
    vocab_size: int = 2048,
    n_layer: int = 2,
    n_embd: int = 64,
    n_head: int = 2,
    n_positions: int = 2048,
    train_steps: int = 0,
) -> Path:
    """Write a tiny GPT-2 model + byte-level BPE tokenizer (with a chat template) to ``out_dir``.

    ``seed`` fixes the weights; ``train_steps`` > 0 trains on the local corpus for that
    many steps of batch 8 (about 1 s per 20 steps on one CPU thread). Returns the path.
    """
    import torch
    from transformers import GenerationConfig, GPT2Config, GPT2LMHeadModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    texts = corpus(seed)
    tok = _train_tokenizer(texts, vocab_size)
    config = GPT2Config(
        vocab_size=len(tok),
        n_positions=n_positions,
        n_embd=n_embd,
        n_layer=n_layer,
        n_head=n_head,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config)
    if train_steps > 0:
        _warm_up(model, tok, texts, train_steps, seed)
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id
    )
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "palaestra_tiny.json").write_text(
        json.dumps({"seed": seed, "vocab_size": vocab_size, "n_layer": n_layer, "n_embd": n_embd, "n_head": n_head,
                    "n_positions": n_positions, "train_steps": train_steps}, indent=1)
    )
    return out


def cache_dir() -> Path:
    """``$PALAESTRA_CACHE`` or ``~/.cache/palaestra``."""
    return Path(os.environ.get("PALAESTRA_CACHE") or Path.home() / ".cache" / "palaestra")


def tiny_model_path(seed: int = 0, **kwargs) -> Path:
    """The tiny model in the cache, built once per settings and corpus; returns its folder."""
    key = json.dumps({"seed": seed, **kwargs}, sort_keys=True).encode()
    digest = hashlib.sha1(key + "".join(corpus(seed)).encode()).hexdigest()[:10]
    path = cache_dir() / f"tiny-gpt2-{digest}"
    if not (path / "config.json").exists() or not (path / "tokenizer.json").exists():
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        build_tiny_model(tmp, seed=seed, **kwargs)
        try:
            tmp.rename(path)
        except OSError:  # another process built it first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return path
