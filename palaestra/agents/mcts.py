"""Monte Carlo tree search over any palaestra env, with LLM proposals and self-critique.

The search only uses the env contract: ``planning_env()`` (a self-play copy for games),
``get_state``/``set_state`` snapshots, ``legal_actions()`` (or candidate actions sampled
from a language model and validated with ``parse_action``), ``format_action`` and
``to_play()``. It never touches an env's internals, so it runs unchanged on board games,
web pages, tool sandboxes, segmentation and retrieval.

Agent Q's recipe (MCTS + self-critique) is the ``critic="llm"`` setting: at each
expansion the language model ranks the candidate actions for the goal, and selection
uses ``Q = alpha * Q_mcts + (1 - alpha) * Q_critic``.
"""

from __future__ import annotations

import math
import pickle
import random
import time
from typing import Any, Callable

import numpy as np

from palaestra.core import shares_state

from .base import text_view


class Node:
    """A tree node: the edge into it (action, prior, critique, reward) and its statistics.

    ``w`` and ``n`` hold returns from the point of view of the player who chose the edge
    (the parent's ``player``). ``exact`` is the node's proven value for its own player
    to move (MCTS-Solver), when known.
    """

    __slots__ = ("action", "text", "prior", "critique", "cost", "state", "reward", "terminal", "player",
                 "children", "n", "w", "w2", "vloss", "exact", "parent", "depth", "key")

    def __init__(self, action=None, prior: float = 1.0, parent: "Node | None" = None, text: str | None = None):
        self.action = action
        self.text = text
        self.prior = prior
        self.critique: float | None = None
        self.cost = 0.0
        self.state = None
        self.reward = 0.0
        self.terminal = False
        self.player = 0
        self.children: list[Node] | None = None
        self.n = 0
        self.w = 0.0
        self.w2 = 0.0  # sum of squared returns: the spread of Q, for confidence bounds on labels
        self.vloss = 0
        self.exact: float | None = None
        self.parent = parent
        self.depth = 0 if parent is None else parent.depth + 1
        self.key = None

    def q(self) -> float:
        return self.w / self.n if self.n else 0.0


class MCTSAgent:
    """MCTS (PUCT, UCB1 or CARROT's cost-aware UCB) with optional LLM proposals and critique.

    Arguments (all also ``--agent-opt key=value`` on the CLI):

    - ``simulations`` per move (``time_budget`` seconds caps it too; either may be None);
    - ``selection``: ``"puct"`` (``Q + c_puct * P * sqrt(N) / (1 + n)``), ``"ucb1"``
      (``Q + c_puct * sqrt(ln N / n)``) or ``"ucb-cost"`` (UCB1 ``- cost_weight * cost / B``
      with ``env.action_cost(action)`` and ``env.budget`` where the env defines them);
    - ``rollout``: ``"random"``, ``"policy"`` (the language model plays on) or None (leaf
      value from ``evaluator``/``value_fn``, else 0); ``rollout_depth`` caps rollouts;
    - ``evaluator(leaves) -> values``: a batch value function, each leaf a dict with
      ``env`` (the planning env), ``state`` (snapshot) and ``to_play``; values from the
      view of the player to move. ``value_fn(env) -> value`` is the one-leaf form;
    - ``priors``: ``"uniform"``, ``"llm"`` (the model's log-probabilities of the action
      texts, softmaxed at ``prior_temperature``; ``prior_norm`` ``"mean"`` per token by
      default, since summed log-probs favour short texts, or ``"sum"``) or a callable
      ``(env, actions) -> weights``;
    - ``llm``: a LanguageModel, or a spec for ``load_lm`` (``"tiny"``, a folder, a URL);
      ``model`` is an alias; ``k`` candidates are sampled per node where actions are
      not enumerable (``proposer(env, rng, k)`` may supply them instead); when none of
      a node's proposals is valid, ``k`` of the env's ``sample_action`` draws stand in
      (counted in ``stats["sampled_fallbacks"]``) so the search still runs;
    - ``critic``: None or ``"llm"`` (``critic_mode`` ``"rank"`` or ``"score"``), blended
      with weight ``alpha`` on Q_mcts;
    - ``dirichlet`` (alpha of root noise, 0 off) with ``noise_fraction``; ``depth_limit``;
      ``discount``; ``batch_size`` leaves per evaluation with virtual loss; ``reuse``
      the subtree between real steps; ``solver`` (propagate proven wins/losses);
      ``temperature`` (0: most visited; else sample by visits^(1/T)); ``seed``;
    - ``search_reward``: ``"agent"`` (default: in a hidden-reward env the search backs up
      only the agent-side reward, fair at test time) or ``"true"`` (the scorer's reward
      through ``planning_env(true_reward=True)``: collecting training data, as Agent Q
      does; results are never ranked with ``"agent"`` ones).

    After each ``act`` ``last_search`` lists the root's children (action text, visits,
    q — None for a child never visited and not proven —, ``q_sd`` the spread of its
    returns, ``proven`` its solver-proven value or None, prior, critique) and ``stats``
    counts simulations, invalid proposals and time.
    """

    name = "mcts"

    def __init__(
        self,
        simulations: int | None = 100,
        c_puct: float = 1.5,
        selection: str = "puct",
        rollout: str | None = "random",
        critic: str | None = None,
        alpha: float = 0.5,
        dirichlet: float = 0.0,
        noise_fraction: float = 0.25,
        depth_limit: int | None = None,
        discount: float = 1.0,
        batch_size: int = 1,
        time_budget: float | None = None,
        llm=None,
        model=None,
        k: int = 5,
        priors: str | Callable = "uniform",
        prior_temperature: float = 1.0,
        prior_norm: str = "mean",
        critic_mode: str = "rank",
        evaluator: Callable | None = None,
        value_fn: Callable | None = None,
        proposer: Callable | None = None,
        rollout_depth: int = 200,
        cost_weight: float = 1.0,
        reuse: bool = True,
        solver: bool = True,
        temperature: float = 0.0,
        fpu: float | None = None,
        max_new_tokens: int = 32,
        sample_temperature: float = 1.0,
        seed: int | None = 0,
        search_reward: str = "agent",
        prompt: str = "full",
    ):
        if search_reward not in ("agent", "true"):
            raise ValueError(f"search_reward={search_reward!r}: use 'agent' (fair at test time) or 'true' "
                             "(the hidden reward, for collecting training data).")
        self.search_reward = search_reward
        if search_reward == "true":  # recordings and leaderboards keep such agents apart by name
            self.name = "mcts[search_reward=true]"
        if prompt not in ("full", "compact"):
            raise ValueError(f"prompt={prompt!r}: use 'full' or 'compact' (the state only) for the model's prompts.")
        self.prompt = prompt
        if selection not in ("puct", "ucb1", "ucb-cost"):
            raise ValueError(f"selection={selection!r}: use 'puct', 'ucb1' or 'ucb-cost'.")
        if rollout not in ("random", "policy", None, "none"):
            raise ValueError(f"rollout={rollout!r}: use 'random', 'policy' or None.")
        if critic not in (None, "llm", "none"):
            raise ValueError(f"critic={critic!r}: use None or 'llm'.")
        if simulations is None and time_budget is None:
            raise ValueError("give a search budget: simulations=N and/or time_budget=SECONDS.")
        self.simulations = None if simulations is None else int(simulations)
        self.c_puct, self.selection = float(c_puct), selection
        self.rollout = None if rollout == "none" else rollout
        self.critic_name = None if critic == "none" else critic
        self.alpha = float(alpha)
        self.dirichlet, self.noise_fraction = float(dirichlet), float(noise_fraction)
        self.depth_limit = None if depth_limit is None else int(depth_limit)
        self.discount = float(discount)
        self.batch_size = max(1, int(batch_size))
        self.time_budget = None if time_budget is None else float(time_budget)
        self.k = int(k)
        self.priors = priors
        self.prior_temperature = float(prior_temperature)
        if prior_norm not in ("mean", "sum"):
            raise ValueError(f"prior_norm={prior_norm!r}: use 'mean' (length-normalised log-prob) or 'sum'.")
        self.prior_norm = prior_norm
        self.evaluator, self.value_fn, self.proposer = evaluator, value_fn, proposer
        self.rollout_depth = int(rollout_depth)
        self.cost_weight = float(cost_weight)
        self.reuse, self.solver = bool(reuse), bool(solver)
        self.temperature = float(temperature)
        self.fpu = fpu
        self.max_new_tokens = int(max_new_tokens)
        self.sample_temperature = float(sample_temperature)
        self.seed = seed
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self._llm_spec = llm if llm is not None else model
        self.llm = None
        self.critic = None
        self.critic_mode = critic_mode
        needs_llm = (self.critic_name == "llm" or self.rollout == "policy" or priors == "llm")
        if needs_llm or self._llm_spec is not None:
            self._load_llm()
        if self.critic_name == "llm":
            from .llm.critique import LLMCritic

            self.critic = LLMCritic(self.llm, mode=critic_mode, seed=seed or 0)
        self.env = None
        self.root: Node | None = None
        self.last_search: list[dict] | None = None
        self.stats: dict[str, Any] = {}
        self.history: list[tuple[str, str]] = []

    # ---- set-up ------------------------------------------------------------------
    def _load_llm(self):
        from .llm import load_lm

        self.llm = load_lm(self._llm_spec)

    @property
    def prefers_text(self) -> bool:
        """With a language model the text view (recordings then hold text); else native."""
        return self.llm is not None

    @property
    def usage(self) -> dict:
        return dict(getattr(self.llm, "usage", None) or {"prompt_tokens": 0, "completion_tokens": 0})

    def reset(self, env) -> None:
        self.env = env
        self.base = env.unwrapped
        self.plan = self.base.planning_env(true_reward=self.search_reward == "true")
        self.two_player = getattr(self.plan, "num_players", 1) == 2
        self.text = text_view(env)
        self.root = None
        self.history = []
        self._raw_replies: list[str] = []
        self.stats = {"simulations": 0, "moves": 0, "invalid_candidates": 0, "valid_candidates": 0,
                      "llm_calls": 0, "search_s": 0.0, "reused_visits": 0,
                      "sampled_fallbacks": 0}
        self._sim = self._simulator(self.plan)
        self._cost_fn = getattr(self.plan, "action_cost", None)
        budget = getattr(self.plan, "budget", None)
        self._budget = float(budget) if isinstance(budget, (int, float)) and budget else 1.0
        self._lose = -1.0 if self.two_player else 0.0  # value of a virtual loss
        self._win = 1.0 if self.two_player else None  # a proven value nothing can beat

    @staticmethod
    def _simulator(plan):
        """``action -> (reward, terminated, truncated)``: the env's ``search_step`` where it
        has one (the same transition without building an observation), else ``step``."""
        fast = getattr(plan, "search_step", None)
        if callable(fast):
            return fast

        def step(action):
            _, r, term, trunc, _ = plan.step(action)
            return r, term, trunc

        return step

    # ---- the real step -----------------------------------------------------------
    def act(self, observation, info):
        if self.env is None:
            raise RuntimeError("call agent.reset(env) before act(); run_episode does it for you.")
        start = time.perf_counter()
        self._raw_replies = []
        real = self.base.get_state()
        self.plan.set_state(real)
        root = self._reuse_root() if self.reuse else None
        if root is None:
            root = Node()
            root.state = self.plan.get_state()
            root.player = self.plan.to_play()
        else:
            self.stats["reused_visits"] += root.n
        root.parent = None
        self.root = root
        try:
            self._search(root, start)
            child = self._choose(root)
            self.last_search = self._summary(root, child)
        finally:
            if shares_state(self.plan, self.base):  # searching in the real env: put it back, also on errors
                self.base.set_state(real)
        self.stats["moves"] += 1
        self.stats["search_s"] += time.perf_counter() - start
        if child is None:
            return self._fallback(observation, info)
        self._chosen = child
        text = child.text if child.text is not None else self._text_of(root, child)
        self.history.append(("", text))
        return text if self.text else child.action

    def _fallback(self, observation, info):
        """No candidate survived (e.g. every LLM proposal was invalid): act anyway."""
        legal = self.base.legal_actions()
        if legal:
            a = legal[self.rng.randrange(len(legal))]
        elif callable(getattr(self.base, "sample_action", None)):
            a = self.base.sample_action(self.rng)
        elif self.text and self._raw_replies:
            # the text view explains an invalid action in its next observation
            return self._raw_replies[0]
        else:
            raise RuntimeError(
                "MCTS found no valid candidate action: the env's actions are not enumerable and every proposal "
                "was invalid. Give a stronger model (llm=...), more candidates (k=...), or a proposer."
            )
        return self.base.format_action(a) if self.text else a

    def _reuse_root(self) -> Node | None:
        old = self.root
        if old is None or old.children is None:
            return None
        try:
            key = pickle.dumps(self.plan.get_state())
        except Exception:  # noqa: BLE001 - an unpicklable snapshot: no reuse, still correct
            return None
        frontier = [c for c in old.children if c.state is not None]
        for depth in range(2):
            nxt = []
            for node in frontier:
                if node.key is None:
                    try:
                        node.key = pickle.dumps(node.state)
                    except Exception:  # noqa: BLE001
                        node.key = b""
                if node.key == key:
                    node.parent = None
                    self._rebase(node)
                    return node
                if node.children:
                    nxt.extend(c for c in node.children if c.state is not None)
            frontier = nxt
        return None

    def _rebase(self, root: Node):
        stack = [(root, 0)]
        while stack:
            node, d = stack.pop()
            node.depth = d
            for c in node.children or ():
                stack.append((c, d + 1))

    # ---- search ------------------------------------------------------------------
    def _budget_left(self, start: float, done: int) -> bool:
        if self.simulations is not None and done >= self.simulations:
            return False
        if self.time_budget is not None and time.perf_counter() - start >= self.time_budget:
            return False
        return True

    def _search(self, root: Node, start: float):
        if root.children is None and not root.terminal:
            self._expand_batch([root])
        if self.dirichlet > 0 and root.children:
            noise = self.np_rng.dirichlet([self.dirichlet] * len(root.children))
            for c, eta in zip(root.children, noise):
                c.prior = (1 - self.noise_fraction) * c.prior + self.noise_fraction * float(eta)
        done = 0
        while self._budget_left(start, done):
            if root.exact is not None or not root.children:
                break
            want = self.batch_size
            if self.simulations is not None:
                want = min(want, self.simulations - done)
            paths = []
            for _ in range(want):
                path = self._select(root)
                if path is None:
                    break
                paths.append(path)
            if not paths:
                break
            leaves = []
            seen = set()
            for path in paths:
                leaf = path[-1]
                if id(leaf) not in seen and not leaf.terminal and leaf.exact is None:
                    seen.add(id(leaf))
                    leaves.append(leaf)
            expandable = [lf for lf in leaves if lf.children is None and not self._at_depth_limit(lf)]
            self._expand_batch(expandable)
            values = self._evaluate_leaves(leaves)
            for path in paths:
                leaf = path[-1]
                v = 0.0 if leaf.terminal else (leaf.exact if leaf.exact is not None else values.get(id(leaf), 0.0))
                self._backup(path, v)
            done += len(paths)
        self.stats["simulations"] += done

    def _at_depth_limit(self, node: Node) -> bool:
        return self.depth_limit is not None and node.depth >= self.depth_limit

    def _sign(self, parent: Node, child: Node) -> float:
        if not self.two_player or child.terminal or child.player == parent.player:
            return 1.0
        return -1.0

    def _edge_exact(self, parent: Node, child: Node) -> float | None:
        if child.terminal:
            return child.reward
        if child.exact is None:
            return None
        return child.reward + self.discount * self._sign(parent, child) * child.exact

    def _critic_q(self, c: Node) -> float:
        return 2.0 * c.critique - 1.0 if self.two_player else c.critique

    def _score(self, parent: Node, c: Node, n_parent: int) -> float:
        exact = self._edge_exact(parent, c) if self.solver else None
        n = c.n + c.vloss
        if exact is not None and c.vloss == 0:
            q = exact
        elif n:
            q = (c.w + c.vloss * self._lose) / n
        else:
            q = self.fpu if self.fpu is not None else 0.0
        if c.critique is not None:
            qc = self._critic_q(c)
            q = qc if n == 0 and exact is None else self.alpha * q + (1 - self.alpha) * qc
        if self.selection == "puct":
            return q + self.c_puct * c.prior * math.sqrt(max(1, n_parent)) / (1 + n)
        if n == 0:
            return math.inf
        score = q + self.c_puct * math.sqrt(math.log(max(2, n_parent)) / n)
        if self.selection == "ucb-cost":
            score -= self.cost_weight * c.cost / self._budget
        return score

    def _select(self, root: Node) -> list[Node] | None:
        """Descend by the selection rule to a leaf (stepping the env into it if new)."""
        node, path = root, [root]
        puct, cost, c_puct, lose = self.selection == "puct", self.selection == "ucb-cost", self.c_puct, self._lose
        fpu = self.fpu if self.fpu is not None else 0.0
        while True:
            if node.terminal or node.exact is not None or not node.children or self._at_depth_limit(node):
                break
            if node.children is None:
                break
            n_parent = node.n + node.vloss
            best, best_s = None, -math.inf
            # proven wins need no check here: _prove marks the parent as soon as one exists
            if puct:
                explore = self.c_puct * math.sqrt(max(1, n_parent))
            else:
                log_n = math.log(max(2, n_parent))
            for c in node.children:
                if c.terminal or c.exact is not None or c.critique is not None or cost:
                    s = self._score(node, c, n_parent)
                else:  # the common case, inlined
                    n = c.n + c.vloss
                    q = (c.w + c.vloss * lose) / n if n else fpu
                    if puct:
                        s = q + explore * c.prior / (1 + n)
                    elif n == 0:
                        s = math.inf
                    else:
                        s = q + c_puct * math.sqrt(log_n / n)
                if s > best_s:
                    best, best_s = c, s
            if best is None:
                break
            node = best
            path.append(node)
            if node.state is None:
                self._step_into(path[-2], node)
                break
            if node.children is None:
                break
        for nd in path[1:]:
            nd.vloss += 1
        return path

    def _step_into(self, parent: Node, child: Node):
        plan = self.plan
        plan.set_state(parent.state)
        reward, terminated, truncated = self._sim(child.action)
        child.reward = float(reward)
        child.terminal = bool(terminated or truncated)
        child.state = plan.get_state()
        child.player = -1 if child.terminal else plan.to_play()

    # ---- expansion -----------------------------------------------------------------
    def _messages(self, node: Node):
        from .llm.prompts import state_messages

        return state_messages(self.plan, self.history, style=self.prompt)

    def _text_of(self, parent: Node, child: Node) -> str:
        self.plan.set_state(parent.state)
        child.text = self.plan.format_action(child.action)
        return child.text

    def _expand_batch(self, nodes: list[Node]):
        """Give each node its children; LLM work for all nodes in one call each."""
        if not nodes:
            return
        need_text = self.llm is not None and (self.critic is not None or self.priors == "llm")
        pending_gen = []  # nodes whose candidates the LLM proposes
        contexts: dict[int, list[dict]] = {}
        for node in nodes:
            self.plan.set_state(node.state)
            legal = self.plan.legal_actions()
            if need_text or legal is None:
                contexts[id(node)] = self._messages(node) if self.llm is not None else None
            if legal is None:
                if self.proposer is not None:
                    self._set_children(node, self._dedupe(node, list(self.proposer(self.plan, self.rng, self.k))))
                elif self.llm is not None:
                    pending_gen.append(node)
                elif callable(getattr(self.plan, "sample_action", None)):
                    cands = [self.plan.sample_action(self.rng) for _ in range(self.k)]
                    self._set_children(node, self._dedupe(node, cands))
                else:
                    node.children = []
            else:
                children = []
                for a in legal:
                    c = Node(a, 1.0 / len(legal), node, text=self.plan.format_action(a) if need_text else None)
                    if self._cost_fn is not None:
                        c.cost = float(self._cost_fn(a))
                    children.append(c)
                if callable(self.priors):
                    weights = list(self.priors(self.plan, legal))
                    total = sum(weights) or 1.0
                    for c, w in zip(children, weights):
                        c.prior = float(w) / total
                self.rng.shuffle(children)
                node.children = children
        if pending_gen:
            self._propose(pending_gen, contexts)
        if self.priors == "llm" and self.llm is not None:
            self._llm_priors([n for n in nodes if n.children], contexts)
        if self.critic is not None:
            items = [(contexts[id(n)], [c.text for c in n.children]) for n in nodes if n.children]
            if items:
                self.stats["llm_calls"] += 1
                values = self.critic.critique(items)
                for n, vals in zip([n for n in nodes if n.children], values):
                    for c, v in zip(n.children, vals):
                        c.critique = float(v)

    def _dedupe(self, node: Node, actions: list) -> list[tuple[Any, str, int]]:
        """Valid native actions with their canonical text and multiplicity."""
        self.plan.set_state(node.state)
        seen: dict[str, list] = {}
        for a in actions:
            try:
                text = self.plan.format_action(a)
                native = self.plan.parse_action(text)
            except Exception:  # noqa: BLE001 - an invalid proposal is dropped and counted
                self.stats["invalid_candidates"] += 1
                continue
            self.stats["valid_candidates"] += 1
            if text in seen:
                seen[text][2] += 1
            else:
                seen[text] = [native, text, 1]
        return [tuple(v) for v in seen.values()]

    def _set_children(self, node: Node, cands: list[tuple[Any, str, int]]):
        total = sum(m for _, _, m in cands) or 1
        node.children = []
        for native, text, mult in cands:
            c = Node(native, mult / total, node, text=text)
            if self._cost_fn is not None:
                self.plan.set_state(node.state)
                c.cost = float(self._cost_fn(native))
            node.children.append(c)

    def _propose(self, nodes: list[Node], contexts):
        from palaestra.core import InvalidAction

        from .llm.prompts import action_candidates

        self.stats["llm_calls"] += 1
        replies = self.llm.generate([contexts[id(n)] for n in nodes], n=self.k, temperature=self.sample_temperature,
                                    max_new_tokens=self.max_new_tokens, seed=self.rng.randrange(2**31))
        for node, samples in zip(nodes, replies):
            if node is self.root:
                self._raw_replies = list(samples)
            self.plan.set_state(node.state)
            seen: dict[str, list] = {}
            for reply in samples:
                native = None
                for cand in action_candidates(reply):
                    try:
                        native = self.plan.parse_action(cand)
                        break
                    except InvalidAction:
                        continue
                if native is None:
                    self.stats["invalid_candidates"] += 1
                    continue
                self.stats["valid_candidates"] += 1
                text = self.plan.format_action(native)
                if text in seen:
                    seen[text][2] += 1
                else:
                    seen[text] = [native, text, 1]
            cands = [tuple(v) for v in seen.values()]
            if not cands and callable(getattr(self.plan, "sample_action", None)):
                # every proposal was invalid: the env's own samples keep the search going
                self.stats["sampled_fallbacks"] += 1
                cands = self._dedupe(node, [self.plan.sample_action(self.rng) for _ in range(max(1, self.k))])
            self._set_children(node, cands)

    def _llm_priors(self, nodes: list[Node], contexts):
        from .llm.scoring import score_batch, softmax

        nodes = [n for n in nodes if len(n.children) >= 2]
        if not nodes:
            return
        self.stats["llm_calls"] += 1
        items = [(contexts[id(n)], [c.text for c in n.children]) for n in nodes]
        for node, scores in zip(nodes, score_batch(self.llm, items, self.prior_norm)):
            for c, p in zip(node.children, softmax(scores, self.prior_temperature)):
                c.prior = p

    # ---- evaluation ----------------------------------------------------------------
    def _evaluate_leaves(self, leaves: list[Node]) -> dict[int, float]:
        if not leaves:
            return {}
        if self.evaluator is not None:
            batch = [{"env": self.plan, "state": lf.state, "to_play": lf.player} for lf in leaves]
            vals = list(self.evaluator(batch))
            return {id(lf): float(v) for lf, v in zip(leaves, vals)}
        if self.value_fn is not None:
            out = {}
            for lf in leaves:
                self.plan.set_state(lf.state)
                out[id(lf)] = float(self.value_fn(self.plan))
            return out
        if self.rollout == "random":
            return {id(lf): self._random_rollout(lf) for lf in leaves}
        if self.rollout == "policy":
            return self._policy_rollouts(leaves)
        return {id(lf): 0.0 for lf in leaves}

    def _random_rollout(self, leaf: Node) -> float:
        plan = self.plan
        plan.set_state(leaf.state)
        rng = self.rng
        me, total, scale = leaf.player, 0.0, 1.0
        two = self.two_player
        sample = getattr(plan, "sample_action", None)
        sim = self._sim
        for _ in range(self.rollout_depth):
            legal = plan.legal_actions()
            if legal:
                a = legal[int(rng.random() * len(legal))]
            elif legal is None and callable(sample):
                a = sample(rng)
            else:
                break
            mover = plan.to_play() if two else me
            r, term, trunc = sim(a)
            total += scale * (r if mover == me else -r)
            scale *= self.discount
            if term or trunc:
                break
        return total

    def _policy_rollouts(self, leaves: list[Node]) -> dict[int, float]:
        """The language model plays on from every leaf; one generate call per ply for all."""
        from palaestra.core import InvalidAction

        from .llm.prompts import action_candidates, state_messages

        plan = self.plan
        live = {id(lf): [lf.state, lf.player, 0.0, 1.0] for lf in leaves}  # state, me, total, scale
        out = {}
        for _ in range(self.rollout_depth):
            if not live:
                break
            keys = list(live)
            prompts = []
            for key in keys:
                plan.set_state(live[key][0])
                prompts.append(state_messages(plan))
            self.stats["llm_calls"] += 1
            replies = self.llm.generate(prompts, n=1, temperature=self.sample_temperature,
                                        max_new_tokens=self.max_new_tokens, seed=self.rng.randrange(2**31))
            for key, reply in zip(keys, replies):
                state, me, total, scale = live[key]
                plan.set_state(state)
                action = None
                for cand in action_candidates(reply[0]):
                    try:
                        action = plan.parse_action(cand)
                        break
                    except InvalidAction:
                        continue
                if action is None:  # an invalid proposal: fall back to a random legal move
                    self.stats["invalid_candidates"] += 1
                    legal = plan.legal_actions()
                    if legal:
                        action = legal[self.rng.randrange(len(legal))]
                    else:
                        out[key] = total
                        del live[key]
                        continue
                mover = plan.to_play() if self.two_player else me
                r, term, trunc = self._sim(action)
                total += scale * (r if mover == me else -r)
                scale *= self.discount
                if term or trunc:
                    out[key] = total
                    del live[key]
                else:
                    live[key] = [plan.get_state(), me, total, scale]
        for key, (_, _, total, _) in live.items():
            out[key] = total
        return out

    # ---- backup ------------------------------------------------------------------
    def _backup(self, path: list[Node], value: float):
        g = value  # from the view of path[-1].player
        for i in range(len(path) - 1, 0, -1):
            child, parent = path[i], path[i - 1]
            g = child.reward + self.discount * self._sign(parent, child) * g
            child.n += 1
            child.w += g
            child.w2 += g * g
            child.vloss = max(0, child.vloss - 1)
            if self.solver:
                self._prove(parent)
        path[0].n += 1

    def _prove(self, node: Node):
        if node.exact is not None or not node.children:
            return
        best, all_known = -math.inf, True
        for c in node.children:
            e = self._edge_exact(node, c)
            if e is None:
                all_known = False
                continue
            if self._win is not None and e >= self._win:
                node.exact = e
                return
            best = max(best, e)
        if all_known:
            node.exact = best

    # ---- the move ------------------------------------------------------------------
    def _choose(self, root: Node) -> Node | None:
        if not root.children:
            return None
        if self.solver and root.exact is not None:
            proven = [c for c in root.children if self._edge_exact(root, c) == root.exact]
            if proven:
                return max(proven, key=lambda c: c.n)
        if self.temperature > 0:
            weights = [c.n ** (1.0 / self.temperature) for c in root.children]
            if sum(weights) > 0:
                return self.rng.choices(root.children, weights=weights)[0]
        return max(root.children, key=lambda c: (c.n, self._value(root, c), c.prior))

    def _value(self, root: Node, c: Node) -> float:
        exact = self._edge_exact(root, c) if self.solver else None
        q = exact if exact is not None else c.q()
        if c.critique is not None:
            q = self.alpha * q + (1 - self.alpha) * self._critic_q(c) if c.n or exact is not None else self._critic_q(c)
        return q

    def _summary(self, root: Node, chosen: Node | None = None) -> list[dict]:
        """The root's children, the chosen one first, then by visits."""
        out = []
        for c in sorted(root.children or [], key=lambda c: (c is not chosen, -c.n)):
            text = c.text if c.text is not None else self._text_of(root, c)
            exact = self._edge_exact(root, c) if self.solver else None
            q = exact if exact is not None else (c.q() if c.n else None)
            sd = math.sqrt(max(0.0, c.w2 / c.n - (c.w / c.n) ** 2)) if c.n > 1 else None
            out.append({"action": text, "visits": int(c.n), "q": None if q is None else float(q),
                        "q_sd": None if sd is None else float(sd),
                        "proven": None if exact is None else float(exact),
                        "prior": float(c.prior), "critique": None if c.critique is None else float(c.critique),
                        "value": float(self._value(root, c))})
        return out
