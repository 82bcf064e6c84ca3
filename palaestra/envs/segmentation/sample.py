"""A segmentation sample, clicks, and the 0-999 coordinate scale shared by all parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCALE = 1000  # text coordinates run 0..SCALE-1 on both axes, as in SegAgent


@dataclass
class Sample:
    """An RGB image, the ground-truth mask of one object and a referring description."""

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
        self.image = np.ascontiguousarray(image[..., :3].astype(np.uint8, copy=False))
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
