"""Reading recorded episodes for training: folders, JSONL files, or episodes in memory.

Everything in :mod:`palaestra.training` works on episode *dicts* in the recording format
(DESIGN.md section 4): ``{"episode_id", "env_id", "task_id", "seed", "goal", "agent",
"steps": [{"t", "observation", "action", "reward", "terminated", "truncated", "info",
"search"}], "final_observation", "return", "success", "length"}``. Each dict read here
also carries ``"instructions"`` (from the recording's ``meta.json``) when known, since
the instructions open every prompt.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Iterable


def _as_dict(ep: Any) -> dict:
    if isinstance(ep, dict):
        return dict(ep)
    if dataclasses.is_dataclass(ep):
        return dataclasses.asdict(ep)
    if hasattr(ep, "to_dict"):
        return dict(ep.to_dict())
    if hasattr(ep, "__dict__"):
        out = dict(vars(ep))
        out["steps"] = [_as_dict(s) for s in out.get("steps", [])]
        return out
    raise TypeError(f"cannot read an episode from {type(ep).__name__}; pass a dict in the recording format or a recording folder.")


def _read_jsonl(path: Path) -> list[dict]:
    """Raw reader used until/unless ``palaestra.recordings`` is installed; skips a torn last line."""
    out = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:  # a crash mid-write: the recording contract allows it
                continue
            raise ValueError(f"{path}:{i + 1} is not valid JSON; the recording is damaged beyond its last line.")
    return out


def _read_folder(folder: Path) -> list[dict]:
    meta = {}
    if (folder / "meta.json").exists():
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    try:
        from palaestra.recordings import load_dicts  # the recordings engineer's reader
    except ImportError:
        load_dicts = None
    if load_dicts is not None:
        episodes = [dict(e) for e in load_dicts(folder)]
    else:
        episodes = _read_jsonl(folder / "episodes.jsonl")
    for ep in episodes:
        if meta.get("instructions") and not ep.get("instructions"):
            ep["instructions"] = meta["instructions"]
        ep.setdefault("env_id", meta.get("env_id"))
        ep.setdefault("env_kwargs", meta.get("env_kwargs", {}))
        if not ep.get("agent"):
            ep["agent"] = meta.get("agent")
    return episodes


def read_episodes(source, instructions: str | None = None) -> list[dict]:
    """Episodes as dicts from ``source``.

    ``source`` may be a recording folder (``meta.json`` + ``episodes.jsonl``), an
    ``episodes.jsonl`` file, a folder holding recordings anywhere below it, an iterable
    of episode dicts or ``palaestra.recordings.Episode`` objects, or a list mixing
    these. ``instructions`` fills in episodes whose recording did not store them.
    """
    out: list[dict] = []
    sources: Iterable = source if isinstance(source, (list, tuple)) else [source]
    for src in sources:
        if isinstance(src, (str, Path)):
            path = Path(src)
            if not path.exists():
                raise FileNotFoundError(f"no recording at {path}; pass a folder written by `palaestra record` or `palaestra play` "
                                        "(meta.json + episodes.jsonl) or an episodes.jsonl file.")
            if path.is_file():
                eps = _read_folder(path.parent) if path.name == "episodes.jsonl" else [
                    dict(e) for e in _read_jsonl(path)]
            elif (path / "episodes.jsonl").exists():
                eps = _read_folder(path)
            else:
                found = sorted(p.parent for p in path.rglob("episodes.jsonl"))
                if not found:
                    raise FileNotFoundError(f"{path} holds no episodes.jsonl; record episodes first "
                                            "(`palaestra record ID --agent mcts --text --out DIR`).")
                eps = [e for f in found for e in _read_folder(f)]
            out.extend(eps)
        elif isinstance(src, dict) or not isinstance(src, Iterable):
            out.append(_as_dict(src))
        else:
            out.extend(_as_dict(e) for e in src)
    for ep in out:
        ep["steps"] = [_as_dict(s) for s in ep.get("steps", [])]
        if instructions and not ep.get("instructions"):
            ep["instructions"] = instructions
    return out


def step_is_invalid(step: dict) -> bool:
    """True where the text view refused the step's action (the state did not change)."""
    info = step.get("info") or {}
    return bool(info.get("invalid_action"))


def write_recording(folder, episodes: list[dict], env_id: str, env_kwargs: dict | None = None,
                    agent: str | None = None, instructions: str = "") -> Path:
    """Write ``episodes`` as a recording folder in the shared format (used by the improve loop
    when the recorder wrapper is absent, and by tests)."""
    import datetime

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": 1, "env_id": env_id, "env_kwargs": env_kwargs or {}, "agent": agent,
            "instructions": instructions, "versions": {}, "created": datetime.datetime.now(datetime.UTC).isoformat()}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    with open(folder / "episodes.jsonl", "a", encoding="utf-8") as fh:
        for ep in episodes:
            ep = {k: v for k, v in ep.items() if k != "instructions"}
            fh.write(json.dumps(ep, default=_json_default) + "\n")
    return folder


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)
