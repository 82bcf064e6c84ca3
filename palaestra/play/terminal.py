"""``palaestra play ID``: a person plays in the terminal; episodes are recorded.

Each turn shows the goal, the state and the legal actions once: for the games a
drawn board (from the person's side: Black plays from the bottom), the last move and
who is to move; for the other envs the env's own text. ``quit`` (or Ctrl-C) stops and
says what was recorded and what was not (the episode in flight never is).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

from palaestra.agents.human import HumanAgent, QuitPlay
from palaestra.core.console import output_console

from .boards import draw, game_view

LABELS = {"iou": "IoU"}  # end-of-episode figures a person wants to read
YES = ("", "y", "yes")
NO = ("n", "no", "q", "quit", "exit")


def default_folder(env_id: str, who: str, root: str | Path = "recordings") -> Path:
    """``recordings/<EnvName-vN>/<who>`` (``palaestra/ConnectFour-v0`` -> ``ConnectFour-v0``)."""
    name = env_id.split("/")[-1]
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in who)
    return Path(root) / name / safe


def make_env(env_id: str, env_kwargs: dict | None = None, record_to: str | Path | None = None,
             agent_name: str = "human:anonymous") -> gym.Env:
    """The text view of ``env_id`` (no invalid-action truncation: people retry), recorded."""
    import palaestra  # noqa: F401

    env = gym.make(env_id, text=True, max_invalid=None, **dict(env_kwargs or {}))
    if record_to is not None:
        from palaestra.wrappers import RecordEpisodes

        try:
            env = RecordEpisodes(env, record_to, agent_name=agent_name)
        except BaseException:
            env.close()
            raise
    return env


def _ui(base) -> dict | None:
    ui_state = getattr(base, "ui_state", None)
    if not callable(ui_state):
        return None
    ui = ui_state()
    return ui if isinstance(ui, dict) and ui.get("cells") else None


class TerminalPlayer(HumanAgent):
    """The person at the terminal: shows each turn once and keeps the episode's
    return and step count in step with undo (so they equal the recording's)."""

    def reset(self, env: gym.Env) -> None:
        super().reset(env)
        self.ret, self.steps, self.trail = 0.0, 0, []
        self.last_obs, self.last_info = None, {}

    def observe(self, obs, info) -> None:
        self.last_obs, self.last_info = obs, info

    def stepped(self, reward: float) -> None:
        self.ret += float(reward)
        self.steps += 1

    def act(self, observation, info):
        action = super().act(observation, info)
        self.trail.append((self.last_obs, self.last_info, self.ret, self.steps))
        return action

    def undo(self) -> bool:
        if not super().undo():
            return False
        self.last_obs, self.last_info, self.ret, self.steps = self.trail.pop()
        return True

    def show(self, observation=None, info=None, final: bool = False) -> None:
        from rich.markup import escape
        from rich.panel import Panel
        from rich.text import Text

        base = self.env.unwrapped
        goal = getattr(getattr(base, "task", None), "goal", None) or ""
        info = info if info is not None else (self.last_info or {})
        ui = _ui(base)
        picture = None
        if ui is not None:
            view = game_view(ui, outcome=info.get("outcome"), truncated=bool(info.get("truncated_by_limit")))
            picture = draw(ui, view)
        if picture is not None:
            self.console.print(Text.assemble(("goal: ", "bold green"), goal))
            title = f"you play {view['you']}" if view["you"] else "you play both sides"
            self.console.print(Panel(picture, title=title, expand=False))
            facts = []
            if ui.get("last_move"):
                facts.append(f"last move: {ui['last_move']}")
            facts.append(view["status"])
            self.console.print(escape(" · ".join(facts)), style="bold" if final else None)
            text = ""
        else:
            text = observation if isinstance(observation, str) else base.render_text()
            if goal and not _mentions(text, goal):
                self.console.print(Text.assemble(("goal: ", "bold green"), goal))
            # env text is data, not rich markup: '[buy now]' must stay visible
            self.console.print(Panel(Text(text), title="state", expand=False))
        if final:
            return
        legal = self._legal_texts()
        if legal is not None and "legal moves:" not in text.lower() and "legal actions:" not in text.lower():
            shown = legal[: self.max_legal_shown]
            more = f" … (+{len(legal) - len(shown)}, type legal)" if len(legal) > len(shown) else ""
            self.console.print("[bold]legal:[/] " + escape("  ".join(shown) + more))
        if info and info.get("invalid_action"):
            self.console.print(f"[red]invalid:[/] {escape(info['invalid_action'])}")
        self.console.print("[dim]commands: help, legal, undo, quit[/]")


def _mentions(text: str, goal: str) -> bool:
    """Whether the env's text already states the goal (then it is not printed again)."""
    flat = " ".join(text.lower().split())
    return " ".join(goal.lower().split()) in flat or any(
        line.strip().lower().startswith(("goal:", "instruction:", "user:")) for line in text.splitlines())


def _ask_again(human: HumanAgent) -> bool:
    """y / yes / Enter: another episode; n / no / q: stop; anything else: ask again."""
    while True:
        try:
            answer = human.input_fn("play again? [Y/n] ")
        except EOFError:
            return False
        answer = (answer or "").strip().lower()
        if answer in YES:
            return True
        if answer in NO:
            return False
        human.console.print("[yellow]answer y (or Enter) to play again, n or q to stop[/]")


def play_terminal(env_id: str, name: str = "anonymous", env_kwargs: dict | None = None,
                  record_to: str | Path | None = None, seed: int = 0, episodes: int | None = None,
                  input_fn=None, console=None) -> list[dict]:
    """Play episodes until the person quits (or ``episodes`` are done).

    Returns one dict per finished episode: seed, return, steps, success (the steps and
    return of the final line of play, as recorded: undone moves are not counted).
    """
    from rich.markup import escape

    console = console or output_console()
    human = TerminalPlayer(name, input_fn=input_fn, console=console)
    env = make_env(env_id, env_kwargs, record_to, agent_name=human.name)
    if record_to is None:
        console.print("[yellow]not recording[/] (--no-record): nothing you play is written.")
    results: list[dict] = []
    in_flight = None
    try:
        while episodes is None or len(results) < episodes:
            console.rule(f"[bold]{escape(env_id)}[/] seed {seed}")
            obs, info = env.reset(seed=seed)
            human.reset(env)
            human.observe(obs, info)
            in_flight = seed
            terminated = truncated = False
            try:
                while not (terminated or truncated):
                    action = human.act(human.last_obs, human.last_info)
                    obs, reward, terminated, truncated, info = env.step(action)
                    human.stepped(reward)
                    human.observe(obs, info)
            except (QuitPlay, KeyboardInterrupt):
                console.print(f"\n[yellow]stopped[/]: the episode in flight (seed {seed}, {human.steps} "
                              "step(s)) is not recorded.")
                break
            in_flight = None
            if truncated and not terminated:
                human.last_info = dict(info, truncated_by_limit=True)
            human.show(obs, human.last_info, final=True)
            success = bool(info.get("success", False))
            verdict = "[bold green]success[/]" if success else "[bold red]no success[/]"
            figures = "".join(f", {LABELS.get(k, k)} {v:.3f}" for k, v in info.items()
                              if isinstance(v, float) and k in LABELS)  # e.g. the IoU reached
            console.print(f"{verdict}: return {human.ret:+.3f} in {human.steps} steps{figures}")
            results.append({"seed": seed, "return": human.ret, "steps": human.steps, "success": success})
            seed += 1
            if episodes is None and not _ask_again(human):
                break
    finally:
        env.close()
        _say_what_was_recorded(console, record_to, results, in_flight)
    return results


def _say_what_was_recorded(console, record_to, results: list[dict], in_flight) -> None:
    n = len(results)
    if record_to is None:
        console.print(f"played {n} episode(s); nothing recorded (--no-record).")
    elif n:
        seeds = ", ".join(str(r["seed"]) for r in results)
        console.print(f"recorded {n} episode(s) (seeds {seeds}) in [bold]{record_to}[/] "
                      f"(see `palaestra recordings {record_to}`)")
    else:
        console.print(f"nothing recorded in [bold]{record_to}[/]: no episode was finished.")
