"""The shop as an application, without HTTP and without Gymnasium.

:class:`ShopWorld` answers requests — ``handle(sid, method, path, params)`` — with a
:class:`Page` (a list of blocks: headings, text, links, buttons, options) or a
:class:`Redirect`. The web server renders pages as HTML (``shop/html.py``); the text
mode renders the very same pages as text. Per-session state (cart, order, goal) lives
here, server-side, so that a snapshot is "URL + session" in both modes.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from .catalog import Catalog, Product

RESULTS_MAX = 50  # WebShop's SEARCH_RETURN_N
PAGE_SIZE = 10  # WebShop's PRODUCT_WINDOW
OPT = "o_"  # query-string prefix of a selected option: /item/B0..?o_size=l


@dataclass
class Block:
    kind: str  # "h1" | "h2" | "text" | "link" | "product" | "option" | "button" | "error"
    text: str
    href: str = ""  # GET target of links/options/products; POST target of buttons
    label: str = ""  # the clickable label (text mode: click[label]); "" if not clickable
    selected: bool = False
    group: str = ""
    extra: str = ""  # price/rating shown next to a product link


@dataclass
class Page:
    kind: str  # "home" | "results" | "item" | "cart" | "done" | "notfound"
    url: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    search_box: bool = True
    query: str = ""

    def clickables(self) -> list[Block]:
        return [b for b in self.blocks if b.label]


@dataclass
class Redirect:
    url: str


def new_session(goal: str | None = None) -> dict:
    return {"cart": [], "order": None, "goal": goal}


def item_url(asin: str, query: str = "", page: int = 1, options: dict | None = None) -> str:
    params = []
    if query:
        params += [("q", query), ("page", str(page))]
    for group, value in sorted((options or {}).items()):
        params.append((OPT + group, value))
    return f"/item/{asin}" + (("?" + urlencode(params)) if params else "")


def search_url(query: str, page: int = 1) -> str:
    return "/search?" + urlencode([("q", query), ("page", str(page))])


class SearchEngine:
    """BM25 (bm25s) over title, type, attributes and features; results cached per query."""

    def __init__(self, catalog: Catalog):
        import bm25s

        self._bm25s = bm25s
        self.catalog = catalog
        corpus = [p.search_text() for p in catalog.products]
        self.retriever = bm25s.BM25()
        self.retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
        self.vocab = self.retriever.vocab_dict
        self.search = lru_cache(maxsize=4096)(self._search)

    def _search(self, query: str) -> tuple[str, ...]:
        tokens = self._bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        tokens = [t for t in tokens if t in self.vocab]
        if not tokens:
            return ()
        k = min(RESULTS_MAX * 2, len(self.catalog))
        docs, scores = self.retriever.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        ranked = sorted(
            ((float(s), int(d)) for d, s in zip(docs[0], scores[0]) if s > 0), key=lambda x: (-x[0], x[1])
        )
        return tuple(self.catalog.products[d].asin for _, d in ranked[:RESULTS_MAX])


_ENGINES: dict[int, SearchEngine] = {}
_ENGINES_LOCK = threading.Lock()


def search_engine(catalog: Catalog) -> SearchEngine:
    with _ENGINES_LOCK:
        engine = _ENGINES.get(id(catalog))
        if engine is None or engine.catalog is not catalog:
            engine = _ENGINES[id(catalog)] = SearchEngine(catalog)
        return engine


class ShopWorld:
    """The shop: catalogue, search engine and sessions. Thread-safe (one lock)."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.engine = search_engine(catalog)
        self.sessions: dict[str, dict] = {}
        self.lock = threading.RLock()
        #: optional ``f(session) -> str | None``: a line for the order page (``serve shop`` shows the score)
        self.order_note = None

    # ---- sessions ----------------------------------------------------------------------
    def open_session(self, sid: str, goal: str | None = None) -> None:
        with self.lock:
            self.sessions[sid] = new_session(goal)

    def session(self, sid: str) -> dict:
        with self.lock:
            return self.sessions.setdefault(sid, new_session())

    def export_session(self, sid: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.session(sid))

    def import_session(self, sid: str, state: dict) -> None:
        with self.lock:
            self.sessions[sid] = copy.deepcopy(state)

    def close_session(self, sid: str) -> None:
        with self.lock:
            self.sessions.pop(sid, None)

    # ---- requests ----------------------------------------------------------------------
    def handle(self, sid: str, method: str, url: str) -> Page | Redirect:
        """Answer ``method url`` (path + query) for session ``sid``."""
        parts = urlsplit(url)
        path = parts.path.rstrip("/") or "/"
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.lock:
            session = self.session(sid)
            if method == "GET":
                if path == "/":
                    return self._home(session)
                if path == "/search":
                    return self._results(session, params.get("q", ""), _int(params.get("page"), 1))
                if path.startswith("/item/"):
                    return self._item(session, path[len("/item/"):], params)
                if path == "/cart":
                    return self._cart(session)
                if path == "/done":
                    return self._done(session)
            elif method == "POST":
                if path.startswith("/buy/") or path.startswith("/cart/add/"):
                    asin = path.rsplit("/", 1)[-1]
                    product = self.catalog.by_asin.get(asin)
                    if product is None or session["order"] is not None:
                        return self._not_found(url)
                    line = {"asin": asin, "options": _options(params, product)}
                    if path.startswith("/buy/"):
                        session["order"] = {"items": [line]}
                        return Redirect("/done")
                    session["cart"].append(line)
                    return Redirect("/cart")
                if path.startswith("/cart/remove/"):
                    index = _int(path.rsplit("/", 1)[-1], -1)
                    if 0 <= index < len(session["cart"]):
                        session["cart"].pop(index)
                    return Redirect("/cart")
                if path == "/checkout":
                    if session["cart"] and session["order"] is None:
                        session["order"] = {"items": list(session["cart"])}
                        session["cart"] = []
                        return Redirect("/done")
                    return Redirect("/cart")
            return self._not_found(url)

    # ---- pages -------------------------------------------------------------------------
    def _header(self, session: dict) -> list[Block]:
        blocks = []
        if session.get("goal"):
            blocks.append(Block("goal", f"Instruction: {session['goal']}"))
        n = len(session["cart"])
        blocks.append(Block("link", f"Cart ({n})", href="/cart", label="cart"))
        return blocks

    def _home(self, session) -> Page:
        blocks = self._header(session) + [
            Block("h1", "Palaestra Shop"),
            Block("text", f"{len(self.catalog)} products. Type what you are looking for in the search box."),
        ]
        return Page("home", "/", "Palaestra Shop", blocks)

    def _results(self, session, query: str, page: int) -> Page:
        query = " ".join(query.split())
        asins = self.engine.search(query.lower()) if query else ()
        pages = max(1, (len(asins) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(page, 1), pages)
        url = search_url(query, page)
        blocks = self._header(session) + [Block("h1", f'Results for "{query}"')]
        blocks.append(Block("link", "Back to Search", href="/", label="back to search"))
        if page > 1:
            blocks.append(Block("link", "< Prev", href=search_url(query, page - 1), label="< prev"))
        if page < pages:
            blocks.append(Block("link", "Next >", href=search_url(query, page + 1), label="next >"))
        if not asins:
            blocks.append(Block("text", "No products match. Try other words."))
        else:
            blocks.append(Block("text", f"Page {page} of {pages} ({len(asins)} results)"))
        for asin in asins[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
            p = self.catalog.by_asin[asin]
            blocks.append(
                Block("product", p.title, href=item_url(asin, query, page), label=asin.lower(),
                      extra=f"{p.price_text}" + (f" | rating {p.rating:.1f}" if p.rating else ""))
            )
        return Page("results", url, f"Results for {query}", blocks, query=query)

    def _item(self, session, asin: str, params: dict) -> Page:
        product = self.catalog.by_asin.get(asin)
        if product is None:
            return self._not_found(f"/item/{asin}")
        query = params.get("q", "")
        page = _int(params.get("page"), 1)
        chosen = _options(params, product)
        url = item_url(asin, query, page, chosen)
        blocks = self._header(session)
        if query:
            blocks.append(Block("link", "Back to Search", href="/", label="back to search"))
            blocks.append(Block("link", "< Prev", href=search_url(query, page), label="< prev"))
        blocks += [
            Block("h1", product.title),
            Block("text", f"Price: {product.price_text}" + (f"  Rating: {product.rating:.1f}" if product.rating else "")),
        ]
        labels = _option_labels(product)
        for group, values in product.options.items():
            blocks.append(Block("h2", group))
            for value in values:
                picked = dict(chosen)
                picked[group] = value
                blocks.append(
                    Block("option", value, href=item_url(asin, query, page, picked),
                          label=labels[(group, value)], selected=chosen.get(group) == value, group=group)
                )
        opt_query = urlencode(sorted((OPT + g, v) for g, v in chosen.items()))
        suffix = ("?" + opt_query) if opt_query else ""
        blocks.append(Block("button", "Add to Cart", href=f"/cart/add/{asin}{suffix}", label="add to cart"))
        blocks.append(Block("button", "Buy Now", href=f"/buy/{asin}{suffix}", label="buy now"))
        if product.bullet_points:
            blocks.append(Block("h2", "Features"))
            blocks += [Block("text", "- " + b) for b in product.bullet_points[:6]]
        if product.description:
            blocks.append(Block("h2", "Description"))
            desc = product.description if len(product.description) <= 600 else product.description[:600] + "..."
            blocks.append(Block("text", desc))
        return Page("item", url, product.title, blocks, query=query)

    def _cart(self, session) -> Page:
        blocks = self._header(session) + [Block("h1", "Your cart")]
        blocks.append(Block("link", "Back to Search", href="/", label="back to search"))
        if not session["cart"]:
            blocks.append(Block("text", "Your cart is empty."))
        total = 0.0
        for i, line in enumerate(session["cart"]):
            p = self.catalog.by_asin[line["asin"]]
            total += p.price
            opts = ", ".join(f"{g}: {v}" for g, v in sorted(line["options"].items())) or "no options chosen"
            blocks.append(Block("text", f"{i + 1}. {p.title} ({opts}) {p.price_text}"))
            blocks.append(Block("button", f"Remove item {i + 1}", href=f"/cart/remove/{i}", label=f"remove item {i + 1}"))
        if session["cart"]:
            blocks.append(Block("text", f"Total: ${total:.2f}"))
            blocks.append(Block("button", "Checkout", href="/checkout", label="checkout"))
        return Page("cart", "/cart", "Your cart", blocks)

    def _done(self, session) -> Page:
        order = session.get("order")
        if order is None:
            return Page("notfound", "/done", "No order", [Block("text", "No order has been placed yet.")]
                        + [Block("link", "Back to Search", href="/", label="back to search")])
        blocks = [Block("h1", "Thank you for shopping with us!"), Block("text", "Your order:")]
        for line in order["items"]:
            p = self.catalog.by_asin[line["asin"]]
            opts = ", ".join(f"{g}: {v}" for g, v in sorted(line["options"].items())) or "no options chosen"
            blocks.append(Block("text", f"- {p.title} ({opts}) {p.price_text}"))
        note = self.order_note(session) if self.order_note is not None else None
        if note:
            blocks.append(Block("text", note))
        return Page("done", "/done", "Order placed", blocks, search_box=False)

    def _not_found(self, url: str) -> Page:
        return Page("notfound", url, "Not found",
                    [Block("error", f"Nothing here: {url}"), Block("link", "Back to Search", href="/", label="back to search")])


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _options(params: dict, product: Product) -> dict[str, str]:
    """The options chosen in the query string that the product really has."""
    out = {}
    for key, value in params.items():
        if key.startswith(OPT):
            group = key[len(OPT):]
            if value in product.options.get(group, ()):
                out[group] = value
    return out


def _option_labels(product: Product) -> dict[tuple[str, str], str]:
    """Click labels of options: the value, or "group: value" where values collide."""
    counts: dict[str, int] = {}
    reserved = {"buy now", "add to cart", "cart", "back to search", "< prev", "next >"}
    for values in product.options.values():
        for v in values:
            counts[v] = counts.get(v, 0) + 1
    return {
        (g, v): (v if counts[v] == 1 and v not in reserved else f"{g}: {v}")
        for g, values in product.options.items()
        for v in values
    }


def quote_path(text: str) -> str:
    return quote(text, safe="")
