"""Booking tasks: natural-language goals, a reward that checks the stored booking, an oracle.

A task names a restaurant (by name, or by constraints: cuisine, neighbourhood, a
minimum rating, a price level), a date, a time, a party size, and either a guest name
and phone number or an account to sign in to; some add a special request. Task
``booking:<split>:<i>`` is drawn from ``random.Random("<seed>:<split>:<i>")``; the test
split targets only held-out restaurants (a hash of the restaurant id puts 1 in 5 there).

Reward (binary, as Agent Q's OpenTable evaluation checks the booking that was made):
1 when the session's stored booking has

- the restaurant: the named one, or one meeting every constraint of the goal;
- the date, the time and the party size of the goal, exactly;
- with a guest name: the name (case and spacing ignored) and the phone (digits);
  with an account: the booking was made signed in to that account;
- with a special request: the request text (case, spacing and a final period ignored).
  Requests the goal does not ask for are not checked.

Anything else earns 0; so does no booking. The page text is never read.
"""

from __future__ import annotations

import hashlib
import random

from palaestra.core import Task

from .world import (
    DATES,
    PRICES,
    TIMES,
    BookingWorld,
    Site,
    book_url,
    date_label,
    date_long,
    norm_name,
    party_label,
    phone_digits,
    restaurant_url,
    time_label,
)

SPLITS = {"test": 500, "train": 5_000}
REQUESTS = ["window seat", "high chair for a toddler", "birthday celebration", "wheelchair access", "quiet table",
            "outdoor seating", "anniversary dinner", "gluten free options", "booth if possible", "table near the bar"]
_OPENERS = ["Book a table", "Reserve a table", "Make a reservation", "Please book a table", "I need a table"]


def _split_of(rid: str) -> str:
    h = int(hashlib.sha256(rid.encode()).hexdigest()[:8], 16)
    return "test" if h % 5 == 0 else "train"


def restaurant_ok(r, goal: dict) -> bool:
    """Does restaurant ``r`` meet the goal's restaurant constraint?"""
    c = goal["restaurant"]
    if "id" in c:
        return r.rid == c["id"]
    return (r.cuisine == c["cuisine"] and r.area == c["area"]
            and r.rating >= c.get("min_rating", 0.0) and (c.get("price") is None or r.price == c["price"]))


def _norm_request(text: str) -> str:
    return norm_name(text).rstrip(".!")


class BookingTasks:
    """The task suite of one site: ``task(split, index)`` builds task ``booking:<split>:<i>``."""

    def __init__(self, site: Site):
        self.site = site
        self.pools = {s: [r for r in site.restaurants if _split_of(r.rid) == s] for s in SPLITS}
        for s, pool in self.pools.items():
            if not pool:
                raise ValueError(f"the site has no {s}-split restaurant; use more restaurants.")

    def size(self, split: str) -> int:
        return SPLITS[split]

    def parse_id(self, task_id: str) -> tuple[str, int]:
        parts = str(task_id).split(":")
        if len(parts) != 3 or parts[0] != "booking" or parts[1] not in SPLITS or not parts[2].isdigit():
            raise ValueError(f"task id {str(task_id)[:80]!r} is not of the form 'booking:test:<i>' or 'booking:train:<i>'.")
        index = int(parts[2])
        if index >= self.size(parts[1]):
            raise ValueError(f"task {task_id!r}: the {parts[1]} split has {self.size(parts[1])} tasks.")
        return parts[1], index

    def task(self, split: str, index: int) -> Task:
        goal = self.goal(split, index)
        return Task(id=f"booking:{split}:{index}", goal=goal["instruction"], split=split, data=goal)

    # ---- goals ---------------------------------------------------------------------
    def goal(self, split: str, index: int) -> dict:
        rng = random.Random(f"{self.site.seed}:{split}:{index}")
        pool = self.pools[split]
        while True:
            r = pool[rng.randrange(len(pool))]
            date, time = rng.choice(DATES), rng.choice(TIMES)
            cap = self.site.capacity(r.rid, date, time)
            if cap >= 1:
                break
        party = rng.randint(1, min(cap, 8))
        by_name = rng.random() < 0.5
        if by_name:
            constraint = {"id": r.rid}
            where = f"at {r.name}"
        else:
            constraint = {"cuisine": r.cuisine, "area": r.area}
            extra = rng.choice(["rating", "price", "both", "none"])
            parts = [f"{'an' if r.cuisine[0] in 'aeiou' else 'a'} {r.cuisine.title()} restaurant in {r.area.title()}"]
            if extra in ("rating", "both"):
                floor = max(x for x in (3.0, 3.5, 4.0, 4.5) if x <= r.rating)
                constraint["min_rating"] = floor
                parts.append(f"rated {floor:.1f} or higher")
            if extra in ("price", "both"):
                constraint["price"] = r.price
                parts.append(f"with price level {PRICES[r.price - 1]}")
            where = "at " + " ".join(parts)
        signin = rng.random() < 0.3
        goal = {
            "restaurant": constraint,
            "date": date,
            "time": time,
            "party": party,
            "request": rng.choice(REQUESTS) if rng.random() < 0.4 else None,
            "account": None,
            "name": None,
            "phone": None,
            "oracle_restaurant": r.rid,
        }
        who = "for 1 person" if party == 1 else f"for {party} people"
        text = f"{rng.choice(_OPENERS)} {who} {where} on {date_long(date)} at {time_label(time)}."
        if signin:
            account = rng.choice(sorted(self.site.accounts.values(), key=lambda a: a.username))
            goal["account"] = account.username
            text += f" Sign in first as {account.username} (password {account.password}) and book under that account."
        else:
            goal["name"] = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
            goal["phone"] = f"555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"
            text += f" The reservation is for {goal['name']}, phone {goal['phone']}."
        if goal["request"]:
            text += f' Add the special request "{goal["request"]}".'
        goal["instruction"] = text
        return goal

    # ---- reward --------------------------------------------------------------------
    def reward(self, booking: dict | None, goal: dict) -> tuple[float, dict]:
        """1.0 if the stored booking meets the goal (see the module docstring), else 0.0."""
        if not booking:
            return 0.0, {"reason": "nothing booked"}
        r = self.site.by_id.get(booking.get("restaurant"))
        checks = {
            "restaurant": r is not None and restaurant_ok(r, goal),
            "date": booking.get("date") == goal["date"],
            "time": booking.get("time") == goal["time"],
            "party": booking.get("party") == goal["party"],
        }
        if goal["account"]:
            checks["account"] = booking.get("account") == goal["account"]
        else:
            checks["name"] = norm_name(booking.get("name", "")) == norm_name(goal["name"])
            checks["phone"] = phone_digits(booking.get("phone", "")) == phone_digits(goal["phone"])
        if goal["request"]:
            checks["request"] = _norm_request(booking.get("requests", "")) == _norm_request(goal["request"])
        ok = all(checks.values())
        return (1.0 if ok else 0.0), {"checks": checks, "booking_id": booking.get("id")}

    # ---- oracle --------------------------------------------------------------------
    def oracle_plan(self, goal: dict, world: BookingWorld, sid: str, current_url: str) -> list[str]:
        """Text actions from the current page (any but the confirmation) that make the booking."""
        session = world.export_session(sid)
        r = self.site.by_id[goal["oracle_restaurant"]]
        plan: list[str] = []
        if goal["account"] and session["user"] != goal["account"]:
            if session["user"]:
                plan.append("click[sign out]")
            if current_url != "/signin" or session["user"]:
                plan.append("click[sign in]")
            account = self.site.accounts[goal["account"]]
            plan += [f"fill[username: {account.username}]", f"fill[password: {account.password}]", "click[sign in]"]
        if plan or current_url != book_url(r.rid, goal["date"], goal["time"], goal["party"]):
            plan += [f"search[{r.name.lower()}]", f"click[{r.label}]", f"click[{date_label(goal['date'])}]",
                     f"click[{party_label(goal['party'])}]", f"click[{time_label(goal['time'])}]"]
        if goal["account"]:
            account = self.site.accounts[goal["account"]]
            name, phone = account.name, account.phone
        else:
            name, phone = goal["name"], goal["phone"]
        plan += [f"fill[name: {name}]", f"fill[phone: {phone}]"]
        if goal["request"]:
            plan.append(f"fill[requests: {goal['request']}]")
        plan.append("click[book table]")
        return plan


_FIRST_NAMES = ["Ana", "Ben", "Carla", "Dev", "Ella", "Farid", "Grace", "Hugo", "Iris", "Jonah", "Kira", "Leo",
                "Mina", "Nils", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wren", "Yara"]
_LAST_NAMES = ["Abbott", "Brennan", "Castillo", "Dalton", "Eriksen", "Fischer", "Gupta", "Holm", "Ivanova", "Jovanovic",
               "Kowalski", "Lindqvist", "Mendes", "Nakamura", "Oyelaran", "Petrov", "Quintero", "Reyes", "Stein",
               "Toivonen", "Ueda", "Vargas", "Whitfield", "Zheng"]

__all__ = ["REQUESTS", "SPLITS", "BookingTasks", "restaurant_ok", "restaurant_url"]
