"""One person's play session behind the web page: the env, undo, the recording.

Not thread-safe by itself: the web server runs every call on one worker thread
(Playwright-backed envs need that too).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from palaestra.core import InvalidAction

from .boards import game_view
from .terminal import make_env

MAX_LEGAL_BUTTONS = 400
INTERACTIVE = {"link", "button", "textbox", "searchbox", "checkbox", "radio", "combobox", "option", "tab",
               "menuitem", "switch", "spinbutton", "slider", "listbox"}
SCALE = 1000  # image clicks are sent on the 0-999 scale of the click envs
LABELS = {"iou": "IoU"}
END_INFO_SKIP = {"action_mask", "image", "task_id", "invalid_action", "success", "clickables", "to_play"}


class PlaySession:
    def __init__(self, env_id: str, name: str = "anonymous", env_kwargs: dict | None = None,
                 record_to: str | Path | None = None, seed: int = 0, options: dict | None = None):
        self.env_id = env_id
        self.name = name
        self.record_to = Path(record_to) if record_to is not None else None
        self.env = make_env(env_id, env_kwargs, record_to, agent_name=f"human:{name}")
        self.base = self.env.unwrapped
        self.recorder = self.env if hasattr(type(self.env), "rewind") else None
        self.seed = int(seed)
        self.options = dict(options) if options else None  # reset options, e.g. {"fen": ...} in chess
        self.results: list[dict] = []
        self.image_version = 0
        self.new_episode(self.seed)

    # ---- episode -------------------------------------------------------------------
    def new_episode(self, seed: int | None = None) -> dict:
        dropped = None
        if getattr(self, "steps", 0) and not self.done:  # an unfinished episode is never written
            dropped = (f"The unfinished episode (seed {self.seed}, {self.steps} step(s)) was not recorded."
                       if self.recorder is not None else None)
        if seed is not None:
            self.seed = int(seed)
        obs, info = self.env.reset(seed=self.seed, options=self.options)
        self.observation, self.info = obs, info
        self.ret, self.steps, self.done, self.truncated = 0.0, 0, False, False
        self.history: list[tuple[object, int, tuple]] = []
        self.message = dropped or ""
        self.focused = None
        self.image_version += 1
        return self.state()

    def next_episode(self) -> dict:
        return self.new_episode(self.seed + 1)

    def act(self, text: str) -> dict:
        text = (text or "").strip()
        if self.done:
            self.message = "The episode is over: start a new one."
            return self.state()
        if not text:
            self.message = "Type an action (see the instructions)."
            return self.state()
        try:  # check first: a typo or an illegal click costs no step
            native = self.base.parse_action(text)
            if self.base.legal_actions() is not None:
                self.base.check_action(native)
        except InvalidAction as err:
            self.message = f"Not accepted: {err}"
            return self.state()
        snap = self.base.get_state()
        in_flight = self.recorder.steps_in_flight if self.recorder is not None else self.steps
        self.history.append((snap, in_flight, (self.observation, self.info, self.ret, self.steps)))
        obs, reward, terminated, truncated, info = self.env.step(text)
        self.observation, self.info = obs, info
        self.ret += float(reward)
        self.steps += 1
        self.image_version += 1
        self.message = info.get("invalid_action", "") and f"Not accepted: {info['invalid_action']}"
        if terminated or truncated:
            self.done, self.truncated = True, bool(truncated and not terminated)
            success = bool(info.get("success", False))
            self.results.append({"seed": self.seed, "return": self.ret, "steps": self.steps, "success": success})
            view = self._board_view()
            end = f"{view['end']} " if view and view.get("end") else ""
            figures = "".join(f" {LABELS.get(k, k)} {v:.3f}." if isinstance(v, float) else "" for k, v in self._end_info().items())
            self.message = (("Success! " if success else "Episode over. ") + end
                            + f"Return {self.ret:+.3f} in {self.steps} steps." + figures)
            if self.recorder is not None:
                self.message += f" Recorded in {self.record_to}."
        return self.state()

    def click_image(self, fx: float, fy: float, positive: bool) -> dict:
        """A click on the image at fractions (fx, fy) of its width/height -> a point action."""
        x = min(SCALE - 1, max(0, int(float(fx) * SCALE)))
        y = min(SCALE - 1, max(0, int(float(fy) * SCALE)))
        text = self.base.format_action(np.array([x, y, 1 if positive else 0], dtype=np.int64))
        return self.act(text)

    # ---- browser-mode web envs: the person clicks and types on the live page ----------------
    def _browser_tab(self):
        """The env's Playwright tab where it exposes one (browser-mode web envs), else None."""
        tab = getattr(self.base, "_tab", None)
        if tab is not None and hasattr(tab, "ids") and hasattr(tab, "page"):
            return tab
        return None

    def page_png(self) -> bytes:
        return self._browser_tab().page.screenshot(type="png")

    def _boxes(self) -> list[dict]:
        """Every element of the latest observation with its box on the page (viewport pixels)."""
        tab = self._browser_tab()
        roles = {node.id: (node.role, node.name) for node in getattr(tab, "nodes", [])}
        out = []
        for n, ref in tab.ids.items():
            try:
                box = tab.page.locator(f"aria-ref={ref}").bounding_box(timeout=300)
            except Exception:  # noqa: BLE001 - detached or hidden: not on screen
                continue
            if box and box["width"] > 0 and box["height"] > 0:
                role, name = roles.get(n, ("", ""))
                out.append({"id": n, "role": role, "name": name or "",
                            "box": [box["x"], box["y"], box["width"], box["height"]]})
        return out

    def element_at(self, fx: float, fy: float) -> int | None:
        """The id (as in ``click(N)``) of the element under a point of the page: the
        smallest interactive one (link, button, field...) there, else the smallest."""
        tab = self._browser_tab()
        size = tab.page.viewport_size or {"width": 1024, "height": 768}
        x, y = float(fx) * size["width"], float(fy) * size["height"]
        hook = getattr(self.base, "element_at", None)  # a public hook, if the env offers one
        if callable(hook):
            return hook(x, y)
        under = [e for e in self._boxes()
                 if e["box"][0] <= x <= e["box"][0] + e["box"][2] and e["box"][1] <= y <= e["box"][1] + e["box"][3]]
        if not under:
            return None
        interactive = [e for e in under if e["role"] in INTERACTIVE]
        pick = min(interactive or under, key=lambda e: e["box"][2] * e["box"][3])
        return pick["id"]

    def click_page(self, fx: float, fy: float) -> dict:
        """A click on the page's picture -> ``click(N)`` for the element under it."""
        if self._browser_tab() is None:
            self.message = "This env has no live page to click on."
            return self.state()
        n = self.element_at(fx, fy)
        if n is None:
            self.message = "Nothing to act on there: click a link, a button or a field."
            return self.state()
        self.focused = n
        return self.act(f"click({n})")

    def type_page(self, text: str, enter: bool = False) -> dict:
        """Typing -> ``fill(N, "text")`` into the last clicked field (then ``press("Enter")``)."""
        n = getattr(self, "focused", None)
        if n is None:
            self.message = "Click the text field first, then type."
            return self.state()
        state = self.act(f"fill({n}, {json.dumps(text)})")
        if enter and not self.message.startswith("Not accepted") and not self.done:
            state = self.act('press("Enter")')
        return state

    def undo(self) -> dict:
        if self.done and self.recorder is not None:
            self.message = "This episode is over and recorded; start a new episode (undo works while you play)."
            return self.state()
        if not self.history:
            self.message = "Nothing to undo."
            return self.state()
        if self.done:  # not recording: take back the last move of a finished episode
            self.done = self.truncated = False
            if self.results:
                self.results.pop()
        snap, in_flight, (obs, info, ret, steps) = self.history.pop()
        self.base.set_state(snap)
        if self.recorder is not None:
            self.recorder.rewind(in_flight)
        self.observation, self.info, self.ret, self.steps = obs, info, ret, steps
        self.image_version += 1
        self.message = "Undone."
        return self.state()

    # ---- views ---------------------------------------------------------------------
    def _legal(self) -> list[str] | None:
        if self.done:
            return []
        legal = self.base.legal_actions()
        if legal is None:
            return None
        return [self.base.format_action(a) for a in legal]

    def _board_view(self) -> dict | None:
        ui_state = getattr(self.base, "ui_state", None)
        ui = ui_state() if callable(ui_state) else None
        if not isinstance(ui, dict) or not ui.get("cells"):
            return None
        return game_view(ui, outcome=self.info.get("outcome"), truncated=self.truncated)

    def _end_info(self) -> dict:
        """The episode's end info a person reads (IoU, clicks, outcome...): scalars only."""
        if not self.done:
            return {}
        return {k: v for k, v in self.info.items() if k not in END_INFO_SKIP
                and isinstance(v, (bool, int, float, str)) and not isinstance(v, np.ndarray)
                and (not isinstance(v, str) or len(v) <= 80)}

    def report(self) -> dict:
        """What was and was not recorded (said when the server stops)."""
        return {"record_to": str(self.record_to) if self.record_to is not None else None,
                "recorded": getattr(self.recorder, "episodes_written", 0) if self.recorder is not None else 0,
                "finished": [r["seed"] for r in self.results],
                "in_flight": None if self.done or self.steps == 0 else {"seed": self.seed, "steps": self.steps}}

    def state(self) -> dict:
        base = self.base
        legal = self._legal()
        ui_state = getattr(base, "ui_state", None)
        tools = getattr(base, "tool_schemas", None)
        image = getattr(base, "image", None)
        img = image() if callable(image) else None
        has_image = img is not None and self._browser_tab() is None
        task = getattr(base, "task", None)
        return {
            "env_id": self.env_id,
            "player": self.name,
            "seed": self.seed,
            "goal": getattr(task, "goal", None) or "",
            "task_id": getattr(task, "id", None),
            "instructions": getattr(base, "instructions", ""),
            "observation": self.observation if isinstance(self.observation, str) else base.render_text(),
            "legal": legal if legal is None or len(legal) <= MAX_LEGAL_BUTTONS else None,
            "legal_count": None if legal is None else len(legal),
            "board": ui_state() if callable(ui_state) else None,
            "board_view": self._board_view(),
            "end_info": self._end_info() or None,
            "image": {"version": self.image_version, "height": int(img.shape[0]), "width": int(img.shape[1])}
            if has_image else None,
            "point_clicks": has_image and _takes_points(base),
            "tools": tools() if callable(tools) else None,
            # text-mode web pages: bracketed labels become buttons, search[...] a search box
            "clickables": list(self.info.get("clickables") or []) or None,
            "search_box": "search[" in (getattr(base, "instructions", "") or ""),
            "page_view": self._page_view(),
            "done": self.done,
            "return": self.ret,
            "steps": self.steps,
            "success": bool(self.info.get("success", False)) if self.done else None,
            "message": self.message,
            "can_undo": bool(self.history) and not (self.done and self.recorder is not None),
            "recording": str(self.record_to) if self.record_to is not None else None,
            "recorded": getattr(self.recorder, "episodes_written", 0) if self.recorder is not None else 0,
            "results": self.results[-20:],
        }

    def _page_view(self):
        tab = self._browser_tab()
        if tab is None or getattr(tab, "page", None) is None:
            return None
        size = tab.page.viewport_size or {"width": 1024, "height": 768}
        elements = [e for e in self._boxes() if e["role"] in INTERACTIVE]
        return {"version": self.image_version, "width": size["width"], "height": size["height"],
                "focused": getattr(self, "focused", None), "elements": elements}

    def image_png(self) -> bytes:
        from PIL import Image

        arr = np.asarray(self.base.image(), dtype=np.uint8)
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="PNG")
        return buf.getvalue()

    def close(self) -> None:
        self.env.close()


def _takes_points(base) -> bool:
    """Envs whose native action is ``(x, y, kind)`` on the 0-999 scale (click-to-mask)."""
    space = getattr(base, "action_space", None)
    nvec = getattr(space, "nvec", None)
    return nvec is not None and list(np.asarray(nvec).ravel()) == [SCALE, SCALE, 3]
