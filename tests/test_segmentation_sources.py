"""Sample sources: package images, optional stardist/imgaug data, a user folder, COCO JSON."""

import json

import gymnasium as gym
import numpy as np
import pytest
from PIL import Image

import palaestra  # noqa: F401
from palaestra.envs.segmentation import load_samples
from palaestra.envs.segmentation.sources import package_available


def test_skimage_horse_and_phantom():
    from skimage import data

    samples = load_samples("skimage")
    ids = samples.ids
    assert "skimage:horse-grass" in ids and any(i.startswith("skimage:phantom-") for i in ids)
    horse = samples[ids.index("skimage:horse-grass")]
    assert np.array_equal(horse.mask, ~data.horse()) and horse.description == "the brown horse on the grass"
    phantom = [samples[i] for i, k in enumerate(ids) if k.startswith("skimage:phantom-")]
    masks = [p.mask for p in phantom]
    for a in range(len(masks)):  # regions are disjoint
        for b in range(a + 1, len(masks)):
            assert not (masks[a] & masks[b]).any()
    values = [np.unique(np.round(p.image[..., 0][p.mask] / 25.5)).size for p in phantom]
    assert all(v == 1 for v in values)  # one intensity per region


@pytest.mark.skipif(not package_available("stardist"),
                    reason="optional data: pip install --no-deps stardist (its nuclei image is read as data)")
def test_stardist_nuclei():
    samples = load_samples("stardist")
    s = samples[0]
    assert s.image.shape == (128, 128, 3) and 100 < s.mask.sum() < 5000
    assert "nucleus" in s.description


@pytest.mark.skipif(not package_available("imgaug"),
                    reason="optional data: pip install --no-deps imgaug (its quokka photo is read as data)")
def test_imgaug_quokka():
    s = load_samples("imgaug")[0]
    assert s.description == "the quokka" and s.image.shape == (643, 960, 3)
    assert 0.2 < s.mask.mean() < 0.6


def _write_folder(root):
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    img = (rng.random((60, 80, 3)) * 40 + 100).astype(np.uint8)
    img[10:30, 10:40] = (220, 30, 30)
    img[35:55, 50:75] = (30, 30, 220)
    Image.fromarray(img).save(root / "images" / "two.png")
    inst = np.zeros((60, 80), np.uint8)
    inst[10:30, 10:40] = 1
    inst[35:55, 50:75] = 2
    Image.fromarray(inst).save(root / "masks" / "two.png")
    Image.fromarray(img).save(root / "images" / "one.jpg")
    Image.fromarray(((inst == 1) * 255).astype(np.uint8)).save(root / "masks" / "one.png")
    (root / "descriptions.json").write_text(json.dumps({"two#2": "the blue box", "one": "the red box"}))
    return img, inst


def test_user_folder(tmp_path):
    img, inst = _write_folder(tmp_path)
    samples = load_samples(f"folder:{tmp_path}")
    assert samples.ids == ["folder:one", "folder:two#1", "folder:two#2"]
    one, red, blue = list(samples)
    assert one.description == "the red box" and np.array_equal(one.mask, inst == 1)
    assert blue.description == "the blue box" and np.array_equal(blue.mask, inst == 2)
    assert red.description == "the object"
    env = gym.make("palaestra/Segmentation-v0", source=f"folder:{tmp_path}", image_size=(60, 80))
    env.reset(options={"task": "folder:two#2"})
    for _ in range(7):
        *_, term, trunc, info = env.step(env.unwrapped.oracle_action())
        if term or trunc:
            break
    assert info["success"]


def test_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="images"):
        load_samples(f"folder:{tmp_path / 'nope'}")


def test_coco_json_polygons_and_rle(tmp_path):
    from pycocotools import mask as mask_utils

    img = np.zeros((50, 70, 3), np.uint8)
    img[5:25, 5:30] = (200, 200, 0)
    img[30:45, 40:65] = (0, 200, 200)
    Image.fromarray(img).save(tmp_path / "pic.png")
    box = np.zeros((50, 70), np.uint8)
    box[30:45, 40:65] = 1
    rle = mask_utils.encode(np.asfortranarray(box))
    rle["counts"] = rle["counts"].decode()
    coco = {
        "images": [{"id": 1, "file_name": "pic.png", "height": 50, "width": 70}],
        "categories": [{"id": 3, "name": "square"}, {"id": 4, "name": "tile"}],
        "annotations": [
            {"id": 10, "image_id": 1, "category_id": 3, "iscrowd": 0, "area": 500,
             "segmentation": [[5, 5, 29.9, 5, 29.9, 24.9, 5, 24.9]], "bbox": [5, 5, 25, 20]},
            {"id": 11, "image_id": 1, "category_id": 4, "iscrowd": 0, "area": 375, "segmentation": rle,
             "bbox": [40, 30, 25, 15], "caption": "the cyan tile"},
            {"id": 12, "image_id": 1, "category_id": 4, "iscrowd": 1, "area": 375, "segmentation": rle,
             "bbox": [40, 30, 25, 15]},
        ],
    }
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(coco))
    samples = load_samples(f"coco:{path}")
    assert samples.ids == ["coco:10", "coco:11"]  # the crowd annotation is skipped
    square, tile = list(samples)
    assert square.description == "the square" and tile.description == "the cyan tile"
    assert np.array_equal(tile.mask, box.astype(bool))
    assert square.mask[10, 10] and not square.mask[40, 50] and 400 < square.mask.sum() < 600


def test_unknown_source():
    with pytest.raises(ValueError, match="synthetic"):
        load_samples("imagenet")


def test_env_on_package_images_resizes_and_succeeds():
    env = gym.make("palaestra/Segmentation-v0", source="skimage", image_size=(164, 200))
    obs, info = env.reset(options={"task": "skimage:horse-grass"})
    assert obs["image"].shape == (164, 200, 3) and info["task_id"] == "skimage:horse-grass"
    assert env.unwrapped.sample.meta["original_size"] == (328, 400)
    for _ in range(7):
        *_, term, trunc, info = env.step(env.unwrapped.oracle_action())
        if term or trunc:
            break
    assert info["success"]
