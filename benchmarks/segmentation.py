"""Interactive segmentation back-ends under the RITM oracle clicker (the NoC protocol).

For every back-end, at ONE resolution (``--size``, default the env's 160x160, the same
policy as the env and ``palaestra seg-eval``), on three sets: the seeded synthetic test
scenes, the hard synthetic scenes (thin curves, holes, touching objects of similar
colour, low contrast) and the images that ship in packages (scikit-image's horse and
phantom; stardist's nuclei and imgaug's quokka when those optional wheels are
installed): NoC@85, NoC@90, failures within 20 clicks, gIoU (= mIoU) and cIoU after
1/3/5 clicks, oracle clicks that lowered IoU by more than 0.05 (with local refinement,
the default, and without it), and CPU ms per tool call with its ratio to graph cut
(measured alternating back-ends sample by sample, so machine load hits all alike).

There is no "peer" column: no reference implementation (RITM, SimpleClick, SAM with
its weights) runs offline here, and palaestra's own earlier figures are not a peer.
``--sam PATH`` adds SAM when its weights are on disk.

Run: ``python benchmarks/segmentation.py [--n 100] [--size 160x160|native] [--sam PATH]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from palaestra.envs.segmentation import load_samples, make_backend
from palaestra.envs.segmentation.metrics import EvalResult, noc, run_clicks
from palaestra.envs.segmentation.sample import DEFAULT_IMAGE_SIZE, parse_size
from palaestra.envs.segmentation.sources import package_available

DOCS = Path(__file__).resolve().parent.parent / "docs"


def plot(curves: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(5.0 * len(curves), 4), squeeze=False)
    for ax, (dataset, by_backend) in zip(axes[0], curves.items()):
        for name, curve in by_backend.items():
            ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", ms=3, label=name)
        ax.axhline(0.85, color="grey", ls="--", lw=0.8)
        ax.axhline(0.90, color="grey", ls=":", lw=0.8)
        ax.set_xlabel("oracle clicks")
        ax.set_ylabel("gIoU (mean IoU)")
        ax.set_title(dataset)
        ax.set_ylim(0, 1)
        ax.set_xticks(range(1, len(curve) + 1, 2))
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def overlay_example(path: Path, size) -> None:
    """Oracle clicks on a few scenes (the agent finishing itself), as the env's overlay draws them."""
    import gymnasium as gym
    from PIL import Image

    import palaestra  # noqa: F401

    tiles = []
    cases = [({"image_size": size}, {"task": "synthetic:100002"}),
             ({"source": "synthetic-hard", "image_size": size}, {"task": "synthetic-hard:100001"}),
             ({"source": "skimage", "image_size": size}, {"task": "skimage:horse-brick"})]
    if package_available("stardist"):
        cases.append(({"source": "stardist", "image_size": size}, {"task": "stardist:nucleus-2"}))
    for kwargs, options in cases:
        env = gym.make("palaestra/Segmentation-v0", **kwargs)
        env.reset(seed=0, options=options)
        row = [env.unwrapped.image()]
        for _ in range(4):
            action = env.unwrapped.oracle_action(finish_at_target=False)
            if action[2] == 2:  # nothing left to correct
                break
            env.step(action)
            row.append(env.unwrapped.image())
        h = 200
        tiles.append(np.concatenate([np.asarray(Image.fromarray(t).resize((h * t.shape[1] // t.shape[0], h),
                                                                           Image.NEAREST)) for t in row], axis=1))
    width = max(t.shape[1] for t in tiles)
    tiles = [np.pad(t, ((0, 4), (0, width - t.shape[1]), (0, 0)), constant_values=255) for t in tiles]
    Image.fromarray(np.concatenate(tiles, axis=0)).save(path)


def run_alternating(backends: dict, samples, max_clicks: int, size: str) -> dict[str, EvalResult]:
    """Every back-end on every sample, alternating back-ends sample by sample (and their
    order per sample), so load on a shared machine falls on all of them alike."""
    results = {name: EvalResult(name, (0.85, 0.90), max_clicks, size=size) for name in backends}
    names = list(backends)
    for i, sample in enumerate(samples):
        order = names if i % 2 == 0 else names[::-1]
        for name in order:
            results[name].samples.append(run_clicks(backends[name], sample, max_clicks, stop_at=0.90, min_clicks=5))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="synthetic and hard synthetic test scenes (seeded)")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--size", default=f"{DEFAULT_IMAGE_SIZE[0]}x{DEFAULT_IMAGE_SIZE[1]}", help="HEIGHTxWIDTH for every sample, or 'native'")
    parser.add_argument("--backends", default="graphcut,grabcut,watershed")
    parser.add_argument("--sam", default=None, help="SAM checkpoint folder or cached hub id (adds the sam back-end)")
    parser.add_argument("--sets", default="synthetic,hard,packages", help="which of synthetic, hard, packages")
    parser.add_argument("--no-packages", action="store_true")
    parser.add_argument("--no-plots", action="store_true", help="leave docs/ alone")
    parser.add_argument("--no-global", action="store_true", help="skip the refine=global comparison")
    parser.add_argument("--out", default=str(DOCS))
    parser.add_argument("--overlay-only", action="store_true", help="only redraw docs/segmentation_overlay.png")
    args = parser.parse_args()

    size = parse_size(args.size)
    shown = "native" if size == "native" else f"{size[0]}x{size[1]}"
    console = Console(width=190)
    if args.overlay_only:
        overlay_example(Path(args.out) / "segmentation_overlay.png", None if size == "native" else size)
        return
    names = [b for b in args.backends.split(",") if b]
    backends = {b: make_backend(b) for b in names}
    if args.sam:
        backends["sam"] = make_backend("sam", model=args.sam)
    sets = set(args.sets.split(","))
    datasets = {}
    if "synthetic" in sets:
        datasets[f"synthetic ({args.n})"] = load_samples("synthetic", limit=args.n, size=size)
    if "hard" in sets:
        datasets[f"hard ({args.n})"] = load_samples("synthetic-hard", limit=args.n, size=size)
    if "packages" in sets and not args.no_packages:
        pkg = load_samples("packages", size=size)
        datasets[f"packages ({len(pkg)})"] = pkg
        missing = [p for p in ("stardist", "imgaug") if not package_available(p)]
        if missing:
            console.print(f"[yellow]optional data not installed: {', '.join(missing)} "
                          f"(pip install --no-deps {' '.join(missing)})[/]")

    results, global_drops = {}, {}
    for dname, samples in datasets.items():
        samples = list(samples)
        start = time.perf_counter()
        for name, r in run_alternating(backends, samples, args.max_clicks, shown).items():
            results[(dname, name)] = r
        if not args.no_global:
            raw = {b: make_backend(b, refine="global") for b in names}
            for name, r in run_alternating(raw, samples, args.max_clicks, shown).items():
                global_drops[(dname, name)] = (len(r.drops(0.05)), r.noc(0.85))
        console.print(f"{dname}: {time.perf_counter() - start:.1f} s")

    title = (f"Interactive segmentation at {shown}, RITM oracle clicker, {args.max_clicks} clicks max, "
             "2026-11-29, 2-core machine, other work running")
    table = Table(title=title)
    cols = ("data", "back-end", "NoC@85", "NoC@90", "fail@85", "fail@90", "gIoU@1", "gIoU@3", "gIoU@5", "cIoU@1",
            "cIoU@3", "cIoU@5", "drops>0.05", "global: drops / NoC@85", "CPU ms/call", "x graphcut")
    for col in cols:
        table.add_column(col, justify="left" if col in ("data", "back-end") else "right")
    for dname in datasets:
        base = results.get((dname, "graphcut"))
        for name in backends:
            r = results[(dname, name)]
            s = r.summary()
            ratio = f"{r.ms_per_call / base.ms_per_call:.2f}" if base else "-"
            g = global_drops.get((dname, name))
            table.add_row(dname, name, f"{s['NoC@85']:.2f}", f"{s['NoC@90']:.2f}", str(s["fail@85"]), str(s["fail@90"]),
                          f"{s['gIoU@1']:.3f}", f"{s['gIoU@3']:.3f}", f"{s['gIoU@5']:.3f}", f"{s['cIoU@1']:.3f}",
                          f"{s['cIoU@3']:.3f}", f"{s['cIoU@5']:.3f}", str(s["drops>0.05"]),
                          f"{g[0]} / {g[1]:.2f}" if g else "-", f"{r.ms_per_call:.1f}", ratio)
    console.print(table)
    console.print("gIoU@k = mean per-sample IoU after k clicks (mIoU@k); cIoU@k = total intersection / total union; "
                  "drops>0.05 = oracle clicks that lowered IoU by more than 0.05 (local refinement, the default); "
                  "'global' = the back-end's own mask from all clicks.")
    for dname in datasets:
        if (dname, "graphcut") in results and not dname.startswith("packages"):
            r = results[(dname, "graphcut")]
            console.print(f"graphcut: {100 * r.rate(0.85, 7):.0f}% of {dname} reach IoU 0.85 within 7 clicks")
    for dname in datasets:
        if dname.startswith("hard"):
            for name in backends:
                by = {}
                for s in results[(dname, name)].samples:
                    kind = ("thin", "holes", "touching", "low_contrast")[int(s.id.split(":")[1]) % 4]
                    by.setdefault(kind, []).append(noc(s.ious, 0.85, args.max_clicks))
                console.print(f"{name} NoC@85 on hard scenes by kind: "
                              + ", ".join(f"{k} {np.mean(v):.2f}" for k, v in by.items()))
        if dname.startswith("packages"):
            for name in backends:
                by = {}
                for s in results[(dname, name)].samples:
                    key = s.id.split(":")[0] + ":" + s.id.split(":")[1].split("-")[0]
                    by.setdefault(key, []).append(noc(s.ious, 0.85, args.max_clicks))
                console.print(f"{name} NoC@85 on packages by source: "
                              + ", ".join(f"{k} {np.mean(v):.2f} (n={len(v)})" for k, v in sorted(by.items())))

    if args.no_plots:
        return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    curves = {d: {name: results[(d, name)].curve() for name in backends} for d in datasets}
    plot(curves, out / "segmentation_iou_vs_clicks.png", f"gIoU vs. oracle clicks at {shown} (RITM clicker)")
    overlay_example(out / "segmentation_overlay.png", None if size == "native" else size)
    console.print(f"saved {out / 'segmentation_iou_vs_clicks.png'} and {out / 'segmentation_overlay.png'}")


if __name__ == "__main__":
    main()
