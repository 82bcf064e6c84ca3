"""Seeded tool-use tasks in five difficulty tiers, with oracles and graded end states.

Tiers (easy to hard, as the curriculum of the seed paper):

- ``single``: one tool call answers the request;
- ``sequence``: several independent calls (some as one parallel step);
- ``dependent``: a call needs the result of an earlier one;
- ``state``: the request changes the database (cancel, re-address, restock, book);
- ``refuse``: pairs of look-alike requests: in each pair one cannot be done (no tool
  fits: refuse; or a detail is missing: ask for it, call nothing) and the other can, so
  refusing or asking by default scores at most about half of the tier.

Every task has a goal that states its answer's form (a value, values separated by
semicolons, a refusal, a question back: see ``answers``), the expected answer, the
oracle's actions and (tau-bench) the database end state the oracle reaches; ``split``
is ``test`` for one task in five.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import sqlite3

from palaestra.core import Task

from .world import CATEGORIES, KB_ARTICLES, STATUSES, ToolWorld, template_bytes, world_today

TIERS = ("single", "sequence", "dependent", "state", "refuse")
PER_TIER = 120

# ---- the answer forms a goal states (palaestra.envs.tools.answers reads them) ----------
NUMBER = "Reply with the number only."
ROUNDED = "Round to 2 decimal places and reply with the number only."
STATUS = "Reply with the status only (one word)."
WEEKDAY = "Reply with the weekday only."
EMAIL = "Reply with the email address only."
CITY = "Reply with the city only."
DONE = "Reply with done when it is done."
STATUS_AFTER = "Reply with the order's status afterwards (one word)."
STOCK_AFTER = "Reply with the new stock count only."


def values_form(n: int) -> str:
    return f"Reply with the {n} values only, in the order asked, separated by semicolons."


def call(_tool, **arguments):
    return {"name": _tool, "arguments": arguments}


def answer(text):
    return {"answer": text}


def num(x) -> str:
    if isinstance(x, float) and not x.is_integer():
        return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x - round(x, 2)) < 1e-9 else f"{x:.4f}"
    return str(int(x))


def number(v, tol: float = 0.0) -> dict:
    return {"number": v, "tol": tol} if tol else {"number": v}


def text(v: str) -> dict:
    return {"text": v}


def one(expected: dict) -> dict:
    """The answer spec of a one-value task."""
    return {"form": "value", "value": expected}


def several(*expected: dict) -> dict:
    return {"form": "values", "values": list(expected)}


def shown(expected: dict) -> str:
    """The oracle's way of writing one expected value."""
    return num(expected["number"]) if "number" in expected else expected["text"]


def task(goal: str, calls: list, expected: dict, **extra) -> dict:
    """A task spec: the goal (with its answer form), the oracle's calls then its answer."""
    if expected["form"] == "value":
        final = shown(expected["value"])
    elif expected["form"] == "values":
        final = "; ".join(shown(v) for v in expected["values"])
    else:
        final = extra.pop("final")
    return dict(goal=goal, oracle=[*calls, answer(final)], answer=expected, **extra)


class _Reader:
    """Read-only access to the template while generating tasks."""

    def __init__(self, world_seed: int):
        self.conn = sqlite3.connect(":memory:")
        self.conn.deserialize(template_bytes(world_seed))
        self.conn.row_factory = sqlite3.Row
        self.today = world_today(world_seed)
        self.world_seed = world_seed

    def rows(self, sql, params=()):
        return [dict(r) for r in self.conn.execute(sql, params)]


_UNITS = [
    ("mile", "kilometer", "miles", "kilometers"), ("pound", "kilogram", "pounds", "kilograms"),
    ("degC", "degF", "degrees Celsius", "degrees Fahrenheit"), ("liter", "gallon", "liters", "US gallons"),
    ("foot", "meter", "feet", "meters"), ("ounce", "gram", "ounces", "grams"),
    ("kilometer / hour", "mile / hour", "km/h", "mph"), ("hour", "minute", "hours", "minutes"),
]


def _convert(value, src, dst):
    from .world import _unit_registry

    return round(float(_unit_registry().Quantity(float(value), src).to(dst).magnitude), 4)


_KB_QUESTIONS = [  # (article index, question, fact)
    *[(i, f"Within how many days of delivery can {c} items be returned?", "days") for i, c in enumerate(CATEGORIES)],
    (6, "How many years of warranty do electronics have?", "years"),
    (7, "How many years of warranty do kitchen appliances have?", "years"),
    (8, "How many years of warranty do garden tools have?", "years"),
    (9, "How many business days does standard shipping take?", "days"),
    (10, "How many business days does express shipping take?", "days"),
    (11, "From what order total is shipping free?", "amount"),
    (12, "What percent discount do gold tier customers get?", "percent"),
    (17, "For how many months is a gift card valid?", "months"),
]


# ---- building blocks shared by the tiers and the refuse tier's look-alikes ----------------
def _any_order(rng, r: _Reader, statuses=STATUSES):
    """An order whose status is drawn uniformly first, so no status is a safe constant guess."""
    status = rng.choice(list(statuses))
    return rng.choice(r.rows("SELECT id, status FROM orders WHERE status = ? ORDER BY id", (status,)))


def _order_status(rng, r: _Reader, mine: bool = False):
    order = _any_order(rng, r)
    goal = f"What's the status of my order #{order['id']}?" if mine else f"What is the status of order #{order['id']}?"
    return task(f"{goal} {STATUS}", [call("get_order", order_id=order["id"])], one(text(order["status"])))


def _weekday(rng, r: _Reader):
    day = r.today + dt.timedelta(days=rng.randint(-200, 200))
    return task(f"What day of the week is {day.isoformat()}? {WEEKDAY}", [call("weekday", date=day.isoformat())],
                one(text(day.strftime("%A"))))


def _conversion(rng, r: _Reader):
    src, dst, src_name, dst_name = rng.choice(_UNITS)
    value = rng.randint(2, 500)
    out = _convert(value, src, dst)
    return task(f"How many {dst_name} is {value} {src_name}? {ROUNDED}",
                [call("convert_units", value=value, from_unit=src, to_unit=dst)], one(number(round(out, 2), 0.01)))


def _kb_fact(rng, r: _Reader):
    idx, question, fact = rng.choice(_KB_QUESTIONS)
    title, _, facts = KB_ARTICLES[idx]
    return task(f"According to the store's knowledge base: {question} {NUMBER}",
                [call("search_kb", query=title.replace(":", ""))], one(number(facts[fact])))


def _customer_email(rng, r: _Reader, phrase: str = "What is the email address of our customer {name}?"):
    cust = rng.choice(r.rows("SELECT name, email FROM customers"))
    return task(f"{phrase.format(name=cust['name'])} {EMAIL}", [call("find_customer", name=cust["name"])],
                one(text(cust["email"])))


def _order_customer(r: _Reader, rng):
    return rng.choice(r.rows(
        "SELECT o.id, o.customer_id, o.product_id, c.email, c.city, p.price, p.category FROM orders o "
        "JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = o.product_id"))


def _email_of_orderer(rng, r: _Reader):
    order = _order_customer(r, rng)
    return task(f"What is the email address of the customer who placed order #{order['id']}? {EMAIL}",
                [call("get_order", order_id=order["id"]), call("get_customer", customer_id=order["customer_id"])],
                one(text(order["email"])))


def _city_of_orderer(rng, r: _Reader):
    order = _order_customer(r, rng)
    return task(f"In which city does the customer who placed order #{order['id']} live? {CITY}",
                [call("get_order", order_id=order["id"]), call("get_customer", customer_id=order["customer_id"])],
                one(text(order["city"])))


def _product_field(rng, r: _Reader, field: str):
    prod = rng.choice(r.rows("SELECT name, price, stock FROM products"))
    goal = (f"What is the current price of the {prod['name']}? {NUMBER}" if field == "price"
            else f"How many units of the {prod['name']} are in stock? {NUMBER}")
    return task(goal, [call("search_products", query=prod["name"])],
                one(number(prod[field], 0.01 if field == "price" else 0.0)))


def _events_on(rng, r: _Reader):
    dates = [x["date"] for x in r.rows("SELECT DISTINCT date FROM events ORDER BY date")]
    day = rng.choice(dates)
    n = r.rows("SELECT count(*) AS n FROM events WHERE date = ?", (day,))[0]["n"]
    return task(f"How many calendar events are there on {day}? {NUMBER}", [call("list_events", date=day)],
                one(number(n)))


def _add_event(rng, r: _Reader, title: str, day=None, time=None, duration=None, phrase=None):
    day = day or r.today + dt.timedelta(days=rng.randint(1, 40))
    time = time or f"{rng.randint(8, 18):02d}:{rng.choice(['00', '15', '30', '45'])}"
    duration = duration or rng.choice([15, 30, 45, 60, 90])
    phrase = phrase or "Add '{title}' to the calendar on {date} at {time} for {duration} minutes."
    goal = phrase.format(title=title, date=day.isoformat(), time=time, duration=duration)
    return task(f"{goal} {DONE}", [call("add_event", title=title, date=day.isoformat(), time=time,
                                        duration_min=duration)], one(text("done")))


def _restock(rng, r: _Reader, phrase="We received {q} more units of the {name}; add them to the stock."):
    prod = rng.choice(r.rows("SELECT id, name, stock FROM products"))
    q = rng.randint(5, 60)
    return task(f"{phrase.format(q=q, name=prod['name'])} {STOCK_AFTER}",
                [call("search_products", query=prod["name"]), call("restock_product", product_id=prod["id"], quantity=q)],
                one(number(prod["stock"] + q)))


def _cancel(rng, r: _Reader, statuses=("pending",), phrase="Please cancel order #{id} if it can be cancelled."):
    order = _any_order(rng, r, statuses)
    calls = [call("cancel_order", order_id=order["id"])] if order["status"] == "pending" else \
        [call("get_order", order_id=order["id"])]
    after = "cancelled" if order["status"] == "pending" else order["status"]
    return task(f"{phrase.format(id=order['id'])} {STATUS_AFTER}", calls, one(text(after)))


def _new_address(rng, r: _Reader, address: str | None = None, phrase="Ship order #{id} to {address} instead."):
    from faker import Faker

    order = rng.choice(r.rows("SELECT id FROM orders WHERE status = 'pending' ORDER BY id"))
    if address is None:
        fake = Faker("en_US")
        fake.seed_instance(rng.randrange(1 << 30))
        address = f"{fake.street_address()}, {fake.city()}"
    return task(f"{phrase.format(id=order['id'], address=address)} {DONE}",
                [call("update_order_address", order_id=order["id"], address=address)], one(text("done")))


# ---- tier generators: (rng, reader, i) -> spec ---------------------------------------
def _single(rng, r: _Reader, i):
    kind = i % 6
    if kind == 0:
        a, b, c, d = rng.randint(2, 99), rng.randint(2, 99), rng.randint(1, 999), rng.randint(2, 19)
        value = round((a * b + c) / d, 2)
        return task(f"Compute ({a} × {b} + {c}) ÷ {d}. {ROUNDED}",
                    [call("calculator", expression=f"round(({a} * {b} + {c}) / {d}, 2)")], one(number(value, 0.01)))
    return [None, _conversion, _order_status, _weekday, _kb_fact, _customer_email][kind](rng, r)


def _sequence(rng, r: _Reader, i):
    kind = i % 6
    if kind == 0:
        a, b = rng.sample(r.rows("SELECT id, total FROM orders"), 2)
        total = round(a["total"] + b["total"], 2)
        return task(f"What is the combined total of orders #{a['id']} and #{b['id']}? {NUMBER}",
                    [[call("get_order", order_id=a["id"]), call("get_order", order_id=b["id"])],
                     call("calculator", expression=f"round({a['total']} + {b['total']}, 2)")],
                    one(number(total, 0.01)))
    if kind == 1:
        (s1, d1, sn1, dn1), (s2, d2, sn2, dn2) = rng.sample(_UNITS, 2)
        v1, v2 = rng.randint(2, 300), rng.randint(2, 300)
        o1, o2 = _convert(v1, s1, d1), _convert(v2, s2, d2)
        return task(f"Convert {v1} {sn1} to {dn1} and {v2} {sn2} to {dn2}, each rounded to 2 decimal places. "
                    + values_form(2),
                    [[call("convert_units", value=v1, from_unit=s1, to_unit=d1),
                      call("convert_units", value=v2, from_unit=s2, to_unit=d2)]],
                    several(number(round(o1, 2), 0.01), number(round(o2, 2), 0.01)))
    if kind == 2:
        dates = [x["date"] for x in r.rows("SELECT DISTINCT date FROM events ORDER BY date")]
        d1, d2 = sorted(rng.sample(dates, 2))
        n = r.rows("SELECT count(*) AS n FROM events WHERE date IN (?, ?)", (d1, d2))[0]["n"]
        return task(f"How many calendar events are there on {d1} and {d2} together? {NUMBER}",
                    [call("list_events", date=d1), call("list_events", date=d2)], one(number(n)))
    if kind == 3:
        a, b = _any_order(rng, r), _any_order(rng, r)
        while b["id"] == a["id"]:
            b = _any_order(rng, r)
        return task(f"What are the statuses of orders #{a['id']} and #{b['id']}? " + values_form(2),
                    [[call("get_order", order_id=a["id"]), call("get_order", order_id=b["id"])]],
                    several(text(a["status"]), text(b["status"])))
    if kind == 4:
        a, b = rng.sample(r.rows("SELECT name, stock FROM products"), 2)
        return task(f"How many units of the {a['name']} and of the {b['name']} are in stock? " + values_form(2),
                    [call("search_products", query=a["name"]), call("search_products", query=b["name"])],
                    several(number(a["stock"]), number(b["stock"])))
    d1 = r.today + dt.timedelta(days=rng.randint(-100, 0))
    d2 = r.today + dt.timedelta(days=rng.randint(1, 150))
    return task(f"How many days are there from {d1.isoformat()} to {d2.isoformat()}, and what weekday is "
                f"{d2.isoformat()}? " + values_form(2),
                [call("days_between", start_date=d1.isoformat(), end_date=d2.isoformat()),
                 call("weekday", date=d2.isoformat())],
                several(number((d2 - d1).days), text(d2.strftime("%A"))))


def _dependent(rng, r: _Reader, i):
    kind = i % 6
    if kind == 0:
        return _email_of_orderer(rng, r)
    if kind == 4:
        return _city_of_orderer(rng, r)
    order = _order_customer(r, rng)
    if kind == 1:
        titles = r.rows("SELECT title, min(date) AS date FROM events GROUP BY title ORDER BY title")
        ev = rng.choice(titles)
        days = (dt.date.fromisoformat(ev["date"]) - r.today).days
        return task(f"How many days from today until the next '{ev['title']}' on the calendar? {NUMBER}",
                    [call("find_events", query=ev["title"]), call("current_date"),
                     call("days_between", start_date=r.today.isoformat(), end_date=ev["date"])], one(number(days)))
    if kind == 2:
        k = rng.randint(2, 9)
        cost = round(order["price"] * k, 2)
        return task(f"What would {k} units of the product in order #{order['id']} cost at its current price? {NUMBER}",
                    [call("get_order", order_id=order["id"]), call("get_product", product_id=order["product_id"]),
                     call("calculator", expression=f"round({order['price']} * {k}, 2)")], one(number(cost, 0.01)))
    if kind == 3:
        cust = rng.choice(r.rows("SELECT id, email FROM customers"))
        n = r.rows("SELECT count(*) AS n FROM orders WHERE customer_id = ?", (cust["id"],))[0]["n"]
        return task(f"How many orders has the customer with email {cust['email']} placed? {NUMBER}",
                    [call("find_customer", email=cust["email"]), call("list_orders", customer_id=cust["id"])],
                    one(number(n)))
    days = KB_ARTICLES[CATEGORIES.index(order["category"])][2]["days"]
    return task(f"Within how many days of delivery can the product of order #{order['id']} be returned? {NUMBER}",
                [call("get_order", order_id=order["id"]), call("get_product", product_id=order["product_id"]),
                 call("search_kb", query=f"return policy {order['category']}")], one(number(days)))


def _state(rng, r: _Reader, i):
    kind = i % 6
    if kind == 0:
        return _cancel(rng, r)
    if kind == 1:
        return _new_address(rng, r)
    if kind == 2:
        title = rng.choice(["Call with ", "Meeting with ", "Coffee with "]) + rng.choice(
            ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Goran", "Hana"])
        return _add_event(rng, r, title)
    if kind == 3:
        return _restock(rng, r)
    if kind == 4:
        pending = r.rows("SELECT id, customer_id FROM orders WHERE status = 'pending' ORDER BY id")
        cid = rng.choice(sorted({o["customer_id"] for o in pending}))
        cust = r.rows("SELECT id, email FROM customers WHERE id = ?", (cid,))[0]
        latest = r.rows("SELECT id FROM orders WHERE customer_id = ? AND status = 'pending' "
                        "ORDER BY order_date DESC, id DESC LIMIT 1", (cid,))[0]["id"]
        return task(f"The customer {cust['email']} wants their most recent pending order cancelled. "
                    f"Reply with the number of the order you cancelled only.",
                    [call("find_customer", email=cust["email"]), call("list_orders", customer_id=cid, status="pending"),
                     call("cancel_order", order_id=latest)], one(number(latest)))
    # the same request as kind 0, on an order that can no longer be cancelled: report, change nothing
    return _cancel(rng, r, statuses=("shipped", "delivered", "cancelled"))


# ---- the refuse tier: requests no tool can do (or that miss a detail), each paired with a
# look-alike that must be done, so that refusing or asking by default pays at most half --------
_PLACES = (["Paris", "Lisbon", "Osaka", "Nairobi", "Lima", "Oslo"], ["Rome", "Berlin", "Seoul", "Cairo", "Quito", "Dublin"])
_PEOPLE = ["Maria", "John", "Aiko", "Omar"]
_LANGUAGES = ["French", "Swahili", "Japanese", "Portuguese"]
_COMPANIES = ["Acme", "Globex", "Initech", "Umbrella"]


def _tomorrow_weekday(rng, r: _Reader):
    day = r.today + dt.timedelta(days=1)
    return task(f"What day of the week is it tomorrow? {WEEKDAY}",
                [call("current_date"), call("weekday", date=day.isoformat())], one(text(day.strftime("%A"))))


def _customers_in_city(rng, r: _Reader):
    city = rng.choice(r.rows("SELECT DISTINCT city FROM customers ORDER BY city"))["city"]
    n = r.rows("SELECT count(*) AS n FROM customers WHERE city = ?", (city,))[0]["n"]
    quoted = city.replace("'", "''")
    return task(f"How many of our customers live in {city}? {NUMBER}",
                [call("run_sql", query=f"SELECT count(*) FROM customers WHERE city = '{quoted}'")], one(number(n)))


#: (request no tool can do, with the form it would be answered in; its look-alike)
_IRRELEVANT = [
    ("Book me a flight from {a} to {b} next Friday. Reply with the booking reference only.",
     lambda rng, r, f: _add_event(rng, r, f"Flight to {f['b']}")),
    ("What is the weather in {a} tomorrow? Reply with the temperature in degrees Celsius only.", lambda rng, r, f: _tomorrow_weekday(rng, r)),
    ("Send a text message to {p} saying I'll be late. " + DONE, lambda rng, r, f: _customer_email(rng, r)),
    ("Translate 'good morning' into {l}. Reply with the translation only.", lambda rng, r, f: _conversion(rng, r)),
    ("Play some jazz music in the living room. " + DONE, lambda rng, r, f: _add_event(rng, r, "Jazz night")),
    ("What is the current share price of {c}? " + NUMBER, lambda rng, r, f: _product_field(rng, r, "price")),
    ("Order a taxi to {a} airport. Reply with the taxi's arrival time only.", lambda rng, r, f: _order_status(rng, r)),
    ("Write a poem about {a} in spring. Reply with the poem only.", lambda rng, r, f: _kb_fact(rng, r)),
    ("Turn off the lights in the kitchen. " + DONE, lambda rng, r, f: _restock(rng, r)),
    ("Reserve a table for four at a restaurant in {a}. " + DONE,
     lambda rng, r, f: _add_event(rng, r, f"Dinner in {f['a']}", time="19:00", duration=90)),
    ("Who won the football match between {a} and {b} yesterday? Reply with the winning team only.", lambda rng, r, f: _events_on(rng, r)),
    ("Set an alarm for 6:30 tomorrow morning. " + DONE,
     lambda rng, r, f: _add_event(rng, r, "Wake-up call", day=r.today + dt.timedelta(days=1), time="06:30",
                                  duration=15)),
    ("Post a photo of our new {c} product on social media. Reply with the post's link only.",
     lambda rng, r, f: _product_field(rng, r, "stock")),
    ("Call {p} on the phone. " + DONE, lambda rng, r, f: _city_of_orderer(rng, r)),
    ("What is the population of {a}? " + NUMBER, lambda rng, r, f: _customers_in_city(rng, r)),
    ("Email the quarterly report to {p}. " + DONE, lambda rng, r, f: _email_of_orderer(rng, r)),
]
#: (request missing a detail, the detail, the question back; its look-alike with the detail)
_ASK = [
    (f"Please cancel my order. {STATUS_AFTER}", "order", "Which order do you mean? Please give me the order number.",
     lambda rng, r: _cancel(rng, r, phrase="Please cancel my order #{id}.")),
    (f"Change the shipping address of my order to 5 Elm Street. {DONE}", "order",
     "Which order should ship to 5 Elm Street? Please give me the order number.",
     lambda rng, r: _new_address(rng, r, "5 Elm Street", "Change the shipping address of my order #{id} to {address}.")),
    (f"What's the status of my order? {STATUS}", "order", "Which order do you mean? Please give me the order number.",
     lambda rng, r: _order_status(rng, r, mine=True)),
    (f"Add 'Dentist appointment' to my calendar. {DONE}", "date", "On which date and at what time?",
     lambda rng, r: _add_event(rng, r, "Dentist appointment", duration=30,
                               phrase="Add '{title}' to my calendar on {date} at {time} for {duration} minutes.")),
    (f"Please restock the product for me. {STOCK_AFTER}", "product", "Which product, and how many units?",
     lambda rng, r: _restock(rng, r, "Please add {q} units to the stock of the {name}.")),
    (f"What is the email of that customer? {EMAIL}", "customer", "Which customer do you mean? Please give me their name.",
     lambda rng, r: _customer_email(rng, r, "What is the email of the customer {name}?")),
]


def _refuse(rng, r: _Reader, i):
    """Pair ``i // 2``: one task (which one is drawn, so the id does not tell) must be refused or
    asked back; the other asks for the same kind of thing in a way the tools can do."""
    pair = random.Random(f"{r.world_seed}-refuse-pair-{i // 2}")
    do_it = (i % 2) == (pair.random() < 0.5)
    if (i // 2) % 5 < 3:
        template, look_alike = pair.choice(_IRRELEVANT)
        fill = dict(a=pair.choice(_PLACES[0]), b=pair.choice(_PLACES[1]), p=pair.choice(_PEOPLE),
                    l=pair.choice(_LANGUAGES), c=pair.choice(_COMPANIES))
        if do_it:
            return dict(look_alike(rng, r, fill), look_alike=True)
        return task(template.format(**fill), [], {"form": "refusal"}, no_calls=True,
                    final="cannot: none of my tools can do this.")
    goal, about, question, look_alike = pair.choice(_ASK)
    if do_it:
        return dict(look_alike(rng, r), look_alike=True)
    return task(goal, [], {"form": "ask", "about": about}, no_calls=True, final=f"ask: {question}")


_GENERATORS = {"single": _single, "sequence": _sequence, "dependent": _dependent, "state": _state, "refuse": _refuse}


@functools.lru_cache(maxsize=None)
def task_specs(world_seed: int = 0) -> dict[str, dict]:
    """Every generated task's spec, by id (``<tier>-<nnn>``); deterministic per world seed."""
    reader = _Reader(world_seed)
    specs = {}
    for tier in TIERS:
        for i in range(PER_TIER):
            rng = random.Random(f"{world_seed}-{tier}-{i}")
            spec = _GENERATORS[tier](rng, reader, i)
            spec.setdefault("no_calls", False)
            spec.update(id=f"{tier}-{i:03d}", tier=tier, split="test" if i % 5 == 4 else "train")
            specs[spec["id"]] = spec
    return specs


_HASHES: dict[tuple[int, str], str] = {}


@functools.lru_cache(maxsize=None)
def template_hash(world_seed: int = 0) -> str:
    """The canonical hash of the untouched world database."""
    world = ToolWorld(world_seed)
    try:
        return world.db.canonical_hash()
    finally:
        world.db.close()


def expected_hash(world_seed: int, task_id: str) -> str:
    """The database hash after replaying the oracle's calls (tau-bench's gold end state)."""
    key = (world_seed, task_id)
    if key not in _HASHES:
        spec = task_specs(world_seed)[task_id]
        world = ToolWorld(world_seed)
        try:
            for action in spec["oracle"]:
                for c in ([] if "answer" in action else action if isinstance(action, list) else [action]):
                    world.call(c["name"], c["arguments"])
            _HASHES[key] = world.db.canonical_hash()
        finally:
            world.db.close()
    return _HASHES[key]


def oracle_actions(env) -> list:
    """The oracle of the env's current task (``Task.solve``), from where the episode is."""
    return env.oracle_actions()


def validate_episode(env) -> tuple[float, bool, dict]:
    """``Task.validate``: the grade of the env's episode as it stands (reward, ended, details)."""
    return env.grade_now()


def make_task(world_seed: int, task_id: str) -> Task:
    """The task as an agent may see it: ``data`` holds only public fields (the tier); the
    expected answer, the oracle's plan and whether to refuse stay in :func:`task_specs`,
    which the env's scorer reads."""
    spec = task_specs(world_seed)[task_id]
    return Task(id=task_id, goal=spec["goal"], split=spec["split"], data={"tier": spec["tier"]},
                oracle=oracle_actions, validator=validate_episode)


def task_ids(world_seed: int = 0, tier: str | None = None, split: str | None = None) -> list[str]:
    return [tid for tid, s in task_specs(world_seed).items()
            if (tier is None or s["tier"] == tier) and (split is None or s["split"] == split)]
