"""The agent-side API of ``ChunkSelection-v0``: what an agent may use, and nothing else.

An agent may use the query, the candidate chunks' texts, their retrieval scores and
token costs, the chosen sequence, the budget, and utilities it can compute from those
(the MiniLM reranker, a reader model of its own). Only the scorer may use the gold
labels (facts, gold chunk ids, the answer) and the env's utility of a sequence
(``reward_of``). ``env.planning_env()`` returns a :class:`ChunkSelectionView`: a
whitelist, so anything not listed in :attr:`ChunkSelectionView.PUBLIC` is refused with
:class:`~palaestra.core.ScorerOnly`; its ``step`` pays the env's documented agent-side
reward and never evaluates the hidden utility; its snapshots carry no scores; its task
carries the goal but no answer, facts, gold ids or oracle. The retrieval agents
(``greedy``, ``carrot``) and the generic MCTS agent use only this view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from palaestra.core import Task
from palaestra.core.planning import AgentSideEnv, ScorerOnly


@dataclass(frozen=True)
class PublicCandidate:
    """One candidate as an agent sees it."""

    text: str
    cost: int  # tokens
    score: float  # first-stage retrieval score
    rank: int  # 0 = best by the retriever


class ChunkSelectionView(AgentSideEnv):
    """The agent-side planning view of a :class:`ChunkSelectionEnv` (a whitelist)."""

    #: attributes of the env an agent may read or call through the view
    PUBLIC = frozenset({
        "action_space", "observation_space", "metadata", "instructions", "num_players", "render_mode",
        "get_state", "set_state", "legal_actions", "action_masks", "parse_action", "format_action", "to_play",
        "action_cost", "budget", "budget_left", "spent", "top_n", "chosen", "done", "steps", "cost_penalty",
        "retriever_kind", "agent_utility", "agent_reward", "check_action",
    })

    def __getattr__(self, name: str) -> Any:
        if name in self.PUBLIC:
            return getattr(self._env, name)
        raise ScorerOnly(
            f"{name!r} is not part of the agent-side API of ChunkSelection-v0 (it may read gold labels or the "
            f"scorer's utility). Agents may use: {', '.join(sorted(self.PUBLIC | _OWN))}. To collect training "
            "data with the true reward, use env.planning_env(true_reward=True) and record that you did."
        )

    def __setattr__(self, name: str, value) -> None:
        raise ScorerOnly(f"the agent-side view is read-only (tried to set {name!r}); change the state with "
                         "set_state() or step()")

    # ---- what the agent sees ------------------------------------------------------
    @property
    def query(self) -> str:
        return self._env.problem.question.query

    @property
    def qtype(self) -> str:
        """The question's type (a query classifier could tell it; CARROT tunes per type)."""
        return self._env.problem.question.qtype

    def candidates(self) -> list[PublicCandidate]:
        return [PublicCandidate(c.chunk.text, c.cost, c.score, c.rank) for c in self._env.problem.candidates]

    @property
    def task(self) -> Task:
        """The task without the answer, the facts, the gold ids or the oracle."""
        t = self._env.task
        if t is None:
            return None
        return Task(id=t.id, goal=t.goal, split=t.split, data={"qtype": self.qtype, "budget": self._env.budget})

    def query_embedding(self):
        """The query's MiniLM embedding (L2-normalised)."""
        return self._env.embeddings()[0]

    def candidate_embeddings(self):
        """The candidates' MiniLM embeddings (one row each, L2-normalised; disk-cached)."""
        return self._env.embeddings()[1]

    def agent_values(self, seqs) -> list[float]:
        """What stopping with each sequence would pay in this view: the agent-side utility
        minus ``cost_penalty * tokens / budget`` (one batched utility call)."""
        return self._env.agent_values(seqs)

    def render_text(self) -> str:
        return self._env.render_text(public=True)

    # ---- the agent-side transition -----------------------------------------------
    def step(self, action):
        obs, terminated, info = self._env.advance(action)
        reward = float(self._env.agent_reward(action, info)) if terminated else 0.0
        public = {k: v for k, v in info.items() if k not in self._hidden_info}
        return obs, reward, terminated, False, public

    def __repr__(self) -> str:
        return f"ChunkSelectionView({self._env!r})"


_OWN = {"query", "qtype", "candidates", "task", "query_embedding", "candidate_embeddings", "agent_values",
        "render_text", "step", "planning_env", "unwrapped"}
