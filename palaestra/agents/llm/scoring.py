"""Scoring a state's candidate actions with a language model (legal-action policies).

Where an env's actions are enumerable, a policy need not *generate* an action and hope
it parses: it scores each legal action's text as the completion of the state's prompt
and picks (or samples) from those scores. All candidates share the prompt, so the
back-ends run it once (``TransformersLM`` reuses its KV cache for every candidate).

Summed log-probabilities favour short texts (a 1-token "stop" beats any 5-token
action), so the default is the length-normalised (mean per-token) log-probability.
"""

from __future__ import annotations

import math

NORMS = ("mean", "sum")


def score_texts(lm, messages: list[dict], texts: list[str], norm: str = "mean") -> list[float]:
    """One score per text: the mean (``norm="mean"``) or summed log-probability of the
    text as the assistant's reply to ``messages``."""
    return score_batch(lm, [(messages, texts)], norm)[0]


def score_batch(lm, items: list[tuple[list[dict], list[str]]], norm: str = "mean") -> list[list[float]]:
    """:func:`score_texts` for several states in one model call: ``items`` is
    ``[(messages, texts), ...]``. Back-ends that take ``reduce=`` average over their own
    tokens; for others the sum is divided by the text's length in characters (a
    stand-in for its token count)."""
    if norm not in NORMS:
        raise ValueError(f"norm={norm!r}: use 'mean' (length-normalised log-prob) or 'sum'.")
    prompts, comps = [], []
    for messages, texts in items:
        prompts += [messages] * len(texts)  # the same object: back-ends format and encode it once
        comps += [str(t) for t in texts]
    if not comps:
        return [[] for _ in items]
    if norm == "sum":
        flat = [float(s) for s in lm.score(prompts, comps)]
    else:
        try:
            flat = [float(s) for s in lm.score(prompts, comps, reduce="mean")]
        except TypeError:  # a LanguageModel without reduce=: normalise by characters
            flat = [float(s) / max(1, len(t)) for s, t in zip(lm.score(prompts, comps), comps)]
    out, i = [], 0
    for _, texts in items:
        out.append(flat[i : i + len(texts)])
        i += len(texts)
    return out


def softmax(scores: list[float], temperature: float = 1.0) -> list[float]:
    """Probabilities from scores (log-space), at ``temperature`` (> 0)."""
    t = max(1e-6, float(temperature))
    m = max(scores)
    exps = [math.exp((s - m) / t) for s in scores]
    z = sum(exps)
    return [e / z for e in exps]


__all__ = ["score_texts", "score_batch", "softmax", "NORMS"]
