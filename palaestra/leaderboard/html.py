"""The static HTML leaderboard: the terminal's tables plus plots, in one self-contained file.

Plots are matplotlib figures embedded as inline SVG (no files beside the page, no
JavaScript, no network): success rate with 95% Wilson bars per agent and env, mean
return with bootstrap bars, and game ratings with their uncertainty (Bradley-Terry
with bootstrap intervals; OpenSkill mu with +-3 sigma).
"""

from __future__ import annotations

import html
import io
import math
from datetime import datetime, timezone
from pathlib import Path

from .report import ENV_COLUMNS, GAME_COLUMNS, EnvBoard, GameBoard, Summary, env_cells, footnotes, game_cells, plural

CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #1f2328; background: #fff; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; }
p.meta { color: #59636e; margin-top: 0; }
table.leaderboard { border-collapse: collapse; width: 100%; font-size: .9rem; margin: .6rem 0; }
table.leaderboard th, table.leaderboard td { padding: .35rem .6rem; border-bottom: 1px solid #d8dee4; text-align: right; }
table.leaderboard th { background: #f6f8fa; font-weight: 600; }
table.leaderboard td.agent, table.leaderboard th.agent, table.leaderboard td.config { text-align: left; }
table.leaderboard td.agent { font-weight: 600; }
table.leaderboard td.config { font-family: ui-monospace, monospace; color: #59636e; }
table.leaderboard tr:nth-child(even) td { background: #fbfcfd; }
ul.notes { color: #59636e; font-size: .9rem; }
ul.notes li.lead { color: #1a7f37; }
ul.notes li.tie { color: #9a6700; }
.plot svg { max-width: 100%; height: auto; }
footer { margin-top: 3rem; color: #59636e; font-size: .8rem; }
"""


def _svg(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"  # text stays text (searchable, small)
    return plt


def success_plot(boards: list[EnvBoard]) -> str:
    plt = _pyplot()
    boards = [b for b in boards if b.rows]
    height = sum(0.45 * len(b.rows) + 0.9 for b in boards)
    fig, axes = plt.subplots(len(boards), 2, figsize=(10, max(2.2, height)), squeeze=False,
                             gridspec_kw={"height_ratios": [len(b.rows) + 1 for b in boards]})
    for (ax, ax2), board in zip(axes, boards):
        rows = list(reversed(board.rows))
        names = [r.agent for r in rows]
        y = range(len(rows))
        val = [100 * r.success for r in rows]
        err = [[100 * (r.success - r.success_ci[0]) for r in rows], [100 * (r.success_ci[1] - r.success) for r in rows]]
        ax.barh(y, val, xerr=err, color="#4c72b0", alpha=.85, capsize=4, ecolor="#1f2328")
        ax.set_yticks(list(y), names)
        ax.set_xlim(0, 100)
        ax.set_xlabel("success rate, % (95% Wilson)")
        ax.set_title(board.title, loc="left", fontsize=10)
        ax.grid(axis="x", alpha=.3)
        ret = [r.mean_return for r in rows]
        lo = [r.mean_return - r.return_ci[0] if math.isfinite(r.return_ci[0]) else 0 for r in rows]
        hi = [r.return_ci[1] - r.mean_return if math.isfinite(r.return_ci[1]) else 0 for r in rows]
        ax2.errorbar(ret, list(y), xerr=[lo, hi], fmt="o", color="#dd8452", capsize=4)
        ax2.set_yticks(list(y), [""] * len(rows))
        ax2.set_ylim(-0.6, len(rows) - 0.4)
        ax2.set_xlabel("mean return (95% bootstrap)")
        ax2.grid(axis="x", alpha=.3)
    fig.tight_layout()
    return _svg(fig)


def rating_plot(board: GameBoard) -> str:
    plt = _pyplot()
    rows = list(reversed(board.rows))
    y = list(range(len(rows)))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 0.5 * len(rows) + 1.4))
    bt = [r.bt for r in rows]
    lo = [r.bt - r.bt_ci[0] if math.isfinite(r.bt_ci[0]) else 0 for r in rows]
    hi = [r.bt_ci[1] - r.bt if math.isfinite(r.bt_ci[1]) else 0 for r in rows]
    ax.errorbar(bt, y, xerr=[lo, hi], fmt="o", color="#4c72b0", capsize=4)
    ax.set_yticks(y, [r.agent for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.axvline(0, color="#999", lw=.8)
    ax.set_xlabel("Bradley-Terry, Elo scale (95% bootstrap)")
    ax.set_title(board.title, loc="left", fontsize=10)
    ax.grid(axis="x", alpha=.3)
    ax2.errorbar([r.mu for r in rows], y, xerr=[3 * r.sigma for r in rows], fmt="s", color="#55a868", capsize=4,
                 label="mu ± 3 sigma")
    ax2.plot([r.conservative for r in rows], y, "|", color="#c44e52", ms=14, mew=2, label="mu - 3 sigma")
    ax2.set_yticks(y, [""] * len(rows))
    ax2.set_ylim(-0.6, len(rows) - 0.4)
    ax2.set_xlabel("OpenSkill (Plackett-Luce)")
    ax2.legend(loc="lower right", fontsize=8)
    ax2.grid(axis="x", alpha=.3)
    fig.tight_layout()
    return _svg(fig)


def _table(columns, rows_cells, env: str, kind: str) -> str:
    e = html.escape
    slug = lambda c: c.lower().replace(" ", "-").replace("%", "pct").replace("/", "-")  # noqa: E731
    head = "".join(f'<th class="{e(slug(c))}">{e(c)}</th>' for c in columns)
    body = []
    for cells in rows_cells:
        tds = "".join(f'<td class="{e(slug(c))}" data-col="{e(c)}">{e(v)}</td>' for c, v in zip(columns, cells))
        body.append(f"<tr>{tds}</tr>")
    return (f'<table class="leaderboard {kind}" data-env="{e(env)}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _notes(notes: list[str]) -> str:
    if not notes:
        return ""
    items = []
    for n in notes:
        cls = "lead" if " leads on " in n else "tie" if "overlap" in n else ""
        items.append(f'<li class="{cls}">{html.escape(n)}</li>')
    return f'<ul class="notes">{"".join(items)}</ul>'


def render_html(summary: Summary, title: str = "palaestra leaderboard", plots: bool = True) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{e(title)}</title>"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{CSS}</style></head><body>",
             f"<h1>{e(title)}</h1>"]
    n_eps = sum(r.episodes for b in summary.envs for r in b.rows)
    n_games = sum(b.games for b in summary.games)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    counts = [f"{plural(n_eps, 'episode')} on {plural(len(summary.envs), 'env board')}"]
    if summary.games:
        counts.append(f"{plural(n_games, 'game')} on {plural(len(summary.games), 'game board')}")
    notes = " ".join(html.escape(line) for line in footnotes(summary) if not line.startswith("OpenSkill"))
    parts.append(f'<p class="meta">{", ".join(counts)}. Success: 95% Wilson intervals; mean return: 95% '
                 f'percentile-bootstrap intervals. {notes} Generated {stamp}.</p>')
    if summary.envs:
        parts.append('<h2 id="envs">Success and return per env</h2>')
        if plots:
            parts.append(f'<div class="plot" id="success-plot">{success_plot(summary.envs)}</div>')
        for board in summary.envs:
            parts.append(f"<h3>{e(board.title)}</h3>")
            parts.append(_table(ENV_COLUMNS, [env_cells(r) for r in board.rows], board.title, "env"))
            parts.append(_notes(board.notes))
    for board in summary.games:
        parts.append(f'<h2>Ratings: {e(board.title)} ({board.games} games)</h2>')
        if plots:
            parts.append(f'<div class="plot rating-plot">{rating_plot(board)}</div>')
        parts.append(_table(GAME_COLUMNS, [game_cells(r) for r in board.rows], board.title, "game"))
        parts.append(_notes(board.notes))
    if not summary.envs and not summary.games:
        parts.append("<p>No results yet: run <code>palaestra eval</code> or <code>palaestra tournament</code>.</p>")
    parts.append("<footer>OpenSkill: Weng-Lin Plackett-Luce, updated game by game; mu - 3 sigma is the conservative "
                 "rating. Bradley-Terry: maximum likelihood over all games (draws half a win), Elo scale with mean 0, "
                 "percentile bootstrap over games. Made by <code>palaestra leaderboard --html</code>.</footer>")
    parts.append("</body></html>")
    return "".join(parts)


def write_html(summary: Summary, path: str | Path, **kwargs) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(summary, **kwargs), encoding="utf-8")
    return path


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def screenshot(html_path: str | Path, png_path: str | Path, width: int = 1200) -> Path:
    """A full-page PNG of the page, taken with headless Chromium (Debian's) through Playwright."""
    import shutil

    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        raise RuntimeError("the screenshot needs Chromium: apt-get install -y chromium")
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 800})
            page.goto(Path(html_path).resolve().as_uri())
            page.screenshot(path=str(png_path), full_page=True)
        finally:
            browser.close()
    return png_path
