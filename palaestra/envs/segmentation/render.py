"""Drawing the state: the overlay image (mask in semi-transparent green, clicks marked)
and a coarse text rendering of the mask."""

from __future__ import annotations

import numpy as np

from .sample import SCALE

MASK_RGB = (0, 255, 0)
POSITIVE_RGB = (0, 200, 0)
NEGATIVE_RGB = (230, 0, 0)


def overlay(image: np.ndarray, mask: np.ndarray | None, clicks=(), alpha: float = 0.45) -> np.ndarray:
    """RGB uint8: ``mask`` blended in green, its outline drawn, positive clicks as green
    dots and negative ones as red dots, both ringed in white."""
    import cv2

    out = image.astype(np.float32).copy()
    if mask is not None and mask.any():
        m = mask.astype(bool)
        out[m] = (1 - alpha) * out[m] + alpha * np.asarray(MASK_RGB, np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if mask is not None and mask.any():
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, (255, 255, 255), 1)
    r = max(2, min(image.shape[:2]) // 45)
    for c in clicks:
        colour = POSITIVE_RGB if c.positive else NEGATIVE_RGB
        cv2.circle(out, (int(c.x), int(c.y)), r + 1, (255, 255, 255), thickness=-1)
        cv2.circle(out, (int(c.x), int(c.y)), r, colour, thickness=-1)
    return out


def mask_text(mask: np.ndarray, cells: int = 20, coords: str = "xy") -> str:
    """The mask on a grid of about ``cells`` x ``cells``: '#' mostly inside, '+' partly,
    '.' outside; rows and columns labelled on the 0-999 scale."""
    h, w = mask.shape
    rows = cols = cells
    ys = np.linspace(0, h, rows + 1).astype(int)
    xs = np.linspace(0, w, cols + 1).astype(int)
    lines = []
    step = SCALE // cells
    first, second = ("x", "y") if coords == "xy" else ("column", "row")
    lines.append(f"    each cell is {step}x{step} units; {first} runs left to right, {second} top to bottom")
    starts = [f"{j * step:03d}" for j in range(cols)]
    for d, note in enumerate(("column starts, read top-down: hundreds", "tens", "units")):
        lines.append("    " + "".join(s[d] for s in starts) + f"   <- {note}")
    for i in range(rows):
        row = []
        for j in range(cols):
            block = mask[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)]
            frac = float(block.mean()) if block.size else 0.0
            row.append("#" if frac >= 0.5 else "+" if frac > 0.05 else ".")
        lines.append(f"{i * step:03d} " + "".join(row))
    return "\n".join(lines)

