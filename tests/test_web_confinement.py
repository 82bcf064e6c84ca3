"""Confinement of the browser envs beyond the action grammar: page script and links
cannot reach another port of 127.0.0.1 (HTTP, WebSocket, preconnects), and tabs opened
from the keyboard are closed as they open."""

from __future__ import annotations

import socket
import threading
import time

import pytest

pytestmark = pytest.mark.browser


class _Listener:
    """A TCP port on 127.0.0.1 that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                conn, addr = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted.append(addr)
            conn.close()

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def site():
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from palaestra.envs.web.browser import Browser, Tab
    from palaestra.envs.web.server import BackgroundServer

    other = _Listener()

    async def home(request):
        return HTMLResponse(
            f"<a id='away' href='http://127.0.0.1:{other.port}/x'>elsewhere</a> "
            f"<a id='here' href='/page2'>page two</a> "
            f"<button onclick=\"window.ws = new WebSocket('ws://127.0.0.1:{other.port}/');"
            "window.ws.onopen = () => { window.wsOpened = true; };"
            "window.ws.onerror = () => { window.wsError = true; };\">socket</button>")

    async def page2(request):
        return HTMLResponse("<p>two</p>")

    server = BackgroundServer(Starlette(routes=[Route("/", home), Route("/page2", page2)])).start()
    browser = Browser()
    browser.ensure()
    tab = Tab(browser, server.origin, timeout_ms=3000)
    tab.goto("/")
    yield tab, other
    tab.close()
    browser.close()
    server.stop()
    other.close()


def _id(tab, role, name):
    return next(n.id for n in tab.nodes if n.role == role and n.name == name)


def test_a_page_websocket_to_another_local_port_fails(site):
    tab, other = site
    assert tab.act(f"click({_id(tab, 'button', 'socket')})") is None
    tab.page.wait_for_function("() => window.ws && window.ws.readyState === 3", timeout=3000)  # CLOSED
    time.sleep(0.3)
    assert other.accepted == []  # no handshake reached the other port


def test_a_link_to_another_local_port_opens_no_tcp_connection(site):
    tab, other = site
    tab.act(f"click({_id(tab, 'link', 'elsewhere')})")
    time.sleep(0.3)
    assert other.accepted == []
    assert "Blocked by palaestra" in tab.page.content()
    # fetch from page script is answered by the env (403) without a connection either
    tab.goto("/")
    status = tab.page.evaluate(f"() => fetch('http://127.0.0.1:{other.port}/y').then(r => r.status).catch(e => 'error')")
    assert status == 403 and other.accepted == []


def test_keyboard_opened_tabs_are_closed(site):
    tab, _ = site
    tab.page.evaluate("() => document.getElementById('here').focus()")
    for key in ("Shift+Enter", "Control+Enter"):
        assert tab.act(f'press("{key}")') is None
        # the tab is closed as it opens; Playwright's sync API runs that handler only while it
        # waits on the browser, so wait there (up to 10 s on a loaded machine)
        deadline = time.monotonic() + 10
        while tab.open_pages() != 1 and time.monotonic() < deadline:
            tab.page.wait_for_timeout(100)
        assert tab.open_pages() == 1, key
    assert tab.relative_url() == "/"
