"""``palaestra seg-eval``: NoC, cIoU and gIoU of segmentation back-ends under the RITM clicker."""

from __future__ import annotations

import typer

from palaestra.envs.segmentation.sample import DEFAULT_IMAGE_SIZE

DEFAULT_SIZE = f"{DEFAULT_IMAGE_SIZE[0]}x{DEFAULT_IMAGE_SIZE[1]}"  # the env's default image_size
SOURCES = "synthetic, synthetic-hard, skimage, stardist, imgaug, packages, folder:PATH, coco:FILE.json"


def register(app: typer.Typer) -> None:
    @app.command("seg-eval")
    def seg_eval(
        backend: list[str] = typer.Option(["graphcut"], help="Back-end(s): graphcut, grabcut, watershed, sam."),
        source: str = typer.Option("synthetic", help=SOURCES),
        n: int = typer.Option(50, min=1, max=100_000, help="At most this many samples (synthetic: the first n test scenes)."),
        max_clicks: int = typer.Option(20, min=1, max=100, help="Clicks per sample (20 in the NoC protocol)."),
        size: str = typer.Option(
            DEFAULT_SIZE,
            help="Resolution every sample is resized to: HEIGHTxWIDTH (the env's default image_size, so figures "
                 "match the env), or 'native' (each image's own size, scaled down to at most 1000 a side).",
        ),
        refine: str = typer.Option("local", help="'local': a click corrects only around itself (default); "
                                                 "'global': the back-end's own mask from all clicks."),
        opt: list[str] = typer.Option(None, help="Back-end option key=value (e.g. model=PATH for sam), repeatable."),
    ):
        """NoC@85/90, failures, gIoU and cIoU after 1/3/5 clicks, oracle clicks that lowered
        IoU, and CPU ms per call, as a table."""
        from rich.table import Table

        from palaestra.cli._common import console, parse_opts
        from palaestra.envs.segmentation import evaluate, load_samples
        from palaestra.envs.segmentation.backends import BACKENDS, REFINE
        from palaestra.envs.segmentation.sample import parse_size
        from palaestra.envs.segmentation.sources import SampleSourceError

        def fail(message: str):
            console.print(f"[red]error:[/] {message}", markup=True, highlight=False)
            raise typer.Exit(2)

        bad = [b for b in backend if b not in BACKENDS]
        if bad:
            fail(f"unknown back-end {', '.join(map(repr, bad))}; choose from {', '.join(BACKENDS)}.")
        if refine not in REFINE:
            fail(f"--refine {refine!r}: use 'local' or 'global'.")
        try:
            dims = parse_size(size)
        except ValueError as err:
            fail(str(err))
        try:
            samples = list(load_samples(source, split="test", limit=n, size=dims))
        except SampleSourceError as err:
            fail(str(err))
        except (FileNotFoundError, ValueError) as err:
            fail(f"{err}\nSources: {SOURCES}.")
        options = parse_opts(opt)
        shown = "native (at most 1000 a side)" if dims == "native" else f"{dims[0]}x{dims[1]}"
        table = Table(title=f"{source}: {len(samples)} samples at {shown}, RITM oracle clicker, {max_clicks} clicks "
                            f"max, refine={refine}")
        cols = ["back-end", "NoC@85", "NoC@90", "fail@85", "fail@90", "gIoU@1", "gIoU@3", "gIoU@5", "cIoU@1", "cIoU@3",
                "cIoU@5", "drops>0.05", "ms_per_call"]
        for col in cols:
            table.add_column(col, justify="left" if col == "back-end" else "right")
        for name in backend:
            try:
                s = evaluate(name, samples, max_clicks=max_clicks, progress=True, size=shown, refine=refine,
                             **options).summary()
            except TypeError as err:
                fail(f"back-end {name!r} does not take the options {sorted(options)}: {err}")
            table.add_row(name, *(str(s.get(c, "-")) for c in cols[1:]))
        from rich.console import Console

        out = console if console.is_terminal else Console(width=max(console.width, 160))  # files keep whole rows
        out.print(table)
        out.print("gIoU@k = mean per-sample IoU after k clicks (mIoU@k); cIoU@k = total intersection / total union; "
                      "drops>0.05 = oracle clicks that lowered IoU by more than 0.05; ms_per_call is CPU time.")
