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


#: the FlightWoB tasks the miniwob package registers (miniwob/flight.<name>-v1): real
#: airline pages in an iframe of a wrapper page that scores the submitted form
FLIGHT_TASKS = ("flight.AA", "flight.Alaska", "flight.Alaska-auto")


def miniwob_tasks() -> list[str]:
    """The MiniWoB++ pages (BrowserGym's names: ``click-test``...) and the 3 flight tasks."""
    html = miniwob_html_dir()
    if html is None:
        return []
    pages = sorted(p.stem for p in (html / "miniwob").glob("*.html"))
    flights = [t for t in FLIGHT_TASKS if (html / "flight" / t.split(".", 1)[1] / "wrapper.html").is_file()]
    return pages + flights


def miniwob_task_path(task: str) -> str:
    """The path of a task's page under the miniwob html folder."""
    if task.startswith("flight."):
        return f"/flight/{task.split('.', 1)[1]}/wrapper.html"
    return f"/miniwob/{task}.html"


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
