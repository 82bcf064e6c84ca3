"""Reference opponents for leaderboards: Stockfish as a palaestra Agent (chess only).

``StockfishAgent(skill=0..20, depth=8, movetime=None, elo=None)`` gives the games'
engine wrapper (``palaestra.envs.games.stockfish.StockfishEngine``: settings checked up
front, ``ucinewgame`` per game, the full move list, the engine quit on close, garbage
collection and exit) the env's board with its move stack; in a tournament spec:
``stockfish[skill=5,depth=6]``. Below skill 20 Stockfish picks among moves with its own
clock-seeded generator, so its games are not reproducible move for move (full strength
with a depth limit is).
"""

from __future__ import annotations

from palaestra.agents.base import text_view
from palaestra.envs.games.stockfish import _SENTINEL, StockfishEngine, stockfish_path

__all__ = ["StockfishAgent", "stockfish_path"]


class StockfishAgent:
    """The games' Stockfish engine wrapper (``StockfishEngine``) as a palaestra Agent."""

    name = "stockfish"

    def __init__(self, skill: int = 20, depth=_SENTINEL, movetime: float | None = None, elo: int | None = None,
                 path: str | None = None, threads: int = 1, seed: int | None = None):
        self.engine = StockfishEngine(skill=skill, depth=depth, movetime=movetime, elo=elo, path=path, threads=threads)
        self.env = None

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)
        ui = getattr(self.base, "ui_state", None)
        if not callable(ui) or ui().get("game") != "chess":
            raise ValueError("the stockfish agent plays chess only (palaestra/Chess-v0, palaestra/Chess960-v0).")

    def act(self, observation, info):
        board = self.base.python_board()  # the position with the game's moves
        uci = board.uci(self.engine.best_move(board, game=getattr(self.base, "episode_key", None)))
        return uci if self.text else self.base.parse_action(uci)

    def close(self) -> None:
        engine = getattr(self, "engine", None)  # absent when __init__ failed
        if engine is not None:
            engine.close()

    def __del__(self):
        self.close()
