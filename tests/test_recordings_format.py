"""The recording format lives in one module (palaestra.recordings.format): its names,
meta.json and an episode line, and the helpers that encode and decode them. The writer
and the readers go through it, and the committed samples decode with it byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import pytest

import palaestra  # noqa: F401
from palaestra.agents import RandomAgent
from palaestra.recordings import format as fmt
from palaestra.recordings import load, load_dicts, reader
from palaestra.recordings.episode import Episode
from palaestra.runner import run_episode
from palaestra.wrappers import RecordEpisodes
from palaestra.wrappers import record as record_module

SAMPLES = Path(__file__).resolve().parent.parent / "recordings" / "samples"


def test_one_module_owns_the_names():
    # the writer and the readers use the format module's objects, not copies of their own
    assert record_module.RecordingLocked is fmt.RecordingLocked
    assert reader.TruncatedLineWarning is fmt.TruncatedLineWarning
    assert reader.EPISODES_FILE is fmt.EPISODES_FILE and reader.META_FILE is fmt.META_FILE
    assert not hasattr(record_module, "_FolderLock") and not hasattr(record_module, "_fsync_dir")
    source = Path(record_module.__file__).read_text()
    for literal in ('"episodes.jsonl"', '"meta.json"', '".lock"', '"final.png"', "json.dumps(record"):
        assert literal not in source, f"wrappers/record.py spells the format itself: {literal}"


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir() if p.is_dir()))
def test_samples_round_trip_through_the_format(sample):
    folder = SAMPLES / sample
    meta = fmt.read_meta(folder)
    assert tuple(meta)[: len(fmt.META_KEYS)] == fmt.META_KEYS and meta["format"] == fmt.FORMAT_VERSION
    lines = (folder / fmt.EPISODES_FILE).read_bytes().splitlines(keepends=True)
    assert lines
    for raw in lines:
        record = fmt.decode_line(raw)
        assert tuple(record)[: len(fmt.EPISODE_KEYS)] == fmt.EPISODE_KEYS
        assert fmt.encode_line(record) == raw  # the writer's encoding reproduces the committed line
        assert fmt.order_episode(record) == record
        assert Episode.from_dict(record).to_dict() == record
    assert len(list(load(folder))) == len(lines)


def test_writer_output_is_what_the_format_says(tmp_path):
    env = RecordEpisodes(gym.make("palaestra/ConnectFour-v0", text=True), tmp_path, agent_name="random")
    run_episode(env, RandomAgent(seed=0), seed=3)
    env.close()
    meta = json.loads((tmp_path / fmt.META_FILE).read_text())
    assert tuple(meta) == fmt.META_KEYS
    (raw,) = (tmp_path / fmt.EPISODES_FILE).read_bytes().splitlines(keepends=True)
    (record,) = load_dicts(tmp_path)
    assert fmt.encode_line(record) == raw
    assert set(s for step in record["steps"] for s in step) <= set(fmt.STEP_KEYS)
    assert (tmp_path / fmt.LOCK_FILE).is_file()


def test_decode_line_refuses_what_is_not_an_episode_object():
    with pytest.raises(ValueError, match="not a JSON object"):
        fmt.decode_line(b"[1, 2]")
    with pytest.raises(ValueError):
        fmt.decode_line(b'{"episode_id": "a", "ste')
    with pytest.raises(ValueError):  # NaN is not JSON: the writer refuses it
        fmt.encode_line({"return": float("nan")})


def test_repair_tail_isolates_a_partial_line(tmp_path):
    file = tmp_path / fmt.EPISODES_FILE
    good = fmt.encode_line({"episode_id": "x"})
    file.write_bytes(good + b'{"episode_id": "y", "st')
    with pytest.warns(UserWarning, match="partial episode"):
        fmt.repair_tail(file)
    fmt.append_line(file, {"episode_id": "z"})
    report: list = []
    with pytest.warns(fmt.TruncatedLineWarning, match="line 2"):
        records = list(fmt.iter_lines(file, report))
    assert [r["episode_id"] for r in records] == ["x", "z"]
    assert report[0]["line"] == 2
