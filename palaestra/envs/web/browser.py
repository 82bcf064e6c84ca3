"""Chromium through Playwright's sync API: one browser per env, one context per episode.

Thread rules (Playwright's sync API): every Playwright object belongs to the thread that
started its ``sync_playwright()`` and must only be used from that thread; a thread can
run one ``sync_playwright()`` at a time, and never inside a running asyncio loop. Here
one driver per thread is shared (reference-counted) by that thread's envs, and each env
launches its own Chromium from it. Use an env from the thread that created it; for
parallelism use processes (AsyncVectorEnv) or one env per thread.

Observation: ``page.aria_snapshot(mode="ai")``, whose ``[ref=eN]`` ids (usable as
``aria-ref=eN`` locators) keep counting across documents; they are renumbered
``[id=1]``, ``[id=2]``... in document order per observation, so the same page always
reads the same (snapshots restore exactly). The id map turns ``click(3)`` back into the
locator ``aria-ref=eN`` of the latest observation.

Confinement: only the env's own origin is reachable. Other hosts do not resolve
(``--host-resolver-rules``); any request to another origin is answered 403 by a route;
every WebSocket is routed and closed before it connects; and the context's proxy is a
127.0.0.1 port nothing listens on, bypassed only for the env's origin, so nothing that
passes the routes (a preconnect on a click, another port of 127.0.0.1) reaches another
server. ``goto`` refuses other origins and ``file://``; downloads are refused; every page
but the tab's own (pop-ups, links opened with Shift/Ctrl+Enter) is closed as it opens.

Crashes: when Chromium dies, the tab's calls raise :class:`BrowserCrashed` (never a
Playwright error and never "stale id"); the envs turn it into an error observation that
ends the episode (``truncated``) and says to call ``reset()``.
"""

from __future__ import annotations

import ast
import io
import json
import re
import shutil
import threading
import time
from urllib.parse import urlsplit

from palaestra.core import InvalidAction, MissingDependency
from palaestra.core.errors import PalaestraError

CRASH_MESSAGE = ("the browser crashed (Chromium exited or was killed); this episode cannot go on: call reset() "
                 "to start a new one (set_state(snapshot) also restores a saved state in a new browser).")


class BrowserCrashed(PalaestraError):
    """Chromium died under an episode; the env turns this into an error observation."""

    def __init__(self, message: str = CRASH_MESSAGE):
        super().__init__(message)

BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
VERBS = ("click", "fill", "select", "press", "scroll", "drag", "go_back", "goto", "stop")
_KEY = re.compile(
    r"^((Control|Shift|Alt|Meta)\+)*(Enter|Tab|Escape|Backspace|Delete|Space|Home|End|PageUp|PageDown|"
    r"ArrowUp|ArrowDown|ArrowLeft|ArrowRight|F\d{1,2}|[A-Za-z0-9])$"
)
_NODE = re.compile(r'^(\s*)- ([a-zA-Z]+)(?: "((?:[^"\\]|\\.)*)")?[^\n]*?\[id=(\d+)\]')
_URL = re.compile(r"^(\s*)- /url: (.*)$")
_CLICKABLE_ROLES = {"link", "button", "checkbox", "radio", "menuitem", "option", "tab", "switch", "combobox", "textbox", "listitem", "cell", "generic", "img", "paragraph", "heading", "spinbutton", "searchbox"}
_TEXT_ROLES = {"textbox", "searchbox", "spinbutton", "combobox"}

_FORM_STATE_JS = """() => {
  const els = [...document.querySelectorAll('input,textarea,select')];
  const all = [...document.querySelectorAll('*')];
  return {
    values: els.map(e => (e.type === 'checkbox' || e.type === 'radio') ? e.checked : e.value),
    focus: document.activeElement && document.activeElement !== document.body ? all.indexOf(document.activeElement) : -1,
    scroll: [window.scrollX, window.scrollY],
  };
}"""
_FORM_RESTORE_JS = """(s) => {
  const els = [...document.querySelectorAll('input,textarea,select')];
  s.values.forEach((v, i) => { const e = els[i]; if (!e) return;
    if (e.type === 'checkbox' || e.type === 'radio') e.checked = v; else e.value = v; });
  if (s.focus >= 0) { const e = document.querySelectorAll('*')[s.focus]; if (e && e.focus) e.focus(); }
  window.scrollTo(s.scroll[0], s.scroll[1]);
}"""


# marks a document that is being navigated away from (beforeunload fires when a link,
# a form or a script starts a navigation, before the request is sent)
_LEAVING_JS = "window.addEventListener('beforeunload', () => { window.__palaestraLeaving = true; });"
_EDITABLE_JS = """e => !e.disabled && !e.readOnly && (e.isContentEditable || e.tagName === 'TEXTAREA' ||
  (e.tagName === 'INPUT' && !['checkbox', 'radio', 'button', 'submit', 'reset', 'image', 'file', 'hidden'].includes(e.type)))"""
_CHECK_LEAVING_JS = "() => new Promise(r => setTimeout(() => r(window.__palaestraLeaving === true), 0))"
_ARRIVED_JS = "() => window.__palaestraLeaving !== true && document.readyState === 'complete'"
# Waits (at most ``cap`` ms) until what the page is still doing has landed: <img> loads,
# then animation frames without DOM mutations. Images (also CSS ``content:url(...)`` ones)
# have no size until they load, and the accessibility snapshot gives ids only to elements
# with a box, so a snapshot taken earlier numbers the elements differently.
_SETTLE_JS = """(cap) => new Promise(resolve => {
  const end = performance.now() + cap;
  let changed = false;
  const obs = new MutationObserver(() => { changed = true; });
  obs.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  const frame = () => new Promise(r => { let done = false; const f = () => { if (!done) { done = true; r(); } };
    requestAnimationFrame(() => setTimeout(f, 0)); setTimeout(f, 50); });
  (async () => {
    const imgs = [...document.images].filter(i => !i.complete);
    await Promise.race([Promise.all(imgs.map(i => new Promise(r => {
      i.addEventListener('load', r, {once: true}); i.addEventListener('error', r, {once: true}); }))),
      new Promise(r => setTimeout(r, cap))]);
    await frame();
    while (performance.now() < end) { changed = false; await frame(); if (!changed) break; }
    obs.disconnect();
    resolve(true);
  })();
})"""
SETTLE_CAP_MS = 400
_PATH_JS = """e => { const parts = [];
  for (; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
    let i = 1; for (let s = e.previousElementSibling; s; s = s.previousElementSibling) i++;
    parts.unshift(e.tagName.toLowerCase() + ':nth-child(' + i + ')'); }
  return 'html > ' + parts.join(' > '); }"""


def chromium_executable() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise MissingDependency("Debian's Chromium browser (the 'chromium' command)", "apt-get install -y chromium")
    return path


_DEAD_PORT: list = []


def _dead_port() -> int:
    """A 127.0.0.1 port bound by this process and never listened on: connections to it are
    refused, and no other program can take the port while the process lives."""
    if not _DEAD_PORT:
        import socket

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        _DEAD_PORT.append(sock)  # kept open (not listening) for the life of the process
    return _DEAD_PORT[0].getsockname()[1]


# ---- one Playwright driver per thread ---------------------------------------------------
_local = threading.local()


def _acquire_driver():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover
        raise MissingDependency("The Python package 'playwright'", "pip install 'palaestra[web]'") from exc
    entry = getattr(_local, "driver", None)
    if entry is None:
        entry = _local.driver = [sync_playwright().start(), 0]
    entry[1] += 1
    return entry[0]


def _release_driver():
    entry = getattr(_local, "driver", None)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] <= 0:
        _local.driver = None
        try:
            entry[0].stop()
        except Exception:  # noqa: BLE001 - already gone
            pass


class Browser:
    """One Chromium process (Debian's), relaunched by :meth:`ensure` if it died."""

    def __init__(self, headless: bool = True, extra_args: tuple[str, ...] = ()):
        self.headless = headless
        self.extra_args = tuple(extra_args)
        self.browser = None
        self.launches = 0
        self._thread = threading.get_ident()
        self._driver = None

    def ensure(self) -> bool:
        """Launch Chromium if it is not running; True when this was a restart after a crash."""
        if self.browser is not None and self.browser.is_connected():
            return False
        if self._driver is None:
            self._driver = _acquire_driver()
        if self.browser is not None:
            try:
                self.browser.close()
            except Exception:  # noqa: BLE001 - it is dead already
                pass
        self.browser = self._driver.chromium.launch(
            executable_path=chromium_executable(), headless=self.headless, args=BROWSER_ARGS + list(self.extra_args)
        )
        self.launches += 1
        return self.launches > 1

    def open_tab(self, origin: str, **kwargs) -> tuple["Tab", bool]:
        """A new Tab; relaunches Chromium if it died (crash, OOM kill). Returns (tab, restarted)."""
        from playwright.sync_api import Error as PlaywrightError

        restarted = self.ensure()
        try:
            return Tab(self, origin, **kwargs), restarted
        except PlaywrightError:
            self.browser = None  # it died since the last check: start a new one
            self.ensure()
            return Tab(self, origin, **kwargs), True

    def new_context(self, origin: str):
        """A fresh, confined context: only ``origin`` is reachable, no downloads, no pop-ups.

        Three layers: a route answers every other http(s) request 403 before it leaves
        the browser; every WebSocket is routed and closed without a server connection;
        and the context's proxy is a port nothing listens on, bypassed only for
        ``origin``, so whatever Chromium sends past the routes (a preconnect on a click,
        a socket to another port of 127.0.0.1) never reaches another server.
        """
        parts = urlsplit(origin)
        context = self.browser.new_context(
            accept_downloads=False, viewport={"width": 1024, "height": 768}, service_workers="block",
            proxy={"server": f"http://127.0.0.1:{_dead_port()}", "bypass": parts.netloc},
        )
        prefix = origin.rstrip("/") + "/"

        def refuse(route):
            route.fulfill(status=403, content_type="text/plain",
                          body=f"Blocked by palaestra: only {origin} is reachable from this env.")

        context.route(re.compile(r"^(?!" + re.escape(prefix) + r"|" + re.escape(origin) + r"$)[a-z]+://"), refuse)
        context.route_web_socket(re.compile(r".*"), lambda ws: ws.close(code=1008, reason="blocked by palaestra"))
        return context

    def pid(self) -> int | None:
        try:
            return self.browser._impl_obj._connection._transport._proc.pid  # noqa: SLF001 - driver pid
        except Exception:  # noqa: BLE001
            return None

    def close(self) -> None:
        if self._thread != threading.get_ident():
            return  # Playwright objects cannot be touched from another thread (GC): the driver's exit cleans up
        if self.browser is not None:
            try:
                self.browser.close()
            except Exception:  # noqa: BLE001
                pass
            self.browser = None
        if self._driver is not None:
            self._driver = None
            _release_driver()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass


class Node:
    __slots__ = ("id", "role", "name", "url", "indent")

    def __init__(self, id_, role, name, indent):
        self.id, self.role, self.name, self.url, self.indent = id_, role, name, None, indent

    def __repr__(self):
        return f"Node({self.id}, {self.role!r}, {self.name!r}, url={self.url!r})"


def renumber(snapshot: str) -> tuple[str, dict[int, str]]:
    """``[ref=eN]`` -> ``[id=K]`` (K = 1, 2, ... in document order); returns text and K -> eN."""
    ids: dict[int, str] = {}

    def repl(m):
        k = len(ids) + 1
        ids[k] = m.group(1)
        return f"[id={k}]"

    text = re.sub(r"\[ref=([a-z0-9]+)\]", repl, snapshot)
    text = text.replace(" [cursor=pointer]", "")
    return text, ids


def strip_urls(tree: str) -> str:
    """The tree without its ``- /url: ...`` lines (a link's name says where it goes)."""
    return "\n".join(line for line in tree.splitlines() if not _URL.match(line))


def parse_nodes(tree: str) -> list[Node]:
    nodes: list[Node] = []
    for line in tree.splitlines():
        m = _NODE.match(line)
        if m:
            name = m.group(3)
            if name is not None:
                try:
                    name = json.loads(f'"{name}"')
                except json.JSONDecodeError:
                    pass
            nodes.append(Node(int(m.group(4)), m.group(2), name or "", len(m.group(1))))
            continue
        u = _URL.match(line)
        if u and nodes and len(u.group(1)) > nodes[-1].indent:
            url = u.group(2).strip()
            if url.startswith('"'):
                try:
                    url = json.loads(url)
                except json.JSONDecodeError:
                    url = url.strip('"')
            nodes[-1].url = url
    return nodes


def check_encodable(text: str) -> None:
    """Refuse text that cannot be sent anywhere (a lone surrogate such as '\\ud800')."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidAction(f"the action has a character that is not valid Unicode text at position {exc.start} "
                            f"({text[exc.start]!r}, a lone surrogate); send plain UTF-8 text.") from None


def parse_call(text: str) -> tuple[str, tuple]:
    """``fill(3, "x")`` -> ("fill", (3, "x")); raises InvalidAction with the grammar."""
    grammar = ('Actions: click(N), fill(N, "text"), select(N, "option"), press("Enter"), scroll(up|down), '
               'drag(N, M), go_back(), goto("/path"), stop("answer").')
    if len(text) > 2000:
        raise InvalidAction(f"the action is {len(text)} characters long. {grammar}")
    check_encodable(text)
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise InvalidAction(f"{text[:80]!r} is not an action. {grammar}") from None
    if not isinstance(tree, ast.Call) or not isinstance(tree.func, ast.Name) or tree.keywords:
        raise InvalidAction(f"{text[:80]!r} is not an action. {grammar}")
    verb = tree.func.id
    if verb not in VERBS:
        raise InvalidAction(f"unknown action {verb!r}. {grammar}")
    args = []
    for a in tree.args:
        if isinstance(a, ast.Constant) and isinstance(a.value, (int, str)) and not isinstance(a.value, bool):
            args.append(a.value)
        elif isinstance(a, ast.Name) and verb == "scroll":
            args.append(a.id)
        else:
            raise InvalidAction(f"{verb}(...) takes numbers and quoted strings only. {grammar}")
    return verb, tuple(args)


def _visible_name(block) -> str:
    """The accessible name the shop's HTML gives a clickable block (see shop/render.py)."""
    if block.kind == "product":
        return block.label.upper()
    return block.text


def click_for_label(blocks, nodes, label: str, visible_name) -> tuple[str | None, object | None]:
    """The ``click(N)`` of the accessibility-tree node showing the page block labelled
    ``label`` (a site's bracketed label), and that block; ``(None, None)`` when there is
    none. Blocks with the same visible name map to their nodes in page order;
    ``visible_name(block)`` is the accessible name the site's HTML gives a block."""
    block = next((b for b in blocks if b.label == label), None)
    if block is None:
        return None, None
    name = visible_name(block)
    k = [b for b in blocks if visible_name(b) == name].index(block)
    candidates = [n for n in nodes if n.role in ("link", "button") and n.name == name]
    if k >= len(candidates):
        return None, None
    return f"click({candidates[k].id})", block


def _q(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


class Tab:
    """One episode's page: a fresh context of ``browser`` confined to ``origin``."""

    def __init__(self, browser: Browser, origin: str, timeout_ms: int = 5000, cookies: dict | None = None,
                 screenshot: bool = False, show_urls: bool = False, static_pages: bool = False):
        self.browser = browser
        self.origin = origin.rstrip("/")
        self.timeout_ms = int(timeout_ms)
        self.screenshot = screenshot
        self.show_urls = bool(show_urls)
        # pages without scripts or images (the shop's): nothing changes after "load", so an
        # observation needs no settling beyond the requests still in flight
        self.static_pages = bool(static_pages)
        self.context = browser.new_context(self.origin)
        self.context.add_init_script(_LEAVING_JS)
        if cookies:
            self.context.add_cookies([{"name": k, "value": v, "url": self.origin + "/"} for k, v in cookies.items()])
        self.context.set_default_timeout(self.timeout_ms)
        self._own_pages: set = set()
        self._opening = True
        self.page = self.context.new_page()
        self._own_pages.add(self.page)
        self._opening = False
        # every other page (a pop-up, a link opened with Shift+Enter or Ctrl+click) is closed
        # as it opens: the episode is the task's own tab
        self.context.on("page", self._close_foreign_page)
        # requests of this page still in flight (images, CSS, XHR): observations wait for them
        self._inflight: set = set()
        self.page.on("request", lambda r: self._inflight.add(r))
        self.page.on("requestfinished", lambda r: self._inflight.discard(r))
        self.page.on("requestfailed", lambda r: self._inflight.discard(r))
        self.tree = ""
        self.ids: dict[int, str] = {}
        self.nodes: list[Node] = []
        self.history: list[str] = []
        self.last_answer: str | None = None
        self._image = None
        self._scratch = None

    def _close_foreign_page(self, page) -> None:
        if self._opening or page in self._own_pages:
            return
        try:
            page.close()
        except Exception:  # noqa: BLE001 - it closed itself or the browser died
            pass

    def open_pages(self) -> int:
        """How many pages this tab's context has open (1 unless a scratch page exists)."""
        return len([p for p in self.context.pages if not p.is_closed()])

    # ---- navigation and observation ------------------------------------------------------
    def relative_url(self) -> str:
        url = self.page.url
        if url.startswith(self.origin):
            return url[len(self.origin):] or "/"
        return url

    def goto(self, rel: str, record: bool = True) -> None:
        self.page.goto(self.origin + rel, wait_until="load", timeout=self.timeout_ms)
        if record:
            self.history.append(self.relative_url())
        self.refresh()

    def quiesce(self, cap_ms: int = SETTLE_CAP_MS) -> None:
        """Wait (at most about ``cap_ms``) until the page has no request in flight, its images
        have loaded and a few animation frames passed without DOM changes, so that the same
        page always gives the same observation (snapshots restore exactly). Bounded; no
        fixed sleep: a quiet page returns after one or two frames."""
        from playwright.sync_api import Error as PlaywrightError

        deadline = time.monotonic() + cap_ms / 1000
        if self.static_pages and not self._inflight:
            return
        try:
            for _ in range(4):
                self.page.evaluate(_SETTLE_JS, max(1, int((deadline - time.monotonic()) * 1000)))
                if not self._inflight:
                    return
                while self._inflight and time.monotonic() < deadline:
                    self.page.wait_for_timeout(5)  # lets Playwright deliver the request events
                if time.monotonic() >= deadline:
                    return
        except PlaywrightError:  # navigated away meanwhile: the snapshot below reads the new page
            return

    def refresh(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        self.quiesce()
        try:
            snap = self.page.aria_snapshot(mode="ai", timeout=self.timeout_ms)
        except PlaywrightError:
            self.check_alive()
            raise
        self.tree, self.ids = renumber(snap)
        self.nodes = parse_nodes(self.tree)
        self._image = None

    def observation_text(self, error: str = "") -> str:
        lines = [f"URL: {self.relative_url()}"]
        if error:
            lines.append(f"Last action error: {error}")
        lines.append("Page (accessibility tree; act on elements by their id):")
        lines.append(self.tree if self.show_urls else strip_urls(self.tree))
        return "\n".join(lines)

    def screenshot_array(self):
        if self._image is None:
            import numpy as np
            from PIL import Image

            png = self.page.screenshot(type="png")
            self._image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        return self._image

    # ---- actions -------------------------------------------------------------------------
    def parse_call(self, text: str):
        return parse_call(text)

    def _ref(self, n, verb: str) -> tuple[int, str]:
        """The ``aria-ref`` of id ``n`` of the latest observation; InvalidAction if there is none."""
        if not isinstance(n, int) and not (isinstance(n, str) and n.isdigit()):
            raise InvalidAction(f"{verb}(...) needs an element id (a number in [id=N] of the page), got {n!r}.")
        n = int(n)
        ref = self.ids.get(n)
        if ref is None:
            top = max(self.ids) if self.ids else 0
            raise InvalidAction(f"unknown id {n}: it is not on the page now (the page has ids 1..{top}); the page "
                                "may have changed: read the new observation and use one of its [id=N].")
        return n, ref

    def _locator(self, n, verb: str):
        n, ref = self._ref(n, verb)
        loc = self.page.locator(f"aria-ref={ref}")
        from playwright.sync_api import Error as PlaywrightError

        try:
            count = loc.count()
            visible = count > 0 and loc.is_visible()
        except PlaywrightError:
            self.check_alive()
            count, visible = 0, False
        if count == 0:
            raise InvalidAction(f"stale id {n}: that element is no longer on the page. Use the ids of the latest observation.")
        if not visible:
            raise InvalidAction(f"element {n} is hidden (not visible): it cannot be {verb}ed. Pick a visible element.")
        return n, loc

    def check_alive(self) -> None:
        """Raise :class:`BrowserCrashed` if Chromium (or this tab's page) is gone."""
        if not self.alive():
            raise BrowserCrashed()

    def parse(self, text: str) -> str:
        """Validate ``text`` against the current page (no side effects); return canonical text."""
        verb, args = parse_call(text)
        self.check_alive()

        def arity(k):
            if len(args) != k:
                raise InvalidAction(f"{verb} takes {k} argument(s), got {len(args)}.")

        if verb == "click":
            arity(1)
            n, _ = self._locator(args[0], "click")
            return f"click({n})"
        if verb == "fill":
            arity(2)
            n, loc = self._locator(args[0], "fill")
            if not isinstance(args[1], str):
                raise InvalidAction('fill(N, "text") needs the text in quotes.')
            if not self._check(loc, _EDITABLE_JS, n):
                raise InvalidAction(f"element {n} is not a text box; fill(...) needs an editable element.")
            return f"fill({n}, {_q(args[1])})"
        if verb == "select":
            arity(2)
            n, loc = self._locator(args[0], "select")
            if not isinstance(args[1], str):
                raise InvalidAction('select(N, "option") needs the option in quotes.')
            options = self._check(loc, "e => e.tagName === 'SELECT' ? [...e.options].map(o => [o.label, o.value]) : null", n)
            if options is None:
                raise InvalidAction(f"element {n} is not a drop-down (select).")
            if not any(args[1] in pair for pair in options):
                raise InvalidAction(f"drop-down {n} has no option {args[1]!r}; it has " + ", ".join(repr(o[0]) for o in options[:30]))
            return f"select({n}, {_q(args[1])})"
        if verb == "press":
            arity(1)
            if not isinstance(args[0], str) or not _KEY.match(args[0]):
                raise InvalidAction('press("Key") takes a key name such as "Enter", "Tab", "Escape", "ArrowDown" or "Control+a".')
            return f"press({_q(args[0])})"
        if verb == "scroll":
            arity(1)
            if args[0] not in ("up", "down"):
                raise InvalidAction("scroll takes up or down: scroll(up) / scroll(down).")
            return f"scroll({args[0]})"
        if verb == "drag":
            arity(2)
            n, _ = self._locator(args[0], "dragg")
            m, _ = self._locator(args[1], "dropp")
            if n == m:
                raise InvalidAction(f"drag({n}, {m}) drops an element onto itself; give another target.")
            return f"drag({n}, {m})"
        if verb == "go_back":
            arity(0)
            if len(self.history) < 2:
                raise InvalidAction("there is no previous page to go back to.")
            return "go_back()"
        if verb == "goto":
            arity(1)
            return f"goto({_q(self._same_origin(args[0]))})"
        if verb == "stop":
            if len(args) > 1 or (args and not isinstance(args[0], str)):
                raise InvalidAction('stop() or stop("answer") with the answer in quotes.')
            return f"stop({_q(args[0])})" if args else "stop()"
        raise InvalidAction(f"unknown action {verb!r}.")  # pragma: no cover

    def _check(self, loc, js: str, n: int):
        from playwright.sync_api import Error as PlaywrightError

        try:
            return loc.evaluate(js, timeout=self.timeout_ms)
        except PlaywrightError:
            self.check_alive()
            raise InvalidAction(f"stale id {n}: that element is no longer on the page.") from None

    def _same_origin(self, url) -> str:
        if not isinstance(url, str) or not url.strip():
            raise InvalidAction('goto("/path") needs a path of this site in quotes.')
        url = url.strip()
        if url.startswith("/") and not url.startswith("//"):
            return url
        parts = urlsplit(url)
        if parts.scheme == "file":
            raise InvalidAction("file:// URLs are not reachable from this env; only this site is.")
        if url.startswith(self.origin + "/") or url == self.origin:
            return url[len(self.origin):] or "/"
        raise InvalidAction(f"only this site ({self.origin}) is reachable; give a path such as goto(\"/\").")

    def element_paths(self, action: str) -> list[str] | None:
        """CSS paths (``html > body:nth-child(2) > ...``) of the elements an action names by
        id, as the page is now; a replay of the same seeded page finds them again without an
        observation per step. None when an element is not in the main document (an iframe)."""
        from playwright.sync_api import Error as PlaywrightError

        verb, args = parse_call(action)
        n_ids = {"click": 1, "fill": 1, "select": 1, "drag": 2}.get(verb, 0)
        paths = []
        for n in args[:n_ids]:
            ref = self.ids.get(int(n)) if isinstance(n, int) or (isinstance(n, str) and n.isdigit()) else None
            if ref is None or not ref.startswith("e"):
                return None
            try:
                paths.append(self.page.locator(f"aria-ref={ref}").evaluate(_PATH_JS, timeout=self.timeout_ms))
            except PlaywrightError:
                return None
        return paths

    def act(self, action: str, paths: list[str] | None = None, refresh: bool = True) -> str | None:
        """Do a canonical action; return an error message the agent can act on, or None.
        Raises :class:`BrowserCrashed` if Chromium died (before or during the action).
        ``paths`` (from :meth:`element_paths`) address the elements instead of the ids of
        the latest observation; ``refresh=False`` skips the observation afterwards (a replay)."""
        verb, args = parse_call(action)
        self.check_alive()
        before = self.page.url
        error = None
        try:
            from playwright.sync_api import Error as PlaywrightError
            from playwright.sync_api import TimeoutError as PlaywrightTimeout
        except ImportError:  # pragma: no cover
            raise
        replay = bool(paths)
        if verb in ("click", "fill", "select", "drag") and paths:
            loc = self.page.locator(paths[0])
            target = self.page.locator(paths[1]) if verb == "drag" and len(paths) > 1 else None
        elif verb in ("click", "fill", "select", "drag"):
            try:  # the caller may not have validated against this page (a replay, a stale plan)
                _, loc = self._locator(args[0] if args else None, verb)
                if verb == "drag":
                    _, target = self._locator(args[1] if len(args) > 1 else None, verb)
            except InvalidAction as exc:
                return str(exc)  # nothing was done; the page and the ids are as they were
        try:
            if verb == "drag":
                self._drag(loc, target)
            elif verb in ("click", "fill", "select"):
                if verb == "click":
                    # a replay clicks where the element is now, without waiting for it to
                    # hold still (the restore is checked against the snapshot's text)
                    loc.click(timeout=self.timeout_ms, force=replay)
                elif verb == "fill":
                    loc.fill(args[1], timeout=self.timeout_ms, force=replay)
                else:
                    try:
                        loc.select_option(label=args[1], timeout=self.timeout_ms)
                    except PlaywrightError:
                        loc.select_option(value=args[1], timeout=self.timeout_ms)
            elif verb == "press":
                self.page.keyboard.press(args[0])
            elif verb == "scroll":
                self.page.evaluate("d => window.scrollBy(0, d * window.innerHeight * 0.8)", 1 if args[0] == "down" else -1)
            elif verb == "go_back":
                self.history.pop()
                self.page.goto(self.origin + self.history[-1], wait_until="load", timeout=self.timeout_ms)
            elif verb == "goto":
                self.page.goto(self.origin + args[0], wait_until="load", timeout=self.timeout_ms)
            if not replay:  # a replayed action was done before without leaving the page
                self._settle()
        except PlaywrightTimeout as exc:
            self.check_alive()
            lines = [x.strip(" -") for x in str(exc).splitlines() if x.strip()]
            why = next((x for x in reversed(lines) if any(k in x for k in ("intercepts pointer events", "not visible",
                        "not enabled", "not stable", "outside of the viewport", "waiting for"))), lines[0] if lines else "")
            error = (f"timeout: {verb} did not complete within {self.timeout_ms} ms (last: {why}). "
                     "The element may be covered, disabled or still loading; try another element or scroll.")
        except PlaywrightError as exc:
            self.check_alive()
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            error = f"{verb} failed: {first}"
        if verb not in ("go_back",) and self.page.url != before:
            self.history.append(self.relative_url())
        if refresh:
            self.refresh()
        return error

    def _drag(self, source, target) -> None:
        """Press on the source's centre, move to the target's centre in small steps (widgets
        such as jQuery UI's sortable need several moves), release."""
        source.scroll_into_view_if_needed(timeout=self.timeout_ms)
        a = source.bounding_box(timeout=self.timeout_ms)
        b = target.bounding_box(timeout=self.timeout_ms)
        if a is None or b is None:
            raise InvalidAction("drag(...) needs two visible elements.")
        # the drop point is past the target's middle in the direction of travel, so that
        # a list reorders onto the target's place rather than stopping just short of it
        dy = b["y"] - a["y"]
        frac = 0.5 if abs(dy) < 1 else (0.75 if dy > 0 else 0.25)
        mouse = self.page.mouse
        mouse.move(a["x"] + a["width"] / 2, a["y"] + a["height"] / 2)
        mouse.down()
        mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] * frac, steps=12)
        mouse.up()

    def _settle(self) -> None:
        """Wait for what the action caused, without fixed sleeps: if the action started a
        navigation (the page fired beforeunload), wait until the new document has loaded;
        otherwise return after one turn of the page's event loop."""
        from playwright.sync_api import Error as PlaywrightError

        try:
            leaving = self.page.evaluate(_CHECK_LEAVING_JS)
        except PlaywrightError:  # the old document is gone already: a navigation committed
            leaving = True
        if leaving:
            self.page.wait_for_function(_ARRIVED_JS, polling=10, timeout=self.timeout_ms)
        self.page.wait_for_load_state("load", timeout=self.timeout_ms)

    # ---- snapshots -----------------------------------------------------------------------
    def get_state(self) -> dict:
        """URL, history and form values. After a crash: the last URL and history, with
        ``form`` None (what was typed died with the browser)."""
        from playwright.sync_api import Error as PlaywrightError

        form = None
        if self.alive():
            try:
                form = self.page.evaluate(_FORM_STATE_JS)
            except PlaywrightError:
                form = None
        return {"url": self.relative_url(), "history": list(self.history), "form": form}

    def set_state(self, state: dict) -> None:
        self.page.goto(self.origin + state["url"], wait_until="load", timeout=self.timeout_ms)
        if state.get("form") is not None:
            self.page.evaluate(_FORM_RESTORE_JS, state["form"])
        self.history = list(state["history"])
        self.refresh()

    # ---- helpers for oracles and random agents ------------------------------------------
    def sample_action(self, rng) -> str | None:
        """A doable action of this page (random baselines): mostly clicks; text boxes get
        text, drop-downs one of their options (never ``fill``: a drop-down takes no text)."""
        clickable = [n for n in self.nodes if n.role in ("link", "button", "checkbox", "radio", "tab", "menuitem")]
        boxes = [n for n in self.nodes if n.role in ("textbox", "searchbox", "spinbutton")]
        combos = [n for n in self.nodes if n.role == "combobox"]
        r = rng.random()
        if combos and r < 0.1:
            combo = rng.choice(combos)
            options = self._options(combo.id)
            if options:
                return f"select({combo.id}, {_q(rng.choice(options))})"
            boxes.append(combo)  # an editable combobox (an <input list=...>) takes text
        if boxes and r < 0.25:
            words = ["red", "blue", "shoes", "tea", "hoodie", "cheap", "organic", "size", "large", "navy"]
            return f"fill({rng.choice(boxes).id}, {_q(' '.join(rng.sample(words, 2)))})"
        if r < 0.3:
            return f"scroll({rng.choice(['up', 'down'])})"
        if r < 0.35:
            return 'press("Enter")'
        if clickable:
            return f"click({rng.choice(clickable).id})"
        if self.nodes:
            return f"click({rng.choice(self.nodes).id})"
        return "scroll(down)"

    def _options(self, n: int) -> list[str] | None:
        """The option labels of drop-down ``n`` (None if it is not a <select>)."""
        from playwright.sync_api import Error as PlaywrightError

        ref = self.ids.get(n)
        if ref is None:
            return None
        try:
            return self.page.locator(f"aria-ref={ref}").evaluate(
                "e => e.tagName === 'SELECT' ? [...e.options].map(o => o.label) : null", timeout=self.timeout_ms)
        except PlaywrightError:
            return None

    def lookahead(self, rel_urls: list[str]) -> dict[str, list[Node]]:
        """The nodes of GET pages, loaded in a scratch page of this context (same session)."""
        out = {}
        if self._scratch is None or self._scratch.is_closed():
            self._opening = True
            try:
                self._scratch = self.context.new_page()
            finally:
                self._opening = False
            self._own_pages.add(self._scratch)
        for rel in rel_urls:
            self._scratch.goto(self.origin + rel, wait_until="load", timeout=self.timeout_ms)
            tree, _ = renumber(self._scratch.aria_snapshot(mode="ai", timeout=self.timeout_ms))
            out[rel] = parse_nodes(tree)
        return out

    def translate_plan(self, text_plan: list[str], world, sid: str) -> list[str]:
        """Turn the shop's text plan (``search[...]``, ``click[...]``) into browser actions."""
        from urllib.parse import urlencode

        from .shop.world import Page

        actions: list[str] = []
        url = self.relative_url()
        nodes = self.nodes
        for step in text_plan:
            verb, _, arg = step.partition("[")
            arg = arg[:-1]
            if verb == "search":
                box = next((n for n in nodes if n.role in _TEXT_ROLES and n.name.lower() == "search"), None)
                if box is None:
                    break
                actions += [f"fill({box.id}, {_q(arg)})", 'press("Enter")']
                url = "/search?" + urlencode([("q", arg)])
            else:
                page = world.handle(sid, "GET", url)
                if not isinstance(page, Page):
                    break
                action, block = click_for_label(page.clickables(), nodes, arg, _visible_name)
                if action is None:
                    break
                actions.append(action)
                if block.kind == "button":
                    break  # a POST: the plan continues after it only by replanning
                url = block.href
            nodes = self.lookahead([url])[url]
        return actions

    def alive(self) -> bool:
        try:
            return not self.page.is_closed() and self.browser.browser is not None and self.browser.browser.is_connected()
        except Exception:  # noqa: BLE001
            return False

    def close(self) -> None:
        if self.browser._thread != threading.get_ident():
            return
        try:
            self.context.close()
        except Exception:  # noqa: BLE001 - the browser may have died
            pass
