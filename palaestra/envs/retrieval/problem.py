"""One chunk-selection problem: a question, its top-N candidates with token costs, a budget."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .corpus import Chunk, Corpus, Question

_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    cost: int  # tokens
    score: float  # first-stage retrieval score
    rank: int  # 0 = best by the retriever
    injected: bool = False  # a gold chunk the retriever missed, added by ensure_gold


@dataclass
class Problem:
    task_id: str
    question: Question
    candidates: list[Candidate]
    budget: int
    retriever: str = "bm25"
    #: N x N lexical (Jaccard) similarity between candidates; and candidate-query overlap
    sim: np.ndarray = field(default=None, repr=False)
    qsim: np.ndarray = field(default=None, repr=False)
    #: the corpus the candidates come from (for cached embeddings)
    corpus: Corpus | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return len(self.candidates)

    def cost(self, seq) -> int:
        return sum(self.candidates[i].cost for i in seq)

    # ---- evidence (what "success" means) ------------------------------------------
    def fact_states(self, seq) -> dict[str, float]:
        """Each needed fact: 1 supported, 0.5 supported and contradicted, 0 missing or only contradicted."""
        out = {}
        chunks = [self.candidates[i].chunk for i in seq]
        for key in self.question.facts:
            sup = any(key in c.supports for c in chunks)
            con = any(key in c.contradicts for c in chunks)
            out[key] = 1.0 if sup and not con else 0.5 if sup and con else 0.0
        return out

    def evidence_complete(self, seq) -> bool:
        """Generated worlds: every needed fact supported and none contradicted;
        user corpora: every gold chunk chosen."""
        if self.question.facts:
            return all(v == 1.0 for v in self.fact_states(seq).values())
        gold = set(self.question.gold_chunk_ids)
        if not gold:
            return False
        return gold <= {self.candidates[i].chunk.id for i in seq}

    def is_relevant(self, i: int) -> bool:
        c = self.candidates[i].chunk
        if self.question.facts:
            need = set(self.question.facts)
            return bool(need & set(c.supports)) or bool(need & set(c.contradicts))
        return c.id in set(self.question.gold_chunk_ids)


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def build_problem(corpus: Corpus, question: Question, retriever, top_n: int, budget: int,
                  ensure_gold: bool = True) -> Problem:
    """Retrieve the top-N candidates for ``question``; with ``ensure_gold`` a gold chunk the
    retriever missed replaces the lowest-ranked non-gold candidate (keeping its own score)."""
    scores = retriever.scores(question.query)
    order = np.argsort(-scores, kind="stable")
    top = [int(i) for i in order[:top_n]]
    injected: set[int] = set()
    if ensure_gold:
        needed: list[list[int]] = []
        if question.facts:
            for key in question.facts:
                idx = [corpus.index_of(c.id) for c in corpus.chunks if key in c.supports]
                if idx:
                    needed.append(idx)
        else:
            needed = [[corpus.index_of(g)] for g in question.gold_chunk_ids]
        chosen = set(top)
        gold_all = {i for group in needed for i in group}
        for group in needed:
            if chosen & set(group):
                continue
            best = max(group, key=lambda i: (float(scores[i]), -i))
            victims = [i for i in reversed(top) if i not in gold_all and i not in injected]
            if not victims:
                break
            top.remove(victims[0])
            chosen.discard(victims[0])
            top.append(best)
            chosen.add(best)
            injected.add(best)
        top.sort(key=lambda i: (-float(scores[i]), i))
    costs = corpus.costs
    cands = [Candidate(corpus.chunks[i], int(costs[i]), float(scores[i]), r, i in injected) for r, i in enumerate(top)]
    words = [_words(c.chunk.text) for c in cands]
    n = len(cands)
    sim = np.zeros((n, n), dtype=np.float32)
    for a in range(n):
        for b in range(a, n):
            u = len(words[a] | words[b]) or 1
            sim[a, b] = sim[b, a] = len(words[a] & words[b]) / u
    q = _words(question.query)
    qsim = np.array([len(q & w) / (len(q) or 1) for w in words], dtype=np.float32)
    return Problem(question.id, question, cands, int(budget), getattr(retriever, "kind", "?"), sim, qsim, corpus)
