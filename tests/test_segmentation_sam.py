"""SAM through transformers: real loading code on a tiny randomly initialised checkpoint."""

import numpy as np
import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

import gymnasium as gym  # noqa: E402

import palaestra  # noqa: E402,F401
from palaestra.envs.segmentation.sam import SamBackend, save_tiny_sam  # noqa: E402
from palaestra.envs.segmentation.sample import Click  # noqa: E402
from palaestra.envs.segmentation.synthetic import synthetic_scene  # noqa: E402


@pytest.fixture(scope="module")
def tiny_sam(tmp_path_factory):
    torch.set_num_threads(1)
    return str(save_tiny_sam(tmp_path_factory.mktemp("sam") / "tiny-sam"))


def test_sam_backend_loads_from_a_folder_and_segments(tiny_sam):
    backend = SamBackend(tiny_sam, device="cpu")
    sample = synthetic_scene(3)
    one = backend.segment(sample.image, [Click(80, 80, True)], None)
    assert one.shape == sample.mask.shape and one.dtype == bool
    two = backend.segment(sample.image, [Click(80, 80, True), Click(5, 5, False)], one)
    again = backend.segment(sample.image, [Click(80, 80, True), Click(5, 5, False)], one)
    assert np.array_equal(two, again)  # a pure function of (image, clicks, previous mask)
    assert not backend.segment(sample.image, [Click(5, 5, False)], None).any()


def test_sam_backend_in_the_env_with_snapshots(tiny_sam):
    env = gym.make("palaestra/Segmentation-v0", backend="sam", backend_options={"model": tiny_sam, "device": "cpu"},
                   image_size=(64, 64))
    env.reset(seed=0)
    base = env.unwrapped
    env.step(base.parse_action("Positive point: (500, 500)"))
    state = base.get_state()
    _, r1, *_ = env.step(base.parse_action("Negative point: (10, 10)"))
    mask1 = base._mask.copy()
    base.set_state(state)
    _, r2, *_ = env.step(base.parse_action("Negative point: (10, 10)"))
    assert r1 == r2 and np.array_equal(mask1, base._mask)


def test_missing_checkpoint_says_what_to_do(tmp_path):
    with pytest.raises(OSError, match="local folder"):
        SamBackend(str(tmp_path / "no-such-sam"), local_files_only=True)
