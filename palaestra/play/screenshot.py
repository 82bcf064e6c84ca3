"""Screenshots of the play page in headless Chromium (``python -m palaestra.play.screenshot docs``).

Writes ``play_connect_four.png``, ``play_chess.png``, ``play_segmentation.png``,
``play_tools.png`` and ``play_webshop_browser.png`` into the folder given (the README
shows them).
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


def shoot(out: str | Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from .web import BackgroundServer

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rec = Path(tempfile.mkdtemp(prefix="palaestra-shots-"))
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = browser.new_page(viewport={"width": 1180, "height": 760})

        def open_(url):
            page.goto(url)
            page.wait_for_function("Number(document.body.dataset.renders) >= 1")

        with BackgroundServer("palaestra/ConnectFour-v0", name="ada", record_to=rec / "c4",
                              env_kwargs={"agent_player": 0}, seed=1) as url:
            open_(url)
            for col in (3, 3, 4, 2):
                _click(page, f'.board [data-row="0"][data-col="{col}"]')
            page.screenshot(path=str(out / "play_connect_four.png"))
            written.append(out / "play_connect_four.png")
        with BackgroundServer("palaestra/Chess-v0", name="ada", record_to=rec / "chess",
                              env_kwargs={"agent_player": 0}, seed=1) as url:
            open_(url)
            page.click('[data-square="e2"]')  # from ...
            _click(page, '[data-square="e4"]')  # ... to: e2e4
            page.click('[data-square="g1"]')  # select a knight: its targets show
            page.screenshot(path=str(out / "play_chess.png"))
            written.append(out / "play_chess.png")
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
            page.wait_for_function("document.getElementById('scene').complete")
            page.screenshot(path=str(out / "play_segmentation.png"))
            written.append(out / "play_segmentation.png")
        with BackgroundServer("palaestra/ToolUse-v0", name="ada", record_to=None, seed=0,
                              env_kwargs={"tier": "single"}) as url:
            open_(url)
            page.fill('.tools input[name="expression"]', "round((51 * 2 + 918) / 10, 2)")
            _click(page, ".tools button[type=submit]")
            page.fill("#answer", "102.0")
            page.screenshot(path=str(out / "play_tools.png"))
            written.append(out / "play_tools.png")
        with BackgroundServer("palaestra/WebShop-v0", name="ada", record_to=None, seed=0,
                              env_kwargs={"mode": "browser"}) as url:
            page.set_viewport_size({"width": 1400, "height": 820})
            open_(url)
            _click(page, '.livepage .hit[data-id="6"]')  # the search box
            page.fill("#page-text", "elastic waist floral print dress")
            _click(page, "#page-enter")
            page.wait_for_function("document.getElementById('page').complete && document.getElementById('page').naturalWidth > 0")
            page.hover('.livepage .hit[data-id="7"]')  # a hover outlines the element a click would act on
            page.screenshot(path=str(out / "play_webshop_browser.png"))
            written.append(out / "play_webshop_browser.png")
        browser.close()
    shutil.rmtree(rec, ignore_errors=True)
    return written


if __name__ == "__main__":
    for path in shoot(sys.argv[1] if len(sys.argv) > 1 else "docs"):
        print(path)
