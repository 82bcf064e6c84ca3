"""OpenSpiel's C++ MCTS (``pyspiel.MCTSBot``) behind the palaestra Agent interface.

For the board games only (``palaestra/ConnectFour-v0``, ``Hex-v0``, ``Chess-v0``,
``Chess960-v0``): the env hands over its position as a pyspiel state
(``env.unwrapped.spiel_state()``) and the whole search runs in C++, about an order of
magnitude more simulations per CPU-second than the generic snapshot-based
``MCTSAgent`` (see ``benchmarks/mcts.py``). The generic agent (``--agent mcts``) stays the
one for every other env and for LLM priors, critique and evaluators.

    palaestra run palaestra/ConnectFour-v0 --agent mcts-cpp --agent-opt simulations=1000
"""

from __future__ import annotations

import random
import time

from .base import text_view


class OpenSpielMCTSAgent:
    """UCT with random rollouts (and MCTS-Solver) in OpenSpiel's C++.

    ``simulations`` per move (1..10^7), ``uct_c`` exploration constant, ``rollouts`` random
    rollouts per leaf, ``solve`` (back up proven wins/losses), ``max_memory_mb`` for the
    tree, ``seed`` (each move's search is seeded from it, so games replay).
    ``stats["simulations"]`` counts the simulations run (the root's visits).
    """

    name = "mcts-cpp"

    def __init__(self, simulations: int = 1000, uct_c: float = 2.0, rollouts: int = 1, solve: bool = True,
                 max_memory_mb: int = 1000, seed: int | None = 0):
        def as_int(name, value, lo, hi):
            if isinstance(value, bool):
                raise ValueError(f"{name}={value!r} is not an integer.")
            try:
                out = int(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name}={value!r} is not an integer.") from None
            if not lo <= out <= hi:
                raise ValueError(f"{name}={out}: give {lo}..{hi}.")
            return out

        self.simulations = as_int("simulations", simulations, 1, 10_000_000)
        self.rollouts = as_int("rollouts", rollouts, 1, 1000)
        self.max_memory_mb = as_int("max_memory_mb", max_memory_mb, 1, 65536)
        try:
            self.uct_c = float(uct_c)
        except (TypeError, ValueError):
            raise ValueError(f"uct_c={uct_c!r} is not a number.") from None
        if not 0.0 <= self.uct_c <= 100.0:
            raise ValueError(f"uct_c={self.uct_c}: give 0..100.")
        self.solve = bool(solve)
        self.seed = seed
        self.rng = random.Random(seed)
        self.env = None
        self.stats = {"simulations": 0, "moves": 0, "search_s": 0.0}

    def reset(self, env) -> None:
        base = env.unwrapped
        if not callable(getattr(base, "spiel_state", None)):
            raise ValueError(f"the mcts-cpp agent searches OpenSpiel games only, not {type(base).__name__}; "
                             "use --agent mcts (the generic search over env snapshots) there.")
        self.env, self.base, self.text = env, base, text_view(env)
        self.stats = {"simulations": 0, "moves": 0, "search_s": 0.0}

    def search(self, state):
        """Run one search from a pyspiel ``state``; returns OpenSpiel's root ``SearchNode``."""
        import pyspiel

        seed = self.rng.randrange(2**31)
        evaluator = pyspiel.RandomRolloutEvaluator(self.rollouts, seed)
        bot = pyspiel.MCTSBot(state.get_game(), evaluator, self.uct_c, self.simulations, self.max_memory_mb,
                              self.solve, seed, False)
        return bot.mcts_search(state)

    def act(self, observation, info):
        if self.env is None:
            raise RuntimeError("call reset(env) before act().")
        state = self.base.spiel_state()
        if state.is_terminal():
            raise ValueError("the game is over; reset the env.")
        t0 = time.perf_counter()
        root = self.search(state)
        self.stats["search_s"] += time.perf_counter() - t0
        self.stats["simulations"] += root.explore_count
        self.stats["moves"] += 1
        action = int(root.best_child().action)
        return self.base.format_action(action) if self.text else action
