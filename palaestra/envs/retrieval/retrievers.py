"""First-stage retrieval: bm25s (lexical), MiniLM embeddings (dense) and their fusion.

Dense embeddings of a corpus are computed once and cached on disk, keyed by the corpus
hash and the model name, under ``$PALAESTRA_CACHE`` (default ``~/.cache/palaestra``)
``/retrieval/``. Indexes are also cached in memory per process.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from .corpus import Corpus

RETRIEVERS = ("bm25", "dense", "hybrid")
MODEL_NAME = "all-MiniLM-L6-v2"


def cache_dir() -> Path:
    root = os.environ.get("PALAESTRA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "palaestra")
    path = Path(root) / "retrieval"
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.lru_cache(maxsize=1)
def embedding_model():
    """The packaged all-MiniLM-L6-v2 as a sentence-transformers model, offline; on CUDA
    when there is one, else the CPU (``$PALAESTRA_DEVICE`` overrides)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from palaestra.core import require

    st = require("sentence_transformers", "retrieval")
    import torch

    from .tokens import model_dir

    device = os.environ.get("PALAESTRA_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    return st.SentenceTransformer(str(model_dir()), device=device)


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """L2-normalised MiniLM embeddings (float32, one row per text)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = embedding_model()
    out = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False,
                       convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32)


def corpus_embeddings(corpus: Corpus, progress: bool = False) -> np.ndarray:
    """Embeddings of every chunk, read from the on-disk cache or computed and saved."""
    path = cache_dir() / f"{corpus.hash}-{MODEL_NAME}.npy"
    if path.exists():
        emb = np.load(path)
        if emb.shape[0] == len(corpus):
            return emb
    texts = corpus.texts
    if progress:
        from rich.progress import track

        parts = [embed(texts[i:i + 256]) for i in track(range(0, len(texts), 256), description="embedding corpus")]
        emb = np.concatenate(parts) if parts else embed([])
    else:
        emb = embed(texts)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npy")
    np.save(tmp, emb)
    os.replace(tmp, path)
    return emb


class BM25Retriever:
    """bm25s over the chunk texts (English stopwords removed)."""

    kind = "bm25"

    def __init__(self, corpus: Corpus):
        import bm25s

        self.corpus = corpus
        self._bm25s = bm25s
        self.index = bm25s.BM25()
        self.index.index(bm25s.tokenize(corpus.texts, stopwords="en", show_progress=False), show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every chunk for ``query``."""
        tokens = self._bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)[0]
        if not tokens:
            return np.zeros(len(self.corpus), dtype=np.float32)
        return np.asarray(self.index.get_scores(tokens), dtype=np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return _top(self.scores(query), k)


class DenseRetriever:
    """Cosine similarity of MiniLM embeddings (corpus embeddings cached on disk)."""

    kind = "dense"

    def __init__(self, corpus: Corpus):
        self.corpus = corpus
        self.emb = corpus_embeddings(corpus, progress=len(corpus) > 2000)

    def scores(self, query: str) -> np.ndarray:
        return self.emb @ embed([query])[0]

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return _top(self.scores(query), k)


class HybridRetriever:
    """Reciprocal rank fusion (k=60) of BM25 and dense rankings."""

    kind = "hybrid"

    def __init__(self, corpus: Corpus, rrf_k: int = 60):
        self.corpus = corpus
        self.parts = [get_retriever(corpus, "bm25"), get_retriever(corpus, "dense")]
        self.rrf_k = rrf_k

    def scores(self, query: str) -> np.ndarray:
        total = np.zeros(len(self.corpus), dtype=np.float64)
        for part in self.parts:
            s = part.scores(query)
            ranks = np.empty(len(s), dtype=np.int64)
            ranks[np.argsort(-s, kind="stable")] = np.arange(len(s))
            total += 1.0 / (self.rrf_k + 1 + ranks)
        return total.astype(np.float32)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        return _top(self.scores(query), k)


def _top(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    k = min(int(k), len(scores))
    order = np.argsort(-scores, kind="stable")[:k]
    return [(int(i), float(scores[i])) for i in order]


_CACHE: dict[tuple[str, str], object] = {}


def get_retriever(corpus: Corpus, kind: str = "bm25"):
    """A retriever of ``kind`` (bm25, dense, hybrid) for ``corpus``, cached per corpus hash."""
    if kind not in RETRIEVERS:
        raise ValueError(f"retriever={kind!r}: use one of {', '.join(RETRIEVERS)}")
    key = (corpus.hash, kind)
    if key not in _CACHE:
        cls = {"bm25": BM25Retriever, "dense": DenseRetriever, "hybrid": HybridRetriever}[kind]
        _CACHE[key] = cls(corpus)
    return _CACHE[key]
