"""Interactive segmentation back-ends: all clicks so far (+ the previous mask) -> a mask.

Every back-end has ``name`` and ``segment(image, clicks, previous_mask) -> mask``
(``image`` (H, W, 3) uint8 RGB, ``clicks`` a sequence of :class:`Click` in pixels,
``previous_mask`` (H, W) bool or ``None``; returns (H, W) bool). They are
deterministic: the same inputs give the same mask.

- ``graphcut``: Boykov-Jolly graph cut (PyMaxflow) on colour histograms seeded by the
  clicks and the previous mask, contrast-sensitive 8-connected smoothness, click disks
  as hard constraints. The default: best NoC and fastest on the synthetic set.
- ``grabcut``: OpenCV GrabCut initialised from the clicks and the previous mask.
- ``watershed``: scikit-image marker watershed on the colour gradient.
- ``sam``: Segment Anything through ``transformers`` (see :mod:`.sam`).
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from .sample import Click


@runtime_checkable
class Backend(Protocol):
    name: str

    def segment(self, image: np.ndarray, clicks: Sequence[Click], previous_mask: np.ndarray | None) -> np.ndarray: ...


def click_disks(shape, clicks: Sequence[Click], radius: int, positive: bool) -> np.ndarray:
    """Boolean map of disks of ``radius`` pixels around the clicks of one sign."""
    import cv2

    out = np.zeros(shape, np.uint8)
    for c in clicks:
        if c.positive == positive:
            cv2.circle(out, (int(c.x), int(c.y)), int(radius), 1, thickness=-1)
    return out.astype(bool)


def seed_maps(shape, clicks: Sequence[Click], radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(positive, negative) click disks; where disks of both signs overlap, each pixel goes
    to the sign of its nearest click, and every clicked pixel keeps its own sign."""
    pos = click_disks(shape, clicks, radius, True)
    neg = click_disks(shape, clicks, radius, False)
    both = pos & neg
    if both.any():
        nearer = _nearer_positive(shape, clicks)
        pos &= ~both | nearer
        neg &= ~both | ~nearer
    for c in clicks:
        pos[c.y, c.x], neg[c.y, c.x] = c.positive, not c.positive
    return pos, neg


def keep_clicked_components(mask: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
    """Only the connected parts of ``mask`` that hold a positive click."""
    import cv2

    if not mask.any():
        return mask
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = {int(labels[c.y, c.x]) for c in clicks if c.positive} - {0}
    if not keep:
        return np.zeros_like(mask)
    return np.isin(labels, list(keep))


def _nearer_positive(shape, clicks: Sequence[Click]) -> np.ndarray:
    """Pixels whose nearest click is positive (all pixels when no click is negative)."""
    import cv2

    def dist(positive):
        seeds = np.ones(shape, np.uint8)
        for c in clicks:
            if c.positive == positive:
                seeds[c.y, c.x] = 0
        if seeds.all():
            return np.full(shape, np.inf, np.float32)
        return cv2.distanceTransform(seeds, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)

    return dist(True) <= dist(False)


MAX_SIDE = 1000  # as the env's 0-999 click scale; larger images cost minutes and gigabytes per cut


def check_inputs(image, clicks) -> tuple[np.ndarray, list[Click]]:
    """The image as (H, W, 3) uint8 of at most ``MAX_SIDE`` a side and the clicks inside
    it, or a ``ValueError`` that says what to change (checked before any work)."""
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"segment() needs an (H, W, 3) uint8 RGB image, got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    if max(h, w) > MAX_SIDE or min(h, w) < 2:
        raise ValueError(f"image is {w}x{h}: back-ends take 2..{MAX_SIDE} pixels a side (a 4000x4000 graph cut takes "
                         "minutes and gigabytes); resize it first, e.g. load_samples(..., size='native') or "
                         "Sample.resized(working_size(sample.size))")
    clicks = list(clicks)
    for c in clicks:
        if not (0 <= c.x < w and 0 <= c.y < h):
            raise ValueError(f"click {c} lies outside the {w}x{h} image")
    return image, clicks


def _radius(shape, fraction: float, minimum: int = 2) -> int:
    return max(minimum, int(round(fraction * min(shape[:2]))))


class GraphCutBackend:
    """Boykov-Jolly interactive graph cut on PyMaxflow.

    Unary terms: negative log-likelihoods of smoothed colour histograms (foreground from
    disks around positive clicks and the previous mask, background from negative clicks
    and the rest of the image), plus a prior that grows with the distance to the nearest
    positive click relative to the object's current size. Pairwise: ``smoothness * exp(-beta |I_p - I_q|^2) / dist(p, q)``
    on the 8-neighbourhood. Click disks are hard constraints. As in GrabCut, the colour
    models are re-estimated from the cut and the cut repeated (``iterations`` times).
    """

    name = "graphcut"

    def __init__(
        self,
        bins: int = 24,
        smoothness: float = 8.0,
        click_radius: float = 0.02,
        sample_radius: float = 0.05,
        distance_weight: float = 1.0,
        distance_free: float = 1.5,
        consistency: float = 0.3,
        iterations: int = 2,
        blur: float = 1.0,
        keep_connected: bool = True,
    ):
        self.bins = int(bins)
        self.smoothness = float(smoothness)
        self.click_radius = float(click_radius)
        self.sample_radius = float(sample_radius)
        self.distance_weight = float(distance_weight)
        self.distance_free = float(distance_free)
        self.consistency = float(consistency)
        self.iterations = max(1, int(iterations))
        self.blur = float(blur)
        self.keep_connected = bool(keep_connected)

    def _hist(self, idx: np.ndarray, where: np.ndarray) -> np.ndarray:
        from scipy.ndimage import gaussian_filter

        b = self.bins
        h = np.bincount(idx[where], minlength=b**3).astype(np.float64).reshape(b, b, b)
        h = gaussian_filter(h, 0.7, mode="constant")
        total = h.sum()
        return (h / total).ravel() if total > 0 else np.full(b**3, 1.0 / b**3)

    def _pairwise(self, img: np.ndarray):
        import cv2

        h, w = img.shape[:2]
        f = img.astype(np.float32)
        if self.blur > 0:
            f = cv2.GaussianBlur(f, (0, 0), self.blur)
        diffs = []
        for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
            d = np.zeros((h, w), np.float32)
            ys, ys2 = slice(0, h - dy), slice(dy, h)
            xs, xs2 = slice(max(0, -dx), w - max(0, dx)), slice(max(0, dx), w - max(0, -dx))
            d[ys, xs] = np.sum((f[ys, xs] - f[ys2, xs2]) ** 2, axis=2)
            diffs.append((dy, dx, d))
        beta = 1.0 / (2.0 * (np.mean([d.mean() for *_, d in diffs]) + 1e-6))
        edges = []
        for dy, dx, d in diffs:
            structure = np.zeros((3, 3))
            structure[1 + dy, 1 + dx] = 1
            edges.append((structure, self.smoothness * np.exp(-beta * d) / np.hypot(dy, dx)))
        return edges

    def _cut(self, edges, d_fg, d_bg, pos, neg) -> np.ndarray:
        import maxflow

        g = maxflow.Graph[float]()
        nodes = g.add_grid_nodes(d_fg.shape)
        for structure, weight in edges:
            g.add_grid_edges(nodes, weights=weight, structure=structure, symmetric=True)
        big = 1e9
        source = np.where(neg, 0.0, np.where(pos, big, d_bg))  # source side = foreground
        sink = np.where(pos, 0.0, np.where(neg, big, d_fg))
        g.add_grid_tedges(nodes, source, sink)
        g.maxflow()
        return ~g.get_grid_segments(nodes)

    def segment(self, image, clicks, previous_mask=None):
        import cv2

        image, clicks = check_inputs(image, clicks)
        h, w = image.shape[:2]
        if not any(c.positive for c in clicks):
            return np.zeros((h, w), bool)
        img = np.ascontiguousarray(image.astype(np.uint8))
        b = self.bins
        q = (img.astype(np.int32) * b) // 256
        idx = (q[..., 0] * b + q[..., 1]) * b + q[..., 2]
        pos, neg = seed_maps((h, w), clicks, _radius((h, w), self.click_radius))
        near = click_disks((h, w), clicks, _radius((h, w), self.sample_radius), True) & _nearer_positive((h, w), clicks)
        prev = None if previous_mask is None else np.asarray(previous_mask, bool)
        has_prev = prev is not None and prev.any()

        # priors that do not change between iterations
        seeds = np.ones((h, w), np.uint8)
        for c in clicks:
            if c.positive:
                seeds[c.y, c.x] = 0
        dist = cv2.distanceTransform(seeds, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        keep_fg = np.zeros((h, w), np.float64)
        keep_bg = np.zeros((h, w), np.float64)
        if has_prev and self.consistency > 0:
            keep_fg = self.consistency * (~prev)
            keep_bg = self.consistency * prev
        edges = self._pairwise(img)
        eps = 1.0 / (b**3 * 50)

        fg_region = prev if has_prev else near
        mask = None
        for _ in range(self.iterations):
            fg = 0.5 * self._hist(idx, pos | near) + 0.5 * self._hist(idx, fg_region)
            bg = self._hist(idx, ~(pos | fg_region))
            if neg.any():
                bg = 0.5 * bg + 0.5 * self._hist(idx, neg)
            # distance prior relative to the object's apparent size (its current mask):
            # far beyond it, foreground costs more
            if fg_region is not near and fg_region.any():
                scale = max(np.sqrt(float(fg_region.sum()) / np.pi), 2.0)
            else:  # no mask yet: the object's size is unknown, a quarter of the diagonal
                scale = float(np.hypot(h, w)) / 4.0
            prior = self.distance_weight * np.maximum(dist / scale - self.distance_free, 0.0)
            d_fg = -np.log(fg[idx] + eps) + prior + keep_fg
            d_bg = -np.log(bg[idx] + eps) + keep_bg
            mask = self._cut(edges, d_fg, d_bg, pos, neg)
            if self.keep_connected:
                mask = keep_clicked_components(mask, clicks)
            if not mask.any() or (fg_region is not None and np.array_equal(mask, fg_region)):
                break
            fg_region = mask
        return mask


class GrabCutBackend:
    """OpenCV GrabCut: positive/negative click disks are sure foreground/background,
    the previous mask (or a disk around the first positive click) probable foreground."""

    name = "grabcut"

    def __init__(self, iterations: int = 3, click_radius: float = 0.02, seed_radius: float = 0.08,
                 keep_connected: bool = True):
        self.iterations = int(iterations)
        self.click_radius = float(click_radius)
        self.seed_radius = float(seed_radius)
        self.keep_connected = bool(keep_connected)

    def segment(self, image, clicks, previous_mask=None):
        import cv2

        image, clicks = check_inputs(image, clicks)
        h, w = image.shape[:2]
        if not any(c.positive for c in clicks):
            return np.zeros((h, w), bool)
        r = _radius((h, w), self.click_radius)
        mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        prev = None if previous_mask is None else np.asarray(previous_mask, bool)
        if prev is not None and prev.any():
            # the previous mask stays probable foreground where a positive click is nearer
            # than any negative one: a negative click carves out its whole neighbourhood
            mask[prev & _nearer_positive((h, w), clicks)] = cv2.GC_PR_FGD
        mask[click_disks((h, w), clicks, _radius((h, w), self.seed_radius), True)] = cv2.GC_PR_FGD
        pos, neg = seed_maps((h, w), clicks, r)
        mask[pos] = cv2.GC_FGD
        mask[neg] = cv2.GC_BGD
        if not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
            mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = cv2.GC_PR_BGD
        bgd = np.zeros((1, 65), np.float64)
        fgd = np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)
        bgr = np.ascontiguousarray(image[..., ::-1])
        cv2.grabCut(bgr, mask, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        out = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
        if self.keep_connected:
            out = keep_clicked_components(out, clicks)
        return out


class WatershedBackend:
    """scikit-image marker watershed on the Sobel gradient of the colour image: positive
    click disks flood the object, negative ones and the image border the background."""

    name = "watershed"

    def __init__(self, click_radius: float = 0.02, border_is_background: bool = True, compactness: float = 0.0):
        self.click_radius = float(click_radius)
        self.border_is_background = bool(border_is_background)
        self.compactness = float(compactness)

    def segment(self, image, clicks, previous_mask=None):
        from skimage.filters import sobel
        from skimage.segmentation import watershed

        image, clicks = check_inputs(image, clicks)
        h, w = image.shape[:2]
        if not any(c.positive for c in clicks):
            return np.zeros((h, w), bool)
        f = image.astype(np.float32) / 255.0
        gradient = np.sqrt(sum(sobel(f[..., k]) ** 2 for k in range(3)))
        markers = np.zeros((h, w), np.int32)
        if self.border_is_background:
            markers[0, :] = markers[-1, :] = markers[:, 0] = markers[:, -1] = 1
        r = _radius((h, w), self.click_radius, minimum=1)
        pos, neg = seed_maps((h, w), clicks, r)
        markers[neg] = 1
        markers[pos] = 2
        labels = watershed(gradient, markers, compactness=self.compactness)
        return labels == 2


class LocalRefinement:
    """Wraps a back-end so that a click corrects the mask where it was made and nowhere else.

    The first click (or any click on an empty mask) gets the back-end's mask as is.
    Later, the back-end's new mask is taken only inside a focus disk around the newest
    click, and only in its own direction: a positive click can only add pixels, a
    negative click only remove them; of those changes, only the parts connected to the
    click are kept, and outside them the previous mask stays. The focus radius is
    ``focus`` times the click's distance to the previous mask's edge (how deep the
    click sits in the error it corrects), at least ``min_radius`` of the shorter side,
    and one click changes at most ``growth`` times the previous mask's area (the changed
    pixels nearest the click are kept), so a flood into the background stays bounded.
    This is the "refine locally around the new click" idea of FocusCut (Lin et al., CVPR
    2022) reduced to a mask rule: it keeps a correct click from wrecking a good mask
    (graph cut on phantom-1: a negative click took IoU 0.996 -> 0.442 without it).
    """

    def __init__(self, backend, focus: float = 2.0, min_radius: float = 0.02, growth: float = 1.0):
        self.growth = float(growth)
        self.inner = backend
        self.name = getattr(backend, "name", type(backend).__name__)
        self.focus = float(focus)
        self.min_radius = float(min_radius)
        if not (self.focus > 0 and 0 < self.min_radius <= 1 and self.growth > 0):
            raise ValueError(f"focus={focus!r} and growth={growth!r} must be > 0, min_radius={min_radius!r} in (0, 1]")

    def __getattr__(self, name):  # options of the wrapped back-end (e.g. .model for SAM)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def segment(self, image, clicks, previous_mask=None):
        import cv2

        clicks = list(clicks)
        new = np.asarray(self.inner.segment(image, clicks, previous_mask), bool)
        prev = None if previous_mask is None else np.asarray(previous_mask, bool)
        if prev is None or not prev.any() or len(clicks) < 2 or prev.shape != new.shape:
            return new
        c = clicks[-1]
        h, w = prev.shape
        if prev[c.y, c.x] == c.positive:  # a click the mask already agrees with: nothing to correct
            return prev.copy()
        region = ~prev if c.positive else prev  # the side of the edge the click sits on
        depth = float(cv2.distanceTransform(np.pad(region.astype(np.uint8), 1), cv2.DIST_L2, 3)[c.y + 1, c.x + 1])
        radius = max(self.min_radius * min(h, w), self.focus * depth)
        window = np.zeros((h, w), np.uint8)
        cv2.circle(window, (int(c.x), int(c.y)), int(np.ceil(radius)), 1, thickness=-1)
        window = window.astype(bool)
        change = window & (new & ~prev if c.positive else prev & ~new)
        change[c.y, c.x] = True
        budget = max(self.growth * float(prev.sum()), np.pi * (self.min_radius * min(h, w)) ** 2)
        if change.sum() > budget:  # keep the changed pixels nearest the click
            ys, xs = np.nonzero(change)
            d2 = (ys - c.y) ** 2 + (xs - c.x) ** 2
            cut = np.partition(d2, int(budget) - 1)[int(budget) - 1]
            change &= False
            change[ys[d2 <= cut], xs[d2 <= cut]] = True
        n, labels = cv2.connectedComponents(change.astype(np.uint8), connectivity=8)
        change = labels == labels[c.y, c.x]
        out = prev | change if c.positive else prev & ~change
        for k in clicks:  # every click keeps its sign
            out[k.y, k.x] = k.positive
        return out


BACKENDS = {
    "graphcut": "palaestra.envs.segmentation.backends:GraphCutBackend",
    "grabcut": "palaestra.envs.segmentation.backends:GrabCutBackend",
    "watershed": "palaestra.envs.segmentation.backends:WatershedBackend",
    "sam": "palaestra.envs.segmentation.sam:SamBackend",
}
DEFAULT_BACKEND = "graphcut"


REFINE = ("local", "global")


def make_backend(spec="graphcut", refine: str = "local", **options) -> Backend:
    """A back-end by name (``graphcut``, ``grabcut``, ``watershed``, ``sam``) or instance.

    ``refine="local"`` (default) wraps a named back-end in :class:`LocalRefinement` (a
    click changes the mask only around itself, in its own direction); ``"global"`` is
    the back-end's own mask from all clicks, which a correct click can wreck. An
    instance is used as given.
    """
    import importlib

    if refine not in REFINE:
        raise ValueError(f"refine={refine!r}: use 'local' (a click corrects only around itself) or 'global'")
    if not isinstance(spec, str):
        if not callable(getattr(spec, "segment", None)):
            raise ValueError(f"{spec!r} has no segment(image, clicks, previous_mask) method")
        return spec
    if spec not in BACKENDS:
        raise ValueError(f"unknown segmentation back-end {spec!r}; choose one of {', '.join(BACKENDS)}")
    module, _, attr = BACKENDS[spec].partition(":")
    backend = getattr(importlib.import_module(module), attr)(**options)
    return LocalRefinement(backend) if refine == "local" else backend
