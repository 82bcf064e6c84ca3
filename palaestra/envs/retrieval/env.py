"""``palaestra/ChunkSelection-v0``: CORAG/CARROT's budgeted chunk-combination MDP."""

from __future__ import annotations

import re
from collections import OrderedDict
from pathlib import Path

import gymnasium as gym
import numpy as np

from palaestra.core import InvalidAction, LegalDiscrete, PalaestraEnv, Task, mask_from_legal

from .corpus import Corpus, load_jsonl
from .oracle import oracle_actions
from .problem import Problem, build_problem
from .retrievers import get_retriever
from .utility import AGENT_UTILITIES, make_utility
from .world import QTYPES, world

FEATURES = ("score", "rank", "cost", "cost_left", "fits", "chosen", "position", "sim_chosen", "query_overlap", "valid")
_ADD = re.compile(r"^\s*add\s+#?([0-9]{1,9})\s*$", re.IGNORECASE)
_STOP = re.compile(r"^\s*stop\s*$", re.IGNORECASE)


class ChunkSelectionEnv(PalaestraEnv):
    """Choose an ordered combination of retrieved chunks under a token budget (CORAG/CARROT).

    ## Description
    A question, its top-N candidate chunks from a first-stage retriever (bm25s, MiniLM
    embeddings, or both fused) with their token costs, and a token budget. Each step
    appends one candidate that is not yet chosen and fits the budget, or stops. Chunks
    interact: a near-duplicate adds nothing, a contradicting chunk spoils a fact, a
    topical distractor costs utility, a multi-hop answer needs every hop; so utility is
    not monotone in the number of chunks and stopping early can be right.

    Tasks: with the default generated corpus, the seed is the question (``reset(seed=7)``
    is task ``q7``: factoid, multi-hop, comparison or list over a seeded world); with a
    user corpus (JSONL, see ``palaestra.envs.retrieval.corpus``) task ``k`` is question
    ``k mod len(questions)`` (task id = the question's id). Generated tasks whose seed is
    4 mod 5 are in the ``test`` split, the others in ``train``.

    ## Action Space
    ``Discrete(top_n + 1)``: action ``i < top_n`` adds candidate ``i`` (text ``add i+1``,
    candidates are numbered from 1 in the text view), action ``top_n`` stops (text
    ``stop``). ``info["action_mask"]`` marks the legal ones; an illegal action raises
    ``InvalidAction`` and changes nothing.

    ## Observation Space
    ``Dict``: ``candidates`` ``Box(-1, 1, (top_n, 10))`` per-candidate features
    (``FEATURES``: retrieval score / max, rank / N, cost / budget, cost / budget left,
    fits, chosen, position in the sequence, max lexical similarity to the chosen
    chunks, query word overlap, valid slot); ``budget_left`` ``Box(0, 1, (1,))``;
    ``action_mask`` ``MultiBinary(top_n + 1)``. The text view shows the question, the
    budget, every candidate's number, cost, score and text (cut at ``max_chars`` with a
    ``[...]`` marker) and the chosen sequence.

    ## Rewards
    0 until the end; then ``utility(question, chosen sequence) - cost_penalty * tokens
    used / budget``. ``utility`` (the scorer's, hidden from agents): ``answer``
    (generated worlds; exact, per-hop credit by default, ``utility_options={"credit":
    "all-or-nothing"}`` for the strict one), ``answer-reranker`` (user corpora' default:
    MiniLM similarity of question + gold answer and the ordered chosen text), ``gold``
    (user corpora: gold-sentence recall), ``reranker`` (MiniLM similarity of the query
    and the ordered concatenation, as CARROT), ``reader`` (a reader LLM's answer, token
    F1 or ROUGE-L), or any object with ``value(problem, seq)``. ``info["success"]``: the
    evidence is complete (every needed fact stated and none contradicted; every gold
    chunk for user corpora).

    ## What an agent may use (``reward_access = "hidden"``)
    ``planning_env()`` is :class:`~palaestra.envs.retrieval.planning.ChunkSelectionView`,
    a whitelist: the query, candidate texts, scores and costs, the chosen sequence,
    snapshots (which hold no scores) and the agent-side reward: at the end
    ``agent_utility(query, sequence) - cost_penalty * tokens / budget`` with
    ``agent_utility`` ``"pooled"`` (default: MiniLM reranker cosine of the query and the
    ordered set, from cached chunk embeddings), ``"reranker"`` (the same on the real
    concatenation, CARROT's proxy; about 60 ms a set on a CPU) or an object with
    ``value(problem, seq)`` that reads only the query and the chunks (e.g. the learned
    value model of ``palaestra.envs.retrieval.value_model``). ``reward_of``, the utility,
    the problem (with its labels), the corpus and the oracle are the scorer's.

    ## Episode End
    Terminated on ``stop``, or when no remaining candidate fits the budget left.

    ## Arguments
    ``corpus``: ``"synthetic"`` (a seeded world), a folder or ``chunks.jsonl`` path with
    ``questions.jsonl``, or a ``Corpus``; ``world_seed`` (0) and ``world_size``
    (``"default"``/``"small"``); ``qtypes``: some of factoid, multihop, comparison, list;
    ``retriever``: ``bm25``/``dense``/``hybrid``; ``top_n`` (10); ``budget`` in tokens
    (128); ``utility`` and ``utility_options``; ``cost_penalty`` (lambda, 0.0);
    ``ensure_gold`` (True: a gold chunk the retriever missed replaces the last non-gold
    candidate); ``llm`` (the reader for ``utility="reader"``); ``agent_utility``
    (``"pooled"``); ``chunk_tokens`` (64, user corpora: pieces of whole sentences, at most
    the budget); ``max_chars`` (300); ``render_mode``: ``"ansi"`` or None.

    ## Version History
    - v0: first version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    reward_access = "hidden"
    #: everything that reads gold labels or the scorer's utility (the planning view is a
    #: whitelist besides; see ``planning.ChunkSelectionView.PUBLIC``)
    scorer_only = ("reward_of", "rewards_of", "stop_value", "utility", "problem", "problem_for", "world", "corpus",
                   "final", "search_step", "validate_task")
    scorer_info_keys = ("utility", "reward", "success")

    def __init__(self, corpus="synthetic", world_seed: int = 0, world_size: str = "default", qtypes=None,
                 retriever: str = "bm25", top_n: int = 10, budget: int = 128, utility="auto",
                 utility_options: dict | None = None, cost_penalty: float = 0.0, ensure_gold: bool = True,
                 llm=None, chunk_tokens: int | None = None, max_chars: int = 300, agent_utility="pooled",
                 render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        if not 1 <= int(top_n) <= 200:
            raise ValueError(f"top_n must be in 1..200, got {top_n}")
        if not 1 <= int(budget) <= 100_000:
            raise ValueError(f"budget must be a number of tokens in 1..100000, got {budget}")
        chunk_tokens = min(64, int(budget)) if chunk_tokens is None else chunk_tokens
        if isinstance(corpus, (str, Path)) and corpus != "synthetic" and not 1 <= int(chunk_tokens) <= int(budget):
            raise ValueError(f"chunk_tokens={chunk_tokens} with budget={budget}: a piece longer than the budget can "
                             "never be chosen; pass chunk_tokens at most the smallest budget you will run")
        if utility == "auto":
            utility = "answer" if isinstance(corpus, str) and corpus == "synthetic" else "answer-reranker"
        self.synthetic = isinstance(corpus, str) and corpus == "synthetic"
        if self.synthetic:
            self.world = world(int(world_seed), world_size)
            self.corpus: Corpus = self.world.corpus
        elif isinstance(corpus, Corpus):
            self.world, self.corpus = None, corpus
        elif isinstance(corpus, (str, Path)):
            self.world, self.corpus = None, load_jsonl(corpus, chunk_tokens=int(chunk_tokens),
                                                       require_gold=utility == "gold",
                                                       require_answer=utility in ("answer-reranker", "reader"))
        else:
            raise ValueError(f"corpus={corpus!r}: use 'synthetic', a JSONL folder/path or a Corpus")
        if not self.synthetic and not self.corpus.questions:
            raise ValueError(f"corpus {self.corpus.name!r} has no questions; give a questions.jsonl")
        if qtypes is not None:
            qtypes = [qtypes] if isinstance(qtypes, str) else list(qtypes)
            qtypes = [t.strip() for part in qtypes for t in str(part).split(",") if t.strip()]
            bad = [t for t in qtypes if t not in QTYPES]
            if bad:
                raise ValueError(f"unknown qtypes {bad}; use some of {', '.join(QTYPES)}")
        self.qtypes = tuple(qtypes) if qtypes else None
        if utility == "answer" and not self.synthetic:
            utility = "gold"  # user corpora carry no facts
        self.utility = make_utility(utility, llm=llm, **(utility_options or {}))
        if isinstance(agent_utility, str) and agent_utility not in AGENT_UTILITIES:
            raise ValueError(f"agent_utility={agent_utility!r}: use one of {', '.join(AGENT_UTILITIES)} or an object "
                             "with value(problem, seq) that reads only the query and the chunk texts")
        self.agent_utility = make_utility(agent_utility)
        self.retriever_kind = retriever
        self.retriever = get_retriever(self.corpus, retriever)
        self.top_n, self._budget = int(top_n), int(budget)
        self.cost_penalty = float(cost_penalty)
        self.ensure_gold = bool(ensure_gold)
        self.max_chars = int(max_chars)
        n = self.top_n
        self.action_space = LegalDiscrete(n + 1, self.legal_actions)
        self.observation_space = gym.spaces.Dict({
            "candidates": gym.spaces.Box(-1.0, 1.0, (n, len(FEATURES)), dtype=np.float32),
            "budget_left": gym.spaces.Box(0.0, 1.0, (1,), dtype=np.float32),
            "action_mask": gym.spaces.MultiBinary(n + 1),
        })
        self.instructions = self._instructions()
        self._problems: OrderedDict[str, Problem] = OrderedDict()
        self.problem: Problem | None = None
        self.chosen: tuple[int, ...] = ()
        self.done = False
        self.steps = 0
        self.final: dict | None = None

    # ---- duck-typed members MCTS's cost-aware UCB reads ---------------------------------
    @property
    def budget(self) -> float:
        return float(self._budget)

    def action_cost(self, action) -> float:
        """Token cost of an action (0 for stop)."""
        a = int(action)
        if self.problem is None or a >= self.problem.n:
            return 0.0
        return float(self.problem.candidates[a].cost)

    # ---- tasks -----------------------------------------------------------------------
    def _instructions(self) -> str:
        return (
            "Choose context for answering a question. Candidate chunks were retrieved for the question; each "
            "has a number, a token cost and a retrieval score. Build an ordered sequence of chunks within the "
            "token budget: the reader will answer from exactly those chunks, in that order.\n"
            "Chunks interact: a near-duplicate adds nothing but cost, a chunk that contradicts a fact can spoil "
            "the answer, an off-topic chunk distracts, and multi-hop questions need every hop. Fewer, better "
            "chunks can beat a full budget; stop when nothing more helps.\n"
            "Actions (one per turn): 'add N' appends candidate N (not yet chosen, and it must fit the budget "
            "left); 'stop' ends the episode. The episode also ends when no candidate fits.\n"
            "Reward at the end: the utility of the chosen sequence"
            + (f" minus {self.cost_penalty} x tokens used / budget." if self.cost_penalty else ".")
        )

    def task_ids(self, n: int = 200) -> list[str]:
        if self.synthetic:
            return [f"q{i}" for i in range(n)]
        return [q.id for q in self.corpus.questions]

    def _question(self, task_id: str):
        if self.synthetic:
            m = re.fullmatch(r"q(\d+)", str(task_id))
            if not m:
                raise ValueError(f"task {task_id!r}: generated tasks are named q<seed>, e.g. 'q7'")
            return self.world.question(int(m.group(1)), self.qtypes)
        for q in self.corpus.questions:
            if q.id == task_id:
                return q
        raise ValueError(f"task {task_id!r} is not a question of corpus {self.corpus.name!r}; "
                         f"ids: {', '.join(q.id for q in self.corpus.questions[:10])}...")

    def problem_for(self, task_id: str) -> Problem:
        prob = self._problems.get(task_id)
        if prob is None:
            question = self._question(task_id)
            prob = build_problem(self.corpus, question, self.retriever, self.top_n, self._budget, self.ensure_gold)
            self._problems[task_id] = prob
            while len(self._problems) > 64:
                self._problems.popitem(last=False)
        else:
            self._problems.move_to_end(task_id)
        return prob

    def _task(self, prob: Problem) -> Task:
        q = prob.question
        return Task(id=prob.task_id, goal=q.query, split=q.split,
                    data={"answer": q.answer, "qtype": q.qtype, "facts": list(q.facts),
                          "gold_chunk_ids": list(q.gold_chunk_ids), "budget": prob.budget},
                    validator=self._validate, oracle=self._solve)

    def _validate(self, env) -> tuple[float, bool, dict]:
        return self.reward_of(self.chosen), self.done, {"success": self.problem.evidence_complete(self.chosen)}

    def _solve(self, env) -> list[int]:
        return oracle_actions(self.problem, self.utility, self.chosen, self.cost_penalty, stop=self.top_n)

    # ---- values (greedy and search agents use these) --------------------------------
    def reward_of(self, seq) -> float:
        """The terminal reward the env gives for the chunk sequence ``seq`` (candidate indices)."""
        prob = self.problem
        return self.utility.value(prob, tuple(seq)) - self.cost_penalty * prob.cost(seq) / max(1, prob.budget)

    def rewards_of(self, seqs) -> list[float]:
        """``reward_of`` for many sequences in one utility call."""
        prob = self.problem
        vals = self.utility.values(prob, [tuple(s) for s in seqs])
        return [v - self.cost_penalty * prob.cost(s) / max(1, prob.budget) for v, s in zip(vals, seqs)]

    def stop_value(self) -> float:
        """The reward of stopping now (scorer side)."""
        return self.reward_of(self.chosen)

    # ---- the agent side ----------------------------------------------------------------
    def planning_env(self, *, true_reward: bool = False):
        """The agent-side view (``planning.ChunkSelectionView``), or, with
        ``true_reward=True`` (collecting training data), the env itself."""
        if true_reward:
            return self
        from .planning import ChunkSelectionView

        return ChunkSelectionView(self)

    def agent_values(self, seqs) -> list[float]:
        """The agent-side reward of stopping with each sequence: ``agent_utility`` (reads
        only the query and the chunk texts) minus ``cost_penalty * tokens / budget``."""
        prob = self.problem
        seqs = [tuple(s) for s in seqs]
        vals = self.agent_utility.values(prob, seqs)
        return [v - self.cost_penalty * prob.cost(s) / max(1, prob.budget) for v, s in zip(vals, seqs)]

    def embeddings(self):
        """(query embedding, candidate embeddings) of the current task: public data, from
        the disk-cached corpus embeddings (see ``retrievers.corpus_embeddings``)."""
        from .retrievers import corpus_embeddings, embed

        prob = self.problem
        key = (prob.task_id, prob.question.query)
        if getattr(self, "_emb_key", None) != key:
            allv = corpus_embeddings(self.corpus)
            self._emb = (embed([prob.question.query])[0],
                         allv[[self.corpus.index_of(c.chunk.id) for c in prob.candidates]])
            self._emb_key = key
        return self._emb

    def agent_reward(self, action, info: dict) -> float:
        """The documented agent-side proxy: at the end of an episode, the agent-side value
        of the chosen sequence (see :meth:`agent_values`); 0 before."""
        return self.agent_values([self.chosen])[0] if self.done else 0.0

    # ---- gymnasium ---------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = options or {}
        if "task" in options and options["task"] is not None:
            task_id = str(options["task"])
        else:
            k = int(seed) if seed is not None else int(self.np_random.integers(0, 2**31 - 1))
            if self.synthetic:
                task_id = f"q{k}"
            else:
                task_id = self.corpus.questions[k % len(self.corpus.questions)].id
        self._load(task_id)
        self.chosen, self.done, self.steps, self.final = (), False, 0, None  # 'stop' is always legal
        return self._obs(), self._info()

    def _load(self, task_id: str):
        self.problem = self.problem_for(task_id)
        self.task = self._task(self.problem)

    def spent(self) -> int:
        return self.problem.cost(self.chosen)

    def budget_left(self) -> int:
        return self.problem.budget - self.spent()

    def _fitting(self) -> list[int]:
        left = self.budget_left()
        chosen = set(self.chosen)
        return [i for i, c in enumerate(self.problem.candidates) if i not in chosen and c.cost <= left]

    def legal_actions(self) -> list[int]:
        if self.problem is None or self.done:
            return []
        return self._fitting() + [self.top_n]

    def action_masks(self) -> np.ndarray:
        """Legal actions as booleans (sb3-contrib's MaskablePPO calls this)."""
        if self.problem is None:
            return np.ones(self.top_n + 1, dtype=bool)
        return mask_from_legal(self.top_n + 1, self.legal_actions()).astype(bool)

    def step(self, action):
        obs, terminated, _ = self.advance(action)
        reward = 0.0
        if terminated:
            reward = self._final()["reward"]
        return obs, float(reward), terminated, False, self._info()

    def _final(self) -> dict:
        """The scorer's verdict on a finished episode (computed once)."""
        if self.final is None:
            reward = self.reward_of(self.chosen)
            self.final = {"utility": self.utility.value(self.problem, self.chosen), "reward": reward,
                          "success": self.problem.evidence_complete(self.chosen)}
        return self.final

    def advance(self, action):
        """The transition without the scorer: ``(observation, terminated, public info)``.
        ``step`` adds the hidden reward; the agent-side view adds the agent's."""
        if self.problem is None:
            raise InvalidAction("call reset() before step().")
        if self.done:
            raise InvalidAction("the episode has ended; call reset() to start a new one.")
        if isinstance(action, (bool, np.bool_)) or not isinstance(action, (int, np.integer)):
            raise InvalidAction(f"{action!r} is not an action: pass an int in [0, {self.top_n}] "
                                f"(0..{self.top_n - 1} add a candidate, {self.top_n} stops), or use the text view.")
        a = int(action)
        legal = self.legal_actions()
        if a not in legal:
            self.check_action(a)  # raises with the legal actions listed
        self.steps += 1
        stopped = a == self.top_n
        if not stopped:
            self.chosen = self.chosen + (a,)
        terminated = stopped or not self._fitting()
        if terminated:
            self.done = True
        return self._obs(), terminated, self._info(public=True)

    def _obs(self) -> dict:
        n, prob = self.top_n, self.problem
        feats = np.zeros((n, len(FEATURES)), dtype=np.float32)
        budget = max(1, prob.budget)
        left = self.budget_left()
        scores = [c.score for c in prob.candidates]
        top = max((abs(s) for s in scores), default=1.0) or 1.0
        chosen = list(self.chosen)
        for i, c in enumerate(prob.candidates[:n]):
            sim = float(prob.sim[i, chosen].max()) if chosen else 0.0
            pos = chosen.index(i) + 1 if i in chosen else 0
            feats[i] = [c.score / top, c.rank / max(1, prob.n - 1), min(1.0, c.cost / budget),
                        min(1.0, c.cost / max(1, left)), float(i not in chosen and c.cost <= left and not self.done),
                        float(i in chosen), pos / n, sim, float(prob.qsim[i]), 1.0]
        np.clip(feats, -1.0, 1.0, out=feats)
        return {"candidates": feats, "budget_left": np.array([max(0.0, left / budget)], dtype=np.float32),
                "action_mask": mask_from_legal(n + 1, self.legal_actions())}

    def _info(self, public: bool = False) -> dict:
        info = {"task_id": self.problem.task_id, "action_mask": mask_from_legal(self.top_n + 1, self.legal_actions()),
                "tokens_used": self.spent(), "budget_left": self.budget_left(), "qtype": self.problem.question.qtype,
                "chosen": [self.problem.candidates[i].chunk.id for i in self.chosen]}
        if self.done and not public:
            info.update(self._final())
        return info

    # ---- text view ---------------------------------------------------------------------
    def parse_action(self, text: str) -> int:
        if not isinstance(text, str):
            raise InvalidAction(f"actions are text like 'add 3' or 'stop', got {type(text).__name__}")
        if self.problem is None:
            raise InvalidAction("call reset() before acting.")
        if self.done:
            raise InvalidAction("the episode has ended; reset to start a new one.")
        if _STOP.match(text):
            return self.top_n
        m = _ADD.match(text)
        allowed = ", ".join(self.format_action(a) for a in self.legal_actions())
        if not m:
            snippet = text if len(text) <= 40 else text[:40] + "..."
            raise InvalidAction(f"could not read {snippet!r}: write 'add N' (N a candidate number) or 'stop'. "
                                f"Legal now: {allowed}", allowed=allowed.split(", "))
        k = int(m.group(1))
        if not 1 <= k <= self.problem.n:
            raise InvalidAction(f"there is no candidate {k}: candidates are numbered 1 to {self.problem.n}. "
                                f"Legal now: {allowed}", allowed=allowed.split(", "))
        i = k - 1
        if i in self.chosen:
            raise InvalidAction(f"candidate {k} is already chosen. Legal now: {allowed}", allowed=allowed.split(", "))
        cost = self.problem.candidates[i].cost
        if cost > self.budget_left():
            raise InvalidAction(f"candidate {k} costs {cost} tokens but only {self.budget_left()} are left. "
                                f"Legal now: {allowed}", allowed=allowed.split(", "))
        return i

    def format_action(self, action) -> str:
        a = int(action)
        if a == self.top_n:
            return "stop"
        if not 0 <= a < self.top_n:
            raise InvalidAction(f"{a} is not an action: 0..{self.top_n - 1} add a candidate, {self.top_n} stops.")
        return f"add {a + 1}"

    def render_text(self, public: bool = False) -> str:
        """The state in words; when the episode is over, the scorer's verdict too (not in
        the agent-side view, which passes ``public=True``)."""
        prob = self.problem
        if prob is None:
            return "No task yet: call reset()."
        lines = [f"Question: {prob.question.query}",
                 f"Budget: {prob.budget} tokens; used {self.spent()}, left {self.budget_left()}.", "",
                 f"Candidates ({prob.retriever} retrieval, best first):"]
        chosen = list(self.chosen)
        for i, c in enumerate(prob.candidates):
            text = " ".join(c.chunk.text.split())
            if len(text) > self.max_chars:
                text = text[: self.max_chars].rstrip() + " [...]"
            mark = f" (chosen #{chosen.index(i) + 1})" if i in chosen else ""
            lines.append(f"[{i + 1}] cost {c.cost} tok, score {c.score:.2f}{mark}: {text}")
        lines.append("")
        if chosen:
            lines.append("Chosen so far, in order: " + ", ".join(str(i + 1) for i in chosen))
        else:
            lines.append("Chosen so far: none")
        if self.done and public:
            lines.append("Episode over.")
        elif self.done:
            f = self._final()
            lines.append(f"Episode over: utility {f['utility']:.3f}, reward {f['reward']:.3f}, "
                         f"evidence {'complete' if f['success'] else 'incomplete'}.")
        else:
            legal = [self.format_action(a) for a in self.legal_actions()]
            lines.append("Legal actions: " + ", ".join(legal))
        return "\n".join(lines)

    # ---- snapshots -----------------------------------------------------------------------
    def get_state(self):
        """A snapshot: the task id and the chosen sequence (no scores: the scorer's verdict
        is recomputed from them, and never handed to an agent)."""
        return {"task_id": None if self.problem is None else self.problem.task_id, "chosen": tuple(self.chosen),
                "done": self.done, "steps": self.steps}

    def set_state(self, state) -> None:
        tid = state["task_id"]
        if tid is None:
            self.problem, self.task = None, None
        elif self.problem is None or self.problem.task_id != tid:
            self._load(tid)
        chosen = tuple(int(i) for i in state["chosen"])
        prob = self.problem
        if prob is not None and (len(set(chosen)) != len(chosen) or any(not 0 <= i < prob.n for i in chosen)
                                 or prob.cost(chosen) > prob.budget):
            raise ValueError(f"snapshot chooses {chosen}: not distinct candidates within the budget of task {tid!r}")
        self.chosen = chosen
        self.done = bool(state["done"])
        self.steps = int(state["steps"])
        self.final = None
