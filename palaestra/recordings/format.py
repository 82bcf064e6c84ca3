"""The recording format, in one place: file names, ``meta.json``, the episode line, the lock.

A recording folder holds::

    meta.json        {"format", "env_id", "env_kwargs", "agent", "instructions", "versions", "created"}
    episodes.jsonl   one finished episode per line (UTF-8 JSON, one ``write`` call, appended)
    .lock            an ``flock`` held by the one writer (the kernel drops it if the writer dies)
    images/<episode_id>/NNNN.png, final.png   (optional) the images the agent saw

Each line of ``episodes.jsonl`` is one episode::

    {"episode_id", "env_id", "task_id", "seed", "goal", "agent",
     "steps": [{"t", "observation", "action", "reward", "terminated", "truncated",
                "info", "search"?, "image"?, "player"?, ...}],
     "final_observation", "return", "success", "length", "created",
     "final_image"?, "env_kwargs"?, "options"?, ...}

The writer (:class:`palaestra.wrappers.RecordEpisodes`) and the readers
(:mod:`palaestra.recordings.reader`, :mod:`palaestra.recordings.episode`) encode and
decode through the helpers below; nothing else spells these names.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Iterator

from palaestra.core import PalaestraError

FORMAT_VERSION = 1

EPISODES_FILE = "episodes.jsonl"
META_FILE = "meta.json"
LOCK_FILE = ".lock"
IMAGES_DIR = "images"

#: keys of meta.json, in the order they are written
META_KEYS = ("format", "env_id", "env_kwargs", "agent", "instructions", "versions", "created")
#: keys of a step, in the order they are written (``search``, ``image``, ``player`` optional)
STEP_KEYS = ("t", "observation", "action", "reward", "terminated", "truncated", "info", "search", "image", "player")
#: keys every episode line has, in the order they are written
EPISODE_KEYS = (
    "episode_id", "env_id", "task_id", "seed", "goal", "agent", "steps",
    "final_observation", "return", "success", "length", "created",
)
#: the optional episode key naming the final image
FINAL_IMAGE = "final_image"


class RecordingLocked(PalaestraError):
    """Another writer holds the recording folder."""


class TruncatedLineWarning(UserWarning):
    """A line of episodes.jsonl could not be parsed and was skipped."""


# ---- paths -------------------------------------------------------------------------------
def step_image_path(episode_id: str, t: int) -> str:
    """The image of step ``t``, relative to the recording folder."""
    return f"{IMAGES_DIR}/{episode_id}/{t:04d}.png"


def final_image_path(episode_id: str) -> str:
    """The image after the last step, relative to the recording folder."""
    return f"{IMAGES_DIR}/{episode_id}/final.png"


# ---- meta.json ---------------------------------------------------------------------------
def make_meta(env_id: str, env_kwargs: dict, agent: str, instructions: str, versions: dict, created: str) -> dict:
    """The content of ``meta.json``."""
    return dict(zip(META_KEYS, (FORMAT_VERSION, env_id, env_kwargs, agent, instructions, versions, created)))


def read_meta(folder: str | Path) -> dict:
    """``meta.json`` of a recording folder (or of the folder of an episodes.jsonl); ``{}`` if absent."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    meta = folder / META_FILE
    if not meta.is_file():
        return {}
    return json.loads(meta.read_text())


def write_meta(folder: Path, meta: dict) -> None:
    """Write ``meta.json`` atomically (temporary file, fsync, rename, fsync of the folder)."""
    meta_path = folder / META_FILE
    tmp = meta_path.with_suffix(".json.tmp")
    with open(tmp, "w") as fh:
        json.dump(meta, fh, indent=2)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, meta_path)
    fsync_dir(folder)


# ---- an episode line ---------------------------------------------------------------------
def order_episode(episode: dict) -> dict:
    """``episode`` with :data:`EPISODE_KEYS` first, in order, then any other key."""
    record = {k: episode[k] for k in EPISODE_KEYS}
    record.update({k: v for k, v in episode.items() if k not in record})
    return record


def encode_line(record: dict) -> bytes:
    """One episode as its ``episodes.jsonl`` line (UTF-8, newline-terminated; NaN refused)."""
    return (json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def decode_line(raw: bytes | str) -> dict:
    """One ``episodes.jsonl`` line as its dict; ``ValueError`` if it is not a JSON object."""
    record = json.loads(raw)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    return record


def append_line(file: Path, record: dict, fsync: bool = True) -> None:
    """Append ``record`` to ``file`` with one ``write`` loop on an ``O_APPEND`` descriptor."""
    line = encode_line(record)
    new = not file.exists()
    fd = os.open(file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(line)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        fsync_dir(file.parent)


def repair_tail(file: Path, stacklevel: int = 3) -> None:
    """Isolate a partial last line left by a killed writer (the reader skips it)."""
    if not file.is_file() or file.stat().st_size == 0:
        return
    with open(file, "rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) != b"\n":
            warnings.warn(
                f"{file} ends with a partial episode (a writer was killed mid-write); "
                "it is kept on its own line and skipped by the readers.",
                stacklevel=stacklevel,
            )
            fh.seek(0, os.SEEK_END)
            fh.write(b"\n")
            fh.flush()
            os.fsync(fh.fileno())


def iter_lines(file: Path, report: list | None = None, stacklevel: int = 3) -> Iterator[dict]:
    """The episodes of one ``episodes.jsonl``; a line that does not decode is warned about
    (:class:`TruncatedLineWarning`), added to ``report`` if given, and skipped."""
    with open(file, "rb") as fh:
        data = fh.read()
    lines = data.split(b"\n")
    last_index = len(lines) - 1
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = decode_line(raw)
        except (ValueError, UnicodeDecodeError) as err:
            where = "last line" if number - 1 == last_index else f"line {number}"
            message = (
                f"{file}: {where} is not a complete episode ({len(raw)} bytes, {err.__class__.__name__}); "
                "skipped. It is what a writer killed mid-write leaves; the other episodes are intact."
            )
            warnings.warn(message, TruncatedLineWarning, stacklevel=stacklevel)
            if report is not None:
                report.append({"file": str(file), "line": number, "bytes": len(raw), "error": str(err)})
            continue
        yield record


# ---- the lock ----------------------------------------------------------------------------
class FolderLock:
    """An exclusive ``flock`` on ``<folder>/.lock``; the kernel drops it if we die."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOCK_FILE
        self.fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - not POSIX: best effort
            pass
        except OSError:
            try:
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            finally:
                os.close(fd)
            raise RecordingLocked(
                f"{self.path.parent} is being recorded into by another writer (pid {holder}). "
                "Two writers would interleave episodes: close the other one, or record into "
                "another folder (e.g. --out recordings/run2)."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor drops the flock
            self.fd = None


def fsync_dir(path: Path) -> None:
    """fsync a folder (so a new file's name survives a power cut); silent where refused."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse
        pass
    finally:
        os.close(fd)
