"""Reading recordings: ``load`` (typed episodes) and ``load_dicts`` (raw dicts).

A path may be a recording folder (``meta.json`` + ``episodes.jsonl``), an
``episodes.jsonl`` file, or any folder above recordings (all found below it, sorted).
A line that does not parse -- the last line of a file whose writer was killed mid-write,
typically -- is reported with a :class:`TruncatedLineWarning` and skipped.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Iterator

from .episode import Episode

EPISODES_FILE = "episodes.jsonl"
META_FILE = "meta.json"


class TruncatedLineWarning(UserWarning):
    """A line of episodes.jsonl could not be parsed and was skipped."""


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


def read_meta(folder: str | Path) -> dict:
    """``meta.json`` of a recording folder (``{}`` if absent)."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    meta = folder / META_FILE
    if not meta.is_file():
        return {}
    return json.loads(meta.read_text())


def _iter_file(file: Path, report: list | None) -> Iterator[dict]:
    with open(file, "rb") as fh:
        data = fh.read()
    lines = data.split(b"\n")
    last_index = len(lines) - 1
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except (ValueError, UnicodeDecodeError) as err:
            where = "last line" if number - 1 == last_index else f"line {number}"
            message = (
                f"{file}: {where} is not a complete episode ({len(raw)} bytes, {err.__class__.__name__}); "
                "skipped. It is what a writer killed mid-write leaves; the other episodes are intact."
            )
            warnings.warn(message, TruncatedLineWarning, stacklevel=3)
            if report is not None:
                report.append({"file": str(file), "line": number, "bytes": len(raw), "error": str(err)})
            continue
        yield record


def load_dicts(path: str | Path, report: list | None = None) -> Iterator[dict]:
    """Yield every recorded episode under ``path`` as the raw JSON dict.

    ``report``, if given, is a list that collects one entry per skipped line.
    """
    for file in episode_files(path):
        yield from _iter_file(file, report)


def load(path: str | Path, report: list | None = None) -> Iterator[Episode]:
    """Yield every recorded episode under ``path`` as an :class:`Episode`."""
    for file in episode_files(path):
        for record in _iter_file(file, report):
            yield Episode.from_dict(record, root=file.parent)
