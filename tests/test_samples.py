"""The recordings checked in under recordings/samples/ stay readable and useful."""

from pathlib import Path

import pytest

from palaestra.recordings import load

SAMPLES = Path(__file__).resolve().parent.parent / "recordings" / "samples"


@pytest.mark.parametrize("name", ["connect-four-mcts", "tooluse-oracle"])
def test_samples_load(name):
    episodes = list(load(SAMPLES / name))
    assert len(episodes) == 3
    for ep in episodes:
        assert ep.steps and ep.goal and ep.task_id
        assert all(step.action and step.observation for step in ep.steps)
    if name == "tooluse-oracle":
        assert all(ep.success for ep in episodes)


def test_mcts_sample_gives_step_pairs_with_full_prefix():
    from palaestra.training import step_pairs

    pairs = step_pairs(SAMPLES / "connect-four-mcts", min_margin=0.1)
    assert pairs.made > 0, pairs.dropped
    row = pairs.rows[0]
    assert row["prompt"][0]["role"] == "system" and "connect four" in row["prompt"][0]["content"].lower()
    assert row["chosen"][0]["content"] != row["rejected"][0]["content"]
