"""``palaestra/miniwob.<task>-v0``: the MiniWoB++ pages of the ``miniwob`` package in Chromium."""

from __future__ import annotations

import random

from palaestra.core import FreeText, InvalidAction, MissingDependency, PalaestraEnv, Task

from .ids import miniwob_html_dir, miniwob_tasks
from .resources import close_quietly, release_browser
from .spaces import WebActionSpace
from .webshop import BROWSER_INSTRUCTIONS

_START_JS = """(seed) => {
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = 1e9;  // no wall-clock timeout: the env counts steps instead
  core.startEpisodeReal();
  core.clearTimer();  // the countdown display would make observations depend on the clock
}"""
_RESULT_JS = """() => ({done: WOB_DONE_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL, reward: WOB_REWARD_GLOBAL,
                    reason: (WOB_REWARD_REASON === null || WOB_REWARD_REASON === undefined) ? null : String(WOB_REWARD_REASON)})"""
_UTTERANCE_JS = """() => { const u = core.getUtterance(); return typeof u === 'string' ? u : (u.utterance || JSON.stringify(u)); }"""

_SERVERS: dict = {}


def miniwob_app():
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    html = miniwob_html_dir()
    if html is None:
        raise MissingDependency("The Python package 'miniwob' (its html/ pages)", "pip install --no-deps miniwob==1.1.0")
    return Starlette(routes=[Mount("/", StaticFiles(directory=str(html)))])


class MiniWoBEnv(PalaestraEnv):
    """A MiniWoB++ task page (from the ``miniwob`` package) in a real Chromium.

    ## Description
    The page ``miniwob/<task>.html`` is served from 127.0.0.1 by the env's own server
    and opened in the env's own Chromium (Debian's, via Playwright's sync API). Reset
    seeds the page's generator (``Math.seedrandom(seed)``) and starts the episode
    (``core.startEpisodeReal()``) with MiniWoB's wall-clock limit switched off.

    ## Action Space
    The browser grammar (``WebActionSpace`` text): ``click(N)``, ``fill(N, "text")``,
    ``select(N, "option")``, ``press("Enter")``, ``scroll(up|down)``, ``go_back()``,
    ``goto("/path")`` (this origin only), ``stop("answer")``. Unknown or stale ids,
    hidden elements and malformed actions raise ``InvalidAction`` and change nothing;
    a timeout during an action is reported in the next observation.

    ## Observation Space
    ``FreeText``: the instruction (``core.getUtterance()``), URL, last action error and
    the accessibility tree (``page.aria_snapshot(mode="ai")``, ids renumbered per
    observation). ``image()`` gives a screenshot when ``screenshot=True``.

    ## Rewards
    Read from the page as MiniWoB defines it when the episode ends:
    ``WOB_RAW_REWARD_GLOBAL`` (in [-1, 1], no time penalty; ``reward="raw"``, default),
    ``WOB_REWARD_GLOBAL`` (``reward="time"``) or ``float(raw > 0)`` (``reward="binary"``,
    as BrowserGym). Success = raw reward > 0.

    ## Episode End
    Terminated when the page says ``WOB_DONE_GLOBAL`` or on ``stop(...)``; truncated
    after ``max_steps``.

    ## Arguments
    ``task`` (a page name, e.g. "click-test"), ``max_steps`` (20), ``reward``,
    ``screenshot`` (False), ``headless`` (True), ``timeout_ms`` (3000), ``render_mode``.

    ## Snapshots
    MiniWoB pages keep their state in page JavaScript, so ``get_state()`` holds the seed
    and the actions so far, and ``set_state()`` reloads the page, re-seeds and replays
    them (exact for the tasks whose pages draw only from the seeded generator).

    ## Threads
    As for ``WebShopEnv`` in browser mode: use the env from the thread that created it.

    ## Version History
    v0: first release.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, task: str = "click-test", max_steps: int = 20, reward: str = "raw", screenshot: bool = False,
                 headless: bool = True, timeout_ms: int = 3000, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        tasks = miniwob_tasks()
        if task not in tasks:
            raise ValueError(f"unknown MiniWoB++ task {task!r}; the miniwob package has: {', '.join(tasks[:20])}, ...")
        if reward not in ("raw", "time", "binary"):
            raise ValueError(f"reward={reward!r}: use 'raw', 'time' or 'binary'.")
        self.task_name, self.max_steps, self.reward_kind = task, int(max_steps), reward
        self.screenshot, self.headless, self.timeout_ms = bool(screenshot), bool(headless), int(timeout_ms)
        self.instructions = BROWSER_INSTRUCTIONS.replace(
            "You are shopping in a real web browser to satisfy an instruction.",
            "You solve a small web task (MiniWoB++) in a real web browser.",
        ).split("Buying ends")[0].rstrip() + "\nThe episode ends when the page says the task is done."
        self.observation_space = FreeText(1 << 20)
        self.action_space = WebActionSpace(self._sample_or_none)
        self._server = None
        self._browser = None
        self._tab = None
        self._restarted = False
        self._seed = 0
        self._actions: list[str] = []
        self._steps, self._done, self._reward, self._raw, self._error = 0, False, 0.0, 0.0, ""
        self._reason = None
        self._goal = ""
        self._obs = ""

    # ---- browser plumbing ----------------------------------------------------------------
    def _open(self, seed: int) -> None:
        from .browser import Browser
        from .server import BackgroundServer

        if self._server is None:
            self._server = BackgroundServer(miniwob_app()).start()
        if self._browser is None:
            self._browser = Browser(headless=self.headless)
        if self._tab is not None:
            self._tab.close()
            self._tab = None
        self._tab, self._restarted = self._browser.open_tab(
            self._server.origin, timeout_ms=self.timeout_ms, screenshot=self.screenshot
        )
        self._tab.page.goto(f"{self._server.origin}/miniwob/{self.task_name}.html", wait_until="load")
        self._tab.page.evaluate(_START_JS, str(seed))
        self._tab.page.wait_for_function("() => WOB_TASK_READY !== false", timeout=self.timeout_ms)
        self._tab.history = [self._tab.relative_url()]
        self._tab.refresh()
        self._goal = self._tab.page.evaluate(_UTTERANCE_JS)

    # ---- episode -------------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = dict(options or {})
        if "task" in options:
            name, _, s = str(options["task"]).rpartition(":")
            if name != f"miniwob.{self.task_name}" or not s.isdigit():
                raise ValueError(f"task id {options['task']!r} is not of the form 'miniwob.{self.task_name}:<seed>'.")
            self._seed = int(s)
        else:
            self._seed = int(self.np_random.integers(2**31))
        self._open(self._seed)
        self._actions = []
        self._steps, self._done, self._reward, self._raw, self._error, self._reason = 0, False, 0.0, 0.0, "", None
        self.task = self._make_task()
        self._render()
        return self._obs, self._info()

    def step(self, action):
        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._tab is None:
            raise InvalidAction("Call reset() before step().")
        action = self.parse_action(action)
        self._apply(action)
        self._actions.append(action)
        self._steps += 1
        terminated = self._done
        reward = self._reward if terminated else 0.0
        truncated = not terminated and self._steps >= self.max_steps
        if truncated:
            self._done = True
        self._render()
        return self._obs, float(reward), terminated, truncated, self._info()

    def _apply(self, action: str) -> None:
        if action.startswith("stop("):
            self._done = True
            self._error = ""
        else:
            self._error = self._tab.act(action) or ""
        result = self._tab.page.evaluate(_RESULT_JS)
        if result["done"]:
            self._done = True
        if self._done:
            raw = float(result["raw"]) if result["done"] else 0.0
            self._raw, self._reason = raw, result["reason"]
            self._reward = {"raw": raw, "time": float(result["reward"]) if result["done"] else 0.0,
                            "binary": float(raw > 0)}[self.reward_kind]

    def _info(self) -> dict:
        info = {"task_id": self.task.id, "url": self._tab.relative_url(), "step": self._steps,
                "last_action_error": self._error}
        if self._restarted:
            info["browser_restarted"] = True
        if self._done:
            info["success"] = self._raw > 0
            info["raw_reward"] = self._raw
            info["reason"] = self._reason
        return info

    def _render(self) -> None:
        head = [f"Goal: {self._goal}", f"Step {self._steps} of {self.max_steps}."]
        if self._done:
            head.append(f"Episode over: reward {self._reward:.3f}.")
        self._obs = "\n".join(head) + "\n" + self._tab.observation_text(self._error)

    # ---- language view -------------------------------------------------------------------
    def render_text(self) -> str:
        return self._obs

    def parse_action(self, text):
        if not isinstance(text, str):
            raise InvalidAction(f"actions are text such as click(3), got {type(text).__name__}.")
        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._tab is None:
            raise InvalidAction("Call reset() before acting.")
        return self._tab.parse(text)

    def format_action(self, action) -> str:
        return str(action)

    def legal_actions(self):
        return None

    def sample_action(self, rng: random.Random):
        if self._tab is None or self._done:
            return None
        return self._tab.sample_action(rng)

    def _sample_or_none(self, rng):
        try:
            return self.sample_action(rng)
        except Exception:  # noqa: BLE001
            return None

    # ---- snapshots -----------------------------------------------------------------------
    def get_state(self) -> dict:
        return {"task": self.task_name, "seed": self._seed, "actions": list(self._actions), "steps": self._steps,
                "done": self._done, "reward": self._reward, "raw": self._raw, "error": self._error,
                "reason": self._reason, "goal": self._goal, "observation": self._obs}

    def set_state(self, state: dict) -> None:
        if state["task"] != self.task_name:
            raise ValueError(f"this snapshot is of MiniWoB task {state['task']!r}, not {self.task_name!r}.")
        self._seed = state["seed"]
        self._open(self._seed)
        for action in state["actions"]:
            if not action.startswith("stop("):
                self._tab.act(action)
        self._actions = list(state["actions"])
        self._steps, self._done, self._reward = state["steps"], state["done"], state["reward"]
        self._raw, self._error, self._reason = state["raw"], state["error"], state["reason"]
        self.task = self._make_task()
        self._render()
        # the replay must read as the snapshot did; a page still catching up (an image, a
        # late DOM change) gets a few more bounded settles before the text is compared again
        for _ in range(3):
            if state.get("observation") in (None, self._obs):
                break
            self._tab.refresh()
            self._render()

    def _make_task(self) -> Task:
        oracle = _ORACLES.get(self.task_name)
        return Task(id=f"miniwob.{self.task_name}:{self._seed}", goal=self._goal, split="test",
                    data={"task": self.task_name, "seed": self._seed}, validator=_validate,
                    oracle=(lambda env: oracle(env._goal, env._tab.nodes)) if oracle else None)

    def image(self):
        if not self.screenshot or self._tab is None:
            return None
        return self._tab.screenshot_array()

    def close(self):
        release_browser(self)
        super().close()

    def __del__(self):
        close_quietly(self)


def _validate(env) -> tuple[float, bool, dict]:
    result = env._tab.page.evaluate(_RESULT_JS)
    raw = float(result["raw"]) if result["done"] else 0.0
    return raw, bool(result["done"]), {"reason": result["reason"]}


def _button(nodes, name=None):
    return next(n for n in nodes if n.role == "button" and (name is None or n.name == name))


def _oracle_click_button(goal, nodes):
    import re

    name = re.search(r'"(.*)"', goal).group(1)
    return [f"click({_button(nodes, name).id})"]


def _oracle_enter_text(goal, nodes):
    import re

    from .browser import _q

    text = re.search(r'Enter "(.*)" into', goal).group(1)
    box = next(n for n in nodes if n.role == "textbox")
    return [f"fill({box.id}, {_q(text)})", f"click({_button(nodes).id})"]


def _oracle_choose_list(goal, nodes):
    import re

    from .browser import _q

    item = re.search(r"Select (.*) from the list", goal).group(1)
    combo = next(n for n in nodes if n.role == "combobox")
    return [f"select({combo.id}, {_q(item)})", f"click({_button(nodes).id})"]


# oracles (BrowserGym's "cheat") for a few pages; the others have none
_ORACLES = {
    "click-test": lambda goal, nodes: [f"click({_button(nodes).id})"],
    "click-button": _oracle_click_button,
    "enter-text": _oracle_enter_text,
    "choose-list": _oracle_choose_list,
}

__all__ = ["MiniWoBEnv"]
