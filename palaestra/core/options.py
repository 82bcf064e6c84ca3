"""Checking keyword options against what a constructor takes, with a suggestion."""

from __future__ import annotations

import difflib
import inspect


def did_you_mean(word, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""


def accepted_options(factory) -> list[str] | None:
    """The keyword names ``factory`` takes, or None when it takes any (``**kwargs``)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return [n for n, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and n != "self"]


def check_options(what: str, factory, options: dict, how: str = "") -> None:
    """Raise ValueError for an option ``factory`` does not take, naming the close match
    and every option it does take."""
    names = accepted_options(factory)
    if not names:
        return
    for key in options:
        if key not in names:
            raise ValueError(f"{what} has no option {key!r}.{did_you_mean(key, names)} "
                             f"Its options{how}: {', '.join(names)}.")
