"""The field's interactive-segmentation metrics with the RITM oracle clicker.

NoC@t: the number of the first click whose mask reaches IoU >= t, ``max_clicks`` when
none does (that sample also counts as a failure at t). mIoU@k: mean IoU after k clicks.
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


@dataclass
class EvalResult:
    backend: str
    thresholds: tuple[float, ...]
    max_clicks: int
    samples: list[SampleResult] = field(default_factory=list)

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
        out["ms_per_call"] = round(self.ms_per_call, 2)
        return out


def run_clicks(backend, sample: Sample, max_clicks: int = 20, stop_at: float | None = None,
               min_clicks: int = 1) -> SampleResult:
    """Oracle clicks on one sample: the IoU after each of ``max_clicks`` clicks."""
    clicker = RITMClicker(sample.mask)
    mask = np.zeros(sample.mask.shape, bool)
    ious: list[float] = []
    seconds, calls = 0.0, 0
    for k in range(max_clicks):
        click = clicker(mask)
        if click is None:  # perfect already
            ious.extend([ious[-1] if ious else 1.0] * (max_clicks - k))
            break
        start = time.perf_counter()
        mask = np.asarray(backend.segment(sample.image, clicker.clicks, mask), bool)
        seconds += time.perf_counter() - start
        calls += 1
        ious.append(iou(mask, sample.mask))
        if stop_at is not None and ious[-1] >= stop_at and k + 1 >= min_clicks:
            ious.extend([ious[-1]] * (max_clicks - k - 1))
            break
    return SampleResult(sample.id, ious, calls, seconds)


def evaluate(
    backend="graphcut",
    samples: Iterable[Sample] | None = None,
    max_clicks: int = 20,
    thresholds: tuple[float, ...] = (0.85, 0.90),
    min_clicks: int = 5,
    progress: bool = False,
    **backend_options,
) -> EvalResult:
    """NoC@t, failures, mIoU@1/3/5 and ms per call of ``backend`` on ``samples``.

    ``backend`` is a name (see :func:`make_backend`) or an object with ``segment``;
    ``samples`` defaults to the first 50 scenes of the synthetic test set.
    """
    from .backends import make_backend
    from .sources import load_samples

    be = make_backend(backend, **backend_options)
    if samples is None:
        samples = load_samples("synthetic", split="test", limit=50)
    samples = list(samples)
    result = EvalResult(getattr(be, "name", type(be).__name__), tuple(thresholds), max_clicks)
    stop = max(thresholds)
    iterator = samples
    if progress:
        from rich.progress import track

        iterator = track(samples, description=f"{result.backend}")
    for sample in iterator:
        result.samples.append(run_clicks(be, sample, max_clicks, stop_at=stop, min_clicks=min(min_clicks, max_clicks)))
    return result
