"""Pages of :mod:`.world` rendered two ways: HTML for the browser, text for the text mode."""

from __future__ import annotations

from html import escape

from .world import Page

_CSS = """
body{font-family:system-ui,sans-serif;max-width:860px;margin:1.5em auto;padding:0 1em;color:#222}
header{display:flex;gap:1em;align-items:center;border-bottom:1px solid #ccc;padding-bottom:.6em}
.goal{background:#fff6d5;padding:.5em .8em;border-radius:6px;margin:.6em 0}
.product{margin:.5em 0}.price{color:#b12704;margin-left:.5em}
.option{display:inline-block;border:1px solid #999;border-radius:4px;padding:.15em .6em;margin:.15em;text-decoration:none;color:#222}
.option[aria-pressed=true]{background:#232f3e;color:#fff}
form.inline{display:inline}.error{color:#b00}
"""


def page_html(page: Page) -> str:
    """The page as a complete HTML document (no scripts; forms for POST actions)."""
    goal = next((b.text for b in page.blocks if b.kind == "goal"), "")
    cart = next((b for b in page.blocks if b.kind == "link" and b.href == "/cart"), None)
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(page.title)}</title><style>{_CSS}</style></head><body>",
    ]
    if goal:
        out.append(f"<div class='goal'>{escape(goal)}</div>")
    out.append("<header><a href='/'>Palaestra Shop</a>")
    if page.search_box:
        out.append(
            "<form action='/search' method='get' role='search'>"
            f"<input name='q' aria-label='Search' value='{escape(page.query, quote=True)}'>"
            "<button type='submit'>Search</button></form>"
        )
    if cart is not None:
        out.append(f"<a href='/cart'>{escape(cart.text)}</a>")
    rest = []
    for b in page.blocks:
        t = escape(b.text)
        if b.kind == "goal" or b is cart:
            continue
        if b.kind == "h1":
            rest.append(f"<h1>{t}</h1>")
        elif b.kind == "h2":
            rest.append(f"<h2>{t}</h2>")
        elif b.kind == "text":
            rest.append(f"<p>{t}</p>")
        elif b.kind == "error":
            rest.append(f"<p class='error'>{t}</p>")
        elif b.kind == "link":
            rest.append(f"<a href='{escape(b.href, quote=True)}'>{t}</a> ")
        elif b.kind == "product":
            rest.append(
                f"<div class='product'><a href='{escape(b.href, quote=True)}'>{escape(b.label.upper())}</a> "
                f"{t}<span class='price'> | {escape(b.extra)}</span></div>"
            )
        elif b.kind == "option":
            pressed = "true" if b.selected else "false"
            rest.append(
                f"<a class='option' role='button' aria-pressed='{pressed}' "
                f"href='{escape(b.href, quote=True)}'>{t}</a>"
            )
        elif b.kind == "button":
            rest.append(
                f"<form class='inline' method='post' action='{escape(b.href, quote=True)}'>"
                f"<button type='submit'>{t}</button></form> "
            )
    out.append("</header><main>")
    out += rest
    out.append("</main></body></html>")
    return "".join(out)


def page_text(page: Page) -> str:
    """The page in words: clickable things in brackets, exactly as ``click[...]`` takes them."""
    lines = []
    links = []
    for b in page.blocks:
        if b.kind == "goal":
            continue  # the env prints the goal itself
        if b.kind == "link":
            links.append(f"[{b.label}]" + ("" if b.label == b.text.lower() else f" {b.text}"))
        elif b.kind == "h1":
            lines.append(f"== {b.text} ==")
        elif b.kind == "h2":
            lines.append(f"{b.text}:")
        elif b.kind in ("text", "error"):
            lines.append(b.text)
        elif b.kind == "product":
            lines.append(f"[{b.label}] {b.text} | {b.extra}")
        elif b.kind == "option":
            lines.append(f"  [{b.label}]" + (" (selected)" if b.selected else ""))
        elif b.kind == "button":
            lines.append(f"[{b.label}]")
    head = f"Page: {page.title}  ({page.url})"
    if links:
        head += "\n" + " ".join(links)
    return head + "\n" + "\n".join(lines)
