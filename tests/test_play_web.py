"""The web player in a real headless Chromium: a person plays by clicking."""

from __future__ import annotations

import os
import shutil
import signal

import gymnasium as gym
import numpy as np
import pytest

import palaestra  # noqa: F401
from palaestra.play.web import BackgroundServer
from palaestra.recordings import load

pytestmark = pytest.mark.browser

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS, headless=True)
        yield b
        b.close()


def renders(page) -> int:
    return int(page.get_attribute("body", "data-renders"))


def click_and_wait(page, selector, **kwargs):
    before = renders(page)
    page.click(selector, **kwargs)
    page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")


def test_connect_four_by_clicking_the_board(browser, tmp_path):
    with BackgroundServer("palaestra/ConnectFour-v0", name="clicker", record_to=tmp_path,
                          env_kwargs={"agent_player": 0}, seed=3) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        assert "Win the game of connect four" in page.inner_text("#goal")
        # a click, then undo from the page, then play the game out column by column
        click_and_wait(page, '.board [data-row="0"][data-col="0"]')
        assert page.get_attribute("body", "data-steps") == "1"
        click_and_wait(page, "#undo")
        assert page.get_attribute("body", "data-steps") == "0"
        clicked = []
        for _ in range(30):
            if page.get_attribute("body", "data-done") == "true":
                break
            legal = [b.get_attribute("data-action") for b in page.query_selector_all("#legal button.legal")]
            col = legal[len(clicked) % len(legal)]
            clicked.append(col)
            click_and_wait(page, f'.board [data-row="5"][data-col="{int(col) - 1}"]')
            assert "connect four" in page.inner_text("#goal").lower()  # the task's goal, not a placeholder
            assert page.is_visible("#goal")  # the goal stays in view
        assert page.get_attribute("body", "data-done") == "true"
        assert page.get_attribute("body", "data-recorded") == "1"
        assert page.inner_text("#side-label").startswith("You play first (x)")  # which side is mine
        status = page.inner_text("#message")
        end = page.inner_text("#board-info")
        wins = [(int(c.get_attribute("data-row")), int(c.get_attribute("data-col")))
                for c in page.query_selector_all(".board .cell.win")]
        assert "Four in a row" in end and end in status  # seed 3's game ends on a four
        assert len(wins) >= 4 and len({page.get_attribute(f'.board [data-row="{r}"][data-col="{c}"]', "class")
                                       for r, c in wins}) == 1  # the highlighted four are one colour
        page.fill("#seed", "7")
        click_and_wait(page, "#new")
        assert "seed 7" in page.inner_text("#who") and page.get_attribute("body", "data-steps") == "0"
        page.close()
    (ep,) = load(tmp_path)
    assert ep.agent == "human:clicker" and ep.seed == 3
    assert ep.actions == clicked  # the undone click is not in the recording
    assert ep.steps[-1].terminated and ("Success" in status) == ep.success


def _object_point(seed: int):
    """A pixel inside and one outside the target object, as fractions of the image."""
    env = gym.make("palaestra/Segmentation-v0")
    env.reset(seed=seed)
    mask = env.unwrapped.sample.mask
    h, w = mask.shape
    from scipy import ndimage

    dist = ndimage.distance_transform_edt(mask)
    y, x = np.unravel_index(np.argmax(dist), mask.shape)
    outside = np.argwhere(ndimage.distance_transform_edt(~mask.astype(bool)) > 6)
    oy, ox = outside[len(outside) // 2]
    return ((x + 0.5) / w, (y + 0.5) / h), ((ox + 0.5) / w, (oy + 0.5) / h)


def test_segmentation_by_clicking_the_image(browser, tmp_path):
    (fx, fy), (gx, gy) = _object_point(seed=0)
    with BackgroundServer("palaestra/Segmentation-v0", name="clicker", record_to=tmp_path, seed=0,
                          env_kwargs={"terminate_on_success": False}) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        page.wait_for_function("document.getElementById('scene') && document.getElementById('scene').complete "
                               "&& document.getElementById('scene').width > 200")
        box = page.query_selector("#scene").bounding_box()
        before = renders(page)
        page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"], button="left")
        page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
        before = renders(page)
        page.mouse.click(box["x"] + gx * box["width"], box["y"] + gy * box["height"], button="right")
        page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
        assert "Clicks so far (2 of" in page.inner_text("#obs")
        click_and_wait(page, "#finish")
        assert page.get_attribute("body", "data-done") == "true"
        shown_iou = float(page.inner_text('#end-info [data-key="iou"] td'))  # the IoU reached, after Finish
        assert f"IoU {shown_iou:.3f}" in page.inner_text("#message")
        assert page.is_disabled("#finish")  # nothing to finish after the end
        page.close()
    (ep,) = load(tmp_path)
    assert ep.agent == "human:clicker"
    assert [a.split(":")[0] for a in ep.actions] == ["Positive point", "Negative point", "Finish"]
    x, y = (int(v) for v in ep.actions[0].split("(")[1].rstrip(")").split(","))
    assert abs(x - fx * 1000) <= 8 and abs(y - fy * 1000) <= 8  # (x, y) = (column, row) on 0-999
    assert ep.steps[1].info["iou"] > 0.5 and ep.final_image and ep.image_path(0).is_file()
    assert abs(shown_iou - ep.steps[-1].info["iou"]) < 5e-4  # the page shows the episode's end info


def test_tool_form_builds_a_call(browser, tmp_path):
    with BackgroundServer("palaestra/ToolUse-v0", name="clicker", record_to=tmp_path, seed=0,
                          env_kwargs={"tier": "single"}) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        names = [o.get_attribute("value") for o in page.query_selector_all("#tool option")]
        assert len(names) >= 3
        page.select_option("#tool", names[0])
        for field in page.query_selector_all(".tools .field input"):
            field.fill("1")
        click_and_wait(page, ".tools button[type=submit]")
        accepted = page.get_attribute("body", "data-steps") == "1"
        assert accepted or "Not accepted" in page.inner_text("#message")
        page.fill("#answer", "I do not know.")
        click_and_wait(page, "#answer-send")
        assert page.get_attribute("body", "data-done") == "true"
        page.close()
    (ep,) = load(tmp_path)
    import json

    assert json.loads(ep.actions[-1]) == {"answer": "I do not know."}
    if accepted:
        assert json.loads(ep.actions[0])["name"] == names[0] and len(ep.actions) == 2


def test_chess_from_to_squares_and_hex_cells(browser, tmp_path):
    with BackgroundServer("palaestra/Chess-v0", name="clicker", record_to=tmp_path / "chess",
                          env_kwargs={"agent_player": 0}, seed=2) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        page.click('[data-square="g1"]')
        assert page.get_attribute("body", "data-selected") == "g1"
        assert {e.get_attribute("data-square") for e in page.query_selector_all(".sq.target")} == {"f3", "h3"}
        click_and_wait(page, '[data-square="f3"]')
        assert page.get_attribute("body", "data-steps") == "1"
        assert "♘" in page.inner_text('[data-square="f3"]')
        page.click('[data-square="e7"]')  # a black piece: no legal move starts there
        assert "No legal move starts on e7" in page.inner_text("#message")
        page.close()
    # as Black: the board is seen from Black's side, the last move is marked, the end says how it ended
    fools_mate = "rnbqkbnr/pppp1ppp/8/4p3/6P1/5P2/PPPPP2P/RNBQKBNR b KQkq g3 0 2"
    with BackgroundServer("palaestra/Chess-v0", name="clicker", record_to=None,
                          env_kwargs={"agent_player": 1}, options={"fen": fools_mate}) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        assert page.inner_text("#side-label").startswith("You play Black")
        squares = [e.get_attribute("data-square") for e in page.query_selector_all(".board.chess .sq")]
        assert squares[0] == "h1" and squares[-1] == "a8"  # rank 1 on top, as Black sees it
        page.click('[data-square="d8"]')
        click_and_wait(page, '[data-square="h4"]')
        assert {e.get_attribute("data-square") for e in page.query_selector_all(".sq.last")} == {"d8", "h4"}
        assert page.inner_text("#board-info").startswith("Checkmate: Black wins. You won.")
        assert "Game over." not in page.inner_text("#board-info")
        page.close()
    with BackgroundServer("palaestra/Hex-v0", name="clicker", record_to=tmp_path / "hex",
                          env_kwargs={"board_size": 5, "agent_player": 0}, seed=0) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        click_and_wait(page, '[data-cell="c3"]')
        assert "x" in page.get_attribute('[data-cell="c3"]', "class")
        page.close()
    # episodes still in flight are not recorded; the recorder holds no partial line
    assert list(load(tmp_path)) == []


def test_webshop_text_page_by_search_box_and_buttons(browser, tmp_path):
    """A person shops with the search box and the page's buttons, as the oracle would."""
    env = gym.make("palaestra/WebShop-v0", text=True)
    env.reset(seed=0)
    plan = env.unwrapped.oracle_plan()
    env.close()
    with BackgroundServer("palaestra/WebShop-v0", name="shopper", record_to=tmp_path, seed=0) as url:
        page = browser.new_page()
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        for action in plan:
            verb, arg = action[:-1].split("[", 1)
            if verb == "search":
                page.fill("#search", arg)
                click_and_wait(page, "#search-go")
            else:
                click_and_wait(page, f'button.clickable[data-label="{arg}"]')
        assert page.get_attribute("body", "data-done") == "true"
        assert "Success" in page.inner_text("#message")
        page.close()
    (ep,) = load(tmp_path)
    assert ep.actions == plan and ep.success and ep.agent == "human:shopper"


def test_cli_play_web_serves_on_localhost(tmp_path):
    """`palaestra play ID --ui web` as a real process: the page and the API answer on 127.0.0.1."""
    import subprocess
    import sys
    import time

    import httpx

    from palaestra.play.web import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from palaestra.cli import main; main()", "play", "palaestra/ConnectFour-v0", "--ui", "web",
                             "--no-open", "--port", str(port), "--out", str(tmp_path), "--name", "web"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                state = httpx.get(url + "/api/state", timeout=1).json()
                break
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.1)
        assert state["env_id"] == "palaestra/ConnectFour-v0" and state["player"] == "web"
        assert "palaestra play" in httpx.get(url + "/").text
        after = httpx.post(url + "/api/act", json={"action": "4"}).json()
        assert after["steps"] == 1 and after["recording"] == str(tmp_path)
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the server says what was and was not recorded
        out = " ".join(proc.communicate(timeout=30)[0].split())
        assert f"nothing recorded in {tmp_path}: no episode was finished" in out, out
        assert "The episode in flight (seed 0, 1 step(s)) is not recorded." in out, out
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=20)


def test_cli_play_web_fails_clearly_when_the_port_is_taken(tmp_path):
    """A taken port: a message saying what to do, and no URL printed before it."""
    import socket
    import subprocess
    import sys

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        res = subprocess.run([sys.executable, "-c", "from palaestra.cli import main; main()", "play",
                              "palaestra/ConnectFour-v0", "--ui", "web", "--no-open", "--port", str(port),
                              "--out", str(tmp_path)], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 2, res.stdout + res.stderr
    assert f"port {port} on 127.0.0.1 is taken" in res.stderr and "--port" in res.stderr
    assert "http://" not in res.stdout + res.stderr  # the URL is never printed for a port it cannot serve


@pytest.mark.slow
def test_webshop_browser_mode_by_clicking_and_typing_on_the_live_page(browser, tmp_path):
    """Browser mode: clicks on the page's picture become click(N), typing fill(N, ...)."""
    from concurrent.futures import ThreadPoolExecutor

    def oracle():  # its own thread: this one already runs the test's Playwright
        env = gym.make("palaestra/WebShop-v0", text=True, mode="browser")
        env.reset(seed=0)
        try:
            return env.unwrapped.oracle_plan()
        finally:
            env.close()

    with ThreadPoolExecutor(1) as pool:
        plan = pool.submit(oracle).result()
    expected = []
    with BackgroundServer("palaestra/WebShop-v0", name="shopper", record_to=tmp_path, seed=0,
                          env_kwargs={"mode": "browser"}) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)
        page.wait_for_function("Number(document.body.dataset.renders) >= 1")
        i = 0
        while i < len(plan):
            action = plan[i]
            n = action[action.index("(") + 1:].split(",")[0].rstrip(")")
            if action.startswith("fill("):
                click_and_wait(page, f'.livepage .hit[data-id="{n}"]')
                text = action.split(", ", 1)[1][1:-2]
                page.fill("#page-text", text)
                enter = i + 1 < len(plan) and plan[i + 1] == 'press("Enter")'
                before = renders(page)
                page.click("#page-enter" if enter else "#page-type")
                page.wait_for_function(f"Number(document.body.dataset.renders) > {before}")
                expected += [f"click({n})", action] + (['press("Enter")'] if enter else [])
                i += 2 if enter else 1
            else:
                click_and_wait(page, f'.livepage .hit[data-id="{n}"]')
                expected.append(action)
                i += 1
        assert page.get_attribute("body", "data-done") == "true", page.inner_text("#message")
        page.close()
    (ep,) = load(tmp_path)
    assert ep.actions == expected and ep.success


@pytest.mark.slow
def test_screenshot_script_regenerates_every_player_screenshot_the_readme_shows(tmp_path):
    """The README's player pictures all come from palaestra.play.screenshot, from the current UI."""
    import re
    from pathlib import Path

    from PIL import Image

    from palaestra.play.screenshot import SHOTS, shoot

    root = Path(__file__).resolve().parents[1]
    shown = set(re.findall(r"docs/(play_[a-z_]+\.png)", (root / "README.md").read_text()))
    assert shown and shown <= set(SHOTS), shown - set(SHOTS)
    written = shoot(tmp_path, only=sorted(shown))
    assert [p.name for p in written] == sorted(shown)
    for path in written:
        fresh = Image.open(path)
        committed = Image.open(root / "docs" / path.name)
        assert fresh.format == "PNG" and fresh.size == committed.size, path.name
        assert len(set(fresh.convert("L").getdata())) > 20  # a real picture, not a blank page
