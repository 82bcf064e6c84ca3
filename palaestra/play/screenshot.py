"""Screenshots of the players in headless Chromium (``python -m palaestra.play.screenshot docs``).

Regenerates every player screenshot (:data:`SHOTS`: the web page on Connect Four, chess,
segmentation, tool use and the live WebShop, and the terminal player) into the folder
given, from the current UI; the README shows some of them. ``python -m
palaestra.play.screenshot docs play_chess.png`` redoes one.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def _wait(page, before: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")


def _click(page, selector: str, **kw) -> None:
    before = int(page.get_attribute("body", "data-renders"))
    page.click(selector, **kw)
    _wait(page, before)


def object_points(env_id: str, seed: int, **kwargs):
    """Fractions (x, y) of a pixel deep inside the target object and one well outside it."""
    import gymnasium as gym
    import numpy as np
    from scipy import ndimage

    import palaestra  # noqa: F401

    env = gym.make(env_id, **kwargs)
    env.reset(seed=seed)
    mask = np.asarray(env.unwrapped.sample.mask, bool)
    env.close()
    h, w = mask.shape
    y, x = np.unravel_index(np.argmax(ndimage.distance_transform_edt(mask)), mask.shape)
    far = np.argwhere(ndimage.distance_transform_edt(~mask) > 6)
    oy, ox = far[len(far) // 2]
    return ((x + 0.5) / w, (y + 0.5) / h), ((ox + 0.5) / w, (oy + 0.5) / h)


def _connect_four(page, open_, out, rec):
    from .web import BackgroundServer

    # seed 0 against random: stacking column 4 wins in 9 moves; the winning four light up
    with BackgroundServer("palaestra/ConnectFour-v0", name="ada", record_to=rec / "c4",
                          env_kwargs={"agent_player": 0}, seed=0) as url:
        open_(url)
        for _ in range(21):
            if page.get_attribute("body", "data-done") == "true":
                break
            legal = [b.get_attribute("data-action") for b in page.query_selector_all("#legal button.legal")]
            col = int("4" if "4" in legal else legal[0]) - 1
            _click(page, f'.board [data-row="0"][data-col="{col}"]')
        page.screenshot(path=str(out))


def _chess(page, open_, out, rec):
    from .web import BackgroundServer

    # as Black: the board seen from Black's side, White's last move marked, a knight selected
    with BackgroundServer("palaestra/Chess-v0", name="ada", record_to=rec / "chess",
                          env_kwargs={"agent_player": 1}, seed=1) as url:
        open_(url)
        page.click('[data-square="e7"]')  # from ...
        _click(page, '[data-square="e5"]')  # ... to: e7e5
        page.click('[data-square="g8"]')  # select a knight: its targets show
        page.screenshot(path=str(out))


def _segmentation(page, open_, out, rec):
    from .web import BackgroundServer

    with BackgroundServer("palaestra/Segmentation-v0", name="ada", record_to=rec / "seg",
                          env_kwargs={"terminate_on_success": False}, seed=0) as url:
        open_(url)
        page.wait_for_function("document.getElementById('scene').complete")
        box = page.query_selector("#scene").bounding_box()
        inside, outside = object_points("palaestra/Segmentation-v0", seed=0)
        for (fx, fy), button in ((inside, "left"), (outside, "right")):
            before = int(page.get_attribute("body", "data-renders"))
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"], button=button)
            _wait(page, before)
        _click(page, "#finish")  # the end: the IoU reached, Finish greyed out
        page.wait_for_function("document.getElementById('scene').complete")
        page.screenshot(path=str(out))


def _tools(page, open_, out, rec):
    from .web import BackgroundServer

    with BackgroundServer("palaestra/ToolUse-v0", name="ada", record_to=None, seed=0,
                          env_kwargs={"tier": "single"}) as url:
        open_(url)
        page.fill('.tools input[name="expression"]', "round((51 * 2 + 918) / 10, 2)")
        _click(page, ".tools button[type=submit]")
        page.fill("#answer", "102.0")
        page.screenshot(path=str(out))


def _webshop_browser(page, open_, out, rec):
    from .web import BackgroundServer

    with BackgroundServer("palaestra/WebShop-v0", name="ada", record_to=None, seed=0,
                          env_kwargs={"mode": "browser"}) as url:
        page.set_viewport_size({"width": 1400, "height": 820})
        open_(url)
        _click(page, '.livepage .hit[data-id="6"]')  # the search box
        page.fill("#page-text", "elastic waist floral print dress")
        _click(page, "#page-enter")
        page.wait_for_function("document.getElementById('page').complete && document.getElementById('page').naturalWidth > 0")
        page.hover('.livepage .hit[data-id="7"]')  # a hover outlines the element a click would act on
        page.screenshot(path=str(out))
        page.set_viewport_size({"width": 1180, "height": 760})


def terminal_html(width: int = 100) -> str:
    """Two chess moves as Black in the terminal player, as the terminal shows them (HTML)."""
    import io

    from rich.console import Console

    from .terminal import play_terminal

    console = Console(record=True, file=io.StringIO(), width=width, force_terminal=True, color_system="truecolor")
    script = ["e7e5", "quit"]
    play_terminal("palaestra/Chess-v0", name="ada", record_to=None, seed=1, env_kwargs={"agent_player": 1},
                  input_fn=lambda prompt: (console.print(prompt + (script[0] if script else "")), script.pop(0))[1],
                  console=console)
    return console.export_html(inline_styles=True, code_format=(
        "<html><head><meta charset='utf-8'><style>body {{ margin: 0; background: {background}; color: {foreground}; }}"
        " pre {{ margin: 14px; font: 14px/1.25 'DejaVu Sans Mono', monospace; }}</style></head>"
        "<body><pre>{code}</pre></body></html>"))


def _terminal(page, open_, out, rec):
    page.set_content(terminal_html())
    height = page.evaluate("document.body.scrollHeight")
    page.set_viewport_size({"width": 900, "height": min(1600, int(height))})
    page.screenshot(path=str(out), full_page=True)
    page.set_viewport_size({"width": 1180, "height": 760})


#: every player screenshot, by file name (the README shows some of them)
SHOTS = {
    "play_connect_four.png": _connect_four,
    "play_chess.png": _chess,
    "play_segmentation.png": _segmentation,
    "play_tools.png": _tools,
    "play_webshop_browser.png": _webshop_browser,
    "play_terminal.png": _terminal,
}


def shoot(out: str | Path, only: list[str] | None = None) -> list[Path]:
    """Regenerate the player screenshots (all of :data:`SHOTS`, or the names in ``only``) in ``out``."""
    from playwright.sync_api import sync_playwright

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(SHOTS) if only is None else list(only)
    unknown = [n for n in names if n not in SHOTS]
    if unknown:
        raise ValueError(f"no screenshot named {unknown}: choose from {sorted(SHOTS)}")
    rec = Path(tempfile.mkdtemp(prefix="palaestra-shots-"))
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1180, "height": 760})

                def open_(url):
                    page.goto(url)
                    page.wait_for_function("Number(document.body.dataset.renders) >= 1")

                for name in names:
                    SHOTS[name](page, open_, out / name, rec)
                    written.append(out / name)
            finally:
                browser.close()
    finally:
        shutil.rmtree(rec, ignore_errors=True)
    return written


if __name__ == "__main__":
    for path in shoot(sys.argv[1] if len(sys.argv) > 1 else "docs", sys.argv[2:] or None):
        print(path)
