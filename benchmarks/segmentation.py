"""Interactive segmentation back-ends under the RITM oracle clicker (the NoC protocol).

For every back-end, on a fixed seeded synthetic test set and on the images that ship
in packages (scikit-image's horse and phantom; stardist's nuclei and imgaug's quokka
when those optional wheels are installed): NoC@85, NoC@90, samples failing to reach
them in 20 clicks, mean IoU after 1/3/5 clicks, ms per tool call and its ratio to the
default (graph cut), next to the figures measured earlier on synthetic scenes (the
peer column). Saves an IoU-vs-clicks plot and an overlay example to docs/.

Run: ``python benchmarks/segmentation.py [--n 100] [--sam PATH_OR_HUB_ID]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from palaestra.envs.segmentation import evaluate, load_samples
from palaestra.envs.segmentation.sources import package_available

# NoC@85 and ms per call measured earlier on synthetic scenes (REFERENCES.md)
PEER = {"graphcut": (1.58, 21.0), "grabcut": (2.74, 408.0), "watershed": (9.16, 13.0)}
DOCS = Path(__file__).resolve().parent.parent / "docs"


def plot(curves: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4), squeeze=False)
    for ax, (dataset, by_backend) in zip(axes[0], curves.items()):
        for name, curve in by_backend.items():
            ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", ms=3, label=name)
        ax.axhline(0.85, color="grey", ls="--", lw=0.8)
        ax.axhline(0.90, color="grey", ls=":", lw=0.8)
        ax.set_xlabel("oracle clicks")
        ax.set_ylabel("mean IoU")
        ax.set_title(dataset)
        ax.set_ylim(0, 1)
        ax.set_xticks(range(1, len(curve) + 1, 2))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def overlay_example(path: Path) -> None:
    """Three oracle clicks on a few scenes, as the env's overlay draws them."""
    import gymnasium as gym
    from PIL import Image

    import palaestra  # noqa: F401

    tiles = []
    cases = [({}, {"task": "synthetic:100002"}),
             ({"source": "skimage", "image_size": (240, 292)}, {"task": "skimage:horse-brick"})]
    if package_available("stardist"):
        cases.append(({"source": "stardist"}, {"task": "stardist:nucleus-2"}))
    for kwargs, options in cases:
        env = gym.make("palaestra/Segmentation-v0", terminate_on_success=False, **kwargs)
        env.reset(seed=0, options=options)
        row = [env.unwrapped.image()]
        for _ in range(4):
            action = env.unwrapped.oracle_action(finish_at_target=False)
            if action[2] == 2:  # nothing left to correct
                break
            env.step(action)
            row.append(env.unwrapped.image())
        h = 240
        tiles.append(np.concatenate([np.asarray(Image.fromarray(t).resize((h * t.shape[1] // t.shape[0], h),
                                                                           Image.NEAREST)) for t in row], axis=1))
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 4), (0, width - t.shape[1]), (0, 0)), constant_values=255) for t in tiles]
    Image.fromarray(np.concatenate(tiles, axis=0)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="synthetic test scenes (seeded)")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--backends", default="graphcut,grabcut,watershed")
    parser.add_argument("--sam", default=None, help="SAM checkpoint folder or cached hub id (adds the sam back-end)")
    parser.add_argument("--no-packages", action="store_true")
    parser.add_argument("--out", default=str(DOCS))
    parser.add_argument("--overlay-only", action="store_true", help="only redraw docs/segmentation_overlay.png")
    args = parser.parse_args()

    console = Console(width=170)
    if args.overlay_only:
        overlay_example(Path(args.out) / "segmentation_overlay.png")
        return
    backends = [(b, {}) for b in args.backends.split(",") if b]
    if args.sam:
        backends.append(("sam", {"model": args.sam}))
    datasets = {f"synthetic ({args.n})": load_samples("synthetic", split="test", limit=args.n)}
    if not args.no_packages:
        pkg = load_samples("packages")
        datasets[f"packages ({len(pkg)})"] = pkg
        missing = [p for p in ("stardist", "imgaug") if not package_available(p)]
        if missing:
            console.print(f"[yellow]optional data not installed: {', '.join(missing)} "
                          f"(pip install --no-deps {' '.join(missing)})[/]")

    results = {}
    for dname, samples in datasets.items():
        samples = list(samples)
        for name, opts in backends:
            start = time.perf_counter()
            results[(dname, name)] = evaluate(name, samples, max_clicks=args.max_clicks, progress=True, **opts)
            console.print(f"{dname} / {name}: {time.perf_counter() - start:.1f} s")

    table = Table(title=f"Interactive segmentation, RITM oracle clicker, {args.max_clicks} clicks max")
    for col in ("data", "back-end", "NoC@85", "NoC@90", "fail@85", "fail@90", "mIoU@1", "mIoU@3", "mIoU@5",
                "ms/call", "time vs graphcut", "peer NoC@85 / ms"):
        table.add_column(col, justify="left" if col in ("data", "back-end") else "right")
    for dname in datasets:
        base_ms = results.get((dname, "graphcut"))
        for name, _ in backends:
            r = results[(dname, name)]
            s = r.summary()
            ratio = f"{r.ms_per_call / base_ms.ms_per_call:.2f}" if base_ms else "-"
            peer = PEER.get(name)
            peer_txt = f"{peer[0]:.2f} / {peer[1]:.0f}" if peer and dname.startswith("synthetic") else "-"
            table.add_row(dname, name, f"{s['NoC@85']:.2f}", f"{s['NoC@90']:.2f}", str(s["fail@85"]),
                          str(s["fail@90"]), f"{s['mIoU@1']:.3f}", f"{s['mIoU@3']:.3f}", f"{s['mIoU@5']:.3f}",
                          f"{r.ms_per_call:.1f}", ratio, peer_txt)
    console.print(table)
    for dname in datasets:
        if dname.startswith("synthetic") and (dname, "graphcut") in results:
            r = results[(dname, "graphcut")]
            console.print(f"default back-end (graphcut): {100 * r.rate(0.85, 7):.0f}% of {dname} reach IoU 0.85 "
                          f"within 7 clicks (target >= 90%)")
    # per-source NoC on the package images
    for dname, samples in datasets.items():
        if dname.startswith("packages"):
            for name, _ in backends:
                r = results[(dname, name)]
                by = {}
                for s in r.samples:
                    from palaestra.envs.segmentation.metrics import noc

                    by.setdefault(s.id.split(":")[0] + ":" + s.id.split(":")[1].split("-")[0], []).append(
                        noc(s.ious, 0.85, args.max_clicks))
                console.print(f"{name} NoC@85 by source: " + ", ".join(f"{k} {np.mean(v):.2f} (n={len(v)})"
                                                                       for k, v in sorted(by.items())))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curves = {d: {name: results[(d, name)].curve() for name, _ in backends} for d in datasets}
    plot(curves, out / "segmentation_iou_vs_clicks.png", "Mean IoU vs. oracle clicks (RITM clicker)")
    overlay_example(out / "segmentation_overlay.png")
    console.print(f"saved {out / 'segmentation_iou_vs_clicks.png'} and {out / 'segmentation_overlay.png'}")


if __name__ == "__main__":
    main()
