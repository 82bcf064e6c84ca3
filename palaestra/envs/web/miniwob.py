"""``palaestra/miniwob.<task>-v0``: the MiniWoB++ pages of the ``miniwob`` package in Chromium."""

from __future__ import annotations

import random

from palaestra.core import FreeText, InvalidAction, MissingDependency, PalaestraEnv, Task

from .ids import miniwob_html_dir, miniwob_task_path, miniwob_tasks
from .resources import close_quietly, release_browser
from .spaces import WebActionSpace
from .webshop import BROWSER_INSTRUCTIONS

# Installed once per document (as BrowserGym does with remove_human_display): the
# scoreboard, the click canvas and the START cover leave the page, and come back only
# around MiniWoB's own calls that expect them; the on-page instruction is hidden from
# the accessibility tree (display: none; the observation states the goal once).
_SETUP_JS = """() => {
  if (window.__palaestra) return true;
  const P = window.__palaestra = {held: {}};
  const ids = ['reward-display', 'click-canvas', 'sync-task-cover'];
  for (const id of ['query', 'query-wrap']) {
    const e = document.getElementById(id); if (e) e.style.display = 'none'; }
  P.hide = () => {
    core.clearTimer();
    document.body.removeEventListener('click', core.canvasDrawClick);
    for (const id of ids) { const e = document.getElementById(id); if (e) { P.held[id] = e; e.remove(); } }
  };
  P.show = () => {
    for (const id in P.held) document.body.appendChild(P.held[id]);
    P.held = {};
  };
  const wrap = (name) => { const f = core[name];
    core[name] = function () { P.show(); try { return f.apply(this, arguments); } finally { P.hide(); } }; };
  wrap('startEpisodeReal'); wrap('endEpisode');
  P.hide();
  return true;
}"""
# Starts an episode in the live page, as the miniwob package's own env does between
# episodes: seed the page's generator, start without MiniWoB's wall-clock limit (the env
# counts steps), and mark the document with the episode's token.
_START_JS = """([seed, token]) => {
  const a = document.activeElement; if (a && a !== document.body && a.blur) a.blur();
  Math.seedrandom(seed);
  core.EPISODE_MAX_TIME = 1e9;
  core.startEpisodeReal();
  window.__palaestraEpisode = token;
  return WOB_TASK_READY !== false;
}"""
# The reward is read only from the task's own document: the page must still be the task's
# URL and carry this episode's token (a reload, a link, history or goto loses it).
_RESULT_JS = """([token, path]) => {
  if (window.__palaestraEpisode !== token || location.pathname !== path || typeof WOB_DONE_GLOBAL === 'undefined')
    return {here: false, url: location.href};
  return {here: true, done: WOB_DONE_GLOBAL, raw: WOB_RAW_REWARD_GLOBAL, reward: WOB_REWARD_GLOBAL,
          reason: (WOB_REWARD_REASON === null || WOB_REWARD_REASON === undefined) ? null : String(WOB_REWARD_REASON)};
}"""
_ON_TASK_PAGE_JS = "(path) => !!window.__palaestra && location.pathname === path && typeof core !== 'undefined'"
_UTTERANCE_JS = """() => { const u = core.getUtterance(); return typeof u === 'string' ? u : (u.utterance || JSON.stringify(u)); }"""
# Two pages say part of their goal with a picture (an icon, a colour swatch); as BrowserGym
# does, the goal in words names it (the icon's class, the colour's hex code).
_UTTERANCE_OVERRIDES = {
    "click-menu-2": """() => { const q = document.getElementById('query'); const norm = t => t.replace(/\\s+/g, ' ').trim();
      if (!q.children.length) return norm(q.textContent);
      return norm(q.childNodes[0].textContent) + ' "' + q.children[0].getAttribute('class').split(' ')[1] + '" '
        + norm(q.childNodes[2].textContent); }""",
    "use-colorwheel-2": """() => { const q = document.getElementById('query'); const norm = t => t.replace(/\\s+/g, ' ').trim();
      const m = q.children[1].style.backgroundColor.match(/(\\d+),\\s*(\\d+),\\s*(\\d+)/);
      const hex = '#' + m.slice(1).map(n => parseInt(n, 10).toString(16).padStart(2, '0')).join('');
      return norm(q.children[0].textContent) + ' ' + hex + ' ' + norm(q.children[2].textContent); }""",
}

def _NEEDS_ELEMENT(action: str) -> bool:  # noqa: N802 - reads as a predicate
    return action.split("(", 1)[0] in ("click", "fill", "select", "drag")


LEFT_PAGE = "you left the task's page ({url}); MiniWoB pays only on its own page, so the episode is over with reward 0."

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
    The page ``miniwob/<task>.html`` (or ``flight/<name>/wrapper.html`` for the three
    FlightWoB tasks) is served from 127.0.0.1 by the env's own server and opened in the
    env's own Chromium (Debian's, via Playwright's sync API). As in BrowserGym, the
    scoreboard, the click canvas and the START cover are taken off the page and the
    on-page instruction is hidden from the observation (the goal is stated once).
    Reset seeds the page's generator (``Math.seedrandom(seed)``) and starts the episode
    (``core.startEpisodeReal()``) in the live page, as the ``miniwob`` package does
    between episodes, with MiniWoB's wall-clock limit switched off.

    ## Action Space
    The browser grammar (``WebActionSpace`` text): ``click(N)``, ``fill(N, "text")``,
    ``select(N, "option")``, ``press("Enter")``, ``scroll(up|down)``, ``drag(N, M)``,
    ``go_back()``, ``goto("/path")`` (this origin only), ``stop("answer")``. Unknown or
    stale ids, hidden elements and malformed actions raise ``InvalidAction`` and change
    nothing; a timeout during an action is reported in the next observation.

    ## Observation Space
    ``FreeText``: the goal (``core.getUtterance()``), URL, last action error and the
    accessibility tree (``page.aria_snapshot(mode="ai")``, ids renumbered per
    observation). ``image()`` gives a screenshot when ``screenshot=True``.

    ## Rewards
    Read from the task's own page when the episode ends: ``WOB_RAW_REWARD_GLOBAL`` (in
    [-1, 1], no time penalty; ``reward="raw"``, default), ``WOB_REWARD_GLOBAL``
    (``reward="time"``) or ``float(raw > 0)`` (``reward="binary"``, as BrowserGym).
    Success = raw reward > 0. Leaving the task's page (``goto``, a link, history keys,
    a reload) ends the episode with reward 0 and says so (``info["left_task_page"]``),
    as BrowserGym's ``validate`` does; pages other than the task's never pay. The reward
    reads what only the scorer may see (``reward_access = "hidden"``): a planning view
    withholds it (see ``planning_env``).

    ## Episode End
    Terminated when the page says ``WOB_DONE_GLOBAL``, on ``stop(...)`` or on leaving
    the task's page; truncated after ``max_steps`` or when Chromium crashed (the
    observation says so: call ``reset()``).

    ## Arguments
    ``task`` (a page name, e.g. "click-test"), ``max_steps`` (20), ``reward``,
    ``screenshot`` (False), ``headless`` (True), ``timeout_ms`` (3000), ``render_mode``.

    ## Snapshots
    MiniWoB pages keep their state in page JavaScript, so ``get_state()`` holds the seed
    and the actions so far, and ``set_state()`` re-seeds the live page and replays them
    (reloading the page only when the tab is gone or the replay does not read as the
    snapshot did): exact for the tasks whose pages draw only from the seeded generator.

    ## Threads
    As for ``WebShopEnv`` in browser mode: use the env from the thread that created it.

    ## Version History
    v0: first release.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    reward_access = "hidden"
    scorer_info_keys = ("raw_reward", "reason")

    def __init__(self, task: str = "click-test", max_steps: int = 20, reward: str = "raw", screenshot: bool = False,
                 headless: bool = True, timeout_ms: int = 3000, render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        tasks = miniwob_tasks()
        if task not in tasks:
            raise ValueError(f"unknown MiniWoB++ task {task!r}; the miniwob package has: {', '.join(tasks[:20])}, ...")
        if reward not in ("raw", "time", "binary"):
            raise ValueError(f"reward={reward!r}: use 'raw', 'time' or 'binary'.")
        self.task_name, self.max_steps, self.reward_kind = task, int(max_steps), reward
        self.path = miniwob_task_path(task)
        self.screenshot, self.headless, self.timeout_ms = bool(screenshot), bool(headless), int(timeout_ms)
        self.instructions = BROWSER_INSTRUCTIONS.replace(
            "You are shopping in a real web browser to satisfy an instruction.",
            "You solve a small web task (MiniWoB++) in a real web browser.",
        ).split("Buying ends")[0].rstrip() + (
            "\nThe episode ends when the page says the task is done. Stay on the task's page: leaving it "
            "ends the episode with reward 0.")
        self.observation_space = FreeText(1 << 20)
        self.action_space = WebActionSpace(self._sample_or_none)
        self._server = None
        self._browser = None
        self._tab = None
        self._restarted = False
        self._seed = 0
        self._token = 0
        self._actions: list[str] = []
        self._paths: list = []  # per action, where its elements were (a fast replay)
        self._steps, self._done, self._reward, self._raw, self._error = 0, False, 0.0, 0.0, ""
        self._reason = None
        self._left = None
        self._crashed = False
        self._goal = ""
        self._obs = ""
        self.reloads = 0  # page loads (the first of a tab, and fallbacks of a restore)
        self.last_restore = ""  # how the last set_state got there (diagnostics, benchmarks)

    # ---- browser plumbing ----------------------------------------------------------------
    def _open(self, seed: int, reload: bool = False, observe: bool = True) -> None:
        """Start the episode of ``seed``: in the live task page when there is one, else in a
        freshly loaded page (a new tab when Chromium or the tab is gone)."""
        from playwright.sync_api import Error as PlaywrightError

        from .browser import Browser
        from .server import BackgroundServer

        if self._server is None:
            self._server = BackgroundServer(miniwob_app()).start()
        if self._browser is None:
            self._browser = Browser(headless=self.headless)
        self._restarted = False
        if self._tab is None or not self._tab.alive():
            if self._tab is not None:
                self._tab.close()
                self._tab = None
            self._tab, self._restarted = self._browser.open_tab(
                self._server.origin, timeout_ms=self.timeout_ms, screenshot=self.screenshot
            )
            reload = True
        page = self._tab.page
        if not reload:
            try:
                reload = not page.evaluate(_ON_TASK_PAGE_JS, self.path)
            except PlaywrightError:
                self._tab.check_alive()
                reload = True
        if reload:
            page.goto(self._server.origin + self.path, wait_until="load", timeout=self.timeout_ms)
            page.evaluate(_SETUP_JS)
            self.reloads += 1
        page.mouse.move(0, 0)
        self._token += 1
        if not page.evaluate(_START_JS, [str(seed), self._token]):  # not ready at once (the flight pages)
            page.wait_for_function("() => WOB_TASK_READY !== false", timeout=self.timeout_ms)
        self._tab.history = [self._tab.relative_url()]
        if observe:
            self._tab.refresh()
        self._goal = page.evaluate(_UTTERANCE_OVERRIDES.get(self.task_name, _UTTERANCE_JS))

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
        self._actions, self._paths = [], []
        self._clear_episode()
        self.task = self._make_task()
        self._render()
        return self._obs, self._info()

    def _clear_episode(self) -> None:
        self._steps, self._done, self._reward, self._raw, self._error, self._reason = 0, False, 0.0, 0.0, "", None
        self._left, self._crashed = None, False

    def step(self, action):
        from .browser import BrowserCrashed

        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._tab is None:
            raise InvalidAction("Call reset() before step().")
        try:
            action = self.parse_action(action)
            paths = self._tab.element_paths(action)
            self._apply(action)
        except BrowserCrashed as exc:
            return self._crash_step(str(exc))
        self._actions.append(action)
        self._paths.append(paths)
        self._steps += 1
        terminated = self._done
        reward = self._reward if terminated else 0.0
        truncated = not terminated and self._steps >= self.max_steps
        if truncated:
            self._done = True
        self._render()
        return self._obs, float(reward), terminated, truncated, self._info()

    def _crash_step(self, message: str):
        """Chromium died: the episode cannot go on; an error observation, never a traceback."""
        self._steps += 1
        self._done, self._crashed, self._error = True, True, message
        self._reward, self._raw, self._reason = 0.0, 0.0, "browser crashed"
        self._render()
        return self._obs, 0.0, False, True, self._info()

    def _read_result(self) -> dict:
        from playwright.sync_api import Error as PlaywrightError

        try:
            return self._tab.page.evaluate(_RESULT_JS, [self._token, self.path])
        except PlaywrightError:  # a navigation is under way: the task's document is going
            self._tab.check_alive()
            return {"here": False, "url": self._tab.page.url}

    def _apply(self, action: str) -> None:
        if action.startswith("stop("):
            self._done = True
            self._error = ""
        else:
            self._error = self._tab.act(action) or ""
        result = self._read_result()
        if not result["here"]:
            rel = self._tab.relative_url()
            self._done, self._left = True, rel
            self._raw, self._reward, self._reason = 0.0, 0.0, "left the task page"
            self._error = LEFT_PAGE.format(url=rel)
            return
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
        if self._left is not None:
            info["left_task_page"] = True
        if self._crashed:
            info["browser_crashed"] = True
        if self._done:
            info["success"] = self._raw > 0
            info["raw_reward"] = self._raw
            info["reason"] = self._reason
        return info

    def _render(self) -> None:
        head = [f"Goal: {self._goal}", f"Step {self._steps} of {self.max_steps}."]
        if self._crashed:
            self._obs = "\n".join(head + ["Episode over: " + self._error])
            return
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
        from .browser import BrowserCrashed

        try:
            return self._tab.parse(text)
        except BrowserCrashed:
            return text.strip()  # cannot be checked against a dead page: step() reports the crash

    def format_action(self, action) -> str:
        return str(action)

    def legal_actions(self):
        return None

    def sample_action(self, rng: random.Random):
        if self._tab is None or self._done or not self._tab.alive():
            return None
        return self._tab.sample_action(rng)

    def _sample_or_none(self, rng):
        try:
            return self.sample_action(rng)
        except Exception:  # noqa: BLE001
            return None

    # ---- snapshots -----------------------------------------------------------------------
    def get_state(self) -> dict:
        return {"task": self.task_name, "seed": self._seed, "actions": list(self._actions),
                "paths": [list(p) if p is not None else None for p in self._paths], "steps": self._steps,
                "done": self._done, "reward": self._reward, "raw": self._raw, "error": self._error,
                "reason": self._reason, "left": self._left, "crashed": self._crashed, "goal": self._goal,
                "observation": self._obs}

    def set_state(self, state: dict) -> None:
        """Re-seed the live page and replay the actions: first by where their elements were
        (no observation in between), then, if the page does not read as the snapshot did,
        by their ids with an observation per action, then the same in a reloaded page."""
        if state["task"] != self.task_name:
            raise ValueError(f"this snapshot is of MiniWoB task {state['task']!r}, not {self.task_name!r}.")
        self._seed = state["seed"]
        want = state.get("observation")
        actions = list(state["actions"])
        paths = list(state.get("paths") or [])
        if len(paths) != len(actions):  # an older snapshot (no paths): replay by ids
            paths = [None] * len(actions)
        fast = all(p is not None or not _NEEDS_ELEMENT(a) for a, p in zip(actions, paths, strict=True))
        for mode in (("paths", False), ("ids", False), ("ids", True)) if fast else (("ids", False), ("ids", True)):
            by, reload = mode
            self._open(self._seed, reload=reload, observe=not (by == "paths" and actions))
            for action, where in zip(actions, paths, strict=True):
                if not action.startswith("stop("):
                    if by == "paths":
                        self._tab.act(action, paths=where, refresh=False)
                    else:
                        self._tab.act(action)
            if by == "paths" and actions:
                self._tab.refresh()
            self._actions, self._paths = actions, paths
            self._steps, self._done, self._reward = state["steps"], state["done"], state["reward"]
            self._raw, self._error, self._reason = state["raw"], state["error"], state["reason"]
            self._left, self._crashed = state.get("left"), state.get("crashed", False)
            self.task = self._make_task()
            self._render()
            if want in (None, self._obs):
                self.last_restore = f"{by}{' after a reload' if reload else ''}"
                return
        self.last_restore = "settled"
        # the replay must read as the snapshot did; a page still catching up (an image, a
        # late DOM change) gets a few more bounded settles before the text is compared again
        for _ in range(3):
            if want == self._obs:
                break
            self._tab.refresh()
            self._render()

    def _make_task(self) -> Task:
        from .miniwob_oracles import ORACLES

        oracle = ORACLES.get(self.task_name)
        return Task(id=f"miniwob.{self.task_name}:{self._seed}", goal=self._goal, split="test",
                    data={"task": self.task_name, "seed": self._seed}, validator=_validate,
                    oracle=(lambda env: oracle(env)) if oracle else None)

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
    result = env._read_result()
    if not result["here"]:
        return 0.0, True, {"reason": "left the task page", "success": False}
    raw = float(result["raw"]) if result["done"] else 0.0
    # MiniWoB's (and BrowserGym's) success: the episode ended with a positive raw reward;
    # the one statement of it, which step reports too
    return raw, bool(result["done"]), {"reason": result["reason"], "success": bool(result["done"]) and raw > 0}


__all__ = ["MiniWoBEnv"]
