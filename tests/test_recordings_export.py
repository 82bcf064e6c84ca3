"""Exports (HF datasets, Parquet, Minari), statistics, images beside the jsonl, the CLI."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import palaestra  # noqa: F401
from palaestra.agents import RandomAgent
from palaestra.recordings import load, load_dicts, stats
from palaestra.runner import run_episode
from palaestra.wrappers import RecordEpisodes

ENV = "palaestra/ConnectFour-v0"


class Searcher(RandomAgent):
    name = "searcher"

    def act(self, obs, info):
        action = super().act(obs, info)
        self.last_search = [{"action": action, "visits": 3, "q": 0.25, "prior": 0.5, "critique": "fine"},
                            {"action": "1", "visits": 1, "q": -0.5, "prior": 0.1}]
        return action


@pytest.fixture()
def rec(tmp_path):
    path = tmp_path / "rec"
    env = RecordEpisodes(gym.make(ENV, text=True), path, agent_name="searcher")
    for i in range(4):
        run_episode(env, Searcher(seed=i), seed=i)
    env.close()
    return path


def _norm(ep: dict) -> dict:
    keys = ("episode_id", "env_id", "task_id", "seed", "goal", "agent", "return", "success", "length")
    return {**{k: ep[k] for k in keys}, "steps": ep["steps"]}


def test_hf_round_trip_per_step_and_per_episode(rec, tmp_path):
    import datasets

    from palaestra.recordings.export import episodes_from_hf, export_hf

    original = [_norm(e) for e in load_dicts(rec)]
    export_hf(rec, tmp_path / "steps", per="step")
    ds = datasets.load_from_disk(str(tmp_path / "steps"))
    assert ds.num_rows == sum(e["length"] for e in original)
    assert ds[0]["search"][0]["visits"] == 3 and ds[0]["search"][1]["critique"] is None
    back = sorted((_norm(e) for e in episodes_from_hf(ds)), key=lambda e: e["seed"])
    assert back == original
    export_hf(rec, tmp_path / "eps", per="episode")
    eps = datasets.load_from_disk(str(tmp_path / "eps"))
    assert eps.num_rows == 4
    assert [_norm(e) for e in episodes_from_hf(eps)] == original
    file = export_hf(rec, tmp_path / "pq", per="step", fmt="parquet")
    pq = datasets.load_dataset("parquet", data_files=str(file), split="train")
    assert pq.num_rows == ds.num_rows and pq[5]["action"] == ds[5]["action"]


def test_minari_dataset_loads_and_replays_the_same_actions(rec, tmp_path, monkeypatch):
    import minari

    from palaestra.recordings.export import to_minari

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    _, report = to_minari(rec, "palaestra/connectfour/searcher-v0", out=tmp_path / "minari")
    assert report["episodes"] == 4 and report["mismatches"] == []
    ds = minari.load_dataset("palaestra/connectfour/searcher-v0")
    assert ds.total_episodes == 4
    env = gym.make(ENV)
    for mep, ep in zip(ds.iterate_episodes(), load(rec)):
        base = env.unwrapped
        env.reset(seed=ep.seed)
        native = []
        for s in ep.steps:
            native.append(base.parse_action(s.action))
            env.step(native[-1])
        assert list(mep.actions) == native
        assert float(np.sum(mep.rewards)) == ep.return_
        assert mep.observations["observation"].shape[0] == ep.length + 1
    assert ds.recover_environment().spec.id == ENV


def test_stats(rec):
    s = stats(rec)
    eps = list(load(rec))
    assert s["episodes"] == 4 and s["agents"] == {"searcher": 4}
    assert s["success_rate"] == sum(e.success for e in eps) / 4
    assert s["mean_return"] == pytest.approx(np.mean([e.return_ for e in eps]))
    assert s["length"]["max"] == max(e.length for e in eps)
    assert sum(h["count"] for h in s["length"]["histogram"]) == 4
    assert s["searched_steps"] == s["steps"] == sum(e.length for e in eps)
    assert s["per_env"][ENV]["seeds"] == [0, 1, 2, 3]


def test_stats_never_pool_success_or_return_across_envs(rec, tmp_path):
    """A folder tree with two envs: figures per env; no pooled success rate or return."""
    from typer.testing import CliRunner

    from palaestra.cli import app

    env = RecordEpisodes(gym.make("palaestra/Segmentation-v0", text=True), tmp_path / "seg", agent_name="clicker")
    env.reset(seed=5)
    env.step("Finish")  # a segmentation episode that fails: success 0%, return 0
    env.close()
    s = stats(tmp_path)
    assert set(s["per_env"]) == {ENV, "palaestra/Segmentation-v0"} and s["episodes"] == 5
    assert s["success_rate"] is None and s["mean_return"] is None  # never pooled
    games = s["per_env"][ENV]
    assert games["success_rate"] == sum(e.success for e in load(rec)) / 4
    assert s["per_env"]["palaestra/Segmentation-v0"]["success_rate"] == 0.0
    assert s["per_env"]["palaestra/Segmentation-v0"]["seeds"] == [5]
    res = CliRunner().invoke(app, ["recordings", str(tmp_path)], env={"COLUMNS": "100"})
    assert res.exit_code == 0, res.output
    rows = {line.split()[0]: line.split() for line in res.output.splitlines()
            if line.strip().startswith("palaestra/")}
    assert rows[ENV][3] == f"{games['success_rate']:.0%}" and rows["palaestra/Segmentation-v0"][3] == "0%"
    assert "never pooled" in res.output and "…" not in res.output  # piped: whole tables, nothing cut


def test_segmentation_images_are_files_beside_the_jsonl(tmp_path):
    env = RecordEpisodes(gym.make("palaestra/Segmentation-v0", text=True, terminate_on_success=False),
                         tmp_path, agent_name="scripted")
    _, info = env.reset(seed=0)
    seen = [info["image"]]
    for action in ("Positive point: (500, 500)", "Negative point: (20, 20)", "Finish"):
        _, _, term, trunc, info = env.step(action)
        seen.append(info["image"])
    env.close()
    assert term
    (ep,) = load(tmp_path)
    assert ep.length == 3 and ep.final_image is not None
    assert ep.steps[0].action == "Positive point: (500, 500)"
    assert all((tmp_path / s.image).is_file() for s in ep.steps)
    text = (tmp_path / "episodes.jsonl").read_text()
    assert "images/" in text and len(text) < 20_000  # referenced by path, not inlined
    for t in range(3):
        np.testing.assert_array_equal(ep.load_image(t), seen[t])  # what the agent saw before step t
    np.testing.assert_array_equal(ep.load_image(None), seen[-1])
    assert not np.array_equal(seen[0], seen[1])  # the mask overlay changed after the click
    assert "iou" in ep.steps[-1].info
    # exported with the pixels embedded: the dataset no longer needs the recording folder
    import shutil

    import datasets

    from palaestra.recordings.export import export_hf

    export_hf(tmp_path, tmp_path.parent / "hf_images", images=True)
    shutil.rmtree(tmp_path / "images")
    ds = datasets.load_from_disk(str(tmp_path.parent / "hf_images"))
    for t in range(3):
        np.testing.assert_array_equal(np.asarray(ds[t]["pixels"]), seen[t])


def test_minari_keeps_images_exact(tmp_path, monkeypatch):
    import minari

    from palaestra.recordings.export import to_minari

    env = RecordEpisodes(gym.make("palaestra/Segmentation-v0", text=True, terminate_on_success=False),
                         tmp_path / "rec", agent_name="scripted", save_images=False)
    env.reset(seed=0)
    for action in ("Positive point: (500, 500)", "Negative point: (20, 20)", "Finish"):
        env.step(action)
    env.close()
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path / "minari"))
    to_minari(tmp_path / "rec", "palaestra/segmentation/scripted-v0")
    (mep,) = minari.load_dataset("palaestra/segmentation/scripted-v0").iterate_episodes()
    native = gym.make("palaestra/Segmentation-v0")
    obs, _ = native.reset(seed=0)
    np.testing.assert_array_equal(mep.observations["image"][0], obs["image"])  # lossless, not JPEG
    assert mep.actions.tolist() == [[500, 500, 1], [20, 20, 0], [0, 0, 2]]


def test_cli_record_recordings_export(tmp_path):
    from typer.testing import CliRunner

    from palaestra.cli import app

    runner = CliRunner()
    out = tmp_path / "rec"
    res = runner.invoke(app, ["record", ENV, "--agent", "random", "--episodes", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert len(list(load(out))) == 3
    res = runner.invoke(app, ["recordings", str(tmp_path)])
    assert res.exit_code == 0 and "episode length" in res.output and "random" in res.output
    res = runner.invoke(app, ["export", str(out), "--to", "hf", "--out", str(tmp_path / "hf")])
    assert res.exit_code == 0, res.output
    import datasets

    rows = datasets.load_from_disk(str(tmp_path / "hf")).num_rows
    assert rows == sum(e.length for e in load(out))
    # a rich progress bar, not datasets' raw tqdm lines
    assert "reading episodes" in res.output and f"wrote {rows} rows" in res.output
    assert "%|" not in res.output and "it/s" not in res.output and "Saving the dataset" not in res.output


def test_recording_again_into_a_folder_continues_after_its_seeds(tmp_path):
    from typer.testing import CliRunner

    from palaestra.cli import app

    runner = CliRunner()
    out = tmp_path / "rec"
    assert runner.invoke(app, ["record", ENV, "--episodes", "3", "--out", str(out)]).exit_code == 0
    res = runner.invoke(app, ["record", ENV, "--episodes", "2", "--out", str(out)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert f"{out} already holds 3 episode(s), seeds 0-2: continuing from seed 3" in " ".join(res.output.split())
    assert sorted(e.seed for e in load(out)) == [0, 1, 2, 3, 4]  # no seed repeated
    # an explicit --seed over held seeds: done as asked, with a clear warning
    res = runner.invoke(app, ["record", ENV, "--episodes", "2", "--seed", "4", "--out", str(out)],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "warning:" in said and "--seed 4 records seed(s) 4 again" in said
    assert "continue after them (seed 5)" in said
    assert sorted(e.seed for e in load(out)) == [0, 1, 2, 3, 4, 4, 5]
