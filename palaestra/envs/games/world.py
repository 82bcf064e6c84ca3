"""Game rules from OpenSpiel, plus text drawing and move parsing (no Gymnasium here).

Each ``Rules`` object wraps one pyspiel game: it makes initial states (Chess960's start
position is drawn from the seed), turns OpenSpiel actions into the text people and
language models write (and back), and draws the board.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

import numpy as np
import pyspiel

from palaestra.core import InvalidAction

from .connect_four import C4State


class Rules:
    name: str = ""
    move_help: str = ""

    def __init__(self, **params):
        self.params = params
        self.game = pyspiel.load_game(self.spiel_name, params)
        self.num_actions = self.game.num_distinct_actions()
        self.obs_shape = tuple(self.game.observation_tensor_shape())

    spiel_name = ""

    def new_state(self, seed: int | None, options: dict | None = None):
        return self.game.new_initial_state()

    def first_player(self, state) -> int:
        """OpenSpiel id of palaestra's player 0 (the first mover)."""
        return state.current_player()

    # text <-> action -------------------------------------------------------------
    def format(self, state, action: int) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, state, text: str) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def draw(self, state) -> str:
        return str(state)

    def observation(self, state, player: int) -> np.ndarray:
        """The observation tensor from ``player``'s side (OpenSpiel id): see ``_perspective``."""
        return self._perspective(self._spiel_tensor(state), player)

    def _perspective(self, tensor: np.ndarray, player: int) -> np.ndarray:
        return tensor

    def _spiel_tensor(self, state) -> np.ndarray:
        # OpenSpiel writes the tensor straight into a numpy buffer (~0.5 us, where
        # converting state.observation_tensor()'s list costs 3-25 us)
        observer = self.__dict__.get("_observer")
        if observer is None:
            from open_spiel.python.observation import make_observation

            observer = self._observer = make_observation(self.game)
        observer.set_from(state, 0)  # OpenSpiel's tensors are the same for both players
        return observer.tensor.reshape(self.obs_shape).copy()

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_observer", None)
        return state

    def cells(self, state) -> list[list[str]]:  # for board UIs
        return [line.split() for line in str(state).splitlines() if line.strip()]

    def illegal(self, state, text: str, why: str) -> InvalidAction:
        legal = [self.format(state, a) for a in state.legal_actions()]
        shown = ", ".join(legal[:60]) + (f" ... ({len(legal)} in all)" if len(legal) > 60 else "")
        return InvalidAction(f"{why} {self.move_help} Legal now: {shown}", allowed=legal)


class ConnectFourRules(Rules):
    name = "connect_four"
    spiel_name = "connect_four"
    rows, cols = 6, 7
    move_help = "Give a column number from 1 (left) to 7 (right), e.g. '4'."
    _pattern = re.compile(r"^\s*(?:col(?:umn)?\s*)?([0-9]+)\s*$", re.IGNORECASE)

    def new_state(self, seed, options=None):
        return C4State.new()  # OpenSpiel's rules on bitboards (connect_four.py)

    def observation(self, state, player: int) -> np.ndarray:
        """Planes [player's discs, the other's, empty] (OpenSpiel's order is x, o, empty)."""
        if isinstance(state, C4State):
            return state.observation(player)
        tensor = self._spiel_tensor(state)
        return tensor[[1, 0, 2]] if player == 1 else tensor

    def format(self, state, action: int) -> str:
        return str(int(action) + 1)

    def parse(self, state, text: str) -> int:
        m = self._pattern.match(text)
        if not m or len(m.group(1)) > 3:
            raise self.illegal(state, text, f"{text[:60]!r} is not a column number.")
        col = int(m.group(1)) - 1
        if not 0 <= col < self.cols:
            raise self.illegal(state, text, f"column {col + 1} does not exist (columns are 1-7).")
        if col not in state.legal_actions():
            raise self.illegal(state, text, f"column {col + 1} is full.")
        return col

    def cells(self, state):
        rows = [list(line.strip()) for line in str(state).splitlines() if line.strip()][: self.rows]
        return [["" if c == "." else c for c in row] for row in rows]

    def draw(self, state) -> str:
        lines = [" ".join(row) for row in (["." if c == "" else c for c in r] for r in self.cells(state))]
        lines.append(" ".join(str(i) for i in range(1, self.cols + 1)))
        return "\n".join(lines)


class HexRules(Rules):
    name = "hex"
    spiel_name = "hex"
    _pattern = re.compile(r"^\s*([a-zA-Z])\s*([0-9]{1,2})\s*$")

    def __init__(self, board_size: int = 11, swap: bool = False):
        if not 5 <= int(board_size) <= 19:
            raise ValueError(f"board_size={board_size} is outside 5..19; pick a size in that range.")
        super().__init__(board_size=int(board_size), swap=bool(swap))
        self.size = int(board_size)
        self.swap = bool(swap)
        self.rows = self.cols = self.size
        last = string.ascii_lowercase[self.size - 1]
        self.move_help = (
            f"Give a cell as column letter a-{last} and row number 1-{self.size}, e.g. 'c5'"
            + (", or 'swap' as the second player's first move." if self.swap else ".")
        )

    def _perspective(self, tensor, player):
        """OpenSpiel's nine cell-state planes run o-win, o-west, o-east, o, empty, x,
        x-south, x-north, x-win; for o (player 1) they are reversed, so planes 5-8 always
        hold the observer's stones (which connect top-bottom for x, left-right for o)."""
        return tensor[::-1].copy() if player == 1 else tensor

    def format(self, state, action: int) -> str:
        if action == self.size * self.size:
            return "swap"
        row, col = divmod(int(action), self.size)
        return f"{string.ascii_lowercase[col]}{row + 1}"

    def parse(self, state, text: str) -> int:
        if self.swap and text.strip().lower() == "swap":
            action = self.size * self.size
            if action not in state.legal_actions():
                raise self.illegal(state, text, "swap is only allowed as the second player's first move.")
            return action
        m = self._pattern.match(text)
        if not m:
            raise self.illegal(state, text, f"{text[:60]!r} is not a cell.")
        col = ord(m.group(1).lower()) - ord("a")
        row = int(m.group(2)) - 1
        if not (0 <= col < self.size and 0 <= row < self.size):
            raise self.illegal(state, text, f"{text.strip()!r} is off the {self.size}x{self.size} board.")
        action = row * self.size + col
        if action not in state.legal_actions():
            raise self.illegal(state, text, f"{text.strip()!r} is already taken.")
        return action

    def cells(self, state):
        rows = [line.split() for line in str(state).splitlines() if line.strip()]
        # OpenSpiel marks winning/edge-connected stones with other letters; keep x/o
        def norm(c):  # OpenSpiel marks edge-connected stones y/z and p/q
            c = c.lower()
            return "x" if c in "xyz" else ("o" if c in "opq" else "")
        return [[norm(c) for c in row] for row in rows]

    def draw(self, state) -> str:
        letters = "  " + " ".join(string.ascii_lowercase[: self.size])
        lines = [letters]
        for r, row in enumerate(self.cells(state)):
            cells = " ".join("." if c == "" else c for c in row)
            lines.append(f"{' ' * r}{r + 1:>2} {cells}")
        lines.append("x connects top and bottom (rows 1 and %d); o connects left and right (a and %s)."
                     % (self.size, string.ascii_lowercase[self.size - 1]))
        return "\n".join(lines)


class ChessRules(Rules):
    name = "chess"
    spiel_name = "chess"
    move_help = "Give a move in UCI ('e2e4', 'e7e8q') or SAN ('Nf3', 'O-O')."

    def __init__(self, chess960: bool = False):
        super().__init__(chess960=bool(chess960))
        self.chess960 = bool(chess960)
        self.rows = self.cols = 8

    def first_player(self, state) -> int:
        return 1  # palaestra's player 0 is White, OpenSpiel's player 1, also from a FEN

    # planes 0-11 pair White/Black for K, Q, R, B, N, P; 16-17 White's castling rights,
    # 18-19 Black's; axis 1 runs rank 1..8
    _SWAP = np.array([1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 12, 13, 14, 15, 18, 19, 16, 17])

    def _perspective(self, tensor, player):
        """For Black (OpenSpiel player 0) the board is mirrored top-bottom and the colours
        swapped, as in PettingZoo's chess: the observer's pieces in the even planes 0-10,
        moving up the board, and its castling rights in planes 16-17."""
        return tensor[self._SWAP, ::-1].copy() if player == 0 else tensor

    def start_fen(self, options: dict | None, seed) -> str | None:
        """The FEN a game starts from: ``options["fen"]``, a Chess960 start, or None."""
        import chess

        options = options or {}
        if options.get("fen"):
            return str(options["fen"])
        if self.chess960:
            if "position" in options:
                index = options["position"]
                if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < 960:
                    raise ValueError(f"options['position']={index!r} must be an int in 0..959 "
                                     "(Scharnagl's numbering: 518 is the classical start).")
            else:
                index = chess960_position(seed)
            return chess.Board.from_chess960_pos(int(index)).fen()
        return None

    def new_state(self, seed, options=None):
        options = dict(options or {})
        if options.get("fen") or self.chess960:
            import chess

            fen = self.start_fen(options, seed)
            if options.get("fen") is None:  # a Chess960 start from python-chess: valid
                return self.game.new_initial_state(fen)
            try:
                board = chess.Board(fen, chess960=self.chess960)
            except ValueError as err:
                raise ValueError(f"options['fen']={fen!r} is not a valid FEN: {err}") from None
            if not board.is_valid():
                raise ValueError(f"options['fen']={fen!r} is not a legal position ({board.status()!r}).")
            return self.game.new_initial_state(fen)
        return self.game.new_initial_state()

    def board(self, state):
        return _board(str(state), self.chess960)

    def board_with_moves(self, state, start_fen: str | None = None):
        """A python-chess board at ``state`` that keeps the game's moves (``move_stack``),
        as engines need to see repetitions; ``start_fen`` None is the standard start."""
        import chess

        board = chess.Board(start_fen or chess.STARTING_FEN, chess960=self.chess960)
        spiel = self.game.new_initial_state(start_fen) if start_fen else self.game.new_initial_state()
        history = state.history()
        if history and spiel.is_chance_node():  # a state from OpenSpiel's own Chess960 table
            return self.board(state)
        for action in history:
            uci = next((u for u, a in self.uci_map(spiel).items() if a == action), None)
            if uci is None:
                return self.board(state)
            board.push(board.parse_uci(uci))
            spiel.apply_action(action)
        if board.board_fen() != self.board(state).board_fen():  # not this game's start
            return self.board(state)
        return board

    def uci_map(self, state) -> dict[str, int]:
        return _uci_map(str(state), self.chess960, tuple(state.legal_actions()), id(self.game), self)

    def format(self, state, action: int) -> str:
        for uci, a in self.uci_map(state).items():
            if a == action:
                return uci
        # not legal now: fall back to OpenSpiel's SAN so errors still name it
        if not 0 <= int(action) < self.num_actions:
            return f"<action {action}>"
        try:
            return state.action_to_string(state.current_player(), int(action))
        except Exception:  # noqa: BLE001
            return f"<action {action}>"

    def parse(self, state, text: str) -> int:
        import chess

        raw = text.strip()
        if not raw or len(raw) > 12:
            raise self.illegal(state, text, f"{raw[:40]!r} is not a chess move.")
        board = self.board(state)
        move = None
        try:
            move = board.parse_uci(raw.lower())
        except (chess.InvalidMoveError, chess.IllegalMoveError, ValueError):
            try:
                move = board.parse_san(raw)
            except (chess.InvalidMoveError, chess.IllegalMoveError, chess.AmbiguousMoveError, ValueError) as err:
                raise self.illegal(state, text, f"{raw!r} is not a legal move here ({err}).") from None
        uci = board.uci(move)
        mapping = self.uci_map(state)
        if uci not in mapping:
            raise self.illegal(state, text, f"{raw!r} is not a legal move here.")
        return mapping[uci]

    def cells(self, state):
        board = self.board(state)
        out = []
        for rank in range(7, -1, -1):
            row = []
            for file in range(8):
                piece = board.piece_at(rank * 8 + file)
                row.append(piece.symbol() if piece else "")
            out.append(row)
        return out

    def draw(self, state) -> str:
        board = self.board(state)
        lines = []
        for r, row in enumerate(self.cells(state)):
            lines.append(f"{8 - r} " + " ".join(c or "." for c in row))
        lines.append("  a b c d e f g h")
        lines.append(f"FEN: {board.fen()}")
        return "\n".join(lines)


def chess960_position(seed) -> int:
    """Scharnagl number of the Chess960 start for ``seed``: a bijection on 0..959, so
    seeds 0..959 reach all 960 starts once each. (OpenSpiel 2.0.2's own table of starts
    repeats BRKBNRNQ and lacks BRKBRNNQ, so starts come from python-chess's numbering.)"""
    return ((int(seed or 0) % 960) * 337 + 211) % 960


@lru_cache(maxsize=4096)
def _board(fen: str, chess960: bool):
    import chess

    return chess.Board(fen, chess960=chess960)


@lru_cache(maxsize=4096)
def _uci_map(fen, chess960, legal, game_id, rules) -> dict[str, int]:
    board = _board(fen, chess960)
    player = 1 if board.turn else 0  # OpenSpiel: white is player 1
    out = {}
    for action in legal:
        try:
            move = board.parse_san(_spiel_san(rules, fen, action, player))
        except Exception:  # noqa: BLE001 - OpenSpiel cannot name some moves (e.g. in k7/8/1K6/8/8/8/8/7Q)
            move = _move_by_result(rules, fen, action, board)
        out[board.uci(move)] = action
    return out


def _move_by_result(rules, fen, action, board):
    """The python-chess move whose resulting position equals OpenSpiel's after ``action``."""
    after = _spiel_state(rules, fen).clone()
    after.apply_action(action)
    target = " ".join(str(after).split()[:4])
    for move in board.legal_moves:
        board.push(move)
        same = " ".join(board.fen().split()[:4]) == target
        board.pop()
        if same:
            return move
    raise RuntimeError(f"OpenSpiel action {action} in {fen} matches no python-chess move")


def _spiel_san(rules, fen, action, player):
    state = _spiel_state(rules, fen)
    return state.action_to_string(player, action)


@lru_cache(maxsize=256)
def _spiel_state(rules, fen):
    return rules.game.new_initial_state(fen)


RULES = {
    "connect_four": ConnectFourRules,
    "hex": HexRules,
    "chess": lambda **kw: ChessRules(chess960=False, **kw),
    "chess960": lambda **kw: ChessRules(chess960=True, **kw),
}
