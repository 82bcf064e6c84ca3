"""Loaders never corrupt data silently: mask readings, image depths, whole-folder checks (issue 16)."""

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from palaestra.envs.segmentation import load_samples
from palaestra.envs.segmentation.sample import Sample, to_uint8, working_size
from palaestra.envs.segmentation.sources import SampleSourceError


def _scene(h=64, w=80):
    rng = np.random.default_rng(1)
    img = (rng.random((h, w, 3)) * 40 + 90).astype(np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    disk = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= (min(h, w) / 3) ** 2
    img[disk] = (200, 40, 40)
    return img, disk


def _antialiased(disk):
    """0/255 mask with grey values along the edge, as drawing programs save it."""
    import cv2

    return np.clip(cv2.GaussianBlur(disk.astype(np.float32) * 255, (0, 0), 1.0), 0, 255).astype(np.uint8)


def _folder(tmp_path, name="a", image=None, mask=None, mask_ext=".png", **save):
    (tmp_path / "images").mkdir(exist_ok=True)
    (tmp_path / "masks").mkdir(exist_ok=True)
    Image.fromarray(image).save(tmp_path / "images" / f"{name}.png")
    if mask is not None:
        Image.fromarray(mask).save(tmp_path / "masks" / f"{name}{mask_ext}", **save)
    return tmp_path


def test_antialiased_mask_is_one_object_not_dozens(tmp_path):
    img, disk = _scene()
    aa = _antialiased(disk)
    assert len(np.unique(aa)) > 20  # the old reader made one "instance" per grey level
    samples = load_samples(f"folder:{_folder(tmp_path, image=img, mask=aa)}")
    assert samples.ids == ["folder:a"]
    mask = samples[0].mask
    assert (mask ^ (aa > 127.5)).sum() == 0 and abs(int(mask.sum()) - int(disk.sum())) < 0.05 * disk.sum()


def test_jpeg_mask_is_binary(tmp_path):
    img, disk = _scene()
    samples = load_samples(f"folder:{_folder(tmp_path, image=img, mask=(disk * 255).astype(np.uint8), mask_ext='.jpg', quality=70)}")
    assert samples.ids == ["folder:a"]
    assert (samples[0].mask ^ disk).sum() < 0.03 * disk.sum()


def test_instance_map_still_gives_one_sample_per_value(tmp_path):
    img, disk = _scene()
    inst = np.zeros(disk.shape, np.uint8)
    inst[5:20, 5:25] = 1
    inst[40:60, 50:75] = 7
    samples = load_samples(f"folder:{_folder(tmp_path, image=img, mask=inst)}")
    assert samples.ids == ["folder:a#1", "folder:a#7"]
    assert np.array_equal(samples[1].mask, inst == 7)


def test_16bit_png_image_keeps_its_content(tmp_path):
    _, disk = _scene()
    grey16 = np.where(disk, 60000, 12000).astype(np.uint16)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(grey16).save(tmp_path / "images" / "a.png")
    assert Image.open(tmp_path / "images" / "a.png").mode.startswith("I;16")
    Image.fromarray(disk.astype(np.uint8) * 255).save(tmp_path / "masks" / "a.png")
    image = load_samples(f"folder:{tmp_path}")[0].image
    assert image.std() > 30  # the old loader gave a constant 255 image
    assert image[disk].mean() > 200 and image[~disk].mean() < 60


def test_array_depths_convert_by_rule_never_wrap():
    mask = np.zeros((10, 10), bool)
    mask[2:6, 2:6] = True
    f = np.full((10, 10), 0.5, np.float32)
    assert Sample("f", f, mask, "x").image.max() == 128  # float [0, 1]: not black
    u16 = np.full((10, 10), 256, np.uint16)
    u16[0, 0] = 512
    out = Sample("u", u16, mask, "x").image
    assert out[1, 1, 0] == 128 and out[0, 0, 0] == 255  # 256 did not wrap to 0
    assert to_uint8(np.array([[0, 255]], np.int64)).tolist() == [[0, 255]]
    with pytest.raises(ValueError, match="NaN"):
        Sample("n", np.full((10, 10), np.nan), mask, "x")


def test_resolution_policy_bounds_a_4000px_image(tmp_path):
    assert working_size((4000, 4000)) == (1000, 1000) and working_size((300, 200)) == (300, 200)
    assert working_size((4000, 2000), "native") == (1000, 500)
    with pytest.raises(ValueError, match="8..1000"):
        working_size((100, 100), (4000, 4000))
    big = np.zeros((4000, 4000), np.uint8)
    big[1000:3000, 1000:3000] = 255
    _folder(tmp_path, image=np.stack([big // 2] * 3, -1), mask=big)
    sample = load_samples(f"folder:{tmp_path}", size="native")[0]
    assert sample.size == (1000, 1000) and sample.meta["original_size"] == (4000, 4000)


def _bad_folder(root, good=40):
    img, disk = _scene()
    mask = (disk * 255).astype(np.uint8)
    names = {}
    for i in range(good):
        _folder(root, f"good{i:02d}", img, mask)
    for i in range(3):  # misaligned
        _folder(root, f"small{i}", img, mask[:40, :50])
        names[f"small{i}"] = "is 50x40"
    for i in range(3):  # empty
        _folder(root, f"empty{i}", img, np.zeros_like(mask))
        names[f"empty{i}"] = "empty"
    for i in range(2):  # no mask at all
        _folder(root, f"nomask{i}", img, None)
        names[f"nomask{i}"] = "no mask"
    for i in range(2):  # a truncated image file
        _folder(root, f"broken{i}", img, mask)
        data = (root / "images" / f"broken{i}.png").read_bytes()
        (root / "images" / f"broken{i}.png").write_bytes(data[: len(data) // 3])
        names[f"broken{i}"] = "unreadable image"
    return names


def test_folder_of_50_with_10_bad_is_reported_in_full_before_any_episode(tmp_path):
    import gymnasium as gym

    import palaestra  # noqa: F401

    names = _bad_folder(tmp_path)
    with pytest.raises(SampleSourceError) as err:
        load_samples(f"folder:{tmp_path}")
    text = str(err.value)
    assert "10 of 50" in text and len(err.value.problems) == 10
    for name, why in names.items():
        line = next(p for p in err.value.problems if p.startswith(name + "."))
        assert why in line, line
    with pytest.raises(SampleSourceError):  # the env refuses at construction, not at reset
        gym.make("palaestra/Segmentation-v0", source=f"folder:{tmp_path}")


def test_unlabelled_images_can_be_skipped_with_a_warning(tmp_path):
    img, disk = _scene()
    _folder(tmp_path, "a", img, (disk * 255).astype(np.uint8))
    _folder(tmp_path, "b", img, None)
    with pytest.raises(SampleSourceError, match="b.png: no mask"):
        load_samples(f"folder:{tmp_path}")
    with pytest.warns(UserWarning, match="1 images .* no mask"):
        samples = load_samples(f"folder:{tmp_path}", unlabelled="skip")
    assert samples.ids == ["folder:a"]


def test_seg_eval_lists_every_bad_sample_and_exits_2(tmp_path):
    from palaestra.cli import app

    names = _bad_folder(tmp_path, good=2)
    result = CliRunner().invoke(app, ["seg-eval", "--source", f"folder:{tmp_path}", "--n", "5"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for name in names:
        assert name in result.output


def test_backends_refuse_an_unbounded_image_before_any_work():
    from palaestra.envs.segmentation import make_backend
    from palaestra.envs.segmentation.sample import Click

    huge = np.zeros((4000, 4000, 3), np.uint8)
    for name in ("graphcut", "grabcut", "watershed"):
        with pytest.raises(ValueError, match="resize it first"):
            make_backend(name).segment(huge, [Click(10, 10, True)], None)
    with pytest.raises(ValueError, match="outside"):
        make_backend("graphcut").segment(np.zeros((20, 20, 3), np.uint8), [Click(25, 3, True)], None)
