"""Stockfish over UCI (python-chess's asyncio protocol), owned so that it always ends.

python-chess's ``SimpleEngine`` runs its event loop on a *non-daemon* thread: a script
that forgets ``close()`` never exits, and an engine outlives the object that started
it. ``StockfishEngine`` instead drives every engine of the process from one daemon
thread's event loop, and ``weakref.finalize`` quits the engine on ``close()``, on
garbage collection and at interpreter exit (where the engine also sees its stdin
close). Every setting is checked before the engine starts, and each game gets its own
``ucinewgame`` and the full move list (``position fen <start> moves ...``), so that a
full-strength search to a fixed depth is reproducible game after game and the engine
sees repetitions.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import threading
import weakref

from palaestra.core import MissingDependency

#: Stockfish 15.1's UCI_Elo range (``uci`` reports it; checked again once started)
ELO_RANGE = (1350, 2850)
MAX_DEPTH = 40
MAX_MOVETIME = 60.0
class _Default:
    def __repr__(self) -> str:
        return "8 (none with movetime)"


_SENTINEL = _Default()

_loop_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_thread: threading.Thread | None = None


def stockfish_path() -> str | None:
    """Debian installs the engine as /usr/games/stockfish, often not on PATH."""
    return shutil.which("stockfish") or ("/usr/games/stockfish" if os.path.exists("/usr/games/stockfish") else None)


def _engine_loop() -> asyncio.AbstractEventLoop:
    """The event loop (on a daemon thread) that every engine of this process uses."""
    global _loop, _loop_thread
    with _loop_lock:
        if _loop is None or not _loop_thread.is_alive():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="palaestra-stockfish", daemon=True)
            thread.start()
            _loop, _loop_thread = loop, thread
        return _loop


def _run(coro, timeout: float | None):
    loop = _engine_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def _shutdown(transport, protocol, pid: int | None) -> None:
    """Quit the engine (finalizer: no reference to the owner). Kills it if quit stalls."""
    loop = _loop
    on_loop = threading.current_thread() is _loop_thread
    try:
        if loop is not None and loop.is_running() and not on_loop:
            asyncio.run_coroutine_threadsafe(asyncio.wait_for(protocol.quit(), 2.0), loop).result(3.0)
    except Exception:  # noqa: BLE001 - the engine may be gone already; kill below
        pass
    try:
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(transport.close)
    except Exception:  # noqa: BLE001
        pass
    if pid is not None:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def check_settings(skill=20, depth=_SENTINEL, movetime=None, elo=None, threads=1, hash_mb=16) -> dict:
    """Validate Stockfish settings up front; returns them normalised.

    ``depth`` defaults to 8 when no ``movetime`` is given and to no depth limit when one
    is; both together stop at whichever comes first. A search with neither never ends,
    so ``depth=None`` without ``movetime`` is refused.
    """
    def as_int(name, value):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError(f"{name}={value!r} is not a number.")
        try:
            out = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}={value!r} is not an integer.") from None
        if isinstance(value, float) and out != value:
            raise ValueError(f"{name}={value!r} is not an integer.")
        return out

    skill = as_int("skill", skill)
    if not 0 <= skill <= 20:
        raise ValueError(f"skill={skill}: Stockfish's Skill Level runs 0..20.")
    if movetime is not None:
        try:
            movetime = float(movetime)
        except (TypeError, ValueError):
            raise ValueError(f"movetime={movetime!r} is not a number of seconds.") from None
        if not 0.001 <= movetime <= MAX_MOVETIME:  # also refuses NaN
            raise ValueError(f"movetime={movetime}: give seconds per move in 0.001..{MAX_MOVETIME:g}.")
    if depth is _SENTINEL:
        depth = None if movetime is not None else 8
    elif depth is not None:
        depth = as_int("depth", depth)
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"depth={depth}: give a search depth in 1..{MAX_DEPTH} (or movetime=SECONDS).")
    if depth is None and movetime is None:
        raise ValueError("depth=None without movetime asks Stockfish for an unlimited search that never returns; "
                         f"give depth=1..{MAX_DEPTH} and/or movetime=SECONDS.")
    if elo is not None:
        elo = as_int("elo", elo)
        if not ELO_RANGE[0] <= elo <= ELO_RANGE[1]:
            raise ValueError(f"elo={elo}: Stockfish's UCI_Elo runs {ELO_RANGE[0]}..{ELO_RANGE[1]}; "
                             "use skill=0..20 for weaker play.")
    threads = as_int("threads", threads)
    if not 1 <= threads <= (os.cpu_count() or 1):
        raise ValueError(f"threads={threads}: give 1..{os.cpu_count() or 1} (this machine's CPUs).")
    hash_mb = as_int("hash_mb", hash_mb)
    if not 1 <= hash_mb <= 1024:
        raise ValueError(f"hash_mb={hash_mb}: give 1..1024 MB.")
    return {"skill": skill, "depth": depth, "movetime": movetime, "elo": elo, "threads": threads, "hash_mb": hash_mb}


class StockfishEngine:
    """One Stockfish process with checked settings; ``best_move(board, game=key)``.

    ``board`` is a ``chess.Board`` with its move stack (the engine gets the start
    position and the moves); a new ``game`` key sends ``ucinewgame`` first (clears the
    hash), so a full-strength, depth-limited game replays move for move. Below skill 20
    (or with ``elo``) Stockfish randomises with its own clock-seeded generator.
    """

    def __init__(self, skill: int = 20, depth=_SENTINEL, movetime: float | None = None, elo: int | None = None,
                 path: str | None = None, threads: int = 1, hash_mb: int = 16, timeout: float = 30.0):
        s = check_settings(skill=skill, depth=depth, movetime=movetime, elo=elo, threads=threads, hash_mb=hash_mb)
        self.skill, self.depth, self.movetime, self.elo = s["skill"], s["depth"], s["movetime"], s["elo"]
        self.threads, self.hash_mb = s["threads"], s["hash_mb"]
        self.timeout = float(timeout)
        self.path = path or stockfish_path()
        if self.path is None:
            raise MissingDependency("The Stockfish chess engine", "apt-get install -y stockfish")
        self._protocol = None
        self._finalizer = None
        self.sent: list[str] = []  # the last search's "position"/"go" lines (for checks and logs)

    @property
    def pid(self) -> int | None:
        return None if self._protocol is None else self._transport.get_pid()

    def start(self):
        if self._protocol is not None:
            return self._protocol
        import chess.engine

        transport, protocol = _run(chess.engine.popen_uci(self.path), self.timeout)
        self._transport, self._protocol = transport, protocol
        self._finalizer = weakref.finalize(self, _shutdown, transport, protocol, transport.get_pid())
        if self.elo is not None:
            option = protocol.options.get("UCI_Elo")
            if option is not None and not option.min <= self.elo <= option.max:
                self.close()
                raise ValueError(f"elo={self.elo}: this Stockfish allows UCI_Elo {option.min}..{option.max}.")
        config = {"Threads": self.threads, "Hash": self.hash_mb, "Skill Level": self.skill}
        if self.elo is not None:
            config.update({"UCI_LimitStrength": True, "UCI_Elo": self.elo})
        _run(protocol.configure(config), self.timeout)
        original = protocol.send_line
        sent = self.sent

        def send_line(line: str) -> None:  # keep what the search sends, for checks
            if line.startswith(("position", "go", "ucinewgame")):
                sent.append(line)
                del sent[:-8]
            original(line)

        protocol.send_line = send_line
        return protocol

    def limit(self):
        import chess.engine

        return chess.engine.Limit(depth=self.depth, time=self.movetime)

    def best_move(self, board, game=None):
        """The engine's move (a ``chess.Move``) in ``board``; ``game`` keys ``ucinewgame``."""
        protocol = self.start()
        budget = self.timeout + (self.movetime or 0.0)
        result = _run(protocol.play(board, self.limit(), game=game), budget)
        if result.move is None:
            raise RuntimeError(f"Stockfish returned no move in {board.fen()} (is the game over?).")
        return result.move

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._protocol = None

    def __getstate__(self):
        d = dict(self.__dict__)
        d.update(_protocol=None, _finalizer=None, _transport=None, sent=[])
        return d
