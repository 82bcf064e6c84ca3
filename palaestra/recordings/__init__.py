"""Recorded episodes: the format, readers, statistics and exports (docs/architecture.md).

The format itself -- file names, meta.json, an episode line, the lock -- is
:mod:`palaestra.recordings.format`.

Write with :class:`palaestra.wrappers.RecordEpisodes`; read with :func:`load` (typed
:class:`Episode` objects) or :func:`load_dicts` (the raw JSON dicts)::

    from palaestra.recordings import load
    for ep in load("recordings/"):
        print(ep.env_id, ep.task_id, ep.success, ep.return_, [s.action for s in ep.steps])
"""

from .episode import FORMAT_VERSION, Episode, Step
from .reader import TruncatedLineWarning, episode_files, load, load_dicts, read_meta

__all__ = [
    "FORMAT_VERSION",
    "Episode",
    "Step",
    "TruncatedLineWarning",
    "episode_files",
    "load",
    "load_dicts",
    "read_meta",
    "stats",
    "to_hf",
    "export_hf",
    "episodes_from_hf",
    "to_minari",
]


_LAZY = {"stats": "summary", "to_hf": "export", "export_hf": "export", "episodes_from_hf": "export",
         "to_minari": "export"}


def __getattr__(name):  # lazy: exports pull in datasets / minari
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(name)
