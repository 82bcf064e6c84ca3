"""Interactive segmentation: SegAgent's click-to-mask MDP, offline back-ends, NoC metrics.

    import gymnasium, palaestra
    env = gymnasium.make("palaestra/Segmentation-v0", text=True)   # or backend="grabcut", ...
    from palaestra.envs.segmentation import evaluate, load_samples
    print(evaluate("graphcut", load_samples("synthetic", limit=50)).summary())

Heavy modules (OpenCV, scikit-image, PyMaxflow) load on first use.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "SegmentationEnv": ".env",
    "evaluate": ".metrics",
    "noc": ".metrics",
    "EvalResult": ".metrics",
    "run_clicks": ".metrics",
    "make_backend": ".backends",
    "GraphCutBackend": ".backends",
    "GrabCutBackend": ".backends",
    "WatershedBackend": ".backends",
    "SamBackend": ".sam",
    "load_samples": ".sources",
    "SampleSet": ".sources",
    "synthetic_scene": ".synthetic",
    "Sample": ".sample",
    "Click": ".sample",
    "iou": ".sample",
    "next_click": ".clicker",
    "RITMClicker": ".clicker",
    "ClickerAgent": ".agents",
    "overlay": ".render",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
