"""Exports: Hugging Face ``datasets`` (Arrow via ``save_to_disk``, or Parquet) and Minari.

One row per step (``per="step"``, the default: what SFT/DPO builders want) or per
episode (``per="episode"``, steps as a list of structs). ``info`` is stored as a JSON
string (its keys differ between envs and steps); ``search`` as a list of
``{action, visits, q, prior, critique}`` structs. :func:`episodes_from_hf` turns either
layout back into the recorded episode dicts.

Minari datasets need numeric spaces: :func:`to_minari` rebuilds each episode in the
env's *native* single-agent view (same seed, the recorded action texts parsed by
``parse_action``), checks that the rewards match the recording, and writes the dataset
with Minari's dataset API (``minari.create_dataset_from_buffers``; its
``DataCollector`` would need jax, which palaestra does not install).
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Iterable

from .reader import TruncatedLineWarning, episode_files, load_dicts, read_meta

SEARCH_KEYS = ("action", "visits", "q", "prior", "critique")


def _features(per: str):
    import datasets as hf

    List = getattr(hf, "List", None) or hf.Sequence
    search = List({"action": hf.Value("string"), "visits": hf.Value("int64"), "q": hf.Value("float64"),
                   "prior": hf.Value("float64"), "critique": hf.Value("string")})
    step = {
        "t": hf.Value("int64"), "observation": hf.Value("string"), "action": hf.Value("string"),
        "reward": hf.Value("float64"), "terminated": hf.Value("bool"), "truncated": hf.Value("bool"),
        "info": hf.Value("string"), "search": search, "image": hf.Value("string"), "player": hf.Value("int64"),
    }
    episode = {
        "episode_id": hf.Value("string"), "env_id": hf.Value("string"), "task_id": hf.Value("string"),
        "seed": hf.Value("int64"), "goal": hf.Value("string"), "agent": hf.Value("string"),
    }
    tail = {"return": hf.Value("float64"), "success": hf.Value("bool"), "length": hf.Value("int64"),
            "created": hf.Value("string"), "recording": hf.Value("string")}
    if per == "step":
        return hf.Features({**episode, **step, "episode_return": hf.Value("float64"),
                            "success": hf.Value("bool"), "length": hf.Value("int64"),
                            "recording": hf.Value("string")})
    return hf.Features({**episode, "steps": List(step), "final_observation": hf.Value("string"), **tail})


def _step_row(s: dict) -> dict:
    search = s.get("search")
    return {
        "t": s["t"], "observation": s["observation"], "action": s["action"], "reward": float(s["reward"]),
        "terminated": bool(s["terminated"]), "truncated": bool(s["truncated"]),
        "info": json.dumps(s.get("info") or {}, sort_keys=True),
        "search": None if search is None else [{k: c.get(k) for k in SEARCH_KEYS} for c in search],
        "image": s.get("image"), "player": s.get("player"),
    }


def quiet_libraries() -> None:
    """No tqdm bars from ``datasets`` and no info chatter from ``transformers``: the
    caller shows its own (rich) progress."""
    import sys

    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    if "transformers" in sys.modules:
        sys.modules["transformers"].logging.set_verbosity_error()


def count_episodes(path) -> int:
    """The number of episode lines under ``path`` (cheap: newlines, no parsing)."""
    total = 0
    for file in episode_files(path):
        with open(file, "rb") as fh:
            total += sum(1 for line in fh if line.strip())
    return total


def _rows(path, per: str, progress=None) -> Iterable[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("always", TruncatedLineWarning)
        for file in episode_files(path):
            root = str(file.parent)
            for ep in load_dicts(file):
                if progress is not None:
                    progress("episodes", 1)
                head = {k: ep[k] for k in ("episode_id", "env_id", "task_id", "seed", "goal", "agent")}
                if head["task_id"] is not None:
                    head["task_id"] = str(head["task_id"])
                if per == "step":
                    for s in ep["steps"]:
                        yield {**head, **_step_row(s), "episode_return": float(ep["return"]),
                               "success": bool(ep["success"]), "length": int(ep["length"]), "recording": root}
                else:
                    yield {**head, "steps": [_step_row(s) for s in ep["steps"]],
                           "final_observation": ep["final_observation"], "return": float(ep["return"]),
                           "success": bool(ep["success"]), "length": int(ep["length"]),
                           "created": ep["created"], "recording": root}


def to_hf(path: str | Path, per: str = "step", images: bool = False, progress=None):
    """The recordings under ``path`` as a ``datasets.Dataset`` (one row per step or episode).

    ``images=True`` (per step) adds a ``pixels`` column of ``datasets.Image`` holding the
    image each step's agent saw (segmentation overlays, screenshots), embedded when the
    dataset is saved; ``image`` keeps the relative path either way. ``progress``, if
    given, is called as ``progress("episodes", 1)`` for each episode read.
    """
    import datasets as hf

    if per not in ("step", "episode"):
        raise ValueError(f"per={per!r}: use 'step' or 'episode'")
    if images and per != "step":
        raise ValueError("images=True needs per='step' (one image per row)")
    rows = list(_rows(path, per, progress))
    if not rows:
        raise ValueError(f"no episodes under {path}: record some first (palaestra record / play).")
    features = _features(per)
    if images:
        for row in rows:
            row["pixels"] = str(Path(row["recording"]) / row["image"]) if row["image"] else None
        features["pixels"] = hf.Image()
    return hf.Dataset.from_list(rows, features=features)


def export_hf(path: str | Path, out: str | Path, per: str = "step", fmt: str = "arrow", images: bool = False,
              progress=None) -> Path:
    """Write ``to_hf(path, per, images)`` to ``out``: a ``save_to_disk`` folder, or a Parquet file.

    ``progress(stage, n)``: called per episode read (``"episodes"``) and once the rows
    are written (``"written"``); with it, the ``datasets`` tqdm bars are off.
    """
    if progress is not None:
        quiet_libraries()
    ds = to_hf(path, per, images=images, progress=progress)
    out = Path(out)
    written = _write(ds, out, per, fmt)
    if progress is not None:
        progress("written", ds.num_rows)
    return written


def _write(ds, out: Path, per: str, fmt: str) -> Path:
    if fmt == "arrow":
        ds.save_to_disk(str(out))
        return out
    if fmt == "parquet":
        if out.suffix != ".parquet":
            out.mkdir(parents=True, exist_ok=True)
            out = out / f"{per}s.parquet"
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
        ds.to_parquet(str(out))
        return out
    raise ValueError(f"format {fmt!r}: use 'arrow' (save_to_disk) or 'parquet'")


def _step_back(row: dict) -> dict:
    s = {k: row[k] for k in ("t", "observation", "action", "reward", "terminated", "truncated")}
    s["info"] = json.loads(row["info"])
    if row.get("search") is not None:
        s["search"] = [dict(c) for c in row["search"]]
    for key in ("image", "player"):
        if row.get(key) is not None:
            s[key] = row[key]
    return s


def episodes_from_hf(ds) -> list[dict]:
    """Rebuild episode dicts (``episode_id``, ``steps``, ...) from either export layout."""
    if "steps" in ds.column_names:
        out = []
        for row in ds:
            ep = {k: v for k, v in row.items() if k not in ("steps", "recording")}
            ep["steps"] = [_step_back(s) for s in row["steps"]]
            out.append(ep)
        return out
    grouped: dict[str, dict] = {}
    for row in ds:
        ep = grouped.setdefault(row["episode_id"], {
            **{k: row[k] for k in ("episode_id", "env_id", "task_id", "seed", "goal", "agent")},
            "return": row["episode_return"], "success": row["success"], "length": row["length"], "steps": [],
        })
        ep["steps"].append(_step_back(row))
    for ep in grouped.values():
        ep["steps"].sort(key=lambda s: s["t"])
    return list(grouped.values())


# ---- Minari ------------------------------------------------------------------------


def _jsonable_spec(base) -> None:
    """Minari stores ``env.spec.to_json()``, which refuses palaestra's callable entry
    points (``EnvFactory``); point the spec at the env class itself (same kwargs)."""
    import dataclasses

    spec = getattr(base, "spec", None)
    entry = getattr(spec, "entry_point", None) if spec is not None else None
    if spec is not None and not isinstance(entry, str):
        target = getattr(entry, "entry", None) or f"{type(base).__module__}:{type(base).__name__}"
        base.spec = dataclasses.replace(spec, entry_point=target)

_VIEW_KWARGS = ("text", "max_invalid")


def _stack(items: list):
    """A list of (possibly dict) samples -> the column layout Minari stores."""
    import numpy as np

    if items and isinstance(items[0], dict):
        return {k: _stack([it[k] for it in items]) for k in items[0]}
    return np.asarray(items)


def to_minari(path: str | Path, dataset_id: str, out: str | Path | None = None,
              algorithm_name: str | None = None, author: str | None = None, jpeg: bool = False):
    """Rebuild the recorded episodes in the native view and write a Minari dataset.

    ``out`` sets ``MINARI_DATASETS_PATH`` (where ``minari.load_dataset`` looks). Images
    are stored exactly unless ``jpeg=True`` (Minari's own default is lossy JPEG). Steps
    that the text view refused (``info["invalid_action"]``) changed nothing and are
    skipped; episodes that ended *because* of invalid actions are left out. Returns
    ``(dataset, report)``.
    """
    import gymnasium as gym
    import minari

    import palaestra  # noqa: F401  (registers the ids)

    if out is not None:
        os.environ["MINARI_DATASETS_PATH"] = str(Path(out).resolve())
    files = episode_files(path)
    if not files:
        raise ValueError(f"no episodes under {path}")
    metas = {read_meta(f.parent).get("env_id") for f in files}
    if len(metas) != 1:
        raise ValueError(f"a Minari dataset holds one env; {path} has recordings of {sorted(map(str, metas))}. "
                         "Export one recording folder at a time.")
    meta = read_meta(files[0].parent)
    env_id = meta["env_id"]
    kwargs = {k: v for k, v in meta.get("env_kwargs", {}).items() if k not in _VIEW_KWARGS}
    env = gym.make(env_id, **kwargs)
    base = env.unwrapped
    _jsonable_spec(base)
    if getattr(base, "num_players", 1) != 1:
        raise ValueError(f"{env_id} with {kwargs} is a self-play (two-player) view; Minari takes single-agent "
                         "envs: record with an opponent (the default) to export to Minari.")
    from minari.data_collector import EpisodeBuffer

    report = {"episodes": 0, "skipped_episodes": 0, "skipped_invalid_steps": 0, "mismatches": []}
    agents: set = set()
    buffers = []
    for file in files:
        for ep in load_dicts(file):
            own = {k: v for k, v in ep.get("env_kwargs", meta.get("env_kwargs", {})).items() if k not in _VIEW_KWARGS}
            if own != kwargs:
                raise ValueError(f"episode {ep['episode_id']} was recorded with env kwargs {own}, the folder's first "
                                 f"with {kwargs}: a Minari dataset has one env; export them separately.")
            last = ep["steps"][-1] if ep["steps"] else None
            if last is not None and last["truncated"] and "invalid_action" in last["info"]:
                report["skipped_episodes"] += 1  # ended by invalid text: no native counterpart
                continue
            obs, _ = env.reset(seed=ep["seed"], options=ep.get("options"))
            observations, actions, rewards, terms, truncs = [obs], [], [], [], []
            for s in ep["steps"]:
                if "invalid_action" in s["info"]:
                    report["skipped_invalid_steps"] += 1
                    continue
                action = base.parse_action(s["action"])
                obs, reward, term, trunc, _ = env.step(action)
                observations.append(obs)
                actions.append(action)
                rewards.append(float(reward))
                terms.append(bool(term))
                truncs.append(bool(trunc))
                if term or trunc:
                    break
            if abs(sum(rewards) - ep["return"]) > 1e-6 or not (terms and (terms[-1] or truncs[-1])):
                report["mismatches"].append(ep["episode_id"])
                continue
            buffers.append(EpisodeBuffer(
                id=len(buffers), seed=ep["seed"], options=ep.get("options"),
                observations=_stack(observations), actions=_stack(actions), rewards=rewards,
                terminations=terms, truncations=truncs, infos={},
            ))
            report["episodes"] += 1
            agents.add(ep["agent"])
    if report["mismatches"]:
        raise RuntimeError(
            f"{len(report['mismatches'])} episodes did not replay to the recorded return (is {env_id} "
            "deterministic given its seed, and are the kwargs in meta.json the ones used?)"
        )
    if not buffers:
        raise ValueError(f"no episode of {path} could be rebuilt in the native view")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(author_email|eval_env).*", category=UserWarning)
        dataset = _create(minari, dataset_id, buffers, env, agents, algorithm_name, author, env_id, jpeg)
    env.close()
    return dataset, report


def _create(minari, dataset_id, buffers, env, agents, algorithm_name, author, env_id, jpeg):
    import inspect

    extra = {}
    if "jpeg_encoding" in inspect.signature(minari.create_dataset_from_buffers).parameters:
        extra["jpeg_encoding"] = bool(jpeg)
    return minari.create_dataset_from_buffers(
        dataset_id=dataset_id,
        buffer=buffers,
        env=env,
        algorithm_name=algorithm_name or ", ".join(sorted(agents)),
        author=author or "palaestra",
        code_permalink="https://github.com/palaestra/palaestra",
        description=f"Episodes of {env_id} recorded with palaestra (agents: {', '.join(sorted(agents))}).",
        data_format="arrow",  # pyarrow comes with datasets; hdf5 would need h5py
        **extra,
    )
