"""Opponents for the single-agent view of a two-player game.

Every opponent chooses from a ``random.Random`` the env owns, so an env snapshot (which
includes that generator's state) fixes the opponent's future moves too.
"""

from __future__ import annotations

import os
import random
import shutil

import pyspiel

from palaestra.core import MissingDependency


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
        self.simulations, self.rollouts, self.uct_c = int(simulations), int(rollouts), float(uct_c)

    def choose(self, env, state, rng: random.Random) -> int:
        seed = rng.randrange(2**31)
        evaluator = pyspiel.RandomRolloutEvaluator(self.rollouts, seed)
        bot = pyspiel.MCTSBot(state.get_game(), evaluator, self.uct_c, self.simulations, 100, True, seed, False)
        return bot.step(state)

    def close(self):
        pass


def stockfish_path() -> str | None:
    """Debian installs the engine as /usr/games/stockfish, often not on PATH."""
    return shutil.which("stockfish") or ("/usr/games/stockfish" if os.path.exists("/usr/games/stockfish") else None)


class StockfishOpponent:
    """Debian's ``stockfish`` over UCI (python-chess), with strength settings.

    ``skill`` 0-20 (Stockfish's "Skill Level"), ``depth`` or ``movetime`` (seconds) limit
    each search, ``elo`` sets UCI_LimitStrength. Below skill 20 Stockfish randomises its
    choice with its own clock-seeded generator, so only full strength with a depth limit
    is reproducible move for move.
    """

    name = "stockfish"

    def __init__(self, skill: int = 20, depth: int | None = 8, movetime: float | None = None, elo: int | None = None,
                 path: str | None = None, threads: int = 1):
        if not 0 <= int(skill) <= 20:
            raise ValueError(f"skill={skill}: Stockfish's Skill Level runs 0..20.")
        self.skill, self.depth, self.movetime, self.elo = int(skill), depth, movetime, elo
        self.threads = int(threads)
        self.path = path or stockfish_path()
        if self.path is None:
            raise MissingDependency("The Stockfish chess engine", "apt-get install -y stockfish")
        self._engine = None

    def engine(self):
        import chess.engine

        if self._engine is None:
            self._engine = chess.engine.SimpleEngine.popen_uci(self.path)
            config = {"Threads": self.threads, "Hash": 16, "Skill Level": self.skill}
            if self.elo is not None:
                config.update({"UCI_LimitStrength": True, "UCI_Elo": int(self.elo)})
            self._engine.configure(config)
        return self._engine

    def best_uci(self, board) -> str:
        import chess.engine

        limit = chess.engine.Limit(depth=self.depth, time=self.movetime)
        return self.engine().play(board, limit).move.uci()

    def choose(self, env, state, rng: random.Random) -> int:
        rules = env.rules
        board = rules.board(state)
        return rules.uci_map(state)[board.uci(board.parse_uci(self.best_uci(board)))]

    def close(self):
        if self._engine is not None:
            try:
                self._engine.quit()
            except Exception:  # noqa: BLE001 - the engine may already be gone
                pass
            self._engine = None

    def __getstate__(self):
        d = dict(self.__dict__)
        d["_engine"] = None
        return d


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
