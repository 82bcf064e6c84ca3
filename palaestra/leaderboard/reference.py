"""Reference opponents for leaderboards: Stockfish as a palaestra Agent (chess only).

``StockfishAgent(skill=0..20, depth=8, movetime=None, elo=None)`` reads the position from
``env.unwrapped.ui_state()["fen"]`` and answers with Debian's ``stockfish`` over UCI
through python-chess; in a tournament spec: ``stockfish[skill=5,depth=6]``. Below skill
20 Stockfish picks among moves with its own clock-seeded generator, so its games are
not reproducible move for move (full strength with a depth limit is).
"""

from __future__ import annotations

from palaestra.agents.base import text_view
from palaestra.envs.games.opponents import StockfishOpponent, stockfish_path

__all__ = ["StockfishAgent", "stockfish_path"]


class StockfishAgent:
    """The games' Stockfish engine wrapper (``StockfishOpponent``) as a palaestra Agent."""

    name = "stockfish"

    def __init__(self, skill: int = 20, depth: int | None = 8, movetime: float | None = None, elo: int | None = None,
                 path: str | None = None, threads: int = 1, seed: int | None = None):
        self.engine = StockfishOpponent(skill=skill, depth=depth, movetime=movetime, elo=elo, path=path, threads=threads)
        self.env = None

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)
        ui = getattr(self.base, "ui_state", None)
        if not callable(ui) or ui().get("game") != "chess":
            raise ValueError("the stockfish agent plays chess only (palaestra/Chess-v0, palaestra/Chess960-v0).")

    def act(self, observation, info):
        import chess

        fen = self.base.ui_state()["fen"]
        board = chess.Board(fen, chess960=bool(getattr(getattr(self.base, "rules", None), "chess960", False)))
        uci = self.engine.best_uci(board)
        return uci if self.text else self.base.parse_action(uci)

    def close(self) -> None:
        engine = getattr(self, "engine", None)  # absent when __init__ failed
        if engine is not None:
            engine.close()

    def __del__(self):
        self.close()
