"""Chat completions from any OpenAI-compatible server (vLLM, llama.cpp, hosted APIs)."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .images import text_only
from .prompts import plain_prompt

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class APIError(RuntimeError):
    """A request to the server failed for good (after retries, or not retryable)."""


class OpenAICompatibleLM:
    """A :class:`LanguageModel` over ``POST {base_url}/chat/completions``.

    ``timeout`` (seconds per request), ``max_retries`` with exponential backoff and
    jitter on timeouts, connection errors, 429 and 5xx (``Retry-After`` honoured),
    ``concurrency`` requests in flight at most (prompts of one call run in parallel up
    to it). ``n`` samples per prompt are asked for in one request; servers that return
    fewer (llama.cpp ignores ``n``) are asked again for the rest. Token accounting in
    ``usage`` comes from the server's ``usage`` fields.

    ``score`` needs the legacy ``/completions`` endpoint with ``echo`` and ``logprobs``
    (vLLM has it): the prompt is rendered in a plain "Role: text" format unless
    ``score_template`` (a callable messages -> text) is given.

    ``multimodal=True`` says the served model reads images: messages whose content is a
    list of parts (``image_url`` parts with base64 PNG data URLs, see :mod:`.images`)
    go to the server as they are. Otherwise image parts are replaced by a placeholder.
    """

    def __init__(self, base_url: str, model: str, api_key: str | None = None, timeout: float = 60.0,
                 max_retries: int = 4, concurrency: int = 8, backoff: float = 0.5, score_template=None,
                 extra_body: dict | None = None, multimodal: bool = False, **_ignored):
        import httpx

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"{self.base_url}#{model}"
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self.timeout, self.max_retries, self.backoff = float(timeout), int(max_retries), float(backoff)
        self.concurrency = max(1, int(concurrency))
        self._client = httpx.Client(headers=headers, timeout=self.timeout,
                                    limits=httpx.Limits(max_connections=self.concurrency))
        self._sem = threading.Semaphore(self.concurrency)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="palaestra-lm")
        self.score_template = score_template or plain_prompt
        self.extra_body = dict(extra_body or {})
        self.multimodal = bool(multimodal)
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}
        self.retries = 0  # requests retried, for reports

    def __repr__(self) -> str:
        return f"OpenAICompatibleLM({self.base_url!r}, model={self.model!r})"

    def close(self):
        self._pool.shutdown(wait=False)
        self._client.close()

    # ---- transport -------------------------------------------------------------
    def _post(self, path: str, body: dict) -> dict:
        import httpx

        url = f"{self.base_url}{path}"
        last = None
        for attempt in range(self.max_retries + 1):
            wait = self.backoff * (2**attempt) * (0.5 + random.random() / 2)
            try:
                with self._sem:
                    resp = self._client.post(url, json=body)
            except (httpx.TimeoutException, httpx.TransportError) as err:
                last = f"{type(err).__name__}: {err}"
            else:
                if resp.status_code == 200:
                    # JSON is UTF-8: decoding the bytes directly skips httpx's charset
                    # detection (about 0.7 ms a response, the most CPU of a rollout step)
                    data = json.loads(resp.content)
                    usage = data.get("usage") or {}
                    with self._lock:
                        self.usage["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
                        self.usage["completion_tokens"] += int(usage.get("completion_tokens") or 0)
                    return data
                last = f"HTTP {resp.status_code}: {resp.text[:300]}"
                if resp.status_code not in _RETRY_STATUS:
                    raise APIError(f"{url} refused the request ({last}). Check the model name "
                                   f"{self.model!r}, the API key and the request options.")
                after = resp.headers.get("retry-after")
                if after:
                    try:
                        wait = max(wait, float(after))
                    except ValueError:
                        pass
            if attempt < self.max_retries:
                with self._lock:
                    self.retries += 1
                time.sleep(min(wait, 30.0))
        raise APIError(f"{url} failed after {self.max_retries + 1} attempts (last: {last}). Is the server up and "
                       f"reachable? Raise timeout= or max_retries= for slow servers.")

    # ---- LanguageModel -----------------------------------------------------------
    def _chat(self, messages, n, temperature, max_new_tokens, seed) -> list[str]:
        if not self.multimodal:
            messages = text_only(messages)
        texts: list[str] = []
        asks = 0
        while len(texts) < n:
            body = {"model": self.model, "messages": messages, "n": n - len(texts), "temperature": float(temperature),
                    "max_tokens": int(max_new_tokens), **self.extra_body}
            if seed is not None:
                body["seed"] = int(seed) + asks
            data = self._post("/chat/completions", body)
            choices = sorted(data.get("choices") or [], key=lambda c: c.get("index", 0))
            if not choices:
                raise APIError(f"{self.base_url}/chat/completions returned no choices: {str(data)[:300]}")
            texts.extend((c.get("message") or {}).get("content") or "" for c in choices)
            asks += 1
            if asks > n:  # a server that keeps returning nothing useful
                break
        return texts[:n]

    def generate(self, prompts, n: int = 1, temperature: float = 1.0, max_new_tokens: int = 64,
                 seed: int | None = None) -> list[list[str]]:
        futures = [self._pool.submit(self._chat, p, n, temperature, max_new_tokens,
                                     None if seed is None else int(seed) + 1000 * i)
                   for i, p in enumerate(prompts)]
        return [f.result() for f in futures]

    def _score_one(self, messages, completion) -> tuple[float, int]:
        prefix = self.score_template(text_only(messages))
        sep = "" if prefix.endswith((" ", "\n")) or completion.startswith((" ", "\n")) else " "
        text = prefix + sep + completion
        body = {"model": self.model, "prompt": text, "echo": True, "logprobs": 1, "max_tokens": 1,
                "temperature": 0.0}
        data = self._post("/completions", body)
        try:
            lp = data["choices"][0]["logprobs"]
            offsets, values = lp["text_offset"], lp["token_logprobs"]
        except (KeyError, IndexError, TypeError) as err:
            raise APIError(f"{self.base_url}/completions did not return echoed logprobs ({err}); score() needs a "
                           "server with echo+logprobs on /completions (vLLM has it).") from None
        # A token belongs to the completion when it ends inside it: the first completion token
        # usually carries the separating space (" 4" starts one character before the completion),
        # so tokens are selected by where they end, not where they start. The token generated
        # after the echo (offset >= the text's end) is not part of it.
        start, end = len(prefix), len(text)
        total, count = 0.0, 0
        for i, (o, v) in enumerate(zip(offsets, values)):
            if o >= end:
                break
            stop = offsets[i + 1] if i + 1 < len(offsets) else end
            if stop > start and v is not None:
                total += float(v)
                count += 1
        return total, count

    def score(self, prompts, completions: list[str], reduce: str = "sum") -> list[float]:
        if reduce not in ("sum", "mean"):
            raise ValueError(f"reduce={reduce!r}: use 'sum' or 'mean' (per-token log-probability).")
        if len(prompts) != len(completions):
            raise ValueError(f"score needs one completion per prompt, got {len(prompts)} and {len(completions)}.")
        futures = [self._pool.submit(self._score_one, p, c) for p, c in zip(prompts, completions)]
        out = [f.result() for f in futures]
        return [s / max(1, n) if reduce == "mean" else s for s, n in out]
