"""``HumanAgent``: a person at the terminal, through the very env agents use.

Shows the goal (always), the state (``render_text()``), the legal actions where they
are enumerable and the last error; reads one line. Commands: ``help`` (rules and
commands), ``legal`` (every legal action), ``undo`` (restores the snapshot taken
before your last action; recordings keep only the final line of play), ``quit``.
Anything else is an action in the env's text grammar; it is checked with
``parse_action`` before it is sent, so a typo never costs a step.
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym

from palaestra.core import InvalidAction

COMMANDS = {
    "help": "show the rules, the action format and these commands",
    "legal": "list every legal action",
    "undo": "take back your last action (the opponent's reply too)",
    "quit": "stop playing (the episode in flight is not recorded)",
}


_PIECES = {"K": "♔", "Q": "♕", "R": "♖", "B": "♗", "N": "♘", "P": "♙",
           "k": "♚", "q": "♛", "r": "♜", "b": "♝", "n": "♞", "p": "♟"}


def _board(base):
    """A coloured board (rich markup) for envs with ``ui_state()`` (the games), else None."""
    ui_state = getattr(base, "ui_state", None)
    if not callable(ui_state):
        return None
    try:
        ui = ui_state()
    except Exception:  # noqa: BLE001 - a board is a nicety; the text state is shown anyway
        return None
    cells, game = ui.get("cells"), ui.get("game")
    if not cells:
        return None
    lines = []
    if game == "connect_four":
        disc = {"x": "[bold red]●[/]", "o": "[bold yellow]●[/]", "": "[dim]·[/]"}
        lines = [" ".join(disc.get(c, c) for c in row) for row in cells]
        lines.append(" ".join(str(i + 1) for i in range(len(cells[0]))))
    elif game == "hex":
        stone = {"x": "[bold red]●[/]", "o": "[bold blue]●[/]", "": "[dim]·[/]"}
        lines = ["   " + " ".join(chr(97 + i) for i in range(len(cells[0])))]
        lines += [" " * r + f"{r + 1:>2} " + " ".join(stone.get(c, c) for c in row) for r, row in enumerate(cells)]
    elif game == "chess":
        for r, row in enumerate(cells):
            squares = []
            for f, c in enumerate(row):
                bg = "on grey70" if (r + f) % 2 == 0 else "on grey42"
                squares.append(f"[black {bg}]{_PIECES.get(c, ' ')} [/]")
            lines.append(f"{8 - r} " + "".join(squares))
        lines.append("  " + "".join(f"{ch} " for ch in "abcdefgh"))
    else:
        return None
    return "\n".join(lines)


class QuitPlay(Exception):
    """The person typed ``quit``."""


def _recorders(env: gym.Env) -> list:
    found, e = [], env
    while True:
        if hasattr(type(e), "rewind"):
            found.append(e)
        if not isinstance(e, gym.Wrapper):
            return found
        e = e.env


class HumanAgent:
    """A person typing actions; ``name`` appears in recordings as ``human:<name>``."""

    prefers_text = True

    def __init__(self, name: str = "anonymous", input_fn: Callable[[str], str] | None = None,
                 console=None, max_legal_shown: int = 60):
        from rich.console import Console

        self.person = name
        self.name = f"human:{name}"
        self.console = console or Console()
        self.input_fn = input_fn or (lambda prompt: self.console.input(prompt))
        self.max_legal_shown = max_legal_shown
        self.env: gym.Env | None = None
        self._history: list[tuple[object, list[int]]] = []
        self.undos = 0

    def reset(self, env: gym.Env) -> None:
        from palaestra.agents.base import text_view

        self.env = env
        self.text = text_view(env)
        self._history = []

    # ---- display ---------------------------------------------------------------------
    def _legal_texts(self) -> list[str] | None:
        base = self.env.unwrapped
        legal = base.legal_actions()
        if legal is None:
            return None
        return [base.format_action(a) for a in legal]

    def show(self, observation: str | None = None, info: dict | None = None) -> None:
        from rich.markup import escape
        from rich.panel import Panel
        from rich.text import Text

        base = self.env.unwrapped
        goal = getattr(getattr(base, "task", None), "goal", None)
        if goal:
            self.console.print(Panel(Text(goal), title="goal", border_style="green", expand=False))
        # env text is data, not rich markup: '[buy now]' must stay visible
        text = Text(observation if isinstance(observation, str) else base.render_text())
        board = _board(base)
        if board is not None:
            from rich.columns import Columns

            self.console.print(Columns([Panel(board, title="board", expand=False),
                                        Panel(text, title="state", expand=False)]))
        else:
            self.console.print(Panel(text, title="state", expand=False))
        legal = self._legal_texts()
        if legal is not None:
            shown = legal[: self.max_legal_shown]
            more = f" … (+{len(legal) - len(shown)}, type legal)" if len(legal) > len(shown) else ""
            self.console.print("[bold]legal:[/] " + escape("  ".join(shown) + more))
        if info and info.get("invalid_action"):
            self.console.print(f"[red]invalid:[/] {escape(info['invalid_action'])}")
        self.console.print("[dim]commands: help, legal, undo, quit[/]")

    def _help(self) -> None:
        from rich.panel import Panel

        base = self.env.unwrapped
        from rich.text import Text

        lines = [base.instructions or "(this env has no instructions)", ""]
        lines += [f"{cmd:6s} {what}" for cmd, what in COMMANDS.items()]
        self.console.print(Panel(Text("\n".join(lines)), title="help", expand=False))

    # ---- acting ----------------------------------------------------------------------
    def undo(self) -> bool:
        """Restore the snapshot before the last action; False when there is none."""
        if not self._history:
            return False
        snap, lengths = self._history.pop()
        self.env.unwrapped.set_state(snap)
        for rec, n in zip(_recorders(self.env), lengths):
            rec.rewind(n)
        self.undos += 1
        return True

    def act(self, observation, info):
        from rich.markup import escape

        base = self.env.unwrapped
        self.show(observation, info)
        while True:
            try:
                line = self.input_fn("[bold cyan]your action>[/] ").strip()
            except EOFError:
                raise QuitPlay("input closed") from None
            command = line.lower()
            if not line:
                continue
            if command in ("help", "?", "h"):
                self._help()
                continue
            if command == "legal":
                legal = self._legal_texts()
                self.console.print(" ".join(legal) if legal is not None else "Actions are not enumerable here; see help.")
                continue
            if command == "undo":
                if self.undo():
                    self.console.print("[yellow]undone[/]")
                    self.show(None, None)
                else:
                    self.console.print("[yellow]nothing to undo[/]")
                continue
            if command in ("quit", "exit", "q"):
                raise QuitPlay("quit")
            try:
                native = base.parse_action(line)
                base.check_action(native) if base.legal_actions() is not None else None
            except InvalidAction as err:
                self.console.print(f"[red]not accepted:[/] {escape(str(err))}")
                continue
            self._history.append((base.get_state(), [r.steps_in_flight for r in _recorders(self.env)]))
            return line if self.text else native
