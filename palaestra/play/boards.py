"""What a person needs to see of a game board, from the env's ``ui_state()``.

Shared by the terminal and the web players: which side the person plays, whether
the board is shown from Black's side, the squares of the last move, the winning four
in Connect Four and, at the end, a sentence saying how the game ended (checkmate,
stalemate, the draw rule, four in a row...). Plus the terminal drawing of the board
(rich markup; the two sides are different glyphs, so they stay apart when piped).
"""

from __future__ import annotations

import re

SIDES = {"chess": ["White", "Black"]}
DEFAULT_SIDES = ["first (x)", "second (o)"]
_SQUARE = re.compile(r"[a-h][1-8]")


def side_names(game: str) -> list[str]:
    return SIDES.get(game, DEFAULT_SIDES)


def four_in_a_row(cells: list[list[str]]) -> list[list[int]]:
    """The cells ``[row, col]`` of every line of four or more equal discs (empty if none)."""
    rows, cols = len(cells), len(cells[0]) if cells else 0
    found: set[tuple[int, int]] = set()
    for r in range(rows):
        for c in range(cols):
            who = cells[r][c]
            if not who:
                continue
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                line = [(r + i * dr, c + i * dc) for i in range(4)]
                if all(0 <= y < rows and 0 <= x < cols and cells[y][x] == who for y, x in line):
                    found.update(line)
    return [list(rc) for rc in sorted(found)]


def _chess_end(fen: str, truncated: bool) -> str:
    import chess

    board = chess.Board(fen)
    if board.is_checkmate():
        winner = "Black" if board.turn == chess.WHITE else "White"
        return f"Checkmate: {winner} wins."
    if board.is_stalemate():
        return "Stalemate: a draw."
    if truncated:
        return "Stopped at the move limit: no result."
    if board.is_insufficient_material():
        return "Draw by insufficient material."
    if board.halfmove_clock >= 100:
        return "Draw by the fifty-move rule."
    return "Draw by threefold repetition."


def game_view(ui: dict, outcome: str | None = None, truncated: bool = False) -> dict:
    """Side, orientation, last-move squares, winning cells and the end sentence."""
    game = ui.get("game", "")
    names = side_names(game)
    you = ui.get("agent_player")
    cells = ui.get("cells") or []
    over = bool(ui.get("over"))
    to_play = ui.get("to_play")
    view = {
        "you": names[you] if you in (0, 1) else None,
        "opponent": names[1 - you] if you in (0, 1) else None,
        "flip": game == "chess" and you == 1,
        "last_squares": _SQUARE.findall(ui.get("last_move") or "") if game == "chess" else [],
        "winning": four_in_a_row(cells) if game == "connect_four" and over else [],
        "end": None,
        "status": "",
    }
    if over:
        if game == "chess" and ui.get("fen"):
            end = _chess_end(ui["fen"], truncated)
        elif game == "connect_four" and view["winning"]:
            r, c = view["winning"][0]
            winner = names[0] if cells[r][c] == "x" else names[1]
            end = f"Four in a row: {winner} wins."
        elif game == "connect_four" and not truncated:
            end = "The board is full: a draw."
        elif truncated:
            end = "Stopped at the move limit: no result."
        else:
            end = "Game over."
        if outcome in ("win", "loss", "draw") and you in (0, 1):
            end += {"win": " You won.", "loss": " You lost.", "draw": " Nobody won."}[outcome]
        view["end"] = end
        view["status"] = end
    elif you is None:
        view["status"] = f"{names[to_play] if to_play in (0, 1) else '?'} to move (you play both sides)."
    else:
        view["status"] = "Your move." if to_play == you else "Opponent to move."
    return view


# ---- the terminal drawing ------------------------------------------------------------------
PIECES = {"K": "♔", "Q": "♕", "R": "♖", "B": "♗", "N": "♘", "P": "♙",
          "k": "♚", "q": "♛", "r": "♜", "b": "♝", "n": "♞", "p": "♟"}
#: the two sides as different glyphs (and colours where the terminal has them)
DISCS = {"x": "[bold red]●[/]", "o": "[bold yellow]○[/]", "": "[dim]·[/]"}
STONES = {"x": "[bold red]●[/]", "o": "[bold blue]○[/]", "": "[dim]·[/]"}


def draw(ui: dict, view: dict | None = None) -> str | None:
    """The board in rich markup, or None for a game without a drawing."""
    view = view or game_view(ui)
    cells, game = ui.get("cells"), ui.get("game")
    if not cells:
        return None
    if game == "connect_four":
        win = {tuple(rc) for rc in view["winning"]}
        lines = [" ".join((f"[reverse]{DISCS.get(c, c)}[/]" if (r, k) in win else DISCS.get(c, c))
                          for k, c in enumerate(row)) for r, row in enumerate(cells)]
        lines.append(" ".join(str(i + 1) for i in range(len(cells[0]))))
        return "\n".join(lines)
    if game == "hex":
        lines = ["   " + " ".join(chr(97 + i) for i in range(len(cells[0])))]
        lines += [" " * r + f"{r + 1:>2} " + " ".join(STONES.get(c, c) for c in row) for r, row in enumerate(cells)]
        return "\n".join(lines)
    if game == "chess":
        return _draw_chess(ui, view)
    return None


def _draw_chess(ui: dict, view: dict) -> str:
    grid = ui["cells"]
    if ui.get("fen"):  # the FEN is the position itself, whatever the orientation of ``cells``
        import chess

        board = chess.Board(ui["fen"])
        grid = [[(p.symbol() if (p := board.piece_at(chess.square(f, 7 - r))) else "") for f in range(8)]
                for r in range(8)]
    ranks = range(8) if not view["flip"] else range(7, -1, -1)
    files = range(8) if not view["flip"] else range(7, -1, -1)
    marked = set(view["last_squares"])
    lines = []
    for r in ranks:
        squares = []
        for f in files:
            name = "abcdefgh"[f] + str(8 - r)
            bg = "on dark_khaki" if name in marked else ("on grey70" if (r + f) % 2 == 0 else "on grey42")
            piece = PIECES.get(grid[r][f], "·")
            squares.append(f"[black {bg}]{piece} [/]")
        lines.append(f"{8 - r} " + "".join(squares))
    lines.append("  " + "".join(f"{'abcdefgh'[f]} " for f in files))
    return "\n".join(lines)
