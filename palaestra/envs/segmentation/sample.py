"""A segmentation sample, clicks, and the 0-999 coordinate scale shared by all parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCALE = 1000  # text coordinates run 0..SCALE-1 on both axes, as in SegAgent
#: (height, width) the env, ``palaestra seg-eval`` and ``benchmarks/segmentation.py``
#: resize every sample to unless told otherwise (see :func:`working_size`)
DEFAULT_IMAGE_SIZE = (160, 160)


MAX_SIDE = SCALE  # clicks address at most 1000 positions per axis: larger images are scaled down


def working_size(native: tuple[int, int], size=None) -> tuple[int, int]:
    """The one resolution policy of the env, ``seg-eval`` and the benchmark.

    ``size`` (height, width) is used as given (each side 8..1000); ``None`` or
    ``"native"`` keeps the native size, scaled down (aspect kept) so that no side
    exceeds :data:`MAX_SIDE`: a click on the 0-999 scale cannot address more pixels
    than that, and a 4000x4000 image would cost minutes and gigabytes per graph cut.
    """
    h, w = int(native[0]), int(native[1])
    if size is None or size == "native":
        scale = min(1.0, MAX_SIDE / max(h, w))
        return max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    th, tw = (int(v) for v in size)
    if not (8 <= th <= MAX_SIDE and 8 <= tw <= MAX_SIDE):
        raise ValueError(f"size={tuple(size)!r}: both sides must lie in 8..{MAX_SIDE} pixels (or use 'native')")
    return th, tw


def parse_size(text) -> tuple[int, int] | str:
    """``"160x160"`` / ``"160"`` / ``"native"`` (what users type) -> a :func:`working_size` size."""
    if text is None or (isinstance(text, tuple) and len(text) == 2):
        return text if text is not None else DEFAULT_IMAGE_SIZE
    t = str(text).strip().lower()
    if t == "native":
        return "native"
    parts = t.replace("*", "x").split("x")
    try:
        dims = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"size {text!r}: write HEIGHTxWIDTH (e.g. 160x160), one number for a square, or 'native'") from None
    dims = dims * 2 if len(dims) == 1 else dims
    if len(dims) != 2:
        raise ValueError(f"size {text!r}: write HEIGHTxWIDTH (e.g. 160x160), one number for a square, or 'native'")
    return working_size((MAX_SIDE, MAX_SIDE), dims)


def to_uint8(array, what: str = "image") -> np.ndarray:
    """An image array of any depth as uint8, by a fixed rule (never wrapping modulo 256):

    bool -> 0/255; uint8 as is; other integers as is when they lie in 0..255, else
    scaled so the maximum is 255 (16-bit PNGs, 12-bit microscopy); floats in [0, 1]
    times 255, floats in [0, 255] rounded, other floats min-max scaled to 0..255.
    NaN or infinite values are an error.
    """
    a = np.asarray(array)
    if a.dtype == np.uint8:
        return a
    if a.dtype == bool:
        return a.astype(np.uint8) * 255
    if a.size == 0:
        raise ValueError(f"{what} is empty (shape {a.shape})")
    if np.issubdtype(a.dtype, np.integer):
        lo, hi = int(a.min()), int(a.max())
        if lo >= 0 and hi <= 255:
            return a.astype(np.uint8)
        if lo >= 0:
            return np.round(a.astype(np.float64) * (255.0 / hi)).astype(np.uint8)
        return np.round((a.astype(np.float64) - lo) * (255.0 / max(1, hi - lo))).astype(np.uint8)
    if np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ValueError(f"{what} has NaN or infinite values; clean it before loading")
        lo, hi = float(a.min()), float(a.max())
        if lo >= 0 and hi <= 1:
            return np.round(a * 255.0).astype(np.uint8)
        if lo >= 0 and hi <= 255:
            return np.round(a).astype(np.uint8)
        return np.round((a - lo) * (255.0 / max(hi - lo, 1e-12))).astype(np.uint8)
    raise ValueError(f"{what} has dtype {a.dtype}; give numbers (uint8, uint16, float in [0, 1], ...)")


@dataclass
class Sample:
    """An RGB image, the ground-truth mask of one object and a referring description.

    The image may be (H, W), (H, W, 3) or (H, W, 4) of any numeric dtype; it is stored
    as RGB uint8 by :func:`to_uint8` (a uint16 or float [0, 1] image keeps its look).
    """

    id: str
    image: np.ndarray  # (H, W, 3) uint8
    mask: np.ndarray  # (H, W) bool
    description: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        image = np.asarray(self.image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            raise ValueError(f"sample {self.id!r}: the image must be (H, W, 3) RGB, got shape {image.shape}")
        self.image = np.ascontiguousarray(to_uint8(image[..., :3], f"sample {self.id!r}: the image"))
        self.mask = np.asarray(self.mask).astype(bool)
        if self.mask.shape != self.image.shape[:2]:
            raise ValueError(
                f"sample {self.id!r}: mask shape {self.mask.shape} differs from image shape {self.image.shape[:2]}"
            )
        if not self.mask.any():
            raise ValueError(f"sample {self.id!r}: the ground-truth mask is empty")

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[0], self.image.shape[1]

    def resized(self, size: tuple[int, int] | None) -> "Sample":
        """The sample at ``size`` = (height, width) (image area-averaged, mask nearest)."""
        if size is None or tuple(size) == self.size:
            return self
        import cv2

        h, w = int(size[0]), int(size[1])
        interp = cv2.INTER_AREA if h * w < self.image.shape[0] * self.image.shape[1] else cv2.INTER_LINEAR
        image = cv2.resize(self.image, (w, h), interpolation=interp)
        mask = cv2.resize(self.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).astype(bool)
        if not mask.any():  # a tiny object may vanish: keep its best pixel
            soft = cv2.resize(self.mask.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
            mask = soft >= soft.max()
        return Sample(self.id, image, mask, self.description, dict(self.meta, original_size=self.size))


@dataclass(frozen=True)
class Click:
    """A click in pixel coordinates: ``x`` = column (from the left), ``y`` = row (from the top)."""

    x: int
    y: int
    positive: bool


def to_scale(pixel: int, length: int) -> int:
    """Pixel index -> 0..999, such that :func:`to_pixel` maps it back (for length <= 1000)."""
    return min(SCALE - 1, (int(pixel) * SCALE + length - 1) // length)


def to_pixel(value: int, length: int) -> int:
    """0..999 -> pixel index along an axis of ``length`` pixels."""
    return min(length - 1, int(value) * length // SCALE)


def iou(pred: np.ndarray, gt: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    pred = np.asarray(pred, bool)
    gt = np.asarray(gt, bool)
    union = np.logical_or(pred, gt).sum()
    if union == 0:
        return 1.0
    return float(np.logical_and(pred, gt).sum() / union)
