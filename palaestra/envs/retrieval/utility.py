"""Utilities of a chosen chunk sequence: ``value(problem, seq) -> float`` in [0, 1].

- ``AnswerUtility`` (generated worlds; exact and deterministic): a simulated reader
  answers from the facts the chunks state. A needed fact counts 1 when supported, 0.5
  when both supported and contradicted, 0 when missing or only contradicted. Credit is
  per hop by default (``credit="per-hop"``): the mean over the needed facts, so a
  two-hop question with one hop established scores 0.5 and every hop found pays.
  ``credit="all-or-nothing"`` scores factoid, multi-hop and comparison answers 1.0 only
  when every fact is established, else 0 (a lone hop is worth nothing; list answers keep
  the mean, each item being one fact). Every
  chunk that bears on no needed fact (a topical distractor) costs ``distractor_penalty``;
  near-duplicates cost nothing but budget. Non-additive and non-monotone in the chunks.
- ``GoldUtility`` (user corpora with gold chunk ids): recall of gold chunks (found at
  the sentence level by the loader), minus ``distractor_penalty`` per non-gold chunk.
  Additive: greedy equals the oracle on it.
- ``AnswerRerankerUtility`` (``"answer-reranker"``, the default for user corpora): the
  MiniLM cosine of the question with its gold answer and the chosen chunks concatenated
  in order (MiniLM reads 256 tokens). It reads the answer, so only the scorer may use it;
  it is not additive (a second chunk on the same sentence adds little, an off-topic one
  dilutes) and needs no gold ids.
- ``RerankerUtility`` (CARROT; agent-side): cosine of MiniLM embeddings of the query and
  of the chunks concatenated in order (MiniLM reads 256 tokens, so order matters).
- ``PooledRerankerUtility`` (``"pooled"``; agent-side, fast): the same cosine with the
  concatenation's embedding approximated by the token-weighted sum of the chunks' own
  (disk-cached) embeddings, each chunk weighted by its tokens inside MiniLM's 256-token
  window, so order still matters. One query embedding per task, no model call per set.
- ``ReaderUtility``: a reader LLM (any LanguageModel: ``generate(prompts, n, temperature,
  max_new_tokens)``) answers from the chunks; token F1 or ROUGE-L against the gold answer.

Utilities memoise values per (task, sequence); ``values`` evaluates many at once.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .problem import Problem

UTILITIES = ("answer", "gold", "answer-reranker", "reranker", "pooled", "reader")
#: utilities computed only from what an agent may see (query, chunk texts, token counts)
AGENT_UTILITIES = ("reranker", "pooled")
CREDITS = ("per-hop", "all-or-nothing")


class Utility:
    name = "utility"
    order_invariant = True

    def __init__(self):
        self._memo: dict = {}

    def _key(self, problem: Problem, seq) -> tuple:
        seq = tuple(sorted(seq)) if self.order_invariant else tuple(seq)
        return (problem.task_id, problem.question.query, seq)

    def value(self, problem: Problem, seq) -> float:
        key = self._key(problem, seq)
        v = self._memo.get(key)
        if v is None:
            if len(self._memo) > 200_000:
                self._memo.clear()
            v = self._memo[key] = float(self._compute(problem, key[2]))
        return v

    def values(self, problem: Problem, seqs) -> list[float]:
        return [self.value(problem, s) for s in seqs]

    def upper_bound(self, problem: Problem, seq, remaining) -> float:
        """A value no extension of ``seq`` by chunks of ``remaining`` can exceed."""
        return 1.0

    def _compute(self, problem: Problem, seq) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AnswerUtility(Utility):
    name = "answer"

    def __init__(self, distractor_penalty: float = 0.04, credit: str = "per-hop"):
        super().__init__()
        if credit not in CREDITS:
            raise ValueError(f"credit={credit!r}: use 'per-hop' (the mean over needed facts) or 'all-or-nothing'")
        self.distractor_penalty = float(distractor_penalty)
        self.credit = credit

    def _check(self, problem: Problem):
        if not problem.question.facts:
            raise ValueError(
                "utility='answer' needs a generated world whose questions name their facts; "
                "for a user corpus use utility='gold', 'reranker' or 'reader'."
            )

    def _score(self, problem: Problem, states: list[float]) -> float:
        if not states:
            return 0.0
        mean = sum(states) / len(states)
        if problem.question.qtype == "list" or self.credit == "per-hop":
            return mean
        return 1.0 if all(s == 1.0 for s in states) else 0.0

    def _penalty(self, problem: Problem, seq) -> float:
        return self.distractor_penalty * sum(1 for i in seq if not problem.is_relevant(i))

    def _compute(self, problem: Problem, seq) -> float:
        self._check(problem)
        states = list(problem.fact_states(seq).values())
        return max(0.0, self._score(problem, states) - self._penalty(problem, seq))

    def upper_bound(self, problem: Problem, seq, remaining) -> float:
        self._check(problem)
        chosen = [problem.candidates[i].chunk for i in seq]
        avail = [problem.candidates[i].chunk for i in remaining]
        best = []
        for key in problem.question.facts:
            sup = any(key in c.supports for c in chosen) or any(key in c.supports for c in avail)
            con = any(key in c.contradicts for c in chosen)
            best.append(0.0 if not sup else 0.5 if con else 1.0)
        return max(0.0, self._score(problem, best) - self._penalty(problem, seq))


class GoldUtility(Utility):
    name = "gold"

    def __init__(self, distractor_penalty: float = 0.04):
        super().__init__()
        self.distractor_penalty = float(distractor_penalty)

    def _gold(self, problem: Problem) -> set[str]:
        gold = set(problem.question.gold_chunk_ids)
        if not gold:
            raise ValueError(f"question {problem.task_id!r} has no gold_chunk_ids; utility='gold' needs them "
                             "(use utility='reranker' or 'reader' instead).")
        return gold

    def _compute(self, problem: Problem, seq) -> float:
        gold = self._gold(problem)
        ids = {problem.candidates[i].chunk.id for i in seq}
        recall = len(gold & ids) / len(gold)
        return max(0.0, recall - self.distractor_penalty * len(ids - gold))

    def upper_bound(self, problem: Problem, seq, remaining) -> float:
        gold = self._gold(problem)
        ids = {problem.candidates[i].chunk.id for i in seq}
        more = {problem.candidates[i].chunk.id for i in remaining}
        recall = len(gold & (ids | more)) / len(gold)
        return max(0.0, recall - self.distractor_penalty * len(ids - gold))


class RerankerUtility(Utility):
    """CARROT's utility: similarity of the query and the ordered concatenation (MiniLM)."""

    name = "reranker"
    order_invariant = False

    def __init__(self, separator: str = "\n"):
        super().__init__()
        self.separator = separator
        self._qemb: dict[str, np.ndarray] = {}

    def _query(self, problem: Problem) -> np.ndarray:
        q = problem.question.query
        if q not in self._qemb:
            from .retrievers import embed

            self._qemb[q] = embed([q])[0]
        return self._qemb[q]

    def _text(self, problem: Problem, seq) -> str:
        return self.separator.join(problem.candidates[i].chunk.text for i in seq)

    def _compute(self, problem: Problem, seq) -> float:
        return self.values(problem, [seq])[0]

    def values(self, problem: Problem, seqs) -> list[float]:
        keys = [self._key(problem, s) for s in seqs]
        todo = [k for k in dict.fromkeys(keys) if k not in self._memo and k[2]]
        if todo:
            from .retrievers import embed

            emb = embed([self._text(problem, k[2]) for k in todo])
            sims = emb @ self._query(problem)
            for k, s in zip(todo, sims):
                self._memo[k] = max(0.0, float(s))
        return [self._memo.get(k, 0.0) if k[2] else 0.0 for k in keys]

    def value(self, problem: Problem, seq) -> float:
        return self.values(problem, [seq])[0]


class AnswerRerankerUtility(RerankerUtility):
    """Scorer-side: MiniLM cosine of "question answer" and the ordered chosen text."""

    name = "answer-reranker"

    def _query(self, problem: Problem) -> np.ndarray:
        q = problem.question.query + " " + problem.question.answer
        if q not in self._qemb:
            from .retrievers import embed

            self._qemb[q] = embed([q])[0]
        return self._qemb[q]

    def _key(self, problem: Problem, seq) -> tuple:
        return (problem.task_id, problem.question.query, problem.question.answer, tuple(seq))

    def values(self, problem: Problem, seqs) -> list[float]:
        if not problem.question.answer:
            raise ValueError(f"question {problem.task_id!r} has no answer; utility='answer-reranker' scores "
                             "against it (give one in questions.jsonl, or use utility='gold')")
        keys = [self._key(problem, s) for s in seqs]
        todo = [k for k in dict.fromkeys(keys) if k not in self._memo and k[3]]
        if todo:
            from .retrievers import embed

            emb = embed([self._text(problem, k[3]) for k in todo])
            sims = emb @ self._query(problem)
            for k, s in zip(todo, sims):
                self._memo[k] = max(0.0, float(s))
        return [self._memo.get(k, 0.0) if k[3] else 0.0 for k in keys]


class PooledRerankerUtility(Utility):
    """Agent-side and fast: CARROT's reranker cosine with the concatenation's embedding
    approximated from the chunks' cached embeddings (see the module docstring)."""

    name = "pooled"
    order_invariant = False

    def __init__(self, window: int = 256):
        super().__init__()
        self.window = int(window)
        self._qemb: dict[str, np.ndarray] = {}
        self._cemb: dict[str, np.ndarray] = {}

    def _embs(self, problem: Problem) -> tuple[np.ndarray, np.ndarray]:
        from .retrievers import corpus_embeddings, embed

        q = problem.question.query
        if q not in self._qemb:
            self._qemb[q] = embed([q])[0]
        key = problem.task_id + "\x00" + q
        if key not in self._cemb:
            if problem.corpus is not None:
                allv = corpus_embeddings(problem.corpus)
                idx = [problem.corpus.index_of(c.chunk.id) for c in problem.candidates]
                self._cemb[key] = allv[idx]
            else:
                self._cemb[key] = embed([c.chunk.text for c in problem.candidates])
            if len(self._cemb) > 4096:
                self._cemb.clear()
        return self._qemb[q], self._cemb[key]

    def _compute(self, problem: Problem, seq) -> float:
        if not seq:
            return 0.0
        q, cand = self._embs(problem)
        vec = np.zeros_like(q)
        used = 0
        for i in seq:
            w = max(0, min(problem.candidates[i].cost, self.window - used))
            used += problem.candidates[i].cost
            vec += w * cand[i]
        norm = float(np.linalg.norm(vec))
        return max(0.0, float(vec @ q) / norm) if norm > 0 else 0.0


# ---- reader ------------------------------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = re.compile(r"[^\w\s]")


def normalize_answer(text: str) -> list[str]:
    """SQuAD-style normalisation: lower case, no punctuation or articles, split on spaces."""
    text = _PUNCT.sub(" ", text.lower())
    return _ARTICLES.sub(" ", text).split()


def token_f1(prediction: str, gold: str) -> float:
    p, g = normalize_answer(prediction), normalize_answer(gold)
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def rouge_l(prediction: str, gold: str) -> float:
    """ROUGE-L F-measure (longest common subsequence of normalised tokens)."""
    p, g = normalize_answer(prediction), normalize_answer(gold)
    if not p or not g:
        return float(p == g)
    prev = [0] * (len(g) + 1)
    for a in p:
        cur = [0]
        for j, b in enumerate(g, 1):
            cur.append(prev[j - 1] + 1 if a == b else max(prev[j], cur[j - 1]))
        prev = cur
    lcs = prev[-1]
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(p), lcs / len(g)
    return 2 * precision * recall / (precision + recall)


class ReaderUtility(Utility):
    """A reader LLM answers from the chosen chunks; its answer is scored against the gold."""

    name = "reader"
    order_invariant = False

    def __init__(self, llm, metric: str = "f1", max_new_tokens: int = 32):
        super().__init__()
        if llm is None or not hasattr(llm, "generate"):
            raise ValueError("utility='reader' needs a language model: pass llm=<LanguageModel> "
                             "(e.g. palaestra.agents.llm.load_lm('tiny') or a transformers/OpenAI back-end).")
        if metric not in ("f1", "rougeL"):
            raise ValueError(f"metric={metric!r}: use 'f1' or 'rougeL'")
        self.llm, self.metric, self.max_new_tokens = llm, metric, int(max_new_tokens)
        self.answers: dict = {}

    def prompt(self, problem: Problem, seq) -> list[dict]:
        context = "\n".join(f"[{n}] {problem.candidates[i].chunk.text}" for n, i in enumerate(seq, 1))
        return [
            {"role": "system", "content": "Answer the question using only the context. Reply with the answer only."},
            {"role": "user", "content": f"Context:\n{context or '(none)'}\n\nQuestion: {problem.question.query}\nAnswer:"},
        ]

    def _compute(self, problem: Problem, seq) -> float:
        return self.values(problem, [seq])[0]

    def values(self, problem: Problem, seqs) -> list[float]:
        keys = [self._key(problem, s) for s in seqs]
        todo = [k for k in dict.fromkeys(keys) if k not in self._memo]
        if todo:
            replies = self.llm.generate([self.prompt(problem, k[2]) for k in todo], n=1, temperature=0.0,
                                        max_new_tokens=self.max_new_tokens)
            score = token_f1 if self.metric == "f1" else rouge_l
            for k, r in zip(todo, replies):
                text = (r[0] if r else "").strip().split("\n")[0]
                self.answers[k] = text
                self._memo[k] = score(text, problem.question.answer)
        return [self._memo[k] for k in keys]

    def value(self, problem: Problem, seq) -> float:
        return self.values(problem, [seq])[0]


def make_utility(spec, llm=None, **options) -> Utility:
    """A utility from a name (answer, gold, reranker, reader) or an object with ``value``."""
    if hasattr(spec, "value"):
        return spec
    if spec == "answer":
        return AnswerUtility(**options)
    if spec == "gold":
        return GoldUtility(**options)
    if spec == "reranker":
        return RerankerUtility(**options)
    if spec == "answer-reranker":
        return AnswerRerankerUtility(**options)
    if spec == "pooled":
        return PooledRerankerUtility(**options)
    if spec == "reader":
        return ReaderUtility(llm, **options)
    raise ValueError(f"utility={spec!r}: use one of {', '.join(UTILITIES)} or a Utility object")
