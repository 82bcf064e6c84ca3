"""A local ``transformers`` causal LM as a palaestra :class:`LanguageModel`."""

from __future__ import annotations

import os
from contextlib import contextmanager

from .prompts import plain_prompt


def _pick_device(device):
    import torch

    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _pick_dtype(dtype, device):
    import torch

    if dtype is not None and not isinstance(dtype, str):
        return dtype
    if isinstance(dtype, str) and dtype != "auto":
        return {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16, "fp16": torch.float16,
                "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}[dtype]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32  # CPU and MPS: float32 is the safe default


class TransformersLM:
    """A causal LM from a local folder or a Hugging Face hub id.

    ``device`` defaults to CUDA, then MPS, then CPU; ``dtype`` to bfloat16 (or float16)
    on CUDA and float32 elsewhere. ``max_threads`` calls ``torch.set_num_threads``; on
    CPU without it, models under 100M parameters run on one thread (faster there).
    Prompts (chat messages) use the tokenizer's chat template when it has one and a
    plain "Role: text" format otherwise. ``generate`` samples ``n`` completions per
    prompt in one batched call (chunked by ``batch_size`` sequences); ``score`` returns
    the summed (``reduce="sum"``) or mean per-token (``reduce="mean"``) log-probability
    of each completion's tokens given its prompt; completions that share a prompt reuse
    its KV cache (``share_prefix``), so ranking K candidates costs one prompt pass.
    ``usage`` counts prompt and completion tokens across calls.

    A prompt longer than the model's context is never cut silently: ``truncation="error"``
    (default) raises an error that says by how much it is over; ``truncation="left"``
    keeps the end of the prompt (the current state and the question, not the
    instructions), logs a warning and counts it in ``truncated``.
    """

    def __init__(self, path_or_id, device=None, dtype=None, max_threads: int | None = None, batch_size: int = 64,
                 share_prefix: bool = True, trust_remote_code: bool = False, truncation: str = "error", **_ignored):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if max_threads is not None:
            torch.set_num_threads(int(max_threads))
        if truncation not in ("error", "left"):
            raise ValueError(f"truncation={truncation!r}: use 'error' (too-long prompts raise) or 'left' (keep the "
                             "end of the prompt, logged).")
        self.truncation = truncation
        self.truncated = 0  # prompts cut under truncation="left"
        self.name = str(path_or_id)
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(dtype, self.device)
        local = os.path.isdir(str(path_or_id))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path_or_id), trust_remote_code=trust_remote_code)
            self.model = AutoModelForCausalLM.from_pretrained(
                str(path_or_id), dtype=self.dtype, trust_remote_code=trust_remote_code
            )
        except OSError as err:
            hint = ("check the folder has config.json, the weights and tokenizer files" if local else
                    "check the hub id, your network (HF_HUB_OFFLINE) and `huggingface-cli login` for gated models; "
                    "or build an offline model with `palaestra model tiny DIR`")
            raise OSError(f"could not load a causal LM from {path_or_id!r}: {err}. {hint}") from err
        self.model.to(self.device).eval()
        if max_threads is None and self.device.type == "cpu":
            # small models gain nothing from intra-op threads, and on a busy machine
            # oversubscribed threads make them 10-40x slower (measured: 21 s vs 1 s)
            if sum(p.numel() for p in self.model.parameters()) < 100_000_000:
                torch.set_num_threads(1)
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.batch_size = int(batch_size)
        self.share_prefix = bool(share_prefix)
        import inspect

        params = inspect.signature(self.model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"  # renamed in transformers 5.2x
        self.max_length = int(getattr(self.model.config, "max_position_embeddings", None) or
                              getattr(self.model.config, "n_positions", 2048))
        self.usage = {"prompt_tokens": 0, "completion_tokens": 0}
        self._stop_ids = {i for i in [self.tokenizer.eos_token_id, self.tokenizer.pad_token_id] if i is not None}

    def __repr__(self) -> str:
        return f"TransformersLM({self.name!r}, device={self.device}, dtype={self.dtype})"

    # ---- prompts ----------------------------------------------------------------
    def format(self, messages: list[dict]) -> str:
        from .images import text_only

        messages = text_only(messages)  # a causal LM reads no images: they become a placeholder
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return plain_prompt(messages)

    def _encode(self, text: str, room: int) -> list[int]:
        ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
        limit = max(1, self.max_length - room)
        if len(ids) <= limit:
            return ids
        if self.truncation == "error":
            raise ValueError(
                f"the prompt is {len(ids)} tokens but {self.name} fits {self.max_length} positions and {room} are "
                f"needed for the reply, so {len(ids) - limit} tokens would be lost (the start: the instructions). "
                "Shorten the prompt (history=0, a compact observation), use a model with a longer context, or "
                "pass truncation='left' to keep the end of the prompt knowingly.")
        import logging

        self.truncated += 1
        logging.getLogger("palaestra.llm").warning(
            "prompt of %d tokens cut to its last %d (truncation='left'): the instructions at its start are lost",
            len(ids), limit)
        return ids[-limit:]  # keep the end: the current state and the question

    @contextmanager
    def _seeded(self, seed):
        import torch

        if seed is None:
            yield
            return
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(int(seed))
            yield

    # ---- generate ----------------------------------------------------------------
    def generate(self, prompts, n: int = 1, temperature: float = 1.0, max_new_tokens: int = 64, seed: int | None = None,
                 top_p: float = 1.0) -> list[list[str]]:
        import torch

        encoded = [self._encode(self.format(p), max_new_tokens) for p in prompts]
        out: list[list[str]] = [[] for _ in prompts]
        per_chunk = max(1, self.batch_size // max(1, n))
        pad = self.tokenizer.pad_token_id
        with self._seeded(seed), torch.inference_mode():
            for start in range(0, len(encoded), per_chunk):
                chunk = encoded[start : start + per_chunk]
                width = max(len(x) for x in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for i, x in enumerate(chunk):  # left padding
                    ids[i, width - len(x) :] = torch.tensor(x)
                    mask[i, width - len(x) :] = 1
                kwargs = dict(max_new_tokens=int(max_new_tokens), num_return_sequences=int(n), pad_token_id=pad,
                              eos_token_id=self.tokenizer.eos_token_id)
                if temperature and temperature > 0:
                    kwargs.update(do_sample=True, temperature=float(temperature), top_p=float(top_p), top_k=0)
                else:
                    kwargs.update(do_sample=False)
                gen = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), **kwargs)
                new = gen[:, width:].cpu()
                for j, row in enumerate(new.tolist()):
                    kept = []
                    for t in row:
                        if t in self._stop_ids:
                            break
                        kept.append(t)
                    self.usage["completion_tokens"] += len(kept)
                    out[start + j // n].append(self.tokenizer.decode(kept, skip_special_tokens=True))
                self.usage["prompt_tokens"] += sum(len(x) for x in chunk) * n
        return out

    # ---- score -------------------------------------------------------------------
    def score(self, prompts, completions: list[str], reduce: str = "sum") -> list[float]:
        if reduce not in ("sum", "mean"):
            raise ValueError(f"reduce={reduce!r}: use 'sum' or 'mean' (per-token log-probability).")
        scores, lengths = self._score(prompts, completions)
        if reduce == "mean":
            return [s / max(1, n) for s, n in zip(scores, lengths)]
        return scores

    def _score(self, prompts, completions: list[str]) -> tuple[list[float], list[int]]:
        import torch

        if len(prompts) != len(completions):
            raise ValueError(f"score needs one completion per prompt, got {len(prompts)} prompts and {len(completions)} completions.")
        pairs = []
        cache: dict[int, str] = {}
        for p, c in zip(prompts, completions):
            key = id(p)
            text = cache.get(key) or cache.setdefault(key, self.format(p))
            comp = self.tokenizer(c, add_special_tokens=False)["input_ids"] or [self.tokenizer.eos_token_id]
            prompt_ids = self._encode(text, len(comp))
            pairs.append((prompt_ids, comp))
        groups: dict[tuple, list[int]] = {}
        for i, (p, _) in enumerate(pairs):
            groups.setdefault(tuple(p), []).append(i)
        lengths = [len(c) for _, c in pairs]
        if self.share_prefix and len(groups) < len(pairs):
            return self._score_shared(pairs, groups), lengths
        scores: list[float] = []
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode():
            for start in range(0, len(pairs), self.batch_size):
                chunk = pairs[start : start + self.batch_size]
                width = max(len(p) + len(c) for p, c in chunk)
                ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for i, (p, c) in enumerate(chunk):  # right padding
                    seq = p + c
                    ids[i, : len(seq)] = torch.tensor(seq)
                    mask[i, : len(seq)] = 1
                logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).logits.float()
                logp = torch.log_softmax(logits[:, :-1], dim=-1)
                target = ids[:, 1:].to(self.device)
                tok_lp = logp.gather(-1, target.unsqueeze(-1)).squeeze(-1).cpu()
                for i, (p, c) in enumerate(chunk):
                    scores.append(float(tok_lp[i, len(p) - 1 : len(p) - 1 + len(c)].sum()))
                self.usage["prompt_tokens"] += sum(len(p) + len(c) for p, c in chunk)
        return scores, lengths

    def _score_shared(self, pairs, groups) -> list[float]:
        """Completions that share a prompt: the prompt runs once, its KV cache serves all."""
        import torch

        scores = [0.0] * len(pairs)
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode():
            for prompt, idx in groups.items():
                ids = torch.tensor([list(prompt)], device=self.device)
                out = self.model(input_ids=ids, use_cache=True)
                past = getattr(out, "cache", None)
                if past is None:
                    past = out.past_key_values
                last = torch.log_softmax(out.logits[0, -1].float(), -1)
                self.usage["prompt_tokens"] += len(prompt)
                for start in range(0, len(idx), self.batch_size):
                    part = idx[start : start + self.batch_size]
                    comps = [pairs[i][1] for i in part]
                    width = max(len(c) for c in comps)
                    cids = torch.full((len(part), width), pad, dtype=torch.long)
                    mask = torch.zeros((len(part), len(prompt) + width), dtype=torch.long)
                    mask[:, : len(prompt)] = 1
                    for j, c in enumerate(comps):
                        cids[j, : len(c)] = torch.tensor(c)
                        mask[j, len(prompt) : len(prompt) + len(c)] = 1
                    cache = past
                    if len(part) > 1 or start > 0:
                        import copy

                        cache = copy.deepcopy(past)
                        cache.batch_repeat_interleave(len(part))
                    kwargs = {self._cache_kw: cache}
                    logits = self.model(input_ids=cids.to(self.device), attention_mask=mask.to(self.device),
                                        use_cache=True, **kwargs).logits.float()
                    logp = torch.log_softmax(logits, -1).cpu()
                    for j, (i, c) in enumerate(zip(part, comps)):
                        total = float(last[c[0]])
                        for t in range(1, len(c)):
                            total += float(logp[j, t - 1, c[t]])
                        scores[i] = total
                    self.usage["prompt_tokens"] += sum(len(c) for c in comps)
        return scores
