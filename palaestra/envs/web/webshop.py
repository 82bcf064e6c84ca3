"""``palaestra/WebShop-v0``: the shop, as text (fast, no browser) or in a real Chromium."""

from __future__ import annotations

import random
import re
import uuid

from gymnasium.utils import seeding

from palaestra.core import FreeText, InvalidAction, PalaestraEnv, Task

from .resources import close_quietly, release_browser
from .shop.catalog import Catalog, generate_catalog, load_webshop
from .shop.render import page_text
from .shop.tasks import ShopTasks, is_success
from .shop.world import Page, Redirect, ShopWorld, search_url
from .spaces import WebActionSpace

_TEXT_ACTION = re.compile(r"^\s*(search|click)\s*\[(.*)\]\s*$", re.IGNORECASE)

TEXT_INSTRUCTIONS = """You are shopping on a web shop to satisfy an instruction.
Each observation shows the instruction and the current page. Things you can click are
shown in square brackets, e.g. [buy now] or [b0abc12345] (a product).
Actions (one per step, exactly this form):
  search[<query>]   search the shop (from any page with a search box)
  click[<label>]    click a bracketed label of the current page (case does not matter)
On a product page click the option values you need (e.g. [navy], [l]) before
[buy now]. Buying ends the episode; the reward (0..1) says how well the product,
its options and its price match the instruction (1 = all of them)."""

BROWSER_INSTRUCTIONS = """You are shopping in a real web browser to satisfy an instruction.
Each observation shows the instruction, the URL, the error of your last action (if any)
and the page's accessibility tree, where every element you can act on has an [id=N].
Actions (one per step, exactly this form; strings in double quotes):
  click(N)                 click element N
  fill(N, "text")          type text into the text box N (replacing its content)
  select(N, "option")      choose an option of the drop-down N
  press("Enter")           press a key (Enter, Tab, Escape, ArrowDown, ...) in the focused element
  scroll(up) / scroll(down)
  drag(N, M)               drag element N and drop it on element M
  go_back()                back to the previous page
  goto("/path")            open a page of this site (other sites are blocked)
  stop("answer")           end the episode (with an answer where the task asks for one)
Buying ends the episode; the reward (0..1) says how well the product, its options and
its price match the instruction (1 = all of them)."""


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


class WebShopEnv(PalaestraEnv):
    """A WebShop-style shop: find and buy the product an instruction describes.

    ## Description
    A real web application (Starlette, served by uvicorn on 127.0.0.1) with search,
    result pages, product pages with options, a cart and checkout, over a catalogue of
    at least 1,000 products generated from ``catalog_seed`` (or WebShop's own files).
    Each task is an instruction such as "i need a machine washable and fleece lined
    hoodie with size: l, and color: navy, and price lower than 40.00 dollars".

    ``mode="text"`` (default) needs no browser: the server's own page objects are
    rendered as text (WebShop's ``search[...]`` / ``click[...]`` actions, a step takes
    well under 2 ms). ``mode="browser"`` drives a real Chromium through Playwright's
    sync API: the observation is the page's accessibility tree with element ids.

    ## Action Space
    Text (``WebActionSpace``, a ``FreeText`` whose ``sample()`` gives a doable action).
    Text mode: ``search[query]``, ``click[label]``. Browser mode: ``click(N)``,
    ``fill(N, "text")``, ``select(N, "option")``, ``press("Enter")``,
    ``scroll(up|down)``, ``go_back()``, ``goto("/path")``, ``stop("answer")``. An
    action that cannot be done now raises ``InvalidAction`` saying why (unknown or
    stale id, hidden element, unknown label...) and changes nothing.

    ## Observation Space
    ``FreeText``: the instruction (once), the page (text mode: the page in words with
    bracketed labels; browser mode: URL, last action error and the accessibility tree).
    ``info``: ``task_id``, ``url``, ``step``, ``last_action_error``, ``success`` and
    ``reward_details`` at the end; ``clickables`` in text mode. With
    ``screenshot=True`` (browser mode) ``image()`` returns the page as an RGB array
    (the text view puts it in ``info["image"]``).

    ## Rewards
    0 until the purchase, then WebShop's reward in [0, 1] (see
    ``palaestra.envs.web.shop.tasks``). Success = reward 1. The reward is read from the
    shop's own session (the order placed), never from a page the agent opened. It reads
    the goal's attributes, which only the scorer may see (``reward_access = "hidden"``):
    ``planning_env()`` withholds it and ``reward_details`` (see ``planning_env``).

    ## Episode End
    Terminated by buying (Buy Now or checkout) or ``stop(...)``; truncated after
    ``max_steps`` steps (the env counts its own steps, so snapshots stay exact) or when
    Chromium crashed (browser mode: the observation says so; ``reset()`` relaunches it).

    ## Arguments
    ``mode`` ("text" | "browser"), ``split`` ("test": 500 tasks | "train": 10,000),
    ``catalog_seed`` (0), ``n_products`` (1200), ``webshop_files`` (dict with
    ``items`` and optional ``attributes``/``human_instructions`` paths: WebShop's
    files), ``max_steps`` (50), ``screenshot`` (False), ``headless`` (True),
    ``timeout_ms`` (browser action timeout, 5000), ``show_urls`` (False: the browser
    view leaves out each link's ``/url:`` line), ``render_mode`` ("ansi").

    ## Snapshots
    The shop keeps cart/order server-side per session: ``get_state()`` = URL + the
    session (+ form values, focus and scroll in browser mode); ``set_state()`` restores
    the session on the server and reloads the page — also in a fresh env, whose server
    listens on another port.

    ## Threads and processes (browser mode)
    Playwright's sync API is bound to the thread that started it: use a browser-mode env
    only from the thread that created it (one Playwright driver per thread is shared by
    that thread's envs; each env owns its own Chromium and shop server). For parallel
    envs use processes (``gymnasium.vector.AsyncVectorEnv``) or one env per thread.
    Never call it from inside a running asyncio loop (Playwright refuses).

    ## Version History
    v0: first release.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    reward_access = "hidden"
    scorer_info_keys = ("reward_details",)
    scorer_only = ("oracle_plan",)

    def __init__(
        self,
        mode: str = "text",
        split: str = "test",
        catalog_seed: int = 0,
        n_products: int = 1200,
        webshop_files: dict | None = None,
        max_steps: int = 50,
        screenshot: bool = False,
        headless: bool = True,
        timeout_ms: int = 5000,
        show_urls: bool = False,
        render_mode: str | None = None,
    ):
        super().__init__(render_mode=render_mode)
        if mode not in ("text", "browser"):
            raise ValueError(f"mode={mode!r}: use 'text' (no browser) or 'browser' (Chromium via Playwright).")
        if split not in ("test", "train"):
            raise ValueError(f"split={split!r}: use 'test' or 'train'.")
        self.mode, self.split, self.max_steps = mode, split, int(max_steps)
        self.screenshot, self.headless, self.timeout_ms = bool(screenshot), bool(headless), int(timeout_ms)
        self.show_urls = bool(show_urls)
        if webshop_files:
            files = dict(webshop_files)
            self.catalog: Catalog = load_webshop(
                files["items"], files.get("attributes"), files.get("human_instructions"), files.get("limit")
            )
        else:
            self.catalog = generate_catalog(int(catalog_seed), int(n_products))
        self.world = ShopWorld(self.catalog)
        self.tasks = ShopTasks(self.catalog)
        self.instructions = TEXT_INSTRUCTIONS if mode == "text" else BROWSER_INSTRUCTIONS
        self.observation_space = FreeText(1 << 20)
        self.action_space = WebActionSpace(self._sample_or_none)
        self._sid = "env-" + uuid.uuid4().hex[:12]
        self._split_index: tuple[str, int] | None = None
        self._steps = 0
        self._done = False
        self._reward = 0.0
        self._details: dict = {}
        self._error = ""
        # text mode
        self._url = "/"
        self._page: Page | None = None
        self._obs = ""
        # browser mode
        self._server = None
        self._tab = None
        self._browser = None
        self._browser_restarted = False
        self._crashed = False

    # ---- episode -------------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = dict(options or {})
        if "task" in options:
            split, index = self.tasks.parse_id(options["task"])
        else:
            split = options.get("split", self.split)
            index = int(self.np_random.integers(self.tasks.size(split)))
        self._split_index = (split, index)
        self.task = self._make_task(split, index)
        # browser mode: the observation states the instruction once (its header), so the
        # page does not repeat it
        self.world.open_session(self._sid, goal=self.task.goal if self.mode == "text" else None)
        self._steps, self._done, self._reward, self._details, self._error = 0, False, 0.0, {}, ""
        self._crashed = False
        if self.mode == "text":
            self._goto_text("/")
        else:
            self._browser_reset()
        return self._obs, self._info()

    def step(self, action):
        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._split_index is None:
            raise InvalidAction("Call reset() before step().")
        if self.mode == "text":
            self._text_step(self.parse_action(action) if isinstance(action, str) else self._not_text(action))
        else:
            from .browser import BrowserCrashed

            try:
                self._browser_step(self.parse_action(action) if isinstance(action, str) else self._not_text(action))
            except BrowserCrashed as exc:  # an error observation: the episode cannot go on
                self._steps += 1
                self._done, self._crashed, self._error = True, True, str(exc)
                self._render_obs()
                return self._obs, 0.0, False, True, self._info()
        self._steps += 1
        terminated = self._done
        reward = 0.0
        if terminated:
            reward = self._reward
        truncated = not terminated and self._steps >= self.max_steps
        if truncated:
            self._done = True
        self._render_obs()
        return self._obs, float(reward), terminated, truncated, self._info()

    def _not_text(self, action):
        raise InvalidAction(f"actions are text, got {type(action).__name__} {action!r}. " + self._grammar_hint())

    def _grammar_hint(self) -> str:
        if self.mode == "text":
            return "Use search[<query>] or click[<label>] (a bracketed label of the page)."
        return 'Use click(N), fill(N, "text"), select(N, "option"), press("Enter"), scroll(up|down), go_back(), goto("/path") or stop("answer").'

    def _make_task(self, split: str, index: int) -> Task:
        task = self.tasks.task(split, index)
        tasks = self.tasks

        def validate(env):
            order = env.world.export_session(env._sid).get("order")
            if order is None:
                return 0.0, False, {}
            reward, details = tasks.reward(order, task.data)
            return reward, True, details

        task.validator = validate
        task.oracle = lambda env: env.oracle_plan()
        return task

    def _finish_if_bought(self) -> None:
        order = self.world.export_session(self._sid).get("order")
        if order is not None:
            self._reward, self._details = self.tasks.reward(order, self.task.data)
            self._done = True

    def _info(self) -> dict:
        info = {"task_id": self.task.id, "url": self._current_url(), "step": self._steps,
                "last_action_error": self._error}
        if self.mode == "text" and self._page is not None:
            info["clickables"] = [b.label for b in self._page.clickables()]
        if self.mode == "browser" and self._browser_restarted:
            info["browser_restarted"] = True
        if self._crashed:
            info["browser_crashed"] = True
        if self._done:
            info["success"] = is_success(self._reward) if self._details else False
            info["reward_details"] = dict(self._details)
        return info

    def _current_url(self) -> str:
        if self.mode == "text":
            return self._url
        return self._tab.relative_url() if self._tab is not None else "/"

    # ---- text mode -----------------------------------------------------------------------
    def _goto_text(self, url: str, method: str = "GET") -> None:
        for _ in range(5):
            result = self.world.handle(self._sid, method, url)
            if isinstance(result, Redirect):
                url, method = result.url, "GET"
                continue
            break
        self._page = result
        self._url = result.url
        self._finish_if_bought()
        self._render_obs()

    def _text_step(self, action: str) -> None:
        verb, _, arg = action.partition("[")
        arg = arg[:-1]
        if verb == "search":
            self._goto_text(search_url(arg, 1))
        else:
            block = self._find_clickable(arg)
            self._goto_text(block.href, "POST" if block.kind == "button" else "GET")

    def _find_clickable(self, label: str):
        page = self._page
        for b in page.clickables():
            if b.label == label:
                return b
        return None

    def _text_parse(self, text: str) -> str:
        if len(text) > 1000:
            raise InvalidAction(f"the action is {len(text)} characters long; " + self._grammar_hint())
        from .browser import check_encodable

        check_encodable(text)
        m = _TEXT_ACTION.match(text)
        if m is None or "\n" in text:
            raise InvalidAction(f"{text[:80]!r} is not an action. " + self._grammar_hint())
        verb, arg = m.group(1).lower(), _norm(m.group(2))
        page = self._page
        if verb == "search":
            if not page.search_box:
                raise InvalidAction("this page has no search box. " + self._clickables_hint())
            if not arg or "[" in arg or "]" in arg:
                raise InvalidAction("search[...] needs a query of words (no brackets), e.g. search[navy hoodie].")
            return f"search[{arg}]"
        for b in page.clickables():
            if arg == b.label:
                return f"click[{b.label}]"
        for b in page.clickables():  # aliases: a product's title, "group: value" of an option
            if (b.kind == "product" and arg == _norm(b.text)) or (b.kind == "option" and arg == f"{b.group}: {b.label}"):
                return f"click[{b.label}]"
        hint = self._clickables_hint()
        try:
            from rapidfuzz import process

            best = process.extractOne(arg, [b.label for b in page.clickables()])
            if best and best[1] >= 60:
                hint = f"Did you mean click[{best[0]}]? " + hint
        except ImportError:  # pragma: no cover
            pass
        raise InvalidAction(f"there is nothing labelled [{arg}] on this page. " + hint)

    def _clickables_hint(self) -> str:
        labels = [b.label for b in self._page.clickables()]
        shown = ", ".join(f"[{x}]" for x in labels[:40]) + (" ..." if len(labels) > 40 else "")
        return f"Clickable here: {shown or 'nothing'}."

    # ---- language view -------------------------------------------------------------------
    def parse_action(self, text: str) -> str:
        if not isinstance(text, str):
            raise InvalidAction(f"expected text, got {type(text).__name__}. " + self._grammar_hint())
        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._split_index is None:
            raise InvalidAction("Call reset() before acting.")
        if self.mode == "text":
            return self._text_parse(text)
        return self._browser_parse(text)

    def format_action(self, action) -> str:
        return str(action)

    def legal_actions(self):
        return None  # search takes free text

    def sample_action(self, rng: random.Random) -> str | None:
        """A doable action drawn from ``rng`` (random baselines); one policy in both modes:
        where the page has a search box, search (probability 0.2, or always when nothing is
        clickable) for up to 3 words of the instruction; otherwise click one of the page's
        clickable things, uniformly. In the browser a search is two steps (fill the box,
        then submit it: a typed query not yet searched is submitted first)."""
        if self._split_index is None or self._done:
            return None
        if self.mode == "browser":
            return self._browser_sample(rng) if self._tab is not None and self._tab.alive() else None
        labels = [b.label for b in self._page.clickables()]
        if self._page.search_box and (not labels or rng.random() < 0.2):
            return f"search[{self._random_query(rng)}]"
        return f"click[{rng.choice(labels)}]"

    def _random_query(self, rng: random.Random) -> str:
        words = [w for w in re.findall(r"[a-z]+", self.task.goal.lower()) if len(w) > 2]
        return " ".join(rng.sample(words, min(3, len(words))))

    def _browser_sample(self, rng: random.Random) -> str | None:
        from urllib.parse import parse_qs, urlsplit

        from .browser import _q, _visible_name

        tab = self._tab
        nodes = [n for n in tab.nodes if n.role in ("link", "button")]
        box = next((n for n in tab.nodes if n.role in ("textbox", "searchbox") and n.name.lower() == "search"), None)
        go = next((n for n in nodes if n.role == "button" and n.name == "Search"), None)
        if box is not None and go is not None:
            typed = tab.page.locator(f"aria-ref={tab.ids[box.id]}").input_value(timeout=tab.timeout_ms)
            searched = parse_qs(urlsplit(tab.page.url).query).get("q", [""])[0]
            if _norm(typed) and _norm(typed) != _norm(searched):
                return f"click({go.id})"
        page = self.world.handle(self._sid, "GET", tab.relative_url())
        blocks = page.clickables() if isinstance(page, Page) else []
        if box is not None and (not blocks or rng.random() < 0.2):
            return f"fill({box.id}, {_q(self._random_query(rng))})"
        if blocks:
            block = rng.choice(blocks)
            name = _visible_name(block)
            k = [b for b in blocks if _visible_name(b) == name].index(block)
            same = [n for n in nodes if n.name == name]
            if k < len(same):
                return f"click({same[k].id})"
        return f"click({rng.choice(nodes).id})" if nodes else "scroll(down)"

    def _sample_or_none(self, rng):
        try:
            return self.sample_action(rng)
        except Exception:  # noqa: BLE001 - sampling must never crash a checker
            return None

    def render_text(self) -> str:
        return self._obs

    def _render_obs(self) -> None:
        head = [f"Instruction: {self.task.goal}", f"Step {self._steps} of {self.max_steps}."]
        if self._done and self._details:
            head.append(f"Episode over: you bought something; reward {self._reward:.3f}.")
        elif self._done:
            head.append("Episode over.")
        if self.mode == "text":
            actions = "Actions: search[<query>] | click[<label>] (a [bracketed] label above)"
            if not self._page.search_box:
                actions = "Actions: click[<label>] (a [bracketed] label above)"
            body = page_text(self._page)
            self._obs = "\n".join(head) + "\n" + body + ("\n" + actions if not self._done else "")
        elif self._crashed:
            self._obs = "\n".join(head + [f"Last action error: {self._error}"])
        else:
            self._obs = "\n".join(head) + "\n" + self._tab.observation_text(self._error)

    # ---- oracle --------------------------------------------------------------------------
    def oracle_plan(self) -> list[str]:
        if self._done:
            return []
        if self.mode == "text":
            return self.tasks.oracle_plan(self.task.data, self._page.kind, self._url)
        return self._browser_oracle()

    # ---- snapshots -----------------------------------------------------------------------
    def get_state(self) -> dict:
        state = {
            "mode": self.mode,
            "task": self._split_index,
            "session": self.world.export_session(self._sid),
            "steps": self._steps,
            "done": self._done,
            "reward": self._reward,
            "details": dict(self._details),
            "error": self._error,
            "crashed": self._crashed,
            "np_random": self.np_random.bit_generator.state if self._np_random is not None else None,
        }
        if self.mode == "text":
            state["url"] = self._url
        else:
            state["page"] = self._tab.get_state()
        return state

    def set_state(self, state: dict) -> None:
        if state.get("mode") != self.mode:
            raise ValueError(f"this snapshot is of a {state.get('mode')}-mode env; this env is in {self.mode} mode.")
        split, index = state["task"]
        if self._split_index != (split, index) or self.task is None:
            self.task = self._make_task(split, index)
        self._split_index = (split, index)
        if state.get("np_random") is not None:
            if self._np_random is None:
                self._np_random, _ = seeding.np_random(0)
            self._np_random.bit_generator.state = state["np_random"]
        self.world.import_session(self._sid, state["session"])
        self._steps, self._done, self._reward = state["steps"], state["done"], state["reward"]
        self._details, self._error = dict(state["details"]), state["error"]
        self._crashed = bool(state.get("crashed", False))
        if self.mode == "text":
            result = self.world.handle(self._sid, "GET", state["url"])
            self._page = result if isinstance(result, Page) else self._page
            self._url = state["url"]
            self._render_obs()
        else:
            self._browser_set_state(state["page"])

    # ---- browser mode (see browser.py) ---------------------------------------------------
    def _new_tab(self) -> None:
        from .browser import Browser
        from .shop.server import ShopServer

        if self._server is None:
            self._server = ShopServer(self.world)
            self._server.start()
        if self._browser is None:
            self._browser = Browser(headless=self.headless)
        if self._tab is not None:
            self._tab.close()
            self._tab = None
        self._tab, self._browser_restarted = self._browser.open_tab(
            self._server.origin, timeout_ms=self.timeout_ms, cookies={"sid": self._sid}, screenshot=self.screenshot,
            show_urls=self.show_urls, static_pages=True,
        )

    def _browser_reset(self) -> None:
        self._new_tab()
        self._tab.goto("/")
        self._error = ""
        self._render_obs()

    def _browser_parse(self, text: str) -> str:
        from .browser import BrowserCrashed

        try:
            return self._tab.parse(text)
        except BrowserCrashed:
            return text.strip()  # cannot be checked against a dead page: step() reports the crash

    def _browser_step(self, action: str) -> None:
        verb = action.split("(", 1)[0]
        if verb == "stop":
            args = self._tab.parse_call(action)[1]
            self._tab.last_answer = args[0] if args else None
            self._done = True
            self._finish_if_bought()
            self._error = ""
            return
        self._error = self._tab.act(action) or ""
        self._finish_if_bought()

    def _browser_set_state(self, page_state: dict) -> None:
        if self._tab is None or not self._tab.alive():
            self._new_tab()
        if not self._crashed:
            self._tab.set_state(page_state)
        self._render_obs()

    def _browser_oracle(self) -> list[str]:
        """The text-mode plan, turned into browser actions by looking ahead in a scratch tab."""
        text_plan = self.tasks.oracle_plan(self.task.data, "", self._tab.relative_url())
        return self._tab.translate_plan(text_plan, self.world, self._sid)

    def image(self):
        if self.mode != "browser" or not self.screenshot or self._tab is None:
            return None
        return self._tab.screenshot_array()

    def close(self):
        release_browser(self)
        self.world.close_session(self._sid)
        super().close()

    def __del__(self):
        close_quietly(self)
