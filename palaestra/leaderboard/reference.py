"""Reference opponents for leaderboards: Stockfish as a palaestra Agent (chess only).

``StockfishAgent(skill=0..20, depth=8, movetime=None, elo=None)`` reads the position from
``env.unwrapped.ui_state()["fen"]`` and answers with Debian's ``stockfish`` over UCI
through python-chess; in a tournament spec: ``stockfish[skill=5,depth=6]``. Below skill
20 Stockfish picks among moves with its own clock-seeded generator, so its games are
not reproducible move for move (full strength with a depth limit is).
"""

from __future__ import annotations

import os
import shutil

from palaestra.agents.base import text_view


def stockfish_path() -> str | None:
    return shutil.which("stockfish") or ("/usr/games/stockfish" if os.path.exists("/usr/games/stockfish") else None)


class StockfishAgent:
    name = "stockfish"

    def __init__(self, skill: int = 20, depth: int | None = 8, movetime: float | None = None, elo: int | None = None,
                 path: str | None = None, threads: int = 1, seed: int | None = None):
        if not 0 <= int(skill) <= 20:
            raise ValueError(f"skill={skill}: Stockfish's Skill Level runs 0..20.")
        self.skill, self.depth, self.movetime, self.elo = int(skill), depth, movetime, elo
        self.threads = int(threads)
        self.path = path or stockfish_path()
        if self.path is None:
            raise RuntimeError("the stockfish agent needs the Stockfish engine: apt-get install -y stockfish")
        self._engine = None
        self.env = None

    def _open(self):
        import chess.engine

        if self._engine is None:
            self._engine = chess.engine.SimpleEngine.popen_uci(self.path)
            config = {"Threads": self.threads, "Hash": 16, "Skill Level": self.skill}
            if self.elo is not None:
                config.update({"UCI_LimitStrength": True, "UCI_Elo": int(self.elo)})
            self._engine.configure(config)
        return self._engine

    def reset(self, env) -> None:
        self.env, self.base, self.text = env, env.unwrapped, text_view(env)
        ui = getattr(self.base, "ui_state", None)
        if not callable(ui) or ui().get("game") != "chess":
            raise ValueError("the stockfish agent plays chess only (palaestra/Chess-v0, palaestra/Chess960-v0).")

    def act(self, observation, info):
        import chess
        import chess.engine

        fen = self.base.ui_state()["fen"]
        board = chess.Board(fen, chess960=bool(getattr(getattr(self.base, "rules", None), "chess960", False)))
        limit = chess.engine.Limit(depth=self.depth, time=self.movetime)
        move = self._open().play(board, limit).move
        uci = board.uci(move)
        return uci if self.text else self.base.parse_action(uci)

    def close(self) -> None:
        if self._engine is not None:
            try:
                self._engine.quit()
            except Exception:  # noqa: BLE001 - the engine may be gone already
                pass
            self._engine = None

    def __del__(self):
        self.close()
