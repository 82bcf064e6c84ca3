"""``palaestra/Booking-v0``: book a restaurant table (Agent Q's OpenTable setting), as text
(no browser) or in a real Chromium."""

from __future__ import annotations

import random
import re
import uuid
from typing import ClassVar

from gymnasium.utils import seeding

from palaestra.core import FreeText, InvalidAction, PalaestraEnv, Task

from .booking.render import page_text
from .booking.tasks import BookingTasks
from .booking.world import (
    FIELD_MAX,
    BookingWorld,
    Page,
    Redirect,
    generate_site,
    search_url,
)

_TEXT_ROLES = ("textbox", "searchbox")
from .resources import close_quietly, release_browser
from .spaces import WebActionSpace

_TEXT_ACTION = re.compile(r"^\s*(search|click|fill)\s*\[(.*)\]\s*$", re.IGNORECASE | re.DOTALL)
MAX_ACTION_CHARS = 1000

TEXT_INSTRUCTIONS = """You are booking a restaurant table on a booking site to satisfy an instruction.
Each observation shows the instruction and the current page. Things you can click are
shown in square brackets, e.g. [sign in], [dec 5], [4 people], [7:30 pm] or a restaurant's
name; form fields are shown as Name (fill[name: ...]): "current value".
Actions (one per step, exactly this form):
  search[<words>]          search restaurants by name, cuisine or neighbourhood
  click[<label>]           click a bracketed label of the current page (case does not matter)
  fill[<field>: <text>]    type text into a form field of the current page (replacing it)
On a restaurant page pick a date and a party size, then click a free time to open the
booking form; fill it in and click [book table]. Booking ends the episode; the reward is
1 if the booking (restaurant, date, time, party size, name or account, special request)
is what the instruction asks for, else 0."""

BROWSER_INSTRUCTIONS = """You are booking a restaurant table in a real web browser to satisfy an instruction.
Each observation shows the instruction, the URL, the error of your last action (if any)
and the page's accessibility tree, where every element you can act on has an [id=N].
Actions (one per step, exactly this form; strings in double quotes):
  click(N)                 click element N
  fill(N, "text")          type text into the text box N (replacing its content)
  select(N, "option")      choose an option of the drop-down N
  press("Enter")           press a key (Enter, Tab, Escape, ArrowDown, ...) in the focused element
  scroll(up) / scroll(down)
  go_back()                back to the previous page
  goto("/path")            open a page of this site (other sites are blocked)
  stop()                   end the episode
On a restaurant page pick a date and a party size, then click a free time to open the
booking form; fill it in and press its Book table button. Booking ends the episode; the
reward is 1 if the booking (restaurant, date, time, party size, name or account, special
request) is what the instruction asks for, else 0."""


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _visible_name(block) -> str:
    """The accessible name booking/render.py gives a clickable block."""
    return "Palaestra Tables" if block.label == "home" else block.text


class BookingEnv(PalaestraEnv):
    """A restaurant-booking site: book the table an instruction describes.

    ## Description
    A real web application (Starlette, served by uvicorn on 127.0.0.1 by
    ``booking.server``) over 150 seeded restaurants (cuisine, neighbourhood, rating,
    price level) with availability per date and time slot: home page, search with
    filters (cuisine, area, price, rating), restaurant pages with a date picker (21
    days), party size (1-12) and the free time slots, a booking form (name, phone,
    special requests) that answers validation errors, sign-in with seeded accounts, and
    a confirmation page with a booking id. Each task is an instruction such as "Book a
    table for 4 people at Osteria Lupo on Saturday, December 5 at 7:30 pm. The
    reservation is for Ana Abbott, phone 555-201-3344. Add the special request "window
    seat"." Half the tasks name the restaurant, half describe it by constraints; 30%
    ask to sign in first and book under that account.

    ``mode="text"`` needs no browser: the server's own page objects are rendered as
    text with bracketed labels (WebShop's text grammar, plus ``fill[field: text]``).
    ``mode="browser"`` serves the site on 127.0.0.1 and drives a real Chromium through
    ``palaestra.envs.web.browser`` as WebShop does: the observation is the page's
    accessibility tree with element ids, the actions ``click(N)``, ``fill(N, "text")``,
    ``press("Enter")``, ``goto("/path")``... (see ``BROWSER_INSTRUCTIONS``); the same
    thread rules apply (use the env from the thread that created it).

    ## Action Space
    Text (``WebActionSpace``: a ``FreeText`` whose ``sample()`` gives a doable action).
    Text mode: ``search[words]``, ``click[label]``, ``fill[field: text]``; browser mode:
    browser.py's grammar, plus ``stop()`` to end the episode. An action that cannot be
    done now raises ``InvalidAction`` saying why and changes nothing.

    ## Observation Space
    ``FreeText``: the instruction, the step count and the page in words. ``info``:
    ``task_id``, ``url``, ``step``, ``last_action_error``, ``clickables``, ``fields``;
    ``success`` and ``reward_details`` (scorer-only) once the booking is made.

    ## Rewards
    0 until the booking; then 1 if the stored booking meets the goal, else 0 (see
    ``palaestra.envs.web.booking.tasks``). The page text is never read by the reward.
    ``reward_access = "hidden"``: the goal's fields are only in the instruction's words;
    the agent-side planning view pays 0 and drops ``success``/``reward_details``.

    ## Episode End
    Terminated by a booking; truncated after ``max_steps`` steps.

    ## Arguments
    ``mode`` ("text" | "browser"), ``split`` ("test": 500 tasks | "train": 5,000; test tasks target
    only held-out restaurants), ``site_seed`` (0), ``n_restaurants`` (150),
    ``max_steps`` (40), ``screenshot`` (False), ``headless`` (True), ``timeout_ms`` (browser
    action timeout, 5000), ``render_mode`` ("ansi").

    ## Snapshots
    ``get_state()`` = task + URL + the server-side session (account, form drafts,
    booking) + counters (+ the page's URL, history and typed form values in browser
    mode); ``set_state()`` restores it, also in a fresh env.

    ## Version History
    v0: first release.
    """

    metadata: ClassVar[dict] = {"render_modes": ["ansi"], "render_fps": 4}
    reward_access = "hidden"
    scorer_info_keys = ("reward_details",)

    def __init__(self, mode: str = "text", split: str = "test", site_seed: int = 0, n_restaurants: int = 150,
                 max_steps: int = 40, screenshot: bool = False, headless: bool = True, timeout_ms: int = 5000,
                 render_mode: str | None = None):
        super().__init__(render_mode=render_mode)
        if mode not in ("text", "browser"):
            raise ValueError(f"mode={mode!r}: use 'text' (no browser) or 'browser' (Chromium via Playwright).")
        if not 100 <= int(timeout_ms) <= 120_000:
            raise ValueError(f"timeout_ms={timeout_ms}: use 100..120000.")
        self.screenshot, self.headless, self.timeout_ms = bool(screenshot), bool(headless), int(timeout_ms)
        if split not in ("test", "train"):
            raise ValueError(f"split={split!r}: use 'test' or 'train'.")
        if not 1 <= int(max_steps) <= 10_000:
            raise ValueError(f"max_steps={max_steps}: use 1..10000.")
        self.mode, self.split, self.max_steps = mode, split, int(max_steps)
        self.site = generate_site(int(site_seed), int(n_restaurants))
        self.world = BookingWorld(self.site)
        self.tasks = BookingTasks(self.site)
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
        self._url = "/"
        self._page: Page | None = None
        self._obs = ""
        # browser mode
        self._server = None
        self._tab = None
        self._browser = None
        self._browser_restarted = False

    # ---- episode -------------------------------------------------------------------------
    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        if seed is not None:
            # a seeded episode samples the same random actions (the sampler reads the page)
            self.action_space.seed(int(seed))
        options = dict(options or {})
        if "task" in options:
            split, index = self.tasks.parse_id(options["task"])
        else:
            split = options.get("split", self.split)
            if split not in ("test", "train"):
                raise ValueError(f"options['split']={split!r}: use 'test' or 'train'.")
            index = int(self.np_random.integers(self.tasks.size(split)))
        self._split_index = (split, index)
        self.task = self._make_task(split, index)
        # the observation's head carries the instruction; the page does not repeat it
        self.world.open_session(self._sid, goal=None)
        self._steps, self._done, self._reward, self._details, self._error = 0, False, 0.0, {}, ""
        if self.mode == "text":
            self._goto("/")
        else:
            self._browser_reset()
        return self._obs, self._info()

    def step(self, action):
        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._split_index is None:
            raise InvalidAction("Call reset() before step().")
        if not isinstance(action, str):
            raise InvalidAction(f"actions are text, got {type(action).__name__}. " + self._grammar_hint())
        if self.mode == "text":
            self._do(self.parse_action(action))
        else:
            self._browser_step(self.parse_action(action))
        self._steps += 1
        terminated = self._done
        reward = self._reward if terminated else 0.0
        truncated = not terminated and self._steps >= self.max_steps
        if truncated:
            self._done = True
        self._render_obs()
        return self._obs, float(reward), terminated, truncated, self._info()

    def _grammar_hint(self) -> str:
        if self.mode == "browser":
            return ('Use click(N), fill(N, "text"), select(N, "option"), press("Enter"), scroll(up|down), '
                    'go_back(), goto("/path") or stop().')
        return "Use search[<words>], click[<label>] (a bracketed label of the page) or fill[<field>: <text>]."

    def _make_task(self, split: str, index: int) -> Task:
        task = self.tasks.task(split, index)
        tasks = self.tasks

        def validate(env):
            booking = env.world.export_session(env._sid).get("booking")
            if booking is None:
                return 0.0, False, {}
            reward, details = tasks.reward(booking, task.data)
            return reward, True, details

        task.validator = validate
        task.oracle = lambda env: env.oracle_plan()
        return task

    def _finish_if_booked(self) -> None:
        booking = self.world.export_session(self._sid).get("booking")
        if booking is not None:
            self._reward, self._details = self.tasks.reward(booking, self.task.data)
            self._done = True

    def _info(self) -> dict:
        info = {"task_id": self.task.id, "url": self._current_url(), "step": self._steps,
                "last_action_error": self._error}
        if self.mode == "text":
            info["clickables"] = [b.label for b in self._page.clickables()]
            info["fields"] = [b.label for b in self._page.inputs()]
        elif self._browser_restarted:
            info["browser_restarted"] = True
        if self._done:
            info["success"] = self._reward >= 1.0 and bool(self._details)
            info["reward_details"] = dict(self._details)
        return info

    def _current_url(self) -> str:
        if self.mode == "text":
            return self._url
        return self._tab.relative_url() if self._tab is not None else "/"

    # ---- the site ------------------------------------------------------------------------
    def _goto(self, url: str, method: str = "GET", form: dict | None = None) -> None:
        for _ in range(5):
            result = self.world.handle(self._sid, method, url, form)
            if isinstance(result, Redirect):
                url, method, form = result.url, "GET", None
                continue
            break
        self._page = result
        self._url = result.url
        self._finish_if_booked()
        self._render_obs()

    def _do(self, action: str) -> None:
        verb, _, arg = action.partition("[")
        arg = arg[:-1]
        self._error = ""
        if verb == "search":
            self._goto(search_url(arg))
        elif verb == "fill":
            field, _, value = arg.partition(": ")
            block = next(b for b in self._page.inputs() if b.label == field)
            self.world.set_field(self._sid, block.group, field, value)
            self._goto(self._url)
        else:
            block = next(b for b in self._page.clickables() if b.label == arg)
            if block.kind == "button":
                form = self.world.form_values(self._sid, block.group, self._url) if block.group else {}
                self._goto(block.href, "POST", form)
                errors = [b.text for b in self._page.blocks if b.kind == "error"]
                self._error = " ".join(errors)
            else:
                self._goto(block.href)

    # ---- language view -------------------------------------------------------------------
    def parse_action(self, text: str) -> str:
        if not isinstance(text, str):
            raise InvalidAction(f"expected text, got {type(text).__name__}. " + self._grammar_hint())
        if self._done:
            raise InvalidAction("The episode has ended; call reset() to start a new one.")
        if self._split_index is None:
            raise InvalidAction("Call reset() before acting.")
        if len(text) > MAX_ACTION_CHARS and self.mode == "text":
            raise InvalidAction(f"the action is {len(text)} characters long ({MAX_ACTION_CHARS} at most). "
                                + self._grammar_hint())
        if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
            raise InvalidAction("the action contains a lone surrogate (not valid text). " + self._grammar_hint())
        if self.mode == "browser":
            if len(text) > 4 * MAX_ACTION_CHARS:
                raise InvalidAction(f"the action is {len(text)} characters long ({4 * MAX_ACTION_CHARS} at most). "
                                    + self._grammar_hint())
            return self._tab.parse(text)
        m = _TEXT_ACTION.match(text)
        if m is None or "\n" in text or "\r" in text:
            raise InvalidAction(f"{text[:80]!r} is not an action. " + self._grammar_hint())
        verb, raw = m.group(1).lower(), m.group(2)
        if "[" in raw or "]" in raw:
            raise InvalidAction(f"{verb}[...] takes no brackets inside; " + self._grammar_hint())
        if not raw.isprintable():
            raise InvalidAction(f"{verb}[...] takes printable text only (no control characters).")
        page = self._page
        if verb == "search":
            arg = _norm(raw)
            if not page.search_box:
                raise InvalidAction("this page has no search box. " + self._clickables_hint())
            if not arg or len(arg) > 100:
                raise InvalidAction("search[...] needs 1 to 100 characters of words, e.g. search[thai riverside].")
            return f"search[{arg}]"
        if verb == "fill":
            field, sep, value = raw.partition(":")
            field, value = _norm(field), " ".join(value.split())
            fields = [b.label for b in page.inputs()]
            if not sep or field not in fields:
                shown = ", ".join(f"fill[{f}: ...]" for f in fields) or "none on this page"
                raise InvalidAction(f"fill[<field>: <text>] needs a field of this page; fields here: {shown}.")
            if len(value) > FIELD_MAX[field]:
                raise InvalidAction(f"the {field} field takes {FIELD_MAX[field]} characters at most (got {len(value)}).")
            return f"fill[{field}: {value}]"
        arg = _norm(raw)
        for b in page.clickables():
            if arg == b.label:
                return f"click[{b.label}]"
        hint = self._clickables_hint()
        try:
            from rapidfuzz import process

            best = process.extractOne(arg, [b.label for b in page.clickables()])
            if best and best[1] >= 60:
                hint = f"Did you mean click[{best[0]}]? " + hint
        except ImportError:  # pragma: no cover
            pass
        raise InvalidAction(f"there is nothing labelled [{arg[:80]}] on this page. " + hint)

    def _clickables_hint(self) -> str:
        labels = [b.label for b in self._page.clickables()]
        shown = ", ".join(f"[{x}]" for x in labels[:40]) + (" ..." if len(labels) > 40 else "")
        return f"Clickable here: {shown or 'nothing'}."

    def format_action(self, action) -> str:
        return str(action)

    def legal_actions(self):
        return None  # search and fill take free text

    def sample_action(self, rng: random.Random) -> str | None:
        """A doable action drawn from ``rng`` (random baselines): mostly clicks, some
        searches and fills with words of the instruction."""
        if self._split_index is None or self._done:
            return None
        if self.mode == "browser":
            return self._tab.sample_action(rng) if self._tab is not None else None
        labels = [b.label for b in self._page.clickables()]
        fields = [b.label for b in self._page.inputs()]
        words = [w for w in re.findall(r"[a-z0-9]+", self.task.goal.lower()) if len(w) > 2] or ["table"]
        u = rng.random()
        if fields and u < 0.3:
            field = rng.choice(fields)
            value = " ".join(rng.sample(words, min(2, len(words))))[: FIELD_MAX[field]]
            return f"fill[{field}: {value}]"
        if self._page.search_box and (not labels or u > 0.85):
            return f"search[{' '.join(rng.sample(words, min(2, len(words))))}]"
        return f"click[{rng.choice(labels)}]" if labels else None

    # ---- hooks of the contract kit's adversarial battery ----------------------------------
    def shotgun_actions(self) -> list:
        """Text actions that list every plausible value instead of reading the goal: the
        first restaurant listed, the first date, 2 people, the first free time, every
        word of the instruction as the name and every special request at once. Items
        that depend on the page reached are callables ``fn(env) -> str``."""
        if self.mode != "text":
            return []
        from .booking.tasks import REQUESTS

        def first(kind):
            return lambda env: f"click[{next((b.label for b in env._page.blocks if b.kind == kind), 'home')}]"

        words = " ".join(w for w in re.findall(r"[A-Za-z]+", self.task.goal) if len(w) > 1)[: FIELD_MAX["name"]]
        return ["click[browse all restaurants]", first("restaurant"), "click[dec 1]", "click[2 people]",
                first("slot"), f"fill[name: {words.strip()}]", "fill[phone: 555-000-0000]",
                f"fill[requests: {' '.join(REQUESTS)[: FIELD_MAX['requests']]}]", "click[book table]"]

    def off_task_actions(self) -> list[str]:
        """Leaving the task: text mode has no way off the site, so go home and sign in as
        nobody (browser mode: the battery's own ``goto``/``go_back``)."""
        if self.mode != "text":
            return ['goto("/")', "go_back()"]
        return ["click[home]", "click[sign in]", "click[sign in]"]

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
            head.append("Episode over: the booking is made.")
        elif self._done:
            head.append("Episode over.")
        if self.mode == "browser":
            self._obs = "\n".join(head) + "\n" + self._tab.observation_text(self._error)
            return
        body = page_text(self._page)
        actions = "Actions: search[<words>] | click[<label>] | fill[<field>: <text>]"
        self._obs = "\n".join(head) + "\n" + body + ("\n" + actions if not self._done else "")

    # ---- oracle --------------------------------------------------------------------------
    def oracle_plan(self) -> list[str]:
        if self._done:
            return []
        if self.mode == "browser":
            return self._browser_oracle()
        return self.tasks.oracle_plan(self.task.data, self.world, self._sid, self._url)

    # ---- snapshots -----------------------------------------------------------------------
    def get_state(self) -> dict:
        state = {
            "mode": self.mode,
            "task": self._split_index,
            "session": self.world.export_session(self._sid),
            "url": self._url,
            "steps": self._steps,
            "done": self._done,
            "reward": self._reward,
            "details": dict(self._details),
            "error": self._error,
            "np_random": self.np_random.bit_generator.state if self._np_random is not None else None,
        }
        if self.mode == "browser":
            state["url"] = None
            state["page"] = self._tab.get_state()
        return state

    def set_state(self, state: dict) -> None:
        if not isinstance(state, dict) or state.get("mode") != self.mode or not state.get("task"):
            raise ValueError("not a Booking-v0 snapshot: pass what get_state() returned.")
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
        if self.mode == "browser":
            if self._tab is None or not self._tab.alive():
                self._new_tab()
            self._tab.set_state(state["page"])
            self._render_obs()
            return
        result = self.world.handle(self._sid, "GET", state["url"])
        if isinstance(result, Page):
            self._page = result
        self._url = state["url"]
        self._render_obs()

    # ---- browser mode (through browser.py) -------------------------------------------------
    def _new_tab(self) -> None:
        from .booking.server import BookingServer
        from .browser import Browser

        if self._server is None:
            self._server = BookingServer(self.world)
            self._server.start()
        if self._browser is None:
            self._browser = Browser(headless=self.headless)
        if self._tab is not None:
            self._tab.close()
            self._tab = None
        self._tab, self._browser_restarted = self._browser.open_tab(
            self._server.origin, timeout_ms=self.timeout_ms, cookies={"sid": self._sid}, screenshot=self.screenshot
        )

    def _browser_reset(self) -> None:
        self._new_tab()
        self._tab.goto("/")
        self._error = ""
        self._render_obs()

    def _browser_step(self, action: str) -> None:
        if action.split("(", 1)[0] == "stop":
            self._done = True
            self._error = ""
            self._finish_if_booked()
            return
        self._error = self._tab.act(action) or ""
        self._finish_if_booked()

    def _browser_oracle(self) -> list[str]:
        """The text plan turned into browser actions, page by page (looked ahead in a scratch
        tab of the same session), up to and including the next form submission."""
        import json

        from .browser import click_for_label

        tab = self._tab
        url = tab.relative_url()
        text_plan = self.tasks.oracle_plan(self.task.data, self.world, self._sid, url)
        nodes = tab.nodes
        actions: list[str] = []
        for step in text_plan:
            verb, _, arg = step.partition("[")
            arg = arg[:-1]
            page = self.world.handle(self._sid, "GET", url)
            if not isinstance(page, Page):
                break
            if verb == "search":
                box = next((n for n in nodes if n.role in _TEXT_ROLES and n.name == "Search restaurants"), None)
                if box is None:
                    break
                actions += [f"fill({box.id}, {json.dumps(arg)})", 'press("Enter")']
                url = search_url(arg)
            elif verb == "fill":
                field, _, value = arg.partition(": ")
                block = next((b for b in page.inputs() if b.label == field), None)
                node = next((n for n in nodes if block is not None and n.role in _TEXT_ROLES and n.name == block.text), None)
                if node is None:
                    break
                actions.append(f"fill({node.id}, {json.dumps(value)})")
                continue
            else:
                action, block = click_for_label(page.clickables(), nodes, arg, _visible_name)
                if action is None:
                    break
                actions.append(action)
                if block.kind == "button":
                    break  # a POST: the rest of the plan comes from replanning after it
                url = block.href
            nodes = tab.lookahead([url])[url]
        return actions

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
