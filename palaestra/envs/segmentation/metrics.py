"""The field's interactive-segmentation metrics with the RITM oracle clicker.

NoC@t: the number of the first click whose mask reaches IoU >= t, ``max_clicks`` when
none does (that sample also counts as a failure at t). gIoU@k (= mIoU@k): the mean of
the per-sample IoUs after k clicks; cIoU@k: the cumulative IoU, total intersection over
total union after k clicks (large objects weigh more), as referring-segmentation papers
(and SegAgent) report them.
As in RITM's protocol a sample stops once it reaches the highest threshold and has
had ``min_clicks`` clicks; its IoU curve is carried forward from there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from .clicker import RITMClicker
from .sample import Sample, iou


def noc(ious: Sequence[float], threshold: float, max_clicks: int = 20) -> int:
    """Clicks needed to reach ``threshold`` (1-based), ``max_clicks`` if never."""
    for k, value in enumerate(ious[:max_clicks], start=1):
        if value >= threshold:
            return k
    return max_clicks


@dataclass
class SampleResult:
    id: str
    ious: list[float]  # IoU after click 1..max_clicks (carried forward after a stop)
    calls: int
    seconds: float
    inters: list[int] = field(default_factory=list)  # intersection pixels after click 1..max_clicks
    unions: list[int] = field(default_factory=list)  # union pixels after click 1..max_clicks


def ciou_giou(pairs) -> tuple[float, float]:
    """(cIoU, gIoU) of ``(prediction, ground truth)`` mask pairs: total intersection over
    total union, and the mean of the per-pair IoUs."""
    inter = union = 0
    ious = []
    for pred, gt in pairs:
        pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
        i, u = int((pred & gt).sum()), int((pred | gt).sum())
        inter, union = inter + i, union + u
        ious.append(i / u if u else 1.0)
    if not ious:
        raise ValueError("ciou_giou needs at least one (prediction, ground truth) pair")
    return (inter / union if union else 1.0), float(np.mean(ious))


@dataclass
class EvalResult:
    backend: str
    thresholds: tuple[float, ...]
    max_clicks: int
    samples: list[SampleResult] = field(default_factory=list)
    size: str = ""  # the resolution the samples were evaluated at, for tables

    def giou(self, clicks: int) -> float:
        """gIoU after ``clicks`` clicks: the mean per-sample IoU (= mIoU@k)."""
        return self.miou(clicks)

    def ciou(self, clicks: int) -> float:
        """cIoU after ``clicks`` clicks: total intersection over total union."""
        inter = sum(s.inters[clicks - 1] for s in self.samples)
        union = sum(s.unions[clicks - 1] for s in self.samples)
        return float(inter / union) if union else 1.0

    def drops(self, limit: float = 0.05) -> list[tuple[str, int, float]]:
        """(sample id, click, IoU change) for every oracle click that lowered IoU by more
        than ``limit``: a correct click should not make the mask worse."""
        out = []
        for s in self.samples:
            for k in range(1, len(s.ious)):
                if s.ious[k] < s.ious[k - 1] - limit:
                    out.append((s.id, k + 1, s.ious[k] - s.ious[k - 1]))
        return out

    def noc(self, threshold: float) -> float:
        return float(np.mean([noc(s.ious, threshold, self.max_clicks) for s in self.samples]))

    def failures(self, threshold: float) -> int:
        return sum(1 for s in self.samples if max(s.ious) < threshold)

    def miou(self, clicks: int) -> float:
        return float(np.mean([s.ious[clicks - 1] for s in self.samples]))

    def rate(self, threshold: float, within: int) -> float:
        """Fraction of samples reaching ``threshold`` within ``within`` clicks."""
        return float(np.mean([max(s.ious[:within]) >= threshold for s in self.samples]))

    @property
    def ms_per_call(self) -> float:
        calls = sum(s.calls for s in self.samples)
        return 1000.0 * sum(s.seconds for s in self.samples) / max(1, calls)

    def curve(self) -> np.ndarray:
        """Mean IoU after 1..max_clicks clicks."""
        return np.mean([s.ious for s in self.samples], axis=0)

    def summary(self) -> dict:
        out = {"backend": self.backend, "samples": len(self.samples)}
        for t in self.thresholds:
            pct = int(round(t * 100))
            out[f"NoC@{pct}"] = round(self.noc(t), 3)
            out[f"fail@{pct}"] = self.failures(t)
        for k in (1, 3, 5):
            if k <= self.max_clicks:
                out[f"mIoU@{k}"] = round(self.miou(k), 4)
                out[f"gIoU@{k}"] = round(self.giou(k), 4)
                out[f"cIoU@{k}"] = round(self.ciou(k), 4)
        out["drops>0.05"] = len(self.drops(0.05))
        if self.size:
            out["size"] = self.size
        out["ms_per_call"] = round(self.ms_per_call, 2)
        return out


def run_clicks(backend, sample: Sample, max_clicks: int = 20, stop_at: float | None = None,
               min_clicks: int = 1) -> SampleResult:
    """Oracle clicks on one sample: the IoU after each of ``max_clicks`` clicks."""
    clicker = RITMClicker(sample.mask)
    gt = np.asarray(sample.mask, bool)
    mask = np.zeros(gt.shape, bool)
    ious: list[float] = []
    inters: list[int] = []
    unions: list[int] = []
    seconds, calls = 0.0, 0

    def carry(times):
        ious.extend([ious[-1] if ious else 1.0] * times)
        inters.extend([inters[-1] if inters else int(gt.sum())] * times)
        unions.extend([unions[-1] if unions else int(gt.sum())] * times)

    for k in range(max_clicks):
        click = clicker(mask)
        if click is None:  # perfect already
            carry(max_clicks - k)
            break
        start = time.process_time()
        mask = np.asarray(backend.segment(sample.image, clicker.clicks, mask), bool)
        seconds += time.process_time() - start
        calls += 1
        inters.append(int((mask & gt).sum()))
        unions.append(int((mask | gt).sum()))
        ious.append(iou(mask, gt))
        if stop_at is not None and ious[-1] >= stop_at and k + 1 >= min_clicks:
            carry(max_clicks - k - 1)
            break
    return SampleResult(sample.id, ious, calls, seconds, inters, unions)


def evaluate(
    backend="graphcut",
    samples: Iterable[Sample] | None = None,
    max_clicks: int = 20,
    thresholds: tuple[float, ...] = (0.85, 0.90),
    min_clicks: int = 5,
    progress: bool = False,
    size: str = "",
    refine: str = "local",
    **backend_options,
) -> EvalResult:
    """NoC@t, failures, mIoU@1/3/5 and ms per call of ``backend`` on ``samples``.

    ``backend`` is a name (see :func:`make_backend`) or an object with ``segment``;
    ``samples`` defaults to the first 50 scenes of the synthetic test set.
    """
    from .backends import make_backend
    from .sources import load_samples

    be = make_backend(backend, refine=refine, **backend_options)
    if samples is None:
        samples = load_samples("synthetic", split="test", limit=50)
    samples = list(samples)
    result = EvalResult(getattr(be, "name", type(be).__name__), tuple(thresholds), max_clicks, size=str(size))
    stop = max(thresholds)
    iterator = samples
    if progress:
        from rich.progress import track

        iterator = track(samples, description=f"{result.backend}")
    for sample in iterator:
        result.samples.append(run_clicks(be, sample, max_clicks, stop_at=stop, min_clicks=min(min_clicks, max_clicks)))
    return result
