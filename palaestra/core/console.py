"""The rich console every command and player prints through."""

from __future__ import annotations


def output_console(**kwargs):
    """A rich Console that reads well when piped: the terminal's width, else COLUMNS or 100
    (rich's own fallback, 80, cuts tables and wraps messages)."""
    import os
    import sys

    from rich.console import Console

    file = kwargs.get("file") or (sys.stderr if kwargs.get("stderr") else sys.stdout)
    if not (hasattr(file, "isatty") and file.isatty()):
        try:
            kwargs.setdefault("width", max(40, int(os.environ.get("COLUMNS", "100"))))
        except ValueError:
            kwargs.setdefault("width", 100)
    return Console(**kwargs)
