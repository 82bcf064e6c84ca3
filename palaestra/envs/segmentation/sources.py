"""Where samples come from — all offline.

``load_samples(source, split=..., limit=..., size=...)`` returns a :class:`SampleSet`
(indexable, lazily built). Sources:

- ``"synthetic"``: the seeded scene generator (:mod:`.synthetic`); ``split="train"``
  uses seeds 0.., ``split="test"`` seeds 100000..; ``n`` scenes (default 1000).
- ``"skimage"``: images that ship with scikit-image: the ``horse`` silhouette painted
  on its ``grass``/``brick``/``gravel`` textures, and the regions of the Shepp-Logan
  ``phantom``.
- ``"stardist"``: the nuclei image and instance mask in the ``stardist`` wheel (crops
  around nuclei, "the third nucleus from the left"); optional: ``pip install --no-deps
  stardist`` (only its data files are read, nothing is imported).
- ``"imgaug"``: the quokka photo and its polygon from the ``imgaug`` wheel; optional:
  ``pip install --no-deps imgaug``.
- ``"packages"``: ``skimage`` plus whichever of ``stardist``/``imgaug`` is installed.
- ``"folder:PATH"`` (or a directory path): your own images and masks, see
  :func:`folder_samples`.
- ``"coco:ANNOTATIONS.json"``: COCO-style instances (polygons or RLE, decoded with
  pycocotools), see :func:`coco_samples`.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from .sample import Sample

TEST_SEED_OFFSET = 100_000


class SampleSet:
    """A fixed, ordered list of samples built on demand (and cached)."""

    def __init__(self, name: str, ids: list[str], build: Callable[[int], Sample], size=None):
        self.name = name
        self.ids = list(ids)
        self._build = build
        self.size = None if size is None else (int(size[0]), int(size[1]))
        self._cache = functools.lru_cache(maxsize=64)(self._make)

    def _make(self, i: int) -> Sample:
        return self._build(i).resized(self.size)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> Sample:
        if not 0 <= i < len(self.ids):
            raise IndexError(f"sample {i} out of range 0..{len(self.ids) - 1} of {self.name!r}")
        return self._cache(int(i))

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def index(self, sample_id: str) -> int:
        try:
            return self.ids.index(sample_id)
        except ValueError:
            shown = ", ".join(self.ids[:5]) + (" ..." if len(self.ids) > 5 else "")
            raise KeyError(f"no sample {sample_id!r} in {self.name!r}; ids look like: {shown}") from None

    def __getstate__(self):
        raise TypeError("SampleSet is rebuilt from its source spec, not pickled")


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def package_available(name: str) -> bool:
    """Whether the optional data package ``stardist``/``imgaug`` is installed."""
    try:
        return _package_dir(name) is not None
    except (ImportError, ValueError):
        return False


# ---- synthetic ------------------------------------------------------------------------
def synthetic_samples(split: str = "test", n: int = 1000, size=(160, 160)) -> SampleSet:
    from .synthetic import synthetic_scene

    offset = TEST_SEED_OFFSET if split == "test" else 0
    size = tuple(size or (160, 160))
    ids = [f"synthetic:{offset + i}" for i in range(n)]
    return SampleSet(f"synthetic-{split}", ids, lambda i: synthetic_scene(offset + i, size))


# ---- scikit-image ---------------------------------------------------------------------
def _tinted(tex: np.ndarray, colour, amplitude: float) -> np.ndarray:
    t = tex.astype(np.float32)
    t = (t - t.mean()) / (t.std() + 1e-6)
    return np.asarray(colour, np.float32)[None, None, :] + amplitude * t[..., None]


def _horse(background: str) -> Sample:
    import cv2
    from skimage import data

    horse = ~data.horse()  # the silhouette is False on a white page
    h, w = horse.shape
    bg_colours = {"grass": (80, 140, 60), "brick": (150, 80, 60), "gravel": (140, 140, 130)}
    bg = cv2.resize(getattr(data, background)(), (w, h))
    fur = cv2.resize(data.gravel(), (w, h))[::-1]
    image = _tinted(bg, bg_colours[background], 25)
    body = _tinted(fur, (110, 70, 40), 12)
    image[horse] = body[horse]
    image = np.clip(image, 0, 255).astype(np.uint8)
    return Sample(f"skimage:horse-{background}", image, horse, f"the brown horse on the {background}",
                  {"source": "skimage.data.horse"})


_PHANTOM_WORDS = {0.0: "black", 0.1: "dark grey", 0.2: "grey", 0.3: "mid-grey", 0.4: "light grey", 1.0: "white"}


@functools.lru_cache(maxsize=1)
def _phantom_regions(min_area: int = 400):
    from skimage import data, measure

    phantom = data.shepp_logan_phantom()
    levels = np.round(phantom * 10) / 10
    regions = []
    for value in sorted(set(levels.ravel().tolist())):
        if value == 0.0:
            continue
        labels = measure.label(levels == value, connectivity=1)
        for prop in measure.regionprops(labels):
            if prop.area >= min_area:
                regions.append((value, labels == prop.label, prop.centroid, prop.area))
    regions.sort(key=lambda r: (-r[3], r[2][1]))
    return phantom, regions


def _phantom(k: int) -> Sample:
    from .synthetic import _region

    phantom, regions = _phantom_regions()
    value, mask, (cy, cx), area = regions[k]
    image = np.clip(phantom * 255, 0, 255).astype(np.uint8)
    h, w = mask.shape
    shape = "ring" if value == 1.0 else "ellipse"
    size = "large" if area > 0.05 * h * w else "small"
    same = [r for r in regions if r[0] == value]
    if len(same) == 1:
        text = f"the {size} {_PHANTOM_WORDS[value]} {shape}"
    else:
        text = f"the {size} {_PHANTOM_WORDS[value]} {shape} {_region(cy, cx, h, w)}"
    return Sample(f"skimage:phantom-{k}", image, mask, text, {"source": "skimage.data.shepp_logan_phantom"})


def skimage_samples(size=None) -> SampleSet:
    backgrounds = ["grass", "brick", "gravel"]
    _, regions = _phantom_regions()
    ids = [f"skimage:horse-{b}" for b in backgrounds] + [f"skimage:phantom-{k}" for k in range(len(regions))]

    def build(i):
        return _horse(backgrounds[i]) if i < len(backgrounds) else _phantom(i - len(backgrounds))

    return SampleSet("skimage", ids, build, size)


# ---- stardist / imgaug wheels (optional) ------------------------------------------------
def _need(name: str) -> Path:
    path = _package_dir(name)
    if path is None:
        from palaestra.core import MissingDependency

        raise MissingDependency(f"the '{name}' wheel (its bundled data files)", f"pip install --no-deps {name}")
    return path


ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]


def stardist_samples(n: int = 20, crop: int = 128, size=None) -> SampleSet:
    """Crops of ``crop`` pixels around the ``n`` largest nuclei of stardist's 2-D image."""
    root = _need("stardist") / "data" / "images"

    @functools.lru_cache(maxsize=1)
    def arrays():
        import tifffile
        from skimage import measure

        img = tifffile.imread(root / "img2d.tif").astype(np.float32)
        lab = tifffile.imread(root / "mask2d.tif").astype(np.int32)
        img = np.clip(255 * (img - img.min()) / (np.percentile(img, 99.8) - img.min() + 1e-6), 0, 255)
        props = sorted(measure.regionprops(lab), key=lambda p: (-p.area, p.label))
        return img.astype(np.uint8), lab, props

    def build(i):
        img, lab, props = arrays()
        p = props[i]
        h, w = lab.shape
        cy, cx = (int(v) for v in p.centroid)
        rng = np.random.default_rng(i)
        y0 = int(np.clip(cy - crop // 2 + rng.integers(-crop // 4, crop // 4 + 1), 0, h - crop))
        x0 = int(np.clip(cx - crop // 2 + rng.integers(-crop // 4, crop // 4 + 1), 0, w - crop))
        window = lab[y0 : y0 + crop, x0 : x0 + crop]
        gt = window == p.label
        seen = []
        for label in np.unique(window):
            if label == 0:
                continue
            m = window == label
            if m.sum() >= 0.5 * (lab == label).sum():
                seen.append((float(np.nonzero(m)[1].mean()), int(label)))
        seen.sort()
        k = [lbl for _, lbl in seen].index(p.label) if p.label in [lbl for _, lbl in seen] else 0
        if len(seen) <= 1:
            text = "the nucleus"
        elif k == len(seen) - 1:
            text = "the rightmost nucleus"
        elif k < len(ORDINALS):
            text = f"the {ORDINALS[k]} nucleus from the left"
        else:
            text = f"nucleus number {k + 1} from the left"
        image = img[y0 : y0 + crop, x0 : x0 + crop]
        return Sample(f"stardist:nucleus-{i}", image, gt, text, {"source": "stardist data/images/img2d.tif"})

    return SampleSet("stardist", [f"stardist:nucleus-{i}" for i in range(n)], build, size)


def imgaug_samples(size=None) -> SampleSet:
    """imgaug's quokka photo with the animal's polygon as the mask."""
    root = _need("imgaug")

    def build(i):
        from PIL import Image
        from skimage.draw import polygon

        image = np.asarray(Image.open(root / "quokka.jpg").convert("RGB"))
        ann = json.loads((root / "quokka_annotations.json").read_text())
        pts = ann["polygons"][0]["keypoints"]
        rr, cc = polygon([p["y"] for p in pts], [p["x"] for p in pts], shape=image.shape[:2])
        mask = np.zeros(image.shape[:2], bool)
        mask[rr, cc] = True
        return Sample("imgaug:quokka", image, mask, "the quokka", {"source": "imgaug quokka.jpg"})

    return SampleSet("imgaug", ["imgaug:quokka"], build, size)


def package_samples(size=None) -> SampleSet:
    sets = [skimage_samples(size)]
    if package_available("stardist"):
        sets.append(stardist_samples(size=size))
    if package_available("imgaug"):
        sets.append(imgaug_samples(size=size))
    return concat(sets, "packages")


def concat(sets: list[SampleSet], name: str) -> SampleSet:
    index = [(s, i) for s in sets for i in range(len(s))]
    return SampleSet(name, [s.ids[i] for s, i in index], lambda k: index[k][0][index[k][1]])


# ---- user data ------------------------------------------------------------------------
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def folder_samples(path, size=None) -> SampleSet:
    """Your own images and masks from a folder.

    Layout: ``images/NAME.png`` (or .jpg/...) and ``masks/NAME.png``, or side by side
    ``NAME.jpg`` + ``NAME_mask.png``. A mask's non-zero pixels are the object; a mask
    with several distinct non-zero values is an instance map and gives one sample per
    value (ids ``NAME#VALUE``). Descriptions come from ``descriptions.json``
    (``{"NAME": "the red car", "NAME#2": "..."}``) or ``NAME.txt``; else "the object".
    """
    from PIL import Image

    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"segmentation folder {str(root)!r} does not exist; give a folder with images/ and masks/")
    pairs = []
    images_dir = root / "images" if (root / "images").is_dir() else root
    masks_dir = root / "masks" if (root / "masks").is_dir() else root
    for img in sorted(images_dir.iterdir()):
        if img.suffix.lower() not in IMAGE_EXTS or img.stem.endswith("_mask"):
            continue
        cands = [masks_dir / f"{img.stem}{e}" for e in (".png", ".tif", ".bmp")] if masks_dir != images_dir else []
        cands += [img.with_name(f"{img.stem}_mask.png")]
        mask_path = next((c for c in cands if c.exists() and c != img), None)
        if mask_path is not None:
            pairs.append((img, mask_path))
    if not pairs:
        raise FileNotFoundError(
            f"no image/mask pairs in {str(root)!r}: put images in images/ and masks with the same name in "
            "masks/ (or NAME_mask.png next to NAME.jpg)"
        )
    texts = {}
    if (root / "descriptions.json").exists():
        texts = json.loads((root / "descriptions.json").read_text())
    entries = []
    for img, mask_path in pairs:
        values = np.unique(np.asarray(Image.open(mask_path)))
        values = [int(v) for v in values if v != 0] if values.ndim == 1 else [1]
        if len(values) <= 1 or (len(values) == 1 and values[0] in (1, 255)):
            entries.append((img, mask_path, None, img.stem))
        else:
            entries.extend((img, mask_path, v, f"{img.stem}#{v}") for v in values)

    def build(i):
        img, mask_path, value, key = entries[i]
        image = np.asarray(Image.open(img).convert("RGB"))
        m = np.asarray(Image.open(mask_path))
        if m.ndim == 3:
            m = m[..., :3].max(axis=2)
        mask = (m == value) if value is not None else (m != 0)
        txt = img.with_suffix(".txt")
        text = texts.get(key) or (txt.read_text().strip() if txt.exists() and value is None else "") or "the object"
        return Sample(f"folder:{key}", image, mask, text, {"image_path": str(img), "mask_path": str(mask_path)})

    return SampleSet(f"folder:{root}", [f"folder:{e[3]}" for e in entries], build, size)


def coco_samples(annotations, images_dir=None, min_area: int = 100, size=None) -> SampleSet:
    """Instances from a COCO-style annotation file (polygons or RLE via pycocotools).

    Images are looked up as ``images_dir/file_name`` (default: the JSON's folder, then
    its ``images/`` subfolder). Crowd annotations and instances under ``min_area``
    pixels are skipped. The description is the category name ("the dog"), or the
    annotation's own ``"caption"``/``"description"`` field when present.
    """
    from pycocotools.coco import COCO

    path = Path(annotations).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"COCO annotation file {str(path)!r} does not exist")
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(path))
    roots = [Path(images_dir)] if images_dir else [path.parent, path.parent / "images"]
    anns = [a for a in sorted(coco.dataset.get("annotations", []), key=lambda a: a["id"])
            if not a.get("iscrowd", 0) and a.get("area", min_area) >= min_area]

    def build(i):
        from PIL import Image

        ann = anns[i]
        info = coco.imgs[ann["image_id"]]
        file = next((r / info["file_name"] for r in roots if (r / info["file_name"]).exists()), None)
        if file is None:
            raise FileNotFoundError(f"image {info['file_name']!r} not found under {[str(r) for r in roots]}")
        image = np.asarray(Image.open(file).convert("RGB"))
        mask = coco.annToMask(ann).astype(bool)
        text = ann.get("caption") or ann.get("description") or f"the {coco.cats[ann['category_id']]['name']}"
        return Sample(f"coco:{ann['id']}", image, mask, text, {"image_id": ann["image_id"], "file": str(file)})

    return SampleSet(f"coco:{path}", [f"coco:{a['id']}" for a in anns], build, size)


# ---- one entry point -------------------------------------------------------------------
def load_samples(source: str = "synthetic", split: str = "test", limit: int | None = None, size=None,
                 **options) -> SampleSet:
    """A :class:`SampleSet` from a source spec (see the module docstring)."""
    if source == "synthetic":
        n = int(options.pop("n", 1000))
        s = synthetic_samples(split, n if limit is None else min(n, limit), size or (160, 160))
    elif source == "skimage":
        s = skimage_samples(size)
    elif source == "stardist":
        s = stardist_samples(size=size, **options)
    elif source == "imgaug":
        s = imgaug_samples(size)
    elif source == "packages":
        s = package_samples(size)
    elif source.startswith("coco:"):
        s = coco_samples(source[5:], size=size, **options)
    elif source.startswith("folder:") or os.path.isdir(source):
        s = folder_samples(source[7:] if source.startswith("folder:") else source, size)
    else:
        raise ValueError(
            f"unknown sample source {source!r}; use 'synthetic', 'skimage', 'stardist', 'imgaug', "
            "'packages', 'folder:PATH' or 'coco:ANNOTATIONS.json'"
        )
    if limit is not None and len(s) > limit:
        s = SampleSet(s.name, s.ids[:limit], s._build, s.size)
    return s
