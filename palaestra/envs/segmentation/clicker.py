"""The RITM click simulator (Sofiiuk et al., "Reviving Iterative Training with Mask
Guidance", the protocol behind NoC@85/90).

False-negative and false-positive regions of the current prediction are each
distance-transformed (padded by one pixel so the image border counts as the region's
edge), already clicked pixels are zeroed, and the next click goes to the farthest
pixel of the region with the larger distance: positive when the false negatives win.
"""

from __future__ import annotations

import numpy as np

from .sample import Click


def _edt(region: np.ndarray) -> np.ndarray:
    import cv2

    padded = np.pad(region.astype(np.uint8), 1, mode="constant")
    return cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]


def next_click(gt: np.ndarray, pred: np.ndarray | None, clicks=()) -> Click | None:
    """The RITM oracle's next click for ground truth ``gt`` and prediction ``pred``.

    Returns ``None`` when the prediction is already perfect (no error pixel left that
    has not been clicked).
    """
    gt = np.asarray(gt, bool)
    pred = np.zeros_like(gt) if pred is None else np.asarray(pred, bool)
    not_clicked = np.ones(gt.shape, np.float32)
    for c in clicks:
        not_clicked[c.y, c.x] = 0.0
    fn_dt = _edt(gt & ~pred) * not_clicked
    fp_dt = _edt(~gt & pred) * not_clicked
    fn_max, fp_max = float(fn_dt.max()), float(fp_dt.max())
    if fn_max <= 0 and fp_max <= 0:
        return None
    positive = fn_max > fp_max
    dt = fn_dt if positive else fp_dt
    ys, xs = np.nonzero(dt == (fn_max if positive else fp_max))
    return Click(x=int(xs[0]), y=int(ys[0]), positive=bool(positive))


class RITMClicker:
    """Stateful wrapper: remembers its clicks so that none lands twice on one pixel."""

    def __init__(self, gt: np.ndarray):
        self.gt = np.asarray(gt, bool)
        self.clicks: list[Click] = []

    def __call__(self, pred: np.ndarray | None) -> Click | None:
        click = next_click(self.gt, pred, self.clicks)
        if click is not None:
            self.clicks.append(click)
        return click
