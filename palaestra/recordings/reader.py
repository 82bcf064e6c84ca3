"""Reading recordings: ``load`` (typed episodes) and ``load_dicts`` (raw dicts).

A path may be a recording folder (``meta.json`` + ``episodes.jsonl``), an
``episodes.jsonl`` file, or any folder above recordings (all found below it, sorted).
A line that does not parse -- the last line of a file whose writer was killed mid-write,
typically -- is reported with a :class:`TruncatedLineWarning` and skipped. The format
itself (names, line encoding) is :mod:`palaestra.recordings.format`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from .episode import Episode
from .format import EPISODES_FILE, META_FILE, TruncatedLineWarning, iter_lines, read_meta

__all__ = ["EPISODES_FILE", "META_FILE", "TruncatedLineWarning", "episode_files", "load", "load_dicts", "read_meta"]


def episode_files(path: str | Path) -> list[Path]:
    """The ``episodes.jsonl`` files at or below ``path``."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.exists():
        raise FileNotFoundError(
            f"no recording at {path}: pass a folder written by RecordEpisodes "
            "(`palaestra record`/`palaestra play`) or an episodes.jsonl file."
        )
    if (path / EPISODES_FILE).is_file():
        return [path / EPISODES_FILE]
    return sorted(path.rglob(EPISODES_FILE))


def load_dicts(path: str | Path, report: list | None = None) -> Iterator[dict]:
    """Yield every recorded episode under ``path`` as the raw JSON dict.

    ``report``, if given, is a list that collects one entry per skipped line.
    """
    for file in episode_files(path):
        yield from iter_lines(file, report)


def load(path: str | Path, report: list | None = None) -> Iterator[Episode]:
    """Yield every recorded episode under ``path`` as an :class:`Episode`."""
    for file in episode_files(path):
        for record in iter_lines(file, report):
            yield Episode.from_dict(record, root=file.parent)
