"""The sandboxed tool world: a shop database, a calendar, a knowledge base, units.

No Gymnasium here. :func:`template_path` builds (once, seeded, read-only on disk) the
world's SQLite template; :class:`ToolWorld` is one episode's world: its private
database copy and the tools that act on it. Tool schemas come from the methods'
signatures and docstrings (:data:`TOOLS`); a tool's error is a result the agent
sees (``{"error": ...}``), escape attempts are also logged in ``security_log``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
import random
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Annotated, Literal, Optional

from pydantic import Field

from palaestra.core import InvalidAction

from . import calculator as calc
from .calls import json_problem
from .sandbox import EpisodeDatabase, SandboxError
from .schema import Tool, tool_from_function

WORLD_VERSION = 1
STATUSES = ("pending", "shipped", "delivered", "cancelled")
CATEGORIES = ("electronics", "books", "kitchen", "garden", "toys", "clothing")

_PRODUCTS = {
    "electronics": ["USB-C Charger", "Bluetooth Speaker", "Noise-Cancelling Headphones", "Smart Watch",
                    "Wireless Mouse", "Mechanical Keyboard", "Webcam HD", "Power Bank"],
    "books": ["Atlas of Rivers", "Cooking for Two", "The Quiet Garden", "Learning Rust",
              "Stars and Tides", "A Short History of Maps", "Puzzles for Rainy Days"],
    "kitchen": ["Cast Iron Skillet", "Chef Knife", "Espresso Maker", "Bamboo Cutting Board",
                "Stainless Kettle", "Salad Spinner", "Spice Rack"],
    "garden": ["Garden Hose", "Pruning Shears", "Seed Starter Kit", "Watering Can",
               "Raised Bed Frame", "Compost Bin", "Solar Path Light"],
    "toys": ["Wooden Train Set", "Puzzle Cube", "Kite", "Building Blocks", "Plush Owl",
             "Marble Run", "Card Game Deluxe"],
    "clothing": ["Rain Jacket", "Wool Socks", "Running Shoes", "Sun Hat", "Denim Jeans",
                 "Fleece Vest", "Linen Shirt"],
}
_EVENT_TITLES = [
    "Team standup", "Dentist appointment", "Quarterly review", "Yoga class", "Book club",
    "Supplier call", "Inventory count", "Marketing sync", "Lunch with Sam", "Warehouse visit",
    "Budget planning", "Customer workshop", "Board meeting", "Code review", "Product demo",
    "Training session", "Design critique", "Vendor audit", "Town hall", "Release party",
]

#: the knowledge base: (title, text, {fact: value}) — tasks ask for the facts
KB_ARTICLES = [
    ("Return policy: electronics", "Electronics can be returned within 30 days of delivery in original packaging.", {"days": 30}),
    ("Return policy: books", "Books can be returned within 14 days of delivery if unread.", {"days": 14}),
    ("Return policy: kitchen", "Kitchen items can be returned within 60 days of delivery.", {"days": 60}),
    ("Return policy: garden", "Garden products can be returned within 45 days of delivery.", {"days": 45}),
    ("Return policy: toys", "Toys can be returned within 90 days of delivery, unopened.", {"days": 90}),
    ("Return policy: clothing", "Clothing can be returned within 21 days of delivery with tags attached.", {"days": 21}),
    ("Warranty: electronics", "Electronics carry a warranty of 2 years from the order date.", {"years": 2}),
    ("Warranty: kitchen", "Kitchen appliances carry a warranty of 3 years from the order date.", {"years": 3}),
    ("Warranty: garden", "Garden tools carry a warranty of 5 years from the order date.", {"years": 5}),
    ("Shipping: standard", "Standard shipping takes 5 business days and costs 4.99.", {"days": 5}),
    ("Shipping: express", "Express shipping takes 2 business days and costs 14.99.", {"days": 2}),
    ("Shipping: free threshold", "Orders with a total of 75 or more ship for free.", {"amount": 75}),
    ("Loyalty: gold tier", "Gold tier customers receive a 10 percent discount on every order.", {"percent": 10}),
    ("Loyalty: standard tier", "Standard tier customers earn 1 point per unit of currency spent.", {"points": 1}),
    ("Store hours", "The support desk is open from 8 to 18 on weekdays.", {"open": 8}),
    ("Cancellation policy", "Only pending orders can be cancelled; cancelled items return to stock.", {}),
    ("Address changes", "The shipping address can be changed while an order is pending.", {}),
    ("Gift cards", "Gift cards are valid for 36 months after purchase.", {"months": 36}),
]


@functools.lru_cache(maxsize=None)
def _unit_registry():
    import pint

    return pint.UnitRegistry(cache_folder=None)


@functools.lru_cache(maxsize=None)
def _kb_index():
    import bm25s

    corpus = [f"{t}. {x}" for t, x, _ in KB_ARTICLES]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", show_progress=False), show_progress=False)
    return retriever


def cache_dir() -> Path:
    root = os.environ.get("PALAESTRA_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "palaestra")
    path = Path(root) / "tools"
    path.mkdir(parents=True, exist_ok=True)
    return path


def world_today(world_seed: int) -> dt.date:
    return dt.date(2026, 1, 5) + dt.timedelta(days=random.Random(f"today-{world_seed}").randrange(300))


def _build_template(conn: sqlite3.Connection, world_seed: int) -> None:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(world_seed)
    rng = random.Random(f"world-{world_seed}")
    today = world_today(world_seed)
    conn.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL UNIQUE,
                                city TEXT NOT NULL, tier TEXT NOT NULL);
        CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, category TEXT NOT NULL,
                               price REAL NOT NULL, stock INTEGER NOT NULL);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, product_id INTEGER NOT NULL,
                             quantity INTEGER NOT NULL, total REAL NOT NULL, status TEXT NOT NULL,
                             order_date TEXT NOT NULL, address TEXT NOT NULL);
        CREATE TABLE events (id INTEGER PRIMARY KEY, title TEXT NOT NULL, date TEXT NOT NULL,
                             time TEXT NOT NULL, duration_min INTEGER NOT NULL);
        """
    )
    names, emails = set(), set()
    customers = []
    while len(customers) < 60:
        name = fake.name()
        email = f"{name.lower().replace(' ', '.').replace('..', '.')}@{fake.free_email_domain()}"
        if name in names or email in emails:
            continue
        names.add(name), emails.add(email)
        customers.append((len(customers) + 1, name, email, fake.city(), "gold" if rng.random() < 0.25 else "standard"))
    conn.executemany("INSERT INTO customers VALUES (?,?,?,?,?)", customers)
    products, pid = [], 1
    for category in CATEGORIES:
        for pname in _PRODUCTS[category]:
            products.append((pid, pname, category, round(rng.uniform(4, 250), 2), rng.randint(0, 80)))
            pid += 1
    conn.executemany("INSERT INTO products VALUES (?,?,?,?,?)", products)
    orders = []
    for oid in range(1001, 1301):
        cust = rng.choice(customers)
        prod = rng.choice(products)
        qty = rng.randint(1, 4)
        age = rng.randint(0, 120)
        status = "pending" if age < 5 else rng.choice(["pending", "shipped", "delivered", "delivered", "cancelled"])
        orders.append((oid, cust[0], prod[0], qty, round(prod[3] * qty, 2), status,
                       (today - dt.timedelta(days=age)).isoformat(), fake.street_address() + ", " + cust[3]))
    conn.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?,?,?)", orders)
    events, used = [], set()
    for eid in range(1, 61):
        while True:
            title = rng.choice(_EVENT_TITLES)
            day = today + dt.timedelta(days=rng.randint(1, 60))
            if (title, day) not in used:
                break
        used.add((title, day))
        events.append((eid, title, day.isoformat(), f"{rng.randint(8, 17):02d}:{rng.choice(['00', '30'])}",
                       rng.choice([30, 45, 60, 90])))
    conn.executemany("INSERT INTO events VALUES (?,?,?,?,?)", events)
    conn.commit()


@functools.lru_cache(maxsize=None)
def template_path(world_seed: int = 0) -> str:
    """Path of the world's read-only template database (built on first use)."""
    from importlib.metadata import version

    # the data comes from Faker: a different Faker version may draw other names
    path = cache_dir() / f"world-v{WORLD_VERSION}-seed{world_seed}-faker{version('faker')}.sqlite"
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        conn = sqlite3.connect(tmp)
        try:
            _build_template(conn, world_seed)
        finally:
            conn.close()
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    return str(path)


@functools.lru_cache(maxsize=None)
def template_bytes(world_seed: int = 0) -> bytes:
    src = sqlite3.connect(f"file:{template_path(world_seed)}?mode=ro", uri=True)
    mem = sqlite3.connect(":memory:")
    try:
        src.backup(mem)
        return mem.serialize()
    finally:
        src.close()
        mem.close()


# ---- bounds on every argument (in the schemas: the model sees them, jsonschema enforces them) ----
MAX_ID = 999_999_999
MAX_SEARCH_CHARS = 200
MAX_UNIT_CHARS = 40
MAX_AMOUNT = 1e15
MAX_SQL_CHARS = 2000
MAX_UNIT_EXPONENT = 9
MAX_UNIT_NESTING = 3

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
SearchText = Annotated[str, Field(max_length=MAX_SEARCH_CHARS)]
UnitText = Annotated[str, Field(min_length=1, max_length=MAX_UNIT_CHARS)]
Amount = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
DateText = Annotated[str, Field(max_length=32)]
TimeText = Annotated[str, Field(max_length=16)]
Title = Annotated[str, Field(max_length=100)]
Address = Annotated[str, Field(max_length=200)]
Quantity = Annotated[int, Field(ge=1, le=1000)]
Minutes = Annotated[int, Field(ge=5, le=600)]
Expression = Annotated[str, Field(max_length=calc.MAX_LENGTH)]
SQLText = Annotated[str, Field(max_length=MAX_SQL_CHARS)]

_UNIT_TOKEN = re.compile(r"\s*(\*\*|\^|[*/()]|\d+(?:\.\d*)?|[^\W\d]\w*|-|\S)")


def unit_problem(text: str) -> str | None:
    """Why a unit expression is refused before pint parses it, or None.

    pint evaluates unit strings as arithmetic (``9**9**9 meter`` never returns), so only
    unit names, ``*``, ``/``, parentheses (at most 3 deep) and integer exponents from
    -9 to 9 after ``**`` or ``^`` may reach it.
    """
    tokens = _UNIT_TOKEN.findall(text)
    depth, prev = 0, None
    for i, tok in enumerate(tokens):
        if tok == "(":
            depth += 1
            if depth > MAX_UNIT_NESTING:
                return f"parentheses nest deeper than {MAX_UNIT_NESTING} levels"
        elif tok == ")":
            depth -= 1
            if depth < 0:
                return "a ')' has no matching '('"
        elif tok == "-":
            if prev not in ("**", "^"):
                return "'-' may only start an exponent"
        elif tok[0].isdigit():
            if prev not in ("**", "^", "-") or (prev == "-" and (i < 2 or tokens[i - 2] not in ("**", "^"))):
                return f"the number {tok} is not an exponent; give the amount in value, not in the unit"
            if not tok.isdigit() or int(tok) > MAX_UNIT_EXPONENT:
                return f"the exponent {tok} is not an integer from -{MAX_UNIT_EXPONENT} to {MAX_UNIT_EXPONENT}"
        elif tok in ("**", "^"):
            if prev is None or prev[0].isdigit() or prev in ("*", "/", "(", "**", "^", "-"):
                return f"{tok!r} must follow a unit or ')', and exponents cannot be raised to a power"
        elif not (tok in ("*", "/") or tok[0].isalpha() or tok[0] == "_"):
            return f"{tok!r} is not part of a unit expression"
        prev = tok
    if depth:
        return "a '(' is not closed"
    if not tokens:
        return "it is empty"
    return None


class ToolError(Exception):
    """A tool refused the call; the message is shown to the agent as the result."""


def _date(text: str, what: str = "date") -> dt.date:
    try:
        return dt.date.fromisoformat(str(text).strip())
    except ValueError:
        raise ToolError(f"{what} {text!r} is not an ISO date like 2026-03-14.") from None


class ToolWorld:
    """One episode's world: a private database copy and the tools acting on it."""

    def __init__(self, world_seed: int = 0, data: bytes | None = None, time_limit_s: float = 1.0):
        self.world_seed = world_seed
        self.today = world_today(world_seed)
        self.db = EpisodeDatabase(data=data if data is not None else template_bytes(world_seed),
                                  time_limit_s=time_limit_s)

    @property
    def security_log(self) -> list[dict]:
        return self.db.security_log

    def call(self, name: str, arguments: dict, checked: bool = False):
        """Run tool ``name``; returns its result, or ``{"error": ...}`` when it refuses.

        The arguments are checked against the tool's bounds first unless ``checked`` says
        the caller (the env's ``step``, through ``canonical_action`` and ``Tool.validate``)
        already did.
        """
        tool = TOOLS[name]
        if not checked:
            why = json_problem(arguments)
            if why:
                return {"error": f"the arguments of {name!r} are refused: {why}."}
            try:
                tool.validate(arguments)
            except InvalidAction as exc:
                return {"error": str(exc)}
        try:
            return getattr(self, tool.fn.__name__)(**tool.drop_null_defaults(arguments))
        except ToolError as exc:
            return {"error": str(exc)}
        except calc.CalculatorError as exc:
            if exc.security:
                self.db.security_log.append({"tool": name, "refused": str(exc), "input": arguments})
            return {"error": f"calculator: {exc}"}
        except SandboxError as exc:
            if exc.security:
                self.db.security_log.append({"tool": name, "refused": str(exc), "input": arguments})
            return {"error": str(exc)}

    # ---- tools ------------------------------------------------------------------
    def calculator(self, expression: Expression):
        """Evaluate an arithmetic expression (numbers, + - * / // % **, parentheses, sqrt, round, abs, min, max, floor, ceil, log, exp, sin, cos, tan, pi, e).

        Args:
            expression: the expression, e.g. "round((12.5 + 3) * 4, 2)".
        """
        return calc.evaluate(expression)

    def convert_units(self, value: Amount, from_unit: UnitText, to_unit: UnitText):
        """Convert a quantity between units (length, mass, volume, temperature, time, speed).

        Args:
            value: the amount in from_unit.
            from_unit: the unit of value, e.g. "mile", "pound", "degC", "liter".
            to_unit: the unit wanted, e.g. "kilometer", "kilogram", "degF", "gallon".
        """
        import pint

        for label, unit in (("from_unit", from_unit), ("to_unit", to_unit)):
            why = unit_problem(unit)
            if why:
                raise ToolError(f"{label} {unit!r} is not a unit expression: {why}.")
        ureg = _unit_registry()
        try:
            quantity = ureg.Quantity(float(value), from_unit).to(to_unit)
            result = float(quantity.magnitude)
        except (pint.errors.PintError, AttributeError, ValueError, TypeError, KeyError, SyntaxError, AssertionError,
                ArithmeticError, RecursionError) as exc:
            raise ToolError(f"cannot convert {from_unit!r} to {to_unit!r}: {str(exc)[:200]}") from None
        if not math.isfinite(result) or abs(result) > 1e300:
            raise ToolError(f"converting {value:g} {from_unit} to {to_unit} gives a number beyond the tool's range.")
        return {"value": round(result, 4), "unit": to_unit}

    def get_order(self, order_id: Id):
        """Look up an order: customer, product, quantity, total, status, date and address.

        Args:
            order_id: the order number, e.g. 1043.
        """
        rows = self.db.query("SELECT * FROM orders WHERE id = ?", (order_id,))
        if not rows:
            raise ToolError(f"no order with id {order_id}.")
        return rows[0]

    def get_customer(self, customer_id: Id):
        """Look up a customer by id: name, email, city and loyalty tier.

        Args:
            customer_id: the customer's id.
        """
        rows = self.db.query("SELECT * FROM customers WHERE id = ?", (customer_id,))
        if not rows:
            raise ToolError(f"no customer with id {customer_id}.")
        return rows[0]

    def find_customer(self, name: Optional[SearchText] = None, email: Optional[SearchText] = None):
        """Find customers by (part of) their name or by their exact email address.

        Args:
            name: part of the customer's name, case-insensitive.
            email: the customer's email address.
        """
        if not name and not email:
            raise ToolError("give a name or an email.")
        if email:
            return self.db.query("SELECT * FROM customers WHERE lower(email) = lower(?) ORDER BY id", (email.strip(),))
        return self.db.query("SELECT * FROM customers WHERE lower(name) LIKE lower(?) ORDER BY id LIMIT 10",
                             (f"%{name.strip()}%",))

    def list_orders(self, customer_id: Id,
                    status: Optional[Literal["pending", "shipped", "delivered", "cancelled"]] = None):
        """List a customer's orders (newest first), optionally only those with a given status.

        Args:
            customer_id: the customer's id.
            status: only orders with this status.
        """
        if status:
            return self.db.query(
                "SELECT id, product_id, quantity, total, status, order_date FROM orders "
                "WHERE customer_id = ? AND status = ? ORDER BY order_date DESC, id DESC", (customer_id, status))
        return self.db.query(
            "SELECT id, product_id, quantity, total, status, order_date FROM orders "
            "WHERE customer_id = ? ORDER BY order_date DESC, id DESC", (customer_id,))

    def get_product(self, product_id: Id):
        """Look up a product by id: name, category, price and stock.

        Args:
            product_id: the product's id.
        """
        rows = self.db.query("SELECT * FROM products WHERE id = ?", (product_id,))
        if not rows:
            raise ToolError(f"no product with id {product_id}.")
        return rows[0]

    def search_products(self, query: SearchText):
        """Find products whose name contains the query (case-insensitive).

        Args:
            query: part of the product name, e.g. "kettle".
        """
        return self.db.query("SELECT * FROM products WHERE lower(name) LIKE lower(?) ORDER BY id LIMIT 10",
                             (f"%{query.strip()}%",))

    def cancel_order(self, order_id: Id):
        """Cancel a pending order; its items go back to stock.

        Args:
            order_id: the order number.
        """
        order = self.get_order(order_id)
        if order["status"] != "pending":
            raise ToolError(f"order {order_id} is {order['status']}; only pending orders can be cancelled.")
        self.db.execute("UPDATE orders SET status = 'cancelled' WHERE id = ?", (order_id,))
        self.db.execute("UPDATE products SET stock = stock + ? WHERE id = ?", (order["quantity"], order["product_id"]))
        return {"order_id": order_id, "status": "cancelled"}

    def update_order_address(self, order_id: Id, address: Address):
        """Change the shipping address of a pending order.

        Args:
            order_id: the order number.
            address: the new address, one line.
        """
        order = self.get_order(order_id)
        if order["status"] != "pending":
            raise ToolError(f"order {order_id} is {order['status']}; only pending orders can change address.")
        if not address.strip() or len(address) > 200:
            raise ToolError("the address must be one line of 1 to 200 characters.")
        self.db.execute("UPDATE orders SET address = ? WHERE id = ?", (address.strip(), order_id))
        return {"order_id": order_id, "address": address.strip()}

    def restock_product(self, product_id: Id, quantity: Quantity):
        """Add units to a product's stock.

        Args:
            product_id: the product's id.
            quantity: how many units arrive (1 to 1000).
        """
        self.get_product(product_id)
        if not 1 <= quantity <= 1000:
            raise ToolError("quantity must be between 1 and 1000.")
        self.db.execute("UPDATE products SET stock = stock + ? WHERE id = ?", (quantity, product_id))
        return self.get_product(product_id)

    def current_date(self):
        """Today's date and weekday (the world's clock is fixed)."""
        return {"date": self.today.isoformat(), "weekday": self.today.strftime("%A")}

    def weekday(self, date: DateText):
        """The day of the week of a date.

        Args:
            date: an ISO date, e.g. "2026-03-14".
        """
        return _date(date).strftime("%A")

    def days_between(self, start_date: DateText, end_date: DateText):
        """The number of days from start_date to end_date (negative if end_date is earlier).

        Args:
            start_date: an ISO date.
            end_date: an ISO date.
        """
        return (_date(end_date, "end_date") - _date(start_date, "start_date")).days

    def list_events(self, date: DateText):
        """The calendar's events on a date, by time.

        Args:
            date: an ISO date.
        """
        return self.db.query("SELECT * FROM events WHERE date = ? ORDER BY time, id", (_date(date).isoformat(),))

    def find_events(self, query: SearchText):
        """Calendar events whose title contains the query, by date.

        Args:
            query: part of the event title, e.g. "dentist".
        """
        return self.db.query("SELECT * FROM events WHERE lower(title) LIKE lower(?) ORDER BY date, time LIMIT 20",
                             (f"%{query.strip()}%",))

    def add_event(self, title: Title, date: DateText, time: TimeText, duration_min: Minutes = 60):
        """Add an event to the calendar.

        Args:
            title: the event's title.
            date: an ISO date.
            time: the start time as HH:MM (24 hours).
            duration_min: the length in minutes (5 to 600).
        """
        day = _date(date)
        try:
            start = dt.time.fromisoformat(time.strip())
        except ValueError:
            raise ToolError(f"time {time!r} is not HH:MM.") from None
        if not title.strip() or len(title) > 100:
            raise ToolError("the title must be 1 to 100 characters.")
        if not 5 <= duration_min <= 600:
            raise ToolError("duration_min must be between 5 and 600.")
        next_id = self.db.query("SELECT coalesce(max(id), 0) + 1 AS n FROM events")[0]["n"]
        self.db.execute("INSERT INTO events VALUES (?,?,?,?,?)",
                        (next_id, title.strip(), day.isoformat(), start.strftime("%H:%M"), duration_min))
        return {"id": next_id, "title": title.strip(), "date": day.isoformat(), "time": start.strftime("%H:%M"),
                "duration_min": duration_min}

    def search_kb(self, query: SearchText):
        """Search the store's knowledge base (policies, shipping, warranty, loyalty); the 3 best articles.

        Args:
            query: words to search for, e.g. "return policy books".
        """
        import bm25s

        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        if not tokens.ids or not tokens.ids[0]:
            return []
        docs, scores = _kb_index().retrieve(tokens, k=3, show_progress=False)
        return [{"title": KB_ARTICLES[int(i)][0], "text": KB_ARTICLES[int(i)][1]}
                for i, s in zip(docs[0], scores[0]) if s > 0]

    def run_sql(self, query: SQLText):
        """Run one read-only SQL SELECT on the shop database (tables customers, products, orders, events); at most 50 rows.

        Args:
            query: one SELECT statement.
        """
        return self.db.user_query(query)


_MUTATING = {"cancel_order", "update_order_address", "restock_product", "add_event"}
TOOL_ORDER = [
    "calculator", "convert_units", "get_order", "get_customer", "find_customer", "list_orders", "get_product",
    "search_products", "cancel_order", "update_order_address", "restock_product", "current_date", "weekday",
    "days_between", "list_events", "find_events", "add_event", "search_kb", "run_sql",
]
#: name -> Tool (schema from the method; call through ToolWorld.call)
TOOLS: dict[str, Tool] = {
    name: tool_from_function(getattr(ToolWorld, name), name=name, mutates=name in _MUTATING) for name in TOOL_ORDER
}
