"""A learned value model of chunk sequences (CORAG's learned component), trained on the
train split only.

Features of an ordered sequence are computed from what an agent may see (the view: the
query, its embedding, the candidate texts, embeddings and token costs): the pooled
reranker cosine (CARROT's proxy), how many chunks and tokens, the best, mean and worst
chunk-query cosine, the share of the query's words and names the chunks cover, names
that link two chosen chunks but are not in the query (a bridge between hops), the most
similar pair (redundancy), pairs that look alike but state different names or numbers
(a possible contradiction), chunks that share no word with the query, and the query
type. A gradient-boosted regressor (scikit-learn) maps them to the scorer's utility,
with labels collected on train-split tasks only through
``planning_env(true_reward=True)``, the explicit data-collection opt-in. At test time it
reads only the view, like any agent.

``ValueModel.train(env, seeds)`` fits it; ``values(view, seqs)`` predicts;
``save(path)`` / ``ValueModel.load(path)``.
"""

from __future__ import annotations

import pickle
import random
import re
from pathlib import Path

import numpy as np

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9,']*")
_STOP = frozenset("a an the of in on at to is was were which who what where when how did does do by for and or "
                  "with from as its it that this be been are city company".split())
QTYPE_CODES = ("factoid", "multihop", "comparison", "list", "user")
FEATURE_NAMES = ("pooled", "n_chunks", "token_share", "cos_max", "cos_mean", "cos_min", "query_words",
                 "query_names", "bridges", "redundancy", "conflicts", "off_topic") + tuple(
    f"qtype_{t}" for t in QTYPE_CODES)


def _tokens(text: str) -> list[str]:
    return [w.strip(",'") for w in _WORD.findall(text)]


class _Task:
    """Per-task precomputation of what the features need (all public)."""

    def __init__(self, view):
        self.query = view.query
        self.qtype = view.qtype
        self.budget = float(view.budget)
        cands = view.candidates()
        self.costs = [c.cost for c in cands]
        q, emb = view.query_embedding(), view.candidate_embeddings()
        self.emb = np.asarray(emb, dtype=np.float32)
        self.q = np.asarray(q, dtype=np.float32)
        self.cos = self.emb @ self.q
        qt = _tokens(self.query)
        self.qwords = {w.lower() for w in qt if w.lower() not in _STOP and len(w) > 2}
        self.qnames = {w for w in qt[1:] if w[:1].isupper()}
        self.words, self.names, self.marks = [], [], []
        for c in cands:
            t = _tokens(c.text)
            self.words.append({w.lower() for w in t})
            names = {w for w in t[1:] if w[:1].isupper()}
            self.names.append(names)
            self.marks.append(names | {w for w in t if w[:1].isdigit()})
        n = len(cands)
        self.sim = np.zeros((n, n), dtype=np.float32)
        for a in range(n):
            for b in range(a + 1, n):
                u = len(self.words[a] | self.words[b]) or 1
                self.sim[a, b] = self.sim[b, a] = len(self.words[a] & self.words[b]) / u

    def features(self, seq) -> list[float]:
        seq = tuple(seq)
        out = [0.0] * len(FEATURE_NAMES)
        code = QTYPE_CODES.index(self.qtype) if self.qtype in QTYPE_CODES else len(QTYPE_CODES) - 1
        out[12 + code] = 1.0
        if not seq:
            return out
        vec, used = np.zeros_like(self.q), 0
        for i in seq:
            w = max(0, min(self.costs[i], 256 - used))
            used += self.costs[i]
            vec += w * self.emb[i]
        norm = float(np.linalg.norm(vec))
        cos = self.cos[list(seq)]
        words = set().union(*(self.words[i] for i in seq))
        name_count: dict[str, int] = {}
        for i in seq:
            for w in self.names[i] - self.qnames:
                name_count[w] = name_count.get(w, 0) + 1
        pairs = [(a, b) for k, a in enumerate(seq) for b in seq[k + 1:]]
        out[0] = float(vec @ self.q) / norm if norm > 0 else 0.0
        out[1] = len(seq)
        out[2] = sum(self.costs[i] for i in seq) / max(1.0, self.budget)
        out[3], out[4], out[5] = float(cos.max()), float(cos.mean()), float(cos.min())
        out[6] = len(self.qwords & words) / max(1, len(self.qwords))
        out[7] = len({w.lower() for w in self.qnames} & words) / max(1, len(self.qnames))
        out[8] = min(3, sum(1 for v in name_count.values() if v >= 2))
        out[9] = max((float(self.sim[a, b]) for a, b in pairs), default=0.0)
        out[10] = sum(1 for a, b in pairs if self.sim[a, b] > 0.25 and self.marks[a] != self.marks[b]
                      and self.marks[a] & self.marks[b])
        out[11] = sum(1 for i in seq if not (self.words[i] & self.qwords))
        return out


class ValueModel:
    """Predicts the scorer's utility of a sequence from agent-side features."""

    def __init__(self, model=None, meta: dict | None = None):
        self.model = model
        self.meta = dict(meta or {})
        self._tasks: dict = {}

    def _task(self, view) -> _Task:
        key = (view.query, tuple(c.text for c in view.candidates()), float(view.budget))
        t = self._tasks.get(key)
        if t is None:
            if len(self._tasks) > 256:
                self._tasks.clear()
            t = self._tasks[key] = _Task(view)
        return t

    def values(self, view, seqs) -> list[float]:
        """Predicted utility minus the view's cost penalty, for each sequence."""
        if self.model is None:
            raise RuntimeError("this value model is not trained; call ValueModel.train(...) or load one")
        seqs = [tuple(s) for s in seqs]
        t = self._task(view)
        x = np.array([t.features(s) for s in seqs], dtype=np.float32)
        pred = self.model.predict(x)
        lam = float(view.cost_penalty)
        return [float(p) - lam * sum(t.costs[i] for i in s) / max(1.0, t.budget) for p, s in zip(pred, seqs)]

    # ---- training (train split only) -----------------------------------------------
    @classmethod
    def train(cls, env, seeds, sets_per_task: int = 60, seed: int = 0, rounds: int = 1, search_simulations: int = 150,
              hard_per_task: int = 10, progress=None) -> ValueModel:
        """Fit on the tasks of ``seeds`` (each must be in the train split; refused
        otherwise). Labels: the scorer's utility of sampled sequences, read through
        ``planning_env(true_reward=True)`` (data collection).

        ``rounds > 1`` adds the search's own mistakes: after each fit, a CARROT search
        with the model runs on every training task, the ``hard_per_task`` sequences it
        rates highest are labelled by the scorer and added, and the model is refitted
        (a search exploits a value model's over-estimates; this teaches it where they are).
        """
        xs, ys = [], []
        model = cls._fit(env, seeds, sets_per_task, seed, xs, ys, progress)
        for _ in range(max(0, int(rounds) - 1)):
            cls._hard_examples(env, seeds, model, search_simulations, hard_per_task, seed, xs, ys)
            model = cls(cls._regressor(xs, ys, seed), {"tasks": len(list(seeds)), "rows": len(ys),
                                                       "features": FEATURE_NAMES, "rounds": rounds})
        return model

    @staticmethod
    def _regressor(xs, ys, seed):
        from palaestra.core import require

        ensemble = require("sklearn.ensemble", "retrieval")
        model = ensemble.HistGradientBoostingRegressor(max_iter=300, learning_rate=0.05, max_leaf_nodes=31,
                                                       random_state=seed)
        model.fit(np.array(xs, dtype=np.float32), np.array(ys, dtype=np.float32))
        return model

    @classmethod
    def _hard_examples(cls, env, seeds, model, simulations, per_task, seed, xs, ys):
        from .agents import CarrotAgent

        base = env.unwrapped
        agent = CarrotAgent(simulations=simulations, value_model=model, seed=seed)
        for s in seeds:
            base.reset(seed=int(s))
            agent.reset(env)
            agent.search()
            top = sorted(agent.evaluated.items(), key=lambda kv: -kv[1])[:per_task]
            seqs = [q for q, _ in top]
            labels = base.planning_env(true_reward=True).rewards_of(seqs)  # data collection on the train split
            t = model._task(base.planning_env())
            lam = base.cost_penalty
            for q, y in zip(seqs, labels):
                xs.append(t.features(q))
                ys.append(y + lam * sum(t.costs[i] for i in q) / max(1.0, t.budget))

    @classmethod
    def _fit(cls, env, seeds, sets_per_task, seed, xs, ys, progress) -> ValueModel:
        base = env.unwrapped
        rng = random.Random(seed)
        for s in seeds:
            base.reset(seed=int(s))
            if base.task.split != "train":
                raise ValueError(f"task {base.task.id!r} is in the {base.task.split!r} split; train the value model "
                                 "on train-split tasks only (generated worlds: seeds that are not 4 mod 5)")
            scorer = base.planning_env(true_reward=True)  # data collection: labels from the scorer
            view = base.planning_env()
            t = _Task(view)
            n, budget = len(t.costs), int(view.budget)
            seqs = {()} | {(i,) for i in range(n) if t.costs[i] <= budget}
            for _ in range(sets_per_task * 4):
                if len(seqs) >= sets_per_task + n + 1:
                    break
                order = rng.sample(range(n), n)
                seq, used, stop = [], 0, rng.randint(1, n)
                for i in order:
                    if len(seq) >= stop:
                        break
                    if used + t.costs[i] <= budget:
                        seq.append(i)
                        used += t.costs[i]
                seqs.add(tuple(seq))
            seqs = sorted(seqs)
            labels = scorer.rewards_of(seqs)
            lam = base.cost_penalty
            for q, y in zip(seqs, labels):
                xs.append(t.features(q))
                ys.append(y + lam * sum(t.costs[i] for i in q) / max(1, budget))  # the utility itself
            if progress is not None:
                progress()
        return cls(cls._regressor(xs, ys, seed), {"tasks": len(list(seeds)), "rows": len(ys),
                                                  "features": FEATURE_NAMES})

    def save(self, path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            pickle.dump({"model": self.model, "meta": self.meta, "features": FEATURE_NAMES}, fh)
        return path

    @classmethod
    def load(cls, path) -> ValueModel:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no value model at {path}; train one with ValueModel.train(env, train_seeds)"
                                    ".save(path)")
        with open(path, "rb") as fh:
            blob = pickle.load(fh)
        if not isinstance(blob, dict) or tuple(blob.get("features", ())) != FEATURE_NAMES:
            raise ValueError(f"{path} is not a value model of this version (features differ); train it again")
        return cls(blob["model"], blob.get("meta"))
