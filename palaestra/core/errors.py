"""Errors that palaestra raises; every message says what went wrong and what to do."""

from __future__ import annotations


class PalaestraError(Exception):
    """Base class of palaestra's own errors."""


class InvalidAction(PalaestraError, ValueError):
    """An action the env cannot take in the current state.

    The message says what was wrong and what is allowed instead, so that a person or a
    language model can correct the action. ``allowed`` optionally lists legal actions in
    text form (possibly truncated) for programmatic use.
    """

    def __init__(self, message: str, allowed: list[str] | None = None):
        super().__init__(message)
        self.allowed = allowed


class MissingDependency(PalaestraError, ImportError):
    """An optional dependency (a Python extra or a system package) is not installed."""

    def __init__(self, what: str, install: str):
        super().__init__(f"{what} is not installed. Install it with: {install}")
        self.install = install


def require(module: str, extra: str):
    """Import ``module`` or raise MissingDependency naming the palaestra extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised only without extras
        raise MissingDependency(
            f"The Python package '{module}' ({exc})", f"pip install 'palaestra[{extra}]'"
        ) from exc
