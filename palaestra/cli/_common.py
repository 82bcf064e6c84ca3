"""Helpers shared by CLI modules: option parsing, the console, and user errors.

A mistake on the command line (an unknown agent, env or option, a value of the wrong
type, an unwritable path) ends with one short message on stderr saying what to do, and
exit status 2, as Typer's own usage errors do; never with a traceback.
"""

from __future__ import annotations

import json
from typing import NoReturn

import typer

from palaestra.core.console import output_console
from palaestra.core.options import check_options, did_you_mean

console = output_console()
err_console = output_console(stderr=True)

#: metavar of every env-id argument, as Typer's conventions spell it
ENV_ID = "ENV_ID"


def fail(message: str, hint: str | None = None) -> NoReturn:
    """Report a mistake the user can fix (one message, no traceback) and exit with 2,
    as Typer's own usage errors do."""
    report_user_error(message, hint)
    raise typer.Exit(2)


def report_user_error(err, hint: str | None = None) -> None:
    err_console.print(f"[bold red]Error:[/] {err}", highlight=False)
    if hint:
        err_console.print(f"[dim]{hint}[/]", highlight=False)


def parse_opts(pairs: list[str] | None, what: str = "option") -> dict:
    """``["k=v", ...]`` -> dict; values parsed as JSON where they parse, else strings."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            fail(f"{what} {pair!r} must look like key=value.", "e.g. --agent-opt simulations=50")
        key, _, value = pair.partition("=")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out


def make_agent(name: str, options: dict | None = None):
    """``palaestra.agents.make`` with user errors reported as such."""
    from palaestra.agents import make

    options = dict(options or {})
    try:
        return make(name, **options)
    except Exception as err:  # noqa: BLE001 - building from user options: say what failed, no traceback
        fail(_root_message(err) if str(err).startswith(("unknown agent", "agent ")) else
             f"agent {name!r} with {options or 'no options'}: {_root_message(err)}")


def check_env_id(env_id: str) -> None:
    import gymnasium as gym

    import palaestra  # noqa: F401

    if env_id not in gym.registry:
        ids = [i for i in gym.registry if i.startswith("palaestra/")]
        fail(f"unknown env {env_id!r}.{did_you_mean(env_id, ids)}", "`palaestra list` shows the ids.")


def make_env(env_id: str, **kwargs):
    """``gymnasium.make`` with unknown ids and bad options reported as user errors."""
    import gymnasium as gym

    check_env_id(env_id)
    spec = gym.registry[env_id]
    own = {k: v for k, v in kwargs.items() if k not in ("text", "max_invalid", "max_episode_steps")}
    entry = getattr(spec.entry_point, "entry", spec.entry_point)  # palaestra's EnvFactory names its class
    if isinstance(entry, str):
        import importlib

        module, _, attr = entry.partition(":")
        try:
            entry = getattr(importlib.import_module(module), attr)
        except ImportError as err:
            fail(f"{env_id} needs a package that is not installed: {err}", "`palaestra list` says what each env needs.")
    try:
        check_options(env_id, entry, own, " (--env-opt key=value)")
        return gym.make(env_id, **kwargs)
    except Exception as err:  # noqa: BLE001 - building from user options: say what failed, no traceback
        msg = _root_message(err)
        fail(msg if msg.startswith(env_id) else f"{env_id} with {own or 'no options'}: {msg}")


def _root_message(err: BaseException) -> str:
    return str(err).strip() or type(err).__name__


def writable_file(path, what: str = "output file") -> None:
    """Fail now, not after an hour of work, when ``path`` cannot be written."""
    from pathlib import Path

    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".palaestra-write-test-{id(p)}"
        probe.touch()
        probe.unlink()
    except OSError as err:
        fail(f"cannot write the {what} {str(p)!r}: {err.strerror or err}.", "Choose a writable path.")
