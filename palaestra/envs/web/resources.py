"""Teardown shared by the browser-backed envs (no Playwright import here)."""

from __future__ import annotations


def release_browser(env) -> None:
    """Close the env's tab, Chromium and page server, in that order, once."""
    for attr, method in (("_tab", "close"), ("_browser", "close"), ("_server", "stop")):
        thing = getattr(env, attr, None)
        if thing is not None:
            setattr(env, attr, None)
            getattr(thing, method)()


def close_quietly(env) -> None:
    """For ``__del__``: close, ignoring errors of a half-built env or interpreter shutdown."""
    try:
        env.close()
    except Exception:  # noqa: BLE001
        pass
