"""Web env ids (imports nothing heavy: the MiniWoB++ task list is read from the
``miniwob`` package's html folder without importing the package)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from palaestra.registration import EnvInfo


def miniwob_html_dir() -> Path | None:
    """The ``html/`` folder of the installed ``miniwob`` package (None if not installed)."""
    spec = importlib.util.find_spec("miniwob")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        html = Path(location) / "html"
        if (html / "miniwob").is_dir():
            return html
    return None


def miniwob_tasks() -> list[str]:
    html = miniwob_html_dir()
    if html is None:
        return []
    return sorted(p.stem for p in (html / "miniwob").glob("*.html"))


def env_infos() -> list[EnvInfo]:
    infos = [
        EnvInfo(
            "palaestra/WebShop-v0",
            "palaestra.envs.web.webshop:WebShopEnv",
            "WebShop-style shopping: text mode (no browser) or mode='browser' (Chromium via Playwright).",
            "web",
        ),
        EnvInfo(
            "palaestra/Booking-v0",
            "palaestra.envs.web.booking_env:BookingEnv",
            "Restaurant booking (Agent Q's OpenTable setting): search, date/time/party pickers, sign-in, a form; text mode.",
            "web",
        ),
    ]
    for task in miniwob_tasks():
        infos.append(
            EnvInfo(
                f"palaestra/miniwob.{task}-v0",
                "palaestra.envs.web.miniwob:MiniWoBEnv",
                f"MiniWoB++ task '{task}' in Chromium (pages from the miniwob package).",
                "web",
                kwargs={"task": task},
                system=("chromium",),
            )
        )
    return infos
