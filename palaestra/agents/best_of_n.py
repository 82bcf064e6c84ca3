"""Best-of-N: sample N actions from a language model in one call, keep the best."""

from __future__ import annotations

import random
from collections import Counter

from palaestra.core import InvalidAction, shares_state

from .base import text_view
from .llm.prompts import action_candidates, state_messages


class BestOfNAgent:
    """Samples ``n`` replies per step (one batched call), validates them with
    ``parse_action``, and picks one by ``judge``:

    - ``"lookahead"`` (default): try each distinct candidate on a snapshot of the
      planning env and keep the best mean return over ``rollouts`` random continuations
      (``rollout_depth`` steps; 0 = the immediate reward only);
    - ``"critic"``: the model ranks the candidates for the goal (self-critique);
    - ``"vote"``: the most frequent candidate (self-consistency).

    ``last_search`` lists the candidates (action, visits = times sampled, q = judged
    value, prior = sample share, critique). Options as LLMAgent's plus these, and
    ``search_reward`` as in :class:`~palaestra.agents.mcts.MCTSAgent` (``"agent"``: the
    lookahead sees only the agent-side reward of a hidden-reward env; ``"true"``: data
    collection).
    """

    name = "best-of-n"
    prefers_text = True

    def __init__(self, model=None, llm=None, n: int = 8, judge: str = "lookahead", rollouts: int = 4,
                 rollout_depth: int = 50, temperature: float = 1.0, max_new_tokens: int = 48,
                 seed: int | None = 0, search_reward: str = "agent", **lm_options):
        from .llm import load_lm

        if search_reward not in ("agent", "true"):
            raise ValueError(f"search_reward={search_reward!r}: use 'agent' or 'true'.")
        self.search_reward = search_reward
        if search_reward == "true":
            self.name = "best-of-n[search_reward=true]"
        if judge not in ("lookahead", "critic", "vote"):
            raise ValueError(f"judge={judge!r}: use 'lookahead', 'critic' or 'vote'.")
        self.llm = load_lm(llm if llm is not None else model, **lm_options)
        self.n, self.judge, self.rollouts, self.rollout_depth = int(n), judge, int(rollouts), int(rollout_depth)
        self.temperature, self.max_new_tokens = float(temperature), int(max_new_tokens)
        self.rng = random.Random(seed)
        self.critic = None
        if judge == "critic":
            from .llm.critique import LLMCritic

            self.critic = LLMCritic(self.llm, seed=seed or 0)
        self.env = None
        self.last_search = None
        self.invalid = 0

    @property
    def usage(self) -> dict:
        return dict(getattr(self.llm, "usage", None) or {"prompt_tokens": 0, "completion_tokens": 0})

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)
        self.plan = self.base.planning_env(true_reward=self.search_reward == "true")
        self.history: list[tuple[str, str]] = []

    def _value(self, start, action) -> float:
        plan = self.plan
        two = getattr(plan, "num_players", 1) == 2
        totals = []
        for _ in range(max(1, self.rollouts)):
            plan.set_state(start)
            me = plan.to_play()
            _, r, term, trunc, _ = plan.step(action)
            total = float(r)
            for _ in range(self.rollout_depth if self.rollouts else 0):
                if term or trunc:
                    break
                legal = plan.legal_actions()
                if legal:
                    a = legal[self.rng.randrange(len(legal))]
                elif callable(getattr(plan, "sample_action", None)):
                    a = plan.sample_action(self.rng)
                else:
                    break
                mover = plan.to_play()
                _, r, term, trunc, _ = plan.step(a)
                total += r if (not two or mover == me) else -r
            totals.append(total)
        return sum(totals) / len(totals)

    def act(self, observation, info):
        real = self.base.get_state()
        messages = state_messages(self.base, self.history)
        replies = self.llm.generate([messages], n=self.n, temperature=self.temperature,
                                    max_new_tokens=self.max_new_tokens, seed=self.rng.randrange(2**31))[0]
        counts: Counter = Counter()
        natives: dict[str, object] = {}
        for reply in replies:
            for cand in action_candidates(reply):
                try:
                    a = self.base.parse_action(cand)
                except InvalidAction:
                    continue
                text = self.base.format_action(a)
                counts[text] += 1
                natives.setdefault(text, a)
                break
            else:
                self.invalid += 1
        if not counts:
            legal = self.base.legal_actions()
            if legal:
                a = legal[self.rng.randrange(len(legal))]
                text = self.base.format_action(a)
                counts[text], natives[text] = 1, a
            elif self.text:
                self.last_search = []
                return replies[0] if replies else ""
            else:
                raise InvalidAction("no sampled reply was a valid action and the env's actions are not enumerable.")
        texts = list(counts)
        critique = [None] * len(texts)
        if self.judge == "vote":
            values = [counts[t] / self.n for t in texts]
        elif self.judge == "critic":
            critique = self.critic.critique([(messages, texts)])[0]
            values = list(critique)
        else:
            self.plan.set_state(real)
            start = self.plan.get_state()
            try:
                values = [self._value(start, natives[t]) for t in texts]
            finally:
                if shares_state(self.plan, self.base):  # looked ahead in the real env: put it back
                    self.base.set_state(real)
        order = sorted(range(len(texts)), key=lambda i: (-values[i], -counts[texts[i]]))
        self.last_search = [{"action": texts[i], "visits": counts[texts[i]], "q": float(values[i]),
                             "prior": counts[texts[i]] / max(1, sum(counts.values())), "critique": critique[i]}
                            for i in order]
        best = texts[order[0]]
        self.history.append(("", best))
        return best if self.text else natives[best]
