"""Search guided by a learned value model (``palaestra train value``).

- ``mcts-value``: :class:`~palaestra.agents.mcts.MCTSAgent` with the model as its leaf
  evaluator and no rollouts (AlphaZero / ReST-MCTS*'s value-guided search);
- ``beam``: AlphaMath's step-level beam search: from the current state, expand ``expand``
  candidate actions per beam (every legal action, else the env's samples), score each
  child by the value model (a finished episode by its reward), keep the best ``beam``,
  go ``depth`` steps deep, and play the first action of the best line.

Both search the env's planning view: in a hidden-reward env the agent side by default
(``search_reward="agent"``); the value model is the agent's own, learned from recordings.
"""

from __future__ import annotations

import random
from typing import Any

from palaestra.core import shares_state

from .base import text_view


def _model(value_model):
    if value_model is None:
        raise ValueError("this agent needs a value model: value_model=DIR (from `palaestra train value`).")
    if hasattr(value_model, "value"):
        return value_model
    from palaestra.training.value import load_value_model

    return load_value_model(value_model)


def value_mcts(value_model=None, simulations: int = 100, **options):
    """MCTS whose leaves are valued by ``value_model`` (a folder or a ValueModel)."""
    from .mcts import MCTSAgent

    model = _model(value_model)
    agent = MCTSAgent(simulations=simulations, rollout=None, evaluator=model.evaluator(), **options)
    agent.name = "mcts-value"
    return agent


class BeamSearchAgent:
    """Step-level beam search with a value model (AlphaMath). ``last_search`` lists the
    root's candidates with their best line's score (``q``), as MCTS does."""

    name = "beam"

    def __init__(self, value_model=None, beam: int = 3, expand: int | None = None, depth: int = 2, seed: int | None = 0,
                 search_reward: str = "agent"):
        if search_reward not in ("agent", "true"):
            raise ValueError(f"search_reward={search_reward!r}: use 'agent' or 'true'.")
        self.model = _model(value_model)
        self.beam, self.depth = max(1, int(beam)), max(1, int(depth))
        self.expand = None if expand is None else max(1, int(expand))
        self.search_reward = search_reward
        self.rng = random.Random(seed)
        self.last_search: list[dict] | None = None
        self.env = None

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)
        self.plan = self.base.planning_env(true_reward=self.search_reward == "true")
        self.two = getattr(self.plan, "num_players", 1) == 2

    def _candidates(self) -> list:
        legal = self.plan.legal_actions()
        if legal is None:
            sample = getattr(self.plan, "sample_action", None)
            if not callable(sample):
                raise RuntimeError(f"{type(self.base).__name__}: actions are not enumerable and it has no "
                                   "sample_action; beam search needs one or the other.")
            k = self.expand or 8
            legal = [sample(self.rng) for _ in range(k)]
        elif self.expand is not None and len(legal) > self.expand:
            legal = self.rng.sample(list(legal), self.expand)
        return list(legal)

    def _leaf_score(self, total: float, info: dict, done: bool, root_player: int) -> tuple[float, bool]:
        if self.two:
            if done:
                returns = info.get("returns")
                return (float(returns[root_player]) if returns else total), True
            return 0.0, False
        return total, done

    def act(self, observation, info):
        if self.env is None:
            raise RuntimeError("call agent.reset(env) before act(); run_episode does it for you.")
        start = self.base.get_state()
        self.plan.set_state(start)
        root_player = self.plan.to_play()
        # a beam: (score, first action, state, return so far, done)
        beams: list[tuple[float, Any, Any, float, bool]] = [(0.0, None, start, 0.0, False)]
        best_first: dict[str, float] = {}
        for _ in range(self.depth):
            children, leaves = [], []
            for _score, first, state, total, done in beams:
                if done:
                    children.append((_score, first, state, total, True))
                    continue
                self.plan.set_state(state)
                for a in self._candidates():
                    self.plan.set_state(state)
                    try:
                        _, r, term, trunc, step_info = self.plan.step(a)
                    except Exception:  # noqa: BLE001 - a sampled action the env refused
                        continue
                    ret = total + float(r)
                    exact, finished = self._leaf_score(ret, step_info, bool(term or trunc), root_player)
                    child_state = self.plan.get_state()
                    entry = [exact, first if first is not None else a, child_state, ret, finished]
                    if not finished:
                        leaves.append((entry, self.plan.to_play()))
                    children.append(entry)
            if leaves:
                feats = []
                for entry, _ in leaves:
                    self.plan.set_state(entry[2])
                    feats.append(self.model.featurize(self.plan))
                values = self.model.predict(feats)
                for (entry, mover), v in zip(leaves, values):
                    if self.two:
                        entry[0] = float(v if mover == root_player else -v)
                    else:
                        entry[0] = entry[3] + float(v)
            if not children:
                break
            children.sort(key=lambda e: -e[0])
            for e in children:
                key = self.base.format_action(e[1])
                best_first[key] = max(best_first.get(key, -float("inf")), e[0])
            beams = [tuple(e) for e in children[: self.beam]]
        if shares_state(self.plan, self.base):  # searched in the real env: put it back
            self.base.set_state(start)
        if not beams or beams[0][1] is None:
            legal = self.base.legal_actions()
            action = legal[self.rng.randrange(len(legal))] if legal else self.base.sample_action(self.rng)
        else:
            action = beams[0][1]
        self.last_search = [{"action": k, "visits": 1, "q": v, "prior": None, "critique": None}
                            for k, v in sorted(best_first.items(), key=lambda kv: -kv[1])]
        return self.base.format_action(action) if self.text else action
