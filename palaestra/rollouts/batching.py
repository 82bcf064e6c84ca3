"""Gather the concurrent calls of many agents into batched calls to one local model."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future


class BatchingLM:
    """A :class:`~palaestra.agents.llm.LanguageModel` that batches across threads.

    Calls to ``generate`` (and ``score``) made at about the same time from different
    threads are merged: a dispatcher thread waits up to ``max_wait_s`` for more calls with
    the same settings (``n``, ``temperature``, ``max_new_tokens``), up to ``max_batch``
    prompts, then makes one call to the wrapped model and hands each caller its share.
    ``seed`` is kept per call only when the calls are not merged; a merged batch is
    sampled with the first call's seed (each prompt still gets its own samples).
    """

    def __init__(self, lm, max_batch: int = 32, max_wait_s: float = 0.005):
        self.lm = lm
        self.max_batch, self.max_wait_s = max(1, int(max_batch)), float(max_wait_s)
        self.name = getattr(lm, "name", type(lm).__name__)
        self._cv = threading.Condition()
        self._queue: list[tuple] = []  # (kind, settings, items, future, seed)
        self._closed = False
        self.calls = 0  # calls made to the wrapped model
        self.requests = 0  # calls received
        self._thread = threading.Thread(target=self._run, name="palaestra-batching-lm", daemon=True)
        self._thread.start()

    @property
    def usage(self) -> dict:
        return getattr(self.lm, "usage", {"prompt_tokens": 0, "completion_tokens": 0})

    def __getattr__(self, name):
        return getattr(self.lm, name)

    # ---- the LanguageModel protocol --------------------------------------------
    def generate(self, prompts, n: int = 1, temperature: float = 1.0, max_new_tokens: int = 64,
                 seed: int | None = None) -> list[list[str]]:
        return self._submit("generate", (int(n), float(temperature), int(max_new_tokens)), list(prompts), seed)

    def score(self, prompts, completions) -> list[float]:
        if len(prompts) != len(completions):
            raise ValueError(f"score needs one completion per prompt, got {len(prompts)} and {len(completions)}.")
        return self._submit("score", (), list(zip(prompts, completions)), None)

    def close(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout=5)

    # ---- the dispatcher --------------------------------------------------------
    def _submit(self, kind, key, items, seed):
        if not items:
            return []
        fut: Future = Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("BatchingLM is closed; make a new one.")
            self._queue.append((kind, key, items, fut, seed))
            self.requests += 1
            self._cv.notify_all()
        return fut.result()

    def _take_batch(self):
        with self._cv:
            while not self._queue and not self._closed:
                self._cv.wait()
            if not self._queue:
                return None
            deadline = time.monotonic() + self.max_wait_s
            kind, key = self._queue[0][0], self._queue[0][1]
            while True:
                same = [q for q in self._queue if q[0] == kind and q[1] == key]
                if sum(len(q[2]) for q in same) >= self.max_batch or self._closed:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cv.wait(left)
            batch, size = [], 0
            for q in list(self._queue):
                if q[0] == kind and q[1] == key and (not batch or size + len(q[2]) <= self.max_batch):
                    batch.append(q)
                    size += len(q[2])
                    self._queue.remove(q)
            return kind, key, batch

    def _run(self):
        while True:
            taken = self._take_batch()
            if taken is None:
                return
            kind, key, batch = taken
            items = [item for q in batch for item in q[2]]
            try:
                if kind == "generate":
                    n, temperature, max_new_tokens = key
                    out = self.lm.generate(items, n=n, temperature=temperature, max_new_tokens=max_new_tokens,
                                           seed=batch[0][4])
                else:
                    out = self.lm.score([p for p, _ in items], [c for _, c in items])
                self.calls += 1
            except BaseException as err:  # noqa: BLE001 - every caller of the batch gets the error
                for q in batch:
                    q[3].set_exception(err)
                continue
            pos = 0
            for q in batch:
                q[3].set_result(out[pos: pos + len(q[2])])
                pos += len(q[2])
