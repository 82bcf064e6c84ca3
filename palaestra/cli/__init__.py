"""The ``palaestra`` command. Each module in this package adds its commands.

A module ``palaestra/cli/<name>.py`` defines ``register(app: typer.Typer)``; modules are
found automatically, so features add commands without editing a shared file. A user
mistake goes through :func:`~palaestra.cli._common.fail`: one short message on stderr
and exit status 2, never a traceback.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from typing import Optional

import typer

from ._common import report_user_error

app = typer.Typer(
    name="palaestra",
    help="Agentic environments in the Gymnasium style: list, play, run, record, eval.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"palaestra {version('palaestra')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            typer.echo("palaestra (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit."),
) -> None:
    """Agentic environments in the Gymnasium style: list, play, run, record, eval."""


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
    # the CLI shows its own rich progress; libraries' bars and warnings (transformers'
    # "Loading weights", datasets' maps) would interleave with it, in workers too
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        app()
    except (PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError) as err:
        report_user_error(f"{err.strerror or err}: {err.filename!r}" if err.filename else err,
                          "Check the path: it must be writable (or not exist yet, where a command creates it).")
        sys.exit(2)
    except KeyboardInterrupt:
        report_user_error("interrupted.")
        sys.exit(130)
