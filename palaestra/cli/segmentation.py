"""``palaestra seg-eval``: NoC metrics of segmentation back-ends under the RITM clicker."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command("seg-eval")
    def seg_eval(
        backend: list[str] = typer.Option(["graphcut"], help="Back-end(s): graphcut, grabcut, watershed, sam."),
        source: str = typer.Option("synthetic", help="synthetic, skimage, stardist, imgaug, packages, folder:PATH, coco:FILE.json"),
        n: int = typer.Option(50, help="At most this many samples (synthetic: the first n test scenes)."),
        max_clicks: int = typer.Option(20, help="Clicks per sample (20 in the NoC protocol)."),
        opt: list[str] = typer.Option(None, help="Back-end option key=value (e.g. model=PATH for sam), repeatable."),
    ):
        """NoC@85/90, failures, mIoU@1/3/5 and ms per call, as a table."""
        from rich.table import Table

        from palaestra.cli._common import console, parse_opts
        from palaestra.envs.segmentation import evaluate, load_samples

        samples = list(load_samples(source, split="test", limit=n))
        options = parse_opts(opt)
        table = Table(title=f"{source}: {len(samples)} samples, RITM oracle clicker, {max_clicks} clicks max")
        cols = ["back-end", "NoC@85", "NoC@90", "fail@85", "fail@90", "mIoU@1", "mIoU@3", "mIoU@5", "ms_per_call"]
        for col in cols:
            table.add_column(col, justify="left" if col == "back-end" else "right")
        for name in backend:
            s = evaluate(name, samples, max_clicks=max_clicks, progress=True, **options).summary()
            table.add_row(name, *(str(s.get(c, "-")) for c in cols[1:]))
        console.print(table)
