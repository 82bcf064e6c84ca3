"""Self-critique: the language model ranks candidate actions for the goal (Agent Q).

Agent Q asks the policy model itself which of K proposed actions best advances the
goal, removes the pick and asks again, until the order is complete; the rank becomes
an AI value in [0, 1] for each candidate. Candidates are labelled with letters (A, B,
...), never numbers, so that an action that is itself a number (a Connect Four column
"4") is never read as a candidate index. Replies are parsed robustly (a label, the
action text); when a reply names nothing, the remaining candidates are ordered by the
model's log-probability of naming each one as the best action.

Critique is off by default in MCTS (``critic=None``): with the tiny model it made the
search weaker and much slower (see benchmarks/self_improvement.py, which measures the
search with and without it).
"""

from __future__ import annotations

import re

_LABEL = re.compile(r"(?:^|[\s(\[*\"'])([A-Z]{1,2})(?=$|[\s).\]:,*\"'])")


def label(i: int) -> str:
    """The label of candidate ``i``: A..Z, then AA, AB, ..."""
    return chr(65 + i) if i < 26 else chr(64 + i // 26) + chr(65 + i % 26)


def _context(messages: list[dict]) -> str:
    return "\n\n".join(m["content"] for m in messages if m.get("content"))


def ranking_prompt(messages: list[dict], candidates: list[str]) -> list[dict]:
    numbered = "\n".join(f"{label(i)}) {c}" for i, c in enumerate(candidates))
    return [
        {"role": "system", "content": "You judge actions of an agent. Pick the action that best advances the goal."},
        {"role": "user", "content": f"{_context(messages)}\n\nCandidate actions:\n{numbered}\n\n"
                                    "Which candidate is best for reaching the goal? Answer with its letter only."},
    ]


def parse_pick(reply: str, candidates: list[str]) -> int | None:
    """Index of the candidate a ranking reply names (by its letter label, else by its
    text), or None. A number in the reply is never taken as an index."""
    text = (reply or "").strip()
    labels = {label(i): i for i in range(len(candidates))}
    bare = text.strip("()[]*.:'\" \n")
    if bare in labels:  # the whole reply is a label: "B", "(B)", "B."
        return labels[bare]
    found = [m.group(1) for m in _LABEL.finditer(text) if m.group(1) in labels]
    marked = [lb for lb in found if re.search(rf"\b{lb}\)", text)]  # "B) 4" as in the prompt
    if marked:
        return labels[marked[0]]
    plain = [lb for lb in found if lb not in ("A", "I")]  # English words, not labels, in prose
    if plain:
        return labels[plain[0]]
    low = text.lower()
    best, where = None, None
    for i, c in enumerate(candidates):
        pos = low.find(c.lower()) if c else -1
        if pos >= 0 and (where is None or pos < where or (pos == where and len(c) > len(candidates[best]))):
            best, where = i, pos
    return best


def rank_values(order: list[int], k: int) -> list[float]:
    """Ranks (best first) -> values in [0, 1]: the best 1, the worst 0 (a single one: 1)."""
    values = [0.0] * k
    for r, i in enumerate(order):
        values[i] = 1.0 if k == 1 else 1.0 - r / (k - 1)
    return values


class LLMCritic:
    """Ranks candidate actions with a :class:`LanguageModel`.

    ``mode="rank"``: Agent Q's repeated pick-best for up to ``rounds`` picks (the rest
    ordered by score); ``mode="score"``: the log-probability of "Best action: <c>".
    ``critique(items)`` takes ``[(messages, candidates), ...]`` — every node's prompt and
    candidate texts — and returns their values, batching one model call per round
    across all items.
    """

    def __init__(self, lm, mode: str = "rank", rounds: int = 3, max_new_tokens: int = 8, seed: int = 0):
        if mode not in ("rank", "score"):
            raise ValueError(f"critic mode {mode!r}: use 'rank' (pick-best ranking) or 'score' (log-probabilities).")
        self.lm, self.mode, self.rounds, self.max_new_tokens, self.seed = lm, mode, int(rounds), int(max_new_tokens), seed
        self.unparsed = 0  # ranking replies that named no candidate

    def _score_order(self, messages, candidates, remaining) -> list[int]:
        if len(remaining) <= 1:
            return list(remaining)
        prompt = ranking_prompt(messages, candidates)
        scores = self.lm.score([prompt] * len(remaining), [f"Best action: {candidates[i]}" for i in remaining])
        return [i for _, i in sorted(zip(scores, remaining), key=lambda t: -t[0])]

    def _score_orders(self, items) -> list[list[int]]:
        prompts, comps, owners = [], [], []
        for j, (messages, cands) in enumerate(items):
            if len(cands) > 1:
                p = ranking_prompt(messages, cands)
                for i, c in enumerate(cands):
                    prompts.append(p)
                    comps.append(f"{label(i)}) {c}")
                    owners.append((j, i))
        scores = self.lm.score(prompts, comps) if prompts else []
        per: list[list[tuple[float, int]]] = [[] for _ in items]
        for (j, i), s in zip(owners, scores):
            per[j].append((s, i))
        return [[i for _, i in sorted(p, key=lambda t: -t[0])] if len(items[j][1]) > 1 else list(range(len(items[j][1])))
                for j, p in enumerate(per)]

    def critique(self, items: list[tuple[list[dict], list[str]]]) -> list[list[float]]:
        if not items:
            return []
        if self.mode == "score":
            return [rank_values(o, len(c)) for o, (_, c) in zip(self._score_orders(items), items)]
        orders: list[list[int]] = [[] for _ in items]
        remaining = [list(range(len(c))) for _, c in items]
        for r in range(self.rounds):
            active = [j for j in range(len(items)) if len(remaining[j]) > 1]
            if not active:
                break
            prompts = [ranking_prompt(items[j][0], [items[j][1][i] for i in remaining[j]]) for j in active]
            replies = self.lm.generate(prompts, n=1, temperature=0.0, max_new_tokens=self.max_new_tokens,
                                       seed=self.seed + r)
            for j, reply in zip(active, replies):
                sub = [items[j][1][i] for i in remaining[j]]
                pick = parse_pick(reply[0], sub)
                if pick is None:
                    self.unparsed += 1
                    orders[j].extend(self._score_order(items[j][0], items[j][1], remaining[j]))
                    remaining[j] = []
                else:
                    orders[j].append(remaining[j].pop(pick))
        for j in range(len(items)):
            if remaining[j]:
                orders[j].extend(self._score_order(items[j][0], items[j][1], remaining[j]))
        return [rank_values(o, len(c)) for o, (_, c) in zip(orders, items)]
