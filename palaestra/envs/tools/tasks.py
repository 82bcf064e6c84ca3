"""Seeded tool-use tasks in five difficulty tiers, with oracles and graded end states.

Tiers (easy to hard, as the curriculum of the seed paper):

- ``single``: one tool call answers the request;
- ``sequence``: several independent calls (some as one parallel step);
- ``dependent``: a call needs the result of an earlier one;
- ``state``: the request changes the database (cancel, re-address, restock, book);
- ``refuse``: no tool fits (refuse) or a detail is missing (ask), so no call is right.

Every task has a goal, required outputs, the oracle's actions and (tau-bench) the
database end state the oracle reaches; ``split`` is ``test`` for one task in five.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import sqlite3

from palaestra.core import Task

from .world import CATEGORIES, KB_ARTICLES, ToolWorld, template_bytes, world_today

TIERS = ("single", "sequence", "dependent", "state", "refuse")
PER_TIER = 120
REFUSAL_PHRASES = ["cannot", "can't", "can not", "unable", "not able", "no tool", "don't have", "do not have",
                   "not possible", "not supported"]


def call(_tool, **arguments):
    return {"name": _tool, "arguments": arguments}


def answer(text):
    return {"answer": text}


def num(x) -> str:
    if isinstance(x, float) and not x.is_integer():
        return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x - round(x, 2)) < 1e-9 else f"{x:.4f}"
    return str(int(x))


class _Reader:
    """Read-only access to the template while generating tasks."""

    def __init__(self, world_seed: int):
        self.conn = sqlite3.connect(":memory:")
        self.conn.deserialize(template_bytes(world_seed))
        self.conn.row_factory = sqlite3.Row
        self.today = world_today(world_seed)

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


# ---- tier generators: (rng, reader, i) -> spec ---------------------------------------
def _single(rng, r: _Reader, i):
    kind = i % 6
    if kind == 0:
        a, b, c, d = rng.randint(2, 99), rng.randint(2, 99), rng.randint(1, 999), rng.randint(2, 19)
        expr = f"round(({a} * {b} + {c}) / {d}, 2)"
        value = round((a * b + c) / d, 2)
        return dict(goal=f"Compute ({a} × {b} + {c}) ÷ {d}, rounded to 2 decimal places.",
                    oracle=[call("calculator", expression=expr), answer(f"The result is {num(value)}.")],
                    outputs=[{"number": value, "tol": 0.01}])
    if kind == 1:
        src, dst, src_name, dst_name = rng.choice(_UNITS)
        value = rng.randint(2, 500)
        out = _convert(value, src, dst)
        return dict(goal=f"How many {dst_name} is {value} {src_name}? Round to 2 decimal places.",
                    oracle=[call("convert_units", value=value, from_unit=src, to_unit=dst),
                            answer(f"{value} {src_name} is {out:.2f} {dst_name}.")],
                    outputs=[{"number": round(out, 2), "tol": 0.01}])
    if kind == 2:
        order = rng.choice(r.rows("SELECT id, status FROM orders"))
        return dict(goal=f"What is the status of order #{order['id']}?",
                    oracle=[call("get_order", order_id=order["id"]),
                            answer(f"Order {order['id']} is {order['status']}.")],
                    outputs=[{"text": order["status"]}])
    if kind == 3:
        day = r.today + dt.timedelta(days=rng.randint(-200, 200))
        name = day.strftime("%A")
        return dict(goal=f"What day of the week is {day.isoformat()}?",
                    oracle=[call("weekday", date=day.isoformat()), answer(f"{day.isoformat()} is a {name}.")],
                    outputs=[{"text": name}])
    if kind == 4:
        idx, question, fact = rng.choice(_KB_QUESTIONS)
        title, _, facts = KB_ARTICLES[idx]
        value = facts[fact]
        return dict(goal=f"According to the store's knowledge base: {question}",
                    oracle=[call("search_kb", query=title.replace(":", "")), answer(f"The answer is {value}.")],
                    outputs=[{"number": value}])
    cust = rng.choice(r.rows("SELECT name, email FROM customers"))
    return dict(goal=f"What is the email address of our customer {cust['name']}?",
                oracle=[call("find_customer", name=cust["name"]), answer(f"{cust['name']}'s email is {cust['email']}.")],
                outputs=[{"text": cust["email"]}])


def _sequence(rng, r: _Reader, i):
    kind = i % 6
    if kind == 0:
        a, b = rng.sample(r.rows("SELECT id, total FROM orders"), 2)
        total = round(a["total"] + b["total"], 2)
        return dict(goal=f"What is the combined total of orders #{a['id']} and #{b['id']}?",
                    oracle=[[call("get_order", order_id=a["id"]), call("get_order", order_id=b["id"])],
                            call("calculator", expression=f"round({a['total']} + {b['total']}, 2)"),
                            answer(f"The combined total is {num(total)}.")],
                    outputs=[{"number": total, "tol": 0.01}])
    if kind == 1:
        (s1, d1, sn1, dn1), (s2, d2, sn2, dn2) = rng.sample(_UNITS, 2)
        v1, v2 = rng.randint(2, 300), rng.randint(2, 300)
        o1, o2 = _convert(v1, s1, d1), _convert(v2, s2, d2)
        return dict(goal=f"Convert {v1} {sn1} to {dn1} and {v2} {sn2} to {dn2} (2 decimal places).",
                    oracle=[[call("convert_units", value=v1, from_unit=s1, to_unit=d1),
                             call("convert_units", value=v2, from_unit=s2, to_unit=d2)],
                            answer(f"{v1} {sn1} = {o1:.2f} {dn1}; {v2} {sn2} = {o2:.2f} {dn2}.")],
                    outputs=[{"number": round(o1, 2), "tol": 0.01}, {"number": round(o2, 2), "tol": 0.01}])
    if kind == 2:
        dates = [x["date"] for x in r.rows("SELECT DISTINCT date FROM events ORDER BY date")]
        d1, d2 = sorted(rng.sample(dates, 2))
        n = r.rows("SELECT count(*) AS n FROM events WHERE date IN (?, ?)", (d1, d2))[0]["n"]
        return dict(goal=f"How many calendar events are there on {d1} and {d2} together?",
                    oracle=[call("list_events", date=d1), call("list_events", date=d2),
                            answer(f"There are {n} events in total.")],
                    outputs=[{"number": n}])
    if kind == 3:
        a, b = rng.sample(r.rows("SELECT id, status FROM orders"), 2)
        return dict(goal=f"What are the statuses of orders #{a['id']} and #{b['id']}?",
                    oracle=[[call("get_order", order_id=a["id"]), call("get_order", order_id=b["id"])],
                            answer(f"Order {a['id']} is {a['status']} and order {b['id']} is {b['status']}.")],
                    outputs=[{"text": f"{a['status']}"}, {"text": f"{b['status']}"}])
    if kind == 4:
        a, b = rng.sample(r.rows("SELECT name, stock FROM products"), 2)
        return dict(goal=f"How many units of the {a['name']} and of the {b['name']} are in stock?",
                    oracle=[call("search_products", query=a["name"]), call("search_products", query=b["name"]),
                            answer(f"{a['name']}: {a['stock']} units; {b['name']}: {b['stock']} units.")],
                    outputs=[{"number": a["stock"]}, {"number": b["stock"]}])
    d1 = r.today + dt.timedelta(days=rng.randint(-100, 0))
    d2 = r.today + dt.timedelta(days=rng.randint(1, 150))
    days, name = (d2 - d1).days, d2.strftime("%A")
    return dict(goal=f"How many days are there from {d1.isoformat()} to {d2.isoformat()}, and what weekday is "
                     f"{d2.isoformat()}?",
                oracle=[call("days_between", start_date=d1.isoformat(), end_date=d2.isoformat()),
                        call("weekday", date=d2.isoformat()), answer(f"{days} days; {d2.isoformat()} is a {name}.")],
                outputs=[{"number": days}, {"text": name}])


def _dependent(rng, r: _Reader, i):
    kind = i % 6
    order = rng.choice(r.rows(
        "SELECT o.id, o.customer_id, o.product_id, c.email, c.city, p.price, p.category FROM orders o "
        "JOIN customers c ON c.id = o.customer_id JOIN products p ON p.id = o.product_id"))
    if kind == 0:
        return dict(goal=f"What is the email address of the customer who placed order #{order['id']}?",
                    oracle=[call("get_order", order_id=order["id"]), call("get_customer", customer_id=order["customer_id"]),
                            answer(f"The customer's email is {order['email']}.")],
                    outputs=[{"text": order["email"]}])
    if kind == 1:
        titles = r.rows("SELECT title, min(date) AS date FROM events GROUP BY title ORDER BY title")
        ev = rng.choice(titles)
        days = (dt.date.fromisoformat(ev["date"]) - r.today).days
        return dict(goal=f"How many days from today until the next '{ev['title']}' on the calendar?",
                    oracle=[call("find_events", query=ev["title"]), call("current_date"),
                            call("days_between", start_date=r.today.isoformat(), end_date=ev["date"]),
                            answer(f"The next {ev['title']} is in {days} days, on {ev['date']}.")],
                    outputs=[{"number": days}])
    if kind == 2:
        k = rng.randint(2, 9)
        cost = round(order["price"] * k, 2)
        return dict(goal=f"What would {k} units of the product in order #{order['id']} cost at its current price?",
                    oracle=[call("get_order", order_id=order["id"]), call("get_product", product_id=order["product_id"]),
                            call("calculator", expression=f"round({order['price']} * {k}, 2)"),
                            answer(f"{k} units would cost {num(cost)}.")],
                    outputs=[{"number": cost, "tol": 0.01}])
    if kind == 3:
        cust = rng.choice(r.rows("SELECT id, email FROM customers"))
        n = r.rows("SELECT count(*) AS n FROM orders WHERE customer_id = ? AND status = 'pending'", (cust["id"],))[0]["n"]
        return dict(goal=f"How many pending orders does the customer with email {cust['email']} have?",
                    oracle=[call("find_customer", email=cust["email"]),
                            call("list_orders", customer_id=cust["id"], status="pending"),
                            answer(f"They have {n} pending orders.")],
                    outputs=[{"number": n}])
    if kind == 4:
        return dict(goal=f"In which city does the customer who placed order #{order['id']} live?",
                    oracle=[call("get_order", order_id=order["id"]), call("get_customer", customer_id=order["customer_id"]),
                            answer(f"They live in {order['city']}.")],
                    outputs=[{"text": order["city"]}])
    days = KB_ARTICLES[CATEGORIES.index(order["category"])][2]["days"]
    return dict(goal=f"Within how many days of delivery can the product of order #{order['id']} be returned?",
                oracle=[call("get_order", order_id=order["id"]), call("get_product", product_id=order["product_id"]),
                        call("search_kb", query=f"return policy {order['category']}"),
                        answer(f"It is a {order['category']} item: {days} days.")],
                outputs=[{"number": days}])


def _state(rng, r: _Reader, i):
    from faker import Faker

    kind = i % 6
    pending = r.rows("SELECT id, customer_id FROM orders WHERE status = 'pending' ORDER BY id")
    if kind == 0:
        order = rng.choice(pending)
        return dict(goal=f"Please cancel order #{order['id']}.",
                    oracle=[call("cancel_order", order_id=order["id"]), answer(f"Order {order['id']} is cancelled.")],
                    outputs=[{"text": "cancel"}])
    if kind == 1:
        order = rng.choice(pending)
        fake = Faker("en_US")
        fake.seed_instance(rng.randrange(1 << 30))
        address = f"{fake.street_address()}, {fake.city()}"
        return dict(goal=f"Ship order #{order['id']} to {address} instead.",
                    oracle=[call("update_order_address", order_id=order["id"], address=address),
                            answer(f"Order {order['id']} will ship to {address}.")],
                    outputs=[])
    if kind == 2:
        title = rng.choice(["Call with ", "Meeting with ", "Coffee with "]) + rng.choice(
            ["Ana", "Ben", "Chloe", "Dev", "Eli", "Fatima", "Goran", "Hana"])
        day = r.today + dt.timedelta(days=rng.randint(1, 40))
        time = f"{rng.randint(8, 18):02d}:{rng.choice(['00', '15', '30', '45'])}"
        duration = rng.choice([15, 30, 45, 60, 90])
        return dict(goal=f"Add '{title}' to the calendar on {day.isoformat()} at {time} for {duration} minutes.",
                    oracle=[call("add_event", title=title, date=day.isoformat(), time=time, duration_min=duration),
                            answer(f"Added '{title}' on {day.isoformat()} at {time}.")],
                    outputs=[])
    if kind == 3:
        prod = rng.choice(r.rows("SELECT id, name, stock FROM products"))
        q = rng.randint(5, 60)
        return dict(goal=f"We received {q} more units of the {prod['name']}; add them to the stock. "
                         "How many are in stock now?",
                    oracle=[call("search_products", query=prod["name"]),
                            call("restock_product", product_id=prod["id"], quantity=q),
                            answer(f"Stock of the {prod['name']} is now {prod['stock'] + q}.")],
                    outputs=[{"number": prod["stock"] + q}])
    if kind == 4:
        cust_ids = sorted({o["customer_id"] for o in pending})
        cid = rng.choice(cust_ids)
        cust = r.rows("SELECT id, email FROM customers WHERE id = ?", (cid,))[0]
        latest = r.rows("SELECT id FROM orders WHERE customer_id = ? AND status = 'pending' "
                        "ORDER BY order_date DESC, id DESC LIMIT 1", (cid,))[0]["id"]
        return dict(goal=f"The customer {cust['email']} wants their most recent pending order cancelled.",
                    oracle=[call("find_customer", email=cust["email"]),
                            call("list_orders", customer_id=cid, status="pending"),
                            call("cancel_order", order_id=latest), answer(f"Order {latest} is cancelled.")],
                    outputs=[{"number": latest}])
    order = rng.choice(r.rows("SELECT id, status FROM orders WHERE status IN ('shipped', 'delivered')"))
    return dict(goal=f"Please cancel order #{order['id']}.",
                oracle=[call("get_order", order_id=order["id"]),
                        answer(f"Order {order['id']} cannot be cancelled: it is already {order['status']}.")],
                outputs=[{"text": order["status"]}])


_IRRELEVANT = [
    "Book me a flight from {a} to {b} next Friday.", "What is the weather in {a} tomorrow?",
    "Send a text message to {p} saying I'll be late.", "Translate 'good morning' into {l}.",
    "Play some jazz music in the living room.", "What is the current share price of {c}?",
    "Order a taxi to {a} airport.", "Write a poem about {a} in spring.",
    "Turn off the lights in the kitchen.", "Reserve a table for four at a restaurant in {a}.",
    "Who won the football match between {a} and {b} yesterday?", "Set an alarm for 6:30 tomorrow morning.",
    "Post a photo of our new {c} product on social media.", "Call {p} on the phone.",
    "What is the population of {a}?", "Email the quarterly report to {p}.",
]
_ASK = [
    ("Please cancel my order.", ["order number", "order id", "which order", "order #"]),
    ("Change the shipping address of my order to 5 Elm Street.", ["order number", "order id", "which order", "order #"]),
    ("What's the status of my order?", ["order number", "order id", "which order", "order #"]),
    ("Add a dentist appointment to my calendar.", ["which date", "what date", "date and time", "when"]),
    ("Please restock the product for me.", ["which product", "what product", "product name", "how many"]),
    ("What is the email of that customer?", ["which customer", "customer's name", "customer name", "order number"]),
]


def _refuse(rng, r: _Reader, i):
    if i % 5 < 3:
        template = rng.choice(_IRRELEVANT)
        text = template.format(a=rng.choice(["Paris", "Lisbon", "Osaka", "Nairobi", "Lima", "Oslo"]),
                               b=rng.choice(["Rome", "Berlin", "Seoul", "Cairo", "Quito", "Dublin"]),
                               p=rng.choice(["Maria", "John", "Aiko", "Omar"]),
                               l=rng.choice(["French", "Swahili", "Japanese", "Portuguese"]),
                               c=rng.choice(["Acme", "Globex", "Initech", "Umbrella"]))
        return dict(goal=text, no_calls=True,
                    oracle=[answer("Sorry, I cannot do that: none of my tools can help with this request.")],
                    outputs=[{"any": REFUSAL_PHRASES}])
    text, phrases = rng.choice(_ASK)
    question = {"order": "Which order do you mean? Please give me the order number.",
                "date": "Which date and time should I use?",
                "product": "Which product, and how many units?",
                "customer": "Which customer do you mean? Please give me the customer name."}
    key = "order" if "order" in phrases[0] else "date" if "date" in phrases[0] else \
        "product" if "product" in phrases[0] else "customer"
    return dict(goal=text, no_calls=True, oracle=[answer(question[key])], outputs=[{"any": phrases}])


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
    spec = task_specs(world_seed)[task_id]
    return Task(id=task_id, goal=spec["goal"], split=spec["split"], data=dict(spec), oracle=oracle_actions,
                validator=validate_episode)


def task_ids(world_seed: int = 0, tier: str | None = None, split: str | None = None) -> list[str]:
    return [tid for tid, s in task_specs(world_seed).items()
            if (tier is None or s["tier"] == tier) and (split is None or s["split"] == split)]
