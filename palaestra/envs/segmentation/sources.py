"""Where samples come from — all offline.

``load_samples(source, split=..., limit=..., size=...)`` returns a :class:`SampleSet`
(indexable, lazily built). Sources:

- ``"synthetic"``: the seeded scene generator (:mod:`.synthetic`); ``split="train"``
  uses seeds 0.., ``split="test"`` seeds 100000..; ``n`` scenes (default 1000).
- ``"synthetic-hard"``: the hard scenes (thin curves, objects with holes, touching
  objects of similar colour, low contrast; :func:`.synthetic.hard_scene`), same seeds.
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

from .sample import DEFAULT_IMAGE_SIZE, Sample, to_uint8, working_size

TEST_SEED_OFFSET = 100_000


class SampleSourceError(ValueError):
    """A folder or annotation file has bad items; ``problems`` lists them all by name."""

    def __init__(self, where: str, problems: list[str], total: int, hint: str):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:200])
        more = f"\n  ... and {len(self.problems) - 200} more" if len(self.problems) > 200 else ""
        super().__init__(f"{len(self.problems)} of {total} items in {where} are unusable:\n{shown}{more}\n{hint}")


class SampleSet:
    """A fixed, ordered list of samples built on demand (and cached)."""

    def __init__(self, name: str, ids: list[str], build: Callable[[int], Sample], size=None):
        self.name = name
        self.ids = list(ids)
        self._build = build
        self.size = None if size is None or size == "native" else (int(size[0]), int(size[1]))
        self._cache = functools.lru_cache(maxsize=64)(self._make)

    def _make(self, i: int) -> Sample:
        sample = self._build(i)
        return sample.resized(working_size(sample.size, self.size))

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


def hard_samples(split: str = "test", n: int = 1000, size=(160, 160)) -> SampleSet:
    from .synthetic import hard_scene

    offset = TEST_SEED_OFFSET if split == "test" else 0
    size = tuple(size or (160, 160))
    ids = [f"synthetic-hard:{offset + i}" for i in range(n)]
    return SampleSet(f"synthetic-hard-{split}", ids, lambda i: hard_scene(offset + i, size))


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
LOSSY_EXTS = (".jpg", ".jpeg")
MAX_FILE_PIXELS = 50_000_000  # a bigger image file is refused before it is decoded


def read_image(path) -> np.ndarray:
    """An image file as RGB uint8, whatever its depth: 16-bit and float files are scaled
    by :func:`~.sample.to_uint8` (a 16-bit PNG is not clipped to 255), palettes and
    alpha converted."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if w * h > MAX_FILE_PIXELS:
            raise ValueError(f"{w}x{h} pixels is more than {MAX_FILE_PIXELS:,}; scale the file down first")
        if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
            return to_uint8(np.asarray(im), "the image")
        return np.asarray(im.convert("RGB"))


def read_mask_values(path) -> np.ndarray:
    """A mask file as an integer label array (palette indices kept; RGB colours packed)."""
    from PIL import Image

    with Image.open(path) as im:
        w, h = im.size
        if w * h > MAX_FILE_PIXELS:
            raise ValueError(f"{w}x{h} pixels is more than {MAX_FILE_PIXELS:,}; scale the file down first")
        if im.mode in ("RGBA", "LA", "PA"):
            im = im.convert("RGB" if im.mode == "RGBA" else "L")
        if im.mode == "CMYK" or im.mode == "YCbCr":
            im = im.convert("RGB")
        m = np.asarray(im)
    if m.ndim == 3:
        m = m[..., :3].astype(np.int64)
        m = (m[..., 0] << 16) | (m[..., 1] << 8) | m[..., 2]
    if m.dtype == bool:
        return m.astype(np.uint8)
    if np.issubdtype(m.dtype, np.floating):
        if not np.isfinite(m).all():
            raise ValueError("the mask has NaN or infinite values")
        return (m > 0.5 * float(m.max())).astype(np.uint8) if m.max() > 0 else m.astype(np.uint8)
    return m


def _solid_values(m: np.ndarray, min_interior: int = 4) -> list[int]:
    """Non-zero values that form solid regions (pixels whose 4 neighbours share the value),
    not just thin bands: anti-aliased edges and lossy-compression noise have none."""
    c = m[1:-1, 1:-1]
    interior = (c == m[:-2, 1:-1]) & (c == m[2:, 1:-1]) & (c == m[1:-1, :-2]) & (c == m[1:-1, 2:])
    values, counts = np.unique(m, return_counts=True)
    inner_vals, inner_counts = np.unique(c[interior], return_counts=True)
    inner = dict(zip(inner_vals.tolist(), inner_counts.tolist()))
    out = []
    for v, n in zip(values.tolist(), counts.tolist()):
        k = inner.get(v, 0)
        if v != 0 and k >= min(min_interior, n) and k >= 0.1 * n:
            out.append(int(v))
    return out


def interpret_mask(m: np.ndarray, lossy: bool = False, mode: str = "auto"):
    """How a mask array reads: ``("binary", threshold)`` or ``("instances", values)``.

    ``mode="binary"``: pixels above half the maximum are the object; ``"instances"``:
    every non-zero value is one object; ``"auto"``: JPEG masks are binary (lossy
    compression invents values); otherwise values that form solid regions are
    counted: one such value (or several within 10% of the maximum, as a blurred
    0/255 mask has) is a binary mask whose anti-aliased edge is cut at half the maximum;
    several distinct ones are an instance map. Raises ``ValueError`` saying why a mask is unusable.
    """
    if m.size == 0 or not (m != 0).any():
        raise ValueError("the mask is empty (no non-zero pixel)")
    top = int(m.max())
    if mode == "binary" or (mode == "auto" and lossy):
        return ("binary", top / 2.0 if top > 1 else 0.5)
    if mode == "instances":
        return ("instances", [int(v) for v in np.unique(m) if v != 0])
    solid = _solid_values(m)
    if not solid:
        raise ValueError("no value of the mask forms a solid region (only thin lines or noise); "
                         "masks are 0 = background, non-zero = object")
    if len(solid) == 1 or min(solid) >= 0.9 * top > 1:  # one value (or a near-white plateau): binary
        return ("binary", top / 2.0 if top > 1 else 0.5)
    stray = [int(v) for v in np.unique(m) if v != 0 and v not in solid]
    if stray:
        frac = float(np.isin(m, stray).sum()) / float((m != 0).sum())
        raise ValueError(
            f"the mask looks like an instance map with values {solid[:8]}{' ...' if len(solid) > 8 else ''} but "
            f"{len(stray)} other values ({100 * frac:.1f}% of its pixels) form no region: anti-aliased or lossy "
            "edges? Save instance maps as PNG without smoothing, or pass source_options={'mask_mode': 'binary'}"
        )
    return ("instances", solid)


def folder_samples(path, size=None, mask_mode: str = "auto", unlabelled: str = "error") -> SampleSet:
    """Your own images and masks from a folder.

    Layout: ``images/NAME.png`` (or .jpg/...) and ``masks/NAME.png``, or side by side
    ``NAME.jpg`` + ``NAME_mask.png``. A mask's non-zero pixels are the object; a mask
    with several values that each form solid regions is an instance map and gives one
    sample per value (ids ``NAME#VALUE``); an anti-aliased binary mask (0/255 with grey
    edges) is cut at half its value, and JPEG masks are always binary (see
    :func:`interpret_mask`; ``mask_mode`` "binary"/"instances" forces a reading).
    Images of any depth load by :func:`read_image`. Descriptions come from
    ``descriptions.json`` (``{"NAME": "the red car", "NAME#2": "..."}``) or ``NAME.txt``;
    else "the object".

    The whole folder is checked before anything is returned: unreadable files, a mask
    whose size differs from its image, empty or unreadable masks, and images without a
    mask (``unlabelled="skip"`` skips those, with a warning) are reported together, by
    name, in one :class:`SampleSourceError`.
    """
    if mask_mode not in ("auto", "binary", "instances"):
        raise ValueError(f"mask_mode={mask_mode!r}: use 'auto', 'binary' or 'instances'")
    if unlabelled not in ("error", "skip"):
        raise ValueError(f"unlabelled={unlabelled!r}: use 'error' (report images without a mask) or 'skip'")
    from PIL import Image

    root = Path(path).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"segmentation folder {str(root)!r} does not exist; give a folder with images/ and masks/")
    images_dir = root / "images" if (root / "images").is_dir() else root
    masks_dir = root / "masks" if (root / "masks").is_dir() else root
    texts = {}
    problems: list[str] = []
    if (root / "descriptions.json").exists():
        try:
            texts = json.loads((root / "descriptions.json").read_text(encoding="utf-8"))
            if not isinstance(texts, dict):
                raise ValueError("it is not a JSON object")
        except (ValueError, UnicodeDecodeError) as err:
            problems.append(f"descriptions.json: unreadable ({err}); write {{\"NAME\": \"the red car\"}}")
            texts = {}
    pairs, no_mask = [], []
    images = [p for p in sorted(images_dir.iterdir()) if p.suffix.lower() in IMAGE_EXTS and not p.stem.endswith("_mask")]
    for img in images:
        cands = [masks_dir / f"{img.stem}{e}" for e in (".png", ".tif", ".tiff", ".bmp", ".jpg", ".jpeg")] \
            if masks_dir != images_dir else []
        cands += [img.with_name(f"{img.stem}_mask.png")]
        mask_path = next((c for c in cands if c.exists() and c != img), None)
        if mask_path is None:
            no_mask.append(img)
        else:
            pairs.append((img, mask_path))
    if not pairs and not no_mask:
        raise FileNotFoundError(
            f"no images in {str(root)!r}: put images ({', '.join(IMAGE_EXTS)}) in images/ and masks with the same "
            "name in masks/ (or NAME_mask.png next to NAME.jpg)"
        )
    if no_mask and unlabelled == "error":
        problems += [f"{img.name}: no mask (looked for masks/{img.stem}.png and {img.stem}_mask.png)" for img in no_mask]
    elif no_mask:
        import warnings

        warnings.warn(f"{len(no_mask)} images in {root} have no mask and are skipped: "
                      + ", ".join(i.name for i in no_mask[:20]) + (" ..." if len(no_mask) > 20 else ""), stacklevel=2)
    entries = []
    for img, mask_path in pairs:
        try:
            with Image.open(img) as im:
                w, h = im.size
                if w * h > MAX_FILE_PIXELS:
                    raise ValueError(f"{w}x{h} pixels is more than {MAX_FILE_PIXELS:,}; scale it down first")
                im.load()  # a truncated or corrupt file fails here, not at reset
        except Exception as err:  # noqa: BLE001 - PIL raises many types for bad files
            problems.append(f"{img.name}: unreadable image ({type(err).__name__}: {err})")
            continue
        try:
            m = read_mask_values(mask_path)
        except Exception as err:  # noqa: BLE001
            problems.append(f"{img.name}: unreadable mask {mask_path.name} ({type(err).__name__}: {err})")
            continue
        if m.shape[:2] != (h, w):
            problems.append(f"{img.name}: mask {mask_path.name} is {m.shape[1]}x{m.shape[0]} but the image is {w}x{h} "
                            "(width x height); masks must match their image pixel for pixel")
            continue
        try:
            kind, arg = interpret_mask(m, lossy=mask_path.suffix.lower() in LOSSY_EXTS, mode=mask_mode)
        except ValueError as err:
            problems.append(f"{img.name}: mask {mask_path.name}: {err}")
            continue
        if kind == "binary":
            entries.append((img, mask_path, ("binary", arg), img.stem))
        else:
            entries.extend((img, mask_path, ("value", v), f"{img.stem}#{v}") for v in arg)
    if problems:
        raise SampleSourceError(
            str(root), problems, len(images),
            "Fix or remove these files (or pass source_options={'unlabelled': 'skip'} to skip images without a "
            "mask), then run again.",
        )

    def build(i):
        img, mask_path, (how, arg), key = entries[i]
        image = read_image(img)
        m = read_mask_values(mask_path)
        mask = (m > arg) if how == "binary" else (m == arg)
        txt = img.with_suffix(".txt")
        text = texts.get(key) or (txt.read_text().strip() if txt.exists() and how == "binary" else "") or "the object"
        return Sample(f"folder:{key}", image, mask, str(text)[:500],
                      {"image_path": str(img), "mask_path": str(mask_path)})

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
    problems = []
    sizes = {}
    for img_id in sorted({a["image_id"] for a in anns}):
        info = coco.imgs.get(img_id)
        if info is None:
            problems.append(f"image id {img_id}: annotated but not listed under 'images'")
            continue
        file = next((r / info["file_name"] for r in roots if (r / info["file_name"]).exists()), None)
        if file is None:
            problems.append(f"{info['file_name']}: not found under {[str(r) for r in roots]}")
            continue
        try:
            from PIL import Image

            with Image.open(file) as im:
                sizes[img_id] = im.size
        except Exception as err:  # noqa: BLE001
            problems.append(f"{info['file_name']}: unreadable image ({type(err).__name__}: {err})")
            continue
        if (info.get("width"), info.get("height")) != sizes[img_id]:
            problems.append(f"{info['file_name']}: the file is {sizes[img_id][0]}x{sizes[img_id][1]} but the JSON says "
                            f"{info.get('width')}x{info.get('height')}")
    for a in anns:
        if a["image_id"] not in sizes:
            continue
        try:
            if not coco.annToMask(a).any():
                problems.append(f"annotation {a['id']}: its segmentation covers no pixel")
        except Exception as err:  # noqa: BLE001 - malformed polygons or RLE
            problems.append(f"annotation {a['id']}: unreadable segmentation ({type(err).__name__}: {err})")
    if problems:
        raise SampleSourceError(str(path), problems, len(anns), "Fix the annotation file or the image folder "
                                "(images_dir=...), then run again.")

    def build(i):

        ann = anns[i]
        info = coco.imgs[ann["image_id"]]
        file = next((r / info["file_name"] for r in roots if (r / info["file_name"]).exists()), None)
        if file is None:
            raise FileNotFoundError(f"image {info['file_name']!r} not found under {[str(r) for r in roots]}")
        image = read_image(file)
        mask = coco.annToMask(ann).astype(bool)
        text = ann.get("caption") or ann.get("description") or f"the {coco.cats[ann['category_id']]['name']}"
        return Sample(f"coco:{ann['id']}", image, mask, text, {"image_id": ann["image_id"], "file": str(file)})

    return SampleSet(f"coco:{path}", [f"coco:{a['id']}" for a in anns], build, size)


# ---- one entry point -------------------------------------------------------------------
def load_samples(source: str = "synthetic", split: str = "test", limit: int | None = None, size=None,
                 **options) -> SampleSet:
    """A :class:`SampleSet` from a source spec (see the module docstring)."""
    drawn = DEFAULT_IMAGE_SIZE if size is None or size == "native" else size  # generated at this size
    if source == "synthetic":
        n = int(options.pop("n", 1000))
        s = synthetic_samples(split, n if limit is None else min(n, limit), drawn)
    elif source == "synthetic-hard":
        n = int(options.pop("n", 1000))
        s = hard_samples(split, n if limit is None else min(n, limit), drawn)
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
        s = folder_samples(source[7:] if source.startswith("folder:") else source, size, **options)
    else:
        raise ValueError(
            f"unknown sample source {source!r}; use 'synthetic', 'synthetic-hard', 'skimage', 'stardist', 'imgaug', "
            "'packages', 'folder:PATH' or 'coco:ANNOTATIONS.json'"
        )
    if limit is not None and len(s) > limit:
        s = SampleSet(s.name, s.ids[:limit], s._build, s.size)
    return s
