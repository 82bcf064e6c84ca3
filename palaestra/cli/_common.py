"""Helpers shared by CLI modules: option parsing and the console."""

from __future__ import annotations

import json

from rich.console import Console

console = Console()


def parse_opts(pairs: list[str] | None) -> dict:
    """``["k=v", ...]`` -> dict; values parsed as JSON where they parse, else strings."""
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            raise SystemExit(f"option {pair!r} must look like key=value")
        key, _, value = pair.partition("=")
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            out[key.strip()] = value
    return out
