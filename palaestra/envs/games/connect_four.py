"""Connect Four on Python-int bitboards, with OpenSpiel's rules and state interface.

``C4State`` answers the part of ``pyspiel.State`` the envs use (``apply_action``,
``legal_actions``, ``is_terminal``, ``returns``, ``current_player``, ``history``,
``clone``, ``str``) about 10x faster than a pybind11 round trip per call, and converts
to a real OpenSpiel state (``to_spiel()``) for OpenSpiel's own searchers. Tests check
it against OpenSpiel's ``connect_four`` move for move.

Bit ``col * 7 + row`` (row 0 at the bottom) holds a disc; bit 6 of each column stays
empty, so the four shift tests below never wrap from one column into the next.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

ROWS, COLS = 6, 7
_H = ROWS + 1
_TOP = tuple(c * _H + ROWS for c in range(COLS))  # first bit above each column
TERMINAL = -4  # pyspiel.PlayerId.TERMINAL
_LEGAL = tuple(tuple(c for c in range(COLS) if not full >> c & 1) for full in range(1 << COLS))
_MASKS = tuple(np.array([0 if full >> c & 1 else 1 for c in range(COLS)], dtype=np.int8) for full in range(1 << COLS))
for _m in _MASKS:
    _m.flags.writeable = False
_ZERO_MASK = np.zeros(COLS, dtype=np.int8)
_ZERO_MASK.flags.writeable = False
# flat position r * 7 + c of a (6, 7) plane (row 0 at the bottom, OpenSpiel's layout) -> bit
_PERM = np.array([c * _H + r for r in range(ROWS) for c in range(COLS)], dtype=np.int64)
_BOARD_BITS = sum(((1 << ROWS) - 1) << (c * _H) for c in range(COLS))


def wins(b: int) -> bool:
    for d in (1, _H, _H - 1, _H + 1):  # vertical, horizontal, both diagonals
        m = b & (b >> d)
        if m & (m >> (2 * d)):
            return True
    return False


@lru_cache(maxsize=1)
def spiel_game():
    import pyspiel

    return pyspiel.load_game("connect_four")


class C4State:
    """A Connect Four position; player 0 ('x') moves first, as in OpenSpiel."""

    __slots__ = ("bits", "full", "heights", "moves", "player", "winner")

    def __init__(self):
        self.bits = [0, 0]  # OpenSpiel's empty board; C4State.new() copies a template
        self.heights = [c * _H for c in range(COLS)]
        self.moves: list[int] = []
        self.player = 0  # to move; TERMINAL at the end
        self.winner = -1  # 0/1, 2 for a draw
        self.full = 0  # bit c: column c is full

    # -- pyspiel.State interface -------------------------------------------------------
    def legal_actions(self, player=None) -> list[int]:
        return [] if self.winner >= 0 else list(_LEGAL[self.full])

    def apply_action(self, action: int) -> None:
        if self.winner >= 0 or not 0 <= action < COLS or self.full >> action & 1:
            raise ValueError(f"illegal Connect Four action {action} in\n{self}")
        self.play(action)

    def play(self, action: int) -> int:
        """``apply_action`` without the legality check; returns the row the disc landed in."""
        p = self.player
        heights = self.heights
        h = heights[action]
        b = self.bits[p] | (1 << h)
        self.bits[p] = b
        heights[action] = h + 1
        if h + 1 == _TOP[action]:
            self.full |= 1 << action
        moves = self.moves
        moves.append(action)
        m1 = b & (b >> 1)
        m7 = b & (b >> 7)
        m6 = b & (b >> 6)
        m8 = b & (b >> 8)
        if m1 & (m1 >> 2) or m7 & (m7 >> 14) or m6 & (m6 >> 12) or m8 & (m8 >> 16):
            self.winner, self.player = p, TERMINAL
        elif len(moves) == 42:
            self.winner, self.player = 2, TERMINAL
        else:
            self.player = 1 - p
        return h - action * 7

    def is_terminal(self) -> bool:
        return self.winner >= 0

    def current_player(self) -> int:
        return self.player

    def returns(self) -> list[float]:
        w = self.winner
        if w == 0:
            return [1.0, -1.0]
        if w == 1:
            return [-1.0, 1.0]
        return [0.0, 0.0]

    def history(self) -> list[int]:
        return list(self.moves)

    @staticmethod
    def new() -> C4State:
        return _EMPTY.clone()

    def clone(self) -> C4State:
        s = C4State.__new__(C4State)
        s.bits = self.bits[:]
        s.heights = self.heights[:]
        s.moves = self.moves[:]
        s.player, s.winner, s.full = self.player, self.winner, self.full
        return s

    def get_game(self):
        return spiel_game()

    def to_spiel(self):
        """The same position as a pyspiel state (for OpenSpiel's searchers)."""
        state = spiel_game().new_initial_state()
        for a in self.moves:
            state.apply_action(a)
        return state

    def __str__(self) -> str:
        x, o = self.bits
        lines = []
        for r in range(ROWS - 1, -1, -1):
            row = []
            for c in range(COLS):
                bit = 1 << (c * _H + r)
                row.append("x" if x & bit else "o" if o & bit else ".")
            lines.append("".join(row))
        return "\n".join(lines) + "\n"

    def __getstate__(self):
        return (self.bits, self.heights, self.moves, self.player, self.winner, self.full)

    def __setstate__(self, st):
        self.bits, self.heights, self.moves, self.player, self.winner, self.full = (
            list(st[0]), list(st[1]), list(st[2]), st[3], st[4], st[5])

    # -- fast paths for the env ----------------------------------------------------------
    def mask(self) -> np.ndarray:
        """The legal-column mask (a new int8 array)."""
        return (_ZERO_MASK if self.winner >= 0 else _MASKS[self.full]).copy()

    def observation(self, player: int) -> np.ndarray:
        """(3, 6, 7) float32 planes [player's discs, the other's, empty], row 0 at the bottom."""
        return planes(self.bits[player], self.bits[1 - player])


_EMPTY = C4State()


def _bits_array(b: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(b.to_bytes(8, "little"), dtype=np.uint8), bitorder="little")


def planes(mine: int, theirs: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer((mine | theirs << 64).to_bytes(16, "little"), dtype=np.uint8),
                         bitorder="little").reshape(2, 64)[:, _PERM]
    out = np.empty((3, ROWS * COLS), dtype=np.float32)
    out[:2] = bits
    np.subtract(1.0, out[0] + out[1], out=out[2])
    return out.reshape(3, ROWS, COLS)


EMPTY_PLANES = planes(0, 0)
EMPTY_PLANES.flags.writeable = False
