"""``palaestra play ID``: a person plays in the terminal; episodes are recorded."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym

from palaestra.agents.human import HumanAgent, QuitPlay


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

        env = RecordEpisodes(env, record_to, agent_name=agent_name)
    return env


def play_terminal(env_id: str, name: str = "anonymous", env_kwargs: dict | None = None,
                  record_to: str | Path | None = None, seed: int = 0, episodes: int | None = None,
                  input_fn=None, console=None) -> list:
    """Play episodes until the person quits (or ``episodes`` are done); returns results."""
    from rich.console import Console

    from palaestra.runner import run_episode

    console = console or Console()
    human = HumanAgent(name, input_fn=input_fn, console=console)
    env = make_env(env_id, env_kwargs, record_to, agent_name=human.name)
    results = []
    try:
        while episodes is None or len(results) < episodes:
            console.rule(f"[bold]{env_id}[/] seed {seed}")
            try:
                result = run_episode(env, human, seed=seed)
            except QuitPlay:
                break
            base = env.unwrapped
            console.print(base.render_text())
            verdict = "[bold green]success[/]" if result.success else "[bold red]no success[/]"
            console.print(f"{verdict}: return {result.ret:+.3f} in {result.steps} steps")
            results.append(result)
            seed += 1
            if episodes is None:
                try:
                    again = human.input_fn("play again? [Y/n] ").strip().lower()
                except EOFError:
                    break
                if again not in ("", "y", "yes"):
                    break
    finally:
        env.close()
    if record_to is not None and results:
        console.print(f"recorded {len(results)} episode(s) in [bold]{record_to}[/] "
                      f"(see `palaestra recordings {record_to}`)")
    return results
