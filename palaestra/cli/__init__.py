"""The ``palaestra`` command. Each module in this package adds its commands.

A module ``palaestra/cli/<name>.py`` defines ``register(app: typer.Typer)``; modules are
found automatically, so features add commands without editing a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

app = typer.Typer(
    name="palaestra",
    help="Agentic environments in the Gymnasium style: list, play, run, record, eval.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _load() -> None:
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if mod.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


_load()


def main() -> None:
    app()
