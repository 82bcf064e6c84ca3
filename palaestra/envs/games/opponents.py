"""Opponents for the single-agent view of a two-player game.

Every opponent chooses from a ``random.Random`` the env owns, so an env snapshot (which
includes that generator's state) fixes the opponent's future moves too.
"""

from __future__ import annotations

import random

import pyspiel

from .stockfish import _SENTINEL, StockfishEngine, stockfish_path

__all__ = ["AgentOpponent", "MCTSOpponent", "RandomOpponent", "StockfishOpponent", "make_opponent", "stockfish_path"]


class RandomOpponent:
    name = "random"

    def choose(self, env, state, rng: random.Random) -> int:
        legal = state.legal_actions()
        return legal[rng.randrange(len(legal))]

    def close(self):
        pass


class MCTSOpponent:
    """OpenSpiel's C++ MCTS with random rollouts, seeded from the env's generator."""

    name = "mcts"

    def __init__(self, simulations: int = 200, rollouts: int = 1, uct_c: float = 2.0):
        if not 1 <= int(simulations) <= 1_000_000:
            raise ValueError(f"simulations={simulations}: give 1..1000000.")
        if not 1 <= int(rollouts) <= 1000:
            raise ValueError(f"rollouts={rollouts}: give 1..1000.")
        self.simulations, self.rollouts, self.uct_c = int(simulations), int(rollouts), float(uct_c)

    def choose(self, env, state, rng: random.Random) -> int:
        seed = rng.randrange(2**31)
        evaluator = pyspiel.RandomRolloutEvaluator(self.rollouts, seed)
        spiel = state.to_spiel() if hasattr(state, "to_spiel") else state  # native Connect Four
        bot = pyspiel.MCTSBot(spiel.get_game(), evaluator, self.uct_c, self.simulations, 100, True, seed, False)
        return bot.step(spiel)

    def close(self):
        pass


class StockfishOpponent:
    """Debian's ``stockfish`` over UCI (``stockfish.StockfishEngine``), with strength settings.

    ``skill`` 0-20 (Stockfish's "Skill Level"); ``depth`` (1-40) and/or ``movetime``
    (seconds) limit each search: ``depth`` defaults to 8 without ``movetime`` and to no
    depth limit with it; ``elo`` (1350-2850) sets UCI_LimitStrength. All are checked
    here, before the engine starts. Each episode starts a new engine game
    (``ucinewgame``) and the engine sees the whole move list. Below skill 20 Stockfish
    randomises its choice with its own clock-seeded generator, so only full strength
    with a depth limit is reproducible move for move.
    """

    name = "stockfish"

    def __init__(self, skill: int = 20, depth=_SENTINEL, movetime: float | None = None, elo: int | None = None,
                 path: str | None = None, threads: int = 1, hash_mb: int = 16):
        self.engine = StockfishEngine(skill=skill, depth=depth, movetime=movetime, elo=elo, path=path,
                                      threads=threads, hash_mb=hash_mb)

    def __getattr__(self, name):  # skill, depth, movetime, elo, path, threads
        if name in ("skill", "depth", "movetime", "elo", "path", "threads") and "engine" in self.__dict__:
            return getattr(self.__dict__["engine"], name)
        raise AttributeError(name)

    def choose(self, env, state, rng) -> int:
        rules = env.rules
        board = env.python_board() if hasattr(env, "python_board") else rules.board(state)
        move = self.engine.best_move(board, game=getattr(env, "episode_key", None))
        return rules.uci_map(state)[board.uci(move)]

    def close(self):
        self.engine.close()


class AgentOpponent:
    """Any palaestra Agent plays the other side through a self-play view of the game."""

    def __init__(self, agent):
        self.agent = agent
        self.name = getattr(agent, "name", type(agent).__name__)
        self._view = None

    def choose(self, env, state, rng):
        view = env.planning_env()
        view.set_state(env.get_state())
        if self._view is not view:
            self.agent.reset(view)
            self._view = view
        obs, info = view.observe()
        return int(self.agent.act(obs, info))

    def close(self):
        pass


def make_opponent(spec, game: str, **options):
    if spec is None or spec == "self":
        return None
    if not isinstance(spec, str):
        return AgentOpponent(spec)
    if spec == "random":
        return RandomOpponent()
    if spec == "mcts":
        return MCTSOpponent(**options)
    if spec == "stockfish":
        if game not in ("chess", "chess960"):
            raise ValueError(f"opponent='stockfish' plays chess only, not {game}; use 'random' or 'mcts'.")
        return StockfishOpponent(**options)
    raise ValueError(f"unknown opponent {spec!r}: use 'random', 'mcts', 'stockfish' (chess), None (self-play) or an Agent.")
