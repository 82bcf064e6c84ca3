"""Pages of :mod:`.world` rendered two ways: HTML for the browser, text for the text mode."""

from __future__ import annotations

from html import escape

from .world import Page

_CSS = """
body{font-family:system-ui,sans-serif;max-width:880px;margin:1.5em auto;padding:0 1em;color:#222}
header{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ccc;padding-bottom:.6em}
.goal{background:#fff6d5;padding:.5em .8em;border-radius:6px;margin:.6em 0}
.restaurant{margin:.5em 0}.meta{color:#555;margin-left:.5em}
.option,.slot{display:inline-block;border:1px solid #999;border-radius:4px;padding:.15em .6em;margin:.15em;text-decoration:none;color:#222}
.option[aria-pressed=true]{background:#8b1e3f;color:#fff}.slot{background:#e8f4ea}
form.inline{display:inline}.error{color:#b00}label{display:block;margin:.4em 0}
"""


def page_html(page: Page) -> str:
    """The page as a complete HTML document (no scripts; real forms for POST actions)."""
    goal = next((b.text for b in page.blocks if b.kind == "goal"), "")
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(page.title)}</title><style>{_CSS}</style></head><body>",
    ]
    if goal:
        out.append(f"<div class='goal'>{escape(goal)}</div>")
    out.append("<header><a href='/'>Palaestra Tables</a>")
    if page.search_box:
        out.append(
            "<form action='/search' method='get' role='search'>"
            f"<input name='q' aria-label='Search restaurants' value='{escape(page.query, quote=True)}'>"
            "<button type='submit'>Search</button></form>"
        )
    header_done = False
    rest: list[str] = []
    form_open = ""
    for b in page.blocks:
        t = escape(b.text)
        if b.kind == "goal" or (b.kind == "link" and b.label == "home"):
            continue
        if b.kind in ("h1",) and not header_done:
            out.append("</header><main>")
            header_done = True
        if b.kind == "input":
            if form_open != b.group:
                action = next(x.href for x in page.blocks if x.kind == "button" and x.group == b.group)
                rest.append(f"<form method='post' action='{escape(action, quote=True)}'>")
                form_open = b.group
            kind = "password" if b.label == "password" else "text"
            if b.label == "requests":
                rest.append(f"<label>{t}<textarea name='{b.label}' maxlength='200'>{escape(b.value)}</textarea></label>")
            else:
                rest.append(f"<label>{t} <input type='{kind}' name='{b.label}' value='{escape(b.value, quote=True)}'></label>")
            continue
        if b.kind == "button" and b.group and form_open == b.group:
            rest.append(f"<button type='submit'>{t}</button></form>")
            form_open = ""
            continue
        target = rest if header_done else out
        if b.kind == "h1":
            target.append(f"<h1>{t}</h1>")
        elif b.kind == "h2":
            target.append(f"<h2>{t}</h2>")
        elif b.kind == "text":
            target.append(f"<p>{t}</p>")
        elif b.kind == "error":
            target.append(f"<p class='error' role='alert'>{t}</p>")
        elif b.kind == "link":
            target.append(f"<a href='{escape(b.href, quote=True)}'>{t}</a> ")
        elif b.kind == "restaurant":
            target.append(f"<div class='restaurant'><a href='{escape(b.href, quote=True)}'>{t}</a>"
                          f"<span class='meta'>{escape(b.value)}</span></div>")
        elif b.kind == "option":
            pressed = "true" if b.selected else "false"
            target.append(f"<a class='option' role='button' aria-pressed='{pressed}' "
                          f"href='{escape(b.href, quote=True)}'>{t}</a>")
        elif b.kind == "slot":
            target.append(f"<a class='slot' href='{escape(b.href, quote=True)}'>{t}</a>")
        elif b.kind == "button":
            target.append(f"<form class='inline' method='post' action='{escape(b.href, quote=True)}'>"
                          f"<button type='submit'>{t}</button></form> ")
    if not header_done:
        out.append("</header><main>")
    out += rest
    out.append("</main></body></html>")
    return "".join(out)


def page_text(page: Page) -> str:
    """The page in words: clickable things in brackets, exactly as ``click[...]`` takes them;
    form fields as ``<field>: "value"`` (``fill[field: text]``)."""
    lines = []
    links = []
    for b in page.blocks:
        if b.kind == "goal":
            continue  # the env prints the goal itself
        if b.kind == "link" and not lines or b.kind == "button" and not lines:
            links.append(f"[{b.label}]")
        elif b.kind == "link":
            lines.append(f"[{b.label}]" + ("" if b.label == b.text.lower() else f" {b.text}"))
        elif b.kind == "h1":
            lines.append(f"== {b.text} ==")
        elif b.kind == "h2":
            lines.append(f"{b.text}:")
        elif b.kind == "text" and not lines:
            links.append(b.text)
        elif b.kind == "text":
            lines.append(b.text)
        elif b.kind == "error":
            lines.append(f"Error: {b.text}")
        elif b.kind == "restaurant":
            lines.append(f"[{b.label}] | {b.value}")
        elif b.kind == "option":
            text = "" if b.text.lower() == b.label else f" {b.text}"
            lines.append(f"  [{b.label}]{text}" + (" (selected)" if b.selected else ""))
        elif b.kind == "slot":
            lines.append(f"  [{b.label}]")
        elif b.kind == "input":
            lines.append(f"{b.text} (fill[{b.label}: ...]): \"{b.value}\"")
        elif b.kind == "button":
            lines.append(f"[{b.label}]")
    head = f"Page: {page.title}  ({page.url})"
    if links:
        head += "\n" + " | ".join(links)
    return head + "\n" + "\n".join(lines)
