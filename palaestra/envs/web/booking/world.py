"""The booking site as an application, without HTTP and without Gymnasium.

:class:`BookingWorld` answers requests — ``handle(sid, method, url, form)`` — with a
:class:`Page` (a list of blocks: headings, text, links, inputs, buttons, errors) or a
:class:`Redirect`, as the shop's world does. The web server renders pages as HTML; the
text mode renders the very same pages as text. Per-session state (the signed-in
account, form drafts, the booking) lives here, server-side, so that a snapshot is
"URL + session" in both modes.

The restaurants are generated from a seed (:func:`generate_restaurants`): name,
cuisine, neighbourhood, rating, price level; availability is a pure function of
(seed, restaurant, date, time): each slot is full or seats parties up to a size.

Pages: ``/`` (home), ``/search?q=&cuisine=&area=&price=&rating=&page=`` (results with
filters), ``/r/<id>?date=&party=`` (restaurant: date picker, party size, time slots),
``/book/<id>?date=&time=&party=`` (the booking form; POST submits it), ``/signin``
(GET form, POST submits), ``/signout`` (POST), ``/confirmation`` (the booking id).
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import random
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

PAGE_SIZE = 10
FIRST_DATE = _dt.date(2026, 12, 1)
N_DATES = 21
TIMES = ["12:00", "12:30", "13:00", "13:30", "14:00",
         "17:00", "17:30", "18:00", "18:30", "19:00", "19:30", "20:00", "20:30", "21:00", "21:30", "22:00"]
PARTY_MAX = 12
CUISINES = ["italian", "japanese", "mexican", "indian", "french", "thai", "chinese", "greek",
            "korean", "american", "spanish", "vietnamese"]
AREAS = ["downtown", "soho", "harbor district", "old town", "midtown", "riverside", "university hill", "west end"]
PRICES = ["$", "$$", "$$$", "$$$$"]
RATING_FILTERS = ["4+", "4.5+"]
FIELD_MAX = {"name": 60, "phone": 20, "requests": 200, "username": 40, "password": 40}
FORMS = {"book": ("name", "phone", "requests"), "signin": ("username", "password")}

_NAME_PARTS = {
    "italian": (["Trattoria", "Osteria", "Cucina", "Bottega", "Casa"], ["Lupo", "Bella", "Verde", "del Sole", "Rosa", "Nonna", "Fiore", "Olivo"]),
    "japanese": (["Sushi", "Izakaya", "Ramen", "Kappo", "Yakitori"], ["Hana", "Kaze", "Sora", "Umi", "Taki", "Mori", "Kumo", "Tsuki"]),
    "mexican": (["Cantina", "Taqueria", "Cocina", "El Patio", "La Casita"], ["Azul", "del Mar", "Roja", "Luna", "Verde", "Sol", "Maya", "Oro"]),
    "indian": (["Tandoor", "Masala", "Spice", "Curry", "Chaat"], ["House", "Garden", "Palace", "Room", "Junction", "Kitchen", "Darbar", "Mahal"]),
    "french": (["Bistro", "Brasserie", "Chez", "Le Petit", "Maison"], ["Laurent", "Amelie", "Blanc", "Margaux", "Roux", "Lumiere", "Colette", "Sauge"]),
    "thai": (["Baan", "Thai", "Siam", "Krua", "Lanna"], ["Orchid", "Basil", "Lotus", "Elephant", "Mango", "Jasmine", "Lemongrass", "Tamarind"]),
    "chinese": (["Golden", "Jade", "Red", "Lucky", "Imperial"], ["Dragon", "Lantern", "Bamboo", "Pavilion", "Dumpling", "Wok", "Crane", "Peony"]),
    "greek": (["Taverna", "Kouzina", "Estiatorio", "Meze", "Ouzeri"], ["Olympia", "Athena", "Kalimera", "Santorini", "Ithaca", "Zeus", "Naxos", "Delos"]),
    "korean": (["Seoul", "Bap", "Kimchi", "Gogi", "Hanok"], ["Table", "House", "Grill", "Garden", "Bowl", "Pot", "Corner", "Moon"]),
    "american": (["The Copper", "The Rustic", "Union", "Liberty", "The Oak"], ["Kitchen", "Tavern", "Grill", "Diner", "Smokehouse", "Chophouse", "Supper Club", "Eatery"]),
    "spanish": (["Bodega", "Tapas", "La Taberna", "Casa", "Meson"], ["Madrid", "Sevilla", "Toro", "Paloma", "Granada", "Rioja", "Valencia", "Sol"]),
    "vietnamese": (["Pho", "Banh Mi", "Saigon", "Hanoi", "Bun"], ["Corner", "Lotus", "House", "Street", "Garden", "Bowl", "Kitchen", "Moon"]),
}
_FIRST = ["Priya", "James", "Maria", "Wei", "Fatima", "Liam", "Sofia", "Kenji", "Amara", "Lucas", "Elena", "Omar",
          "Hannah", "Mateo", "Aisha", "Noah", "Yuki", "Chloe", "Ravi", "Ingrid", "Diego", "Zoe", "Tomas", "Leila"]
_LAST = ["Shah", "Miller", "Lopez", "Chen", "Hassan", "Walsh", "Rossi", "Tanaka", "Okafor", "Silva", "Novak", "Haddad",
         "Becker", "Garcia", "Khan", "Jensen", "Sato", "Dubois", "Patel", "Larsen", "Moreno", "Kim", "Horvat", "Farah"]


@dataclass(frozen=True)
class Restaurant:
    rid: str
    name: str
    cuisine: str
    area: str
    rating: float
    price: int  # 1..4 ($..$$$$)

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def price_text(self) -> str:
        return "$" * self.price

    def search_text(self) -> str:
        return f"{self.name} {self.cuisine} {self.area}".lower()


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    name: str
    phone: str


@dataclass
class Site:
    seed: int
    restaurants: list[Restaurant]
    accounts: dict[str, Account]
    by_id: dict[str, Restaurant] = field(default_factory=dict)

    def __post_init__(self):
        self.by_id = {r.rid: r for r in self.restaurants}

    def capacity(self, rid: str, date: str, time: str) -> int:
        """The largest party the slot seats (0: full). A pure function of the seed."""
        return _capacity(self.seed, rid, date, time)

    def available(self, rid: str, date: str, time: str, party: int) -> bool:
        return rid in self.by_id and date in DATES and time in TIMES and 1 <= party <= self.capacity(rid, date, time)


@lru_cache(maxsize=200_000)
def _capacity(seed: int, rid: str, date: str, time: str) -> int:
    h = int(hashlib.sha256(f"{seed}|{rid}|{date}|{time}".encode()).hexdigest()[:8], 16)
    if h % 100 < 40:
        return 0
    return (2, 4, 4, 6, 6, 8, 10, 12)[(h // 100) % 8]


DATES = [(FIRST_DATE + _dt.timedelta(days=i)).isoformat() for i in range(N_DATES)]


def date_label(iso: str) -> str:
    d = _dt.date.fromisoformat(iso)
    return d.strftime("%b %-d").lower()  # "dec 5"


def date_long(iso: str) -> str:
    d = _dt.date.fromisoformat(iso)
    return d.strftime("%A, %B %-d")  # "Saturday, December 5"


def time_label(hhmm: str) -> str:
    h, m = (int(x) for x in hhmm.split(":"))
    return f"{(h - 1) % 12 + 1}:{m:02d} {'am' if h < 12 else 'pm'}"  # "7:30 pm"


def party_label(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


@lru_cache(maxsize=8)
def generate_site(seed: int = 0, n_restaurants: int = 150) -> Site:
    """``n_restaurants`` restaurants (unique names) and 40 accounts, drawn from ``seed``."""
    if not 12 <= n_restaurants <= 400:
        raise ValueError(f"n_restaurants={n_restaurants}: use 12..400 (names are drawn from fixed word lists).")
    rng = random.Random(f"booking-site:{seed}")
    names: set[str] = set()
    restaurants = []
    i = 0
    while len(restaurants) < n_restaurants:
        cuisine = CUISINES[i % len(CUISINES)] if i < len(CUISINES) * 4 else rng.choice(CUISINES)
        i += 1
        first, second = _NAME_PARTS[cuisine]
        name = f"{rng.choice(first)} {rng.choice(second)}"
        if name in names:
            continue
        names.add(name)
        rating = round(rng.choice([3.2, 3.5, 3.7, 3.9, 4.0, 4.1, 4.2, 4.3, 4.4, 4.5, 4.6, 4.7, 4.8, 4.9]), 1)
        restaurants.append(Restaurant(f"r{len(restaurants):03d}", name, cuisine, rng.choice(AREAS), rating,
                                      rng.choice([1, 2, 2, 2, 3, 3, 4])))
    accounts = {}
    while len(accounts) < 40:
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        username = f"{first}.{last}".lower()
        if username in accounts:
            continue
        password = f"{rng.choice(['tulip', 'harbor', 'maple', 'comet', 'river', 'cedar'])}{rng.randrange(10, 100)}"
        phone = f"555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"
        accounts[username] = Account(username, password, f"{first} {last}", phone)
    return Site(seed, restaurants, accounts)


# ---- pages ------------------------------------------------------------------------------
@dataclass
class Block:
    # "h1" | "h2" | "text" | "link" | "restaurant" | "option" | "input" | "button" | "error" | "slot"
    kind: str
    text: str
    href: str = ""  # GET target of links/options; POST target of buttons
    label: str = ""  # the clickable/fillable label (text mode); "" if not actionable
    selected: bool = False
    group: str = ""  # option group ("date", "party", "cuisine"...) or form name of inputs/buttons
    value: str = ""  # current value of an input


@dataclass
class Page:
    kind: str  # "home" | "results" | "restaurant" | "form" | "signin" | "confirmation" | "notfound"
    url: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    search_box: bool = True
    query: str = ""

    def clickables(self) -> list[Block]:
        return [b for b in self.blocks if b.label and b.kind != "input"]

    def inputs(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "input"]


@dataclass
class Redirect:
    url: str


def new_session(goal: str | None = None) -> dict:
    return {"user": None, "drafts": {"book": {}, "signin": {}}, "booking": None, "goal": goal}


def search_url(query: str = "", filters: dict | None = None, page: int = 1) -> str:
    params = [("q", query)]
    for key in ("cuisine", "area", "price", "rating"):
        if (filters or {}).get(key):
            params.append((key, filters[key]))
    if page > 1:
        params.append(("page", str(page)))
    return "/search?" + urlencode(params)


def restaurant_url(rid: str, date: str = "", party: int | None = None) -> str:
    params = []
    if date:
        params.append(("date", date))
    if party:
        params.append(("party", str(party)))
    return f"/r/{rid}" + (("?" + urlencode(params)) if params else "")


def book_url(rid: str, date: str, time: str, party: int) -> str:
    return f"/book/{rid}?" + urlencode([("date", date), ("time", time), ("party", str(party))])


def clean_field(value: str, limit: int) -> str:
    """One line of printable text, whitespace collapsed, at most ``limit`` characters."""
    value = "".join(ch for ch in str(value) if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF)
    return " ".join(value.split())[:limit]


def norm_name(text: str) -> str:
    return " ".join(str(text).casefold().split())


def phone_digits(text: str) -> str:
    return re.sub(r"\D", "", str(text))


_NAME_OK = re.compile(r"^[A-Za-z][A-Za-z .'\-]*$")


class BookingWorld:
    """The booking site: restaurants, accounts and sessions. Thread-safe (one lock)."""

    def __init__(self, site: Site):
        self.site = site
        self.sessions: dict[str, dict] = {}
        self.lock = threading.RLock()

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

    def set_field(self, sid: str, form: str, name: str, value: str) -> None:
        """Type ``value`` into field ``name`` of the session's draft of ``form`` (text mode)."""
        if form not in FORMS or name not in FORMS[form]:
            raise KeyError(f"form {form!r} has no field {name!r}")
        with self.lock:
            self.session(sid)["drafts"][form][name] = clean_field(value, FIELD_MAX[name])

    # ---- requests ----------------------------------------------------------------------
    def handle(self, sid: str, method: str, url: str, form: dict | None = None) -> Page | Redirect:
        """Answer ``method url`` (path + query; ``form``: POST fields) for session ``sid``."""
        parts = urlsplit(url)
        path = parts.path.rstrip("/") or "/"
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self.lock:
            session = self.session(sid)
            if method == "GET":
                if path == "/":
                    return self._home(session)
                if path == "/search":
                    return self._results(session, params)
                if path.startswith("/r/"):
                    return self._restaurant(session, path[3:], params)
                if path.startswith("/book/"):
                    return self._form(session, path[6:], params, errors=[])
                if path == "/signin":
                    return self._signin(session, errors=[])
                if path == "/confirmation":
                    return self._confirmation(session)
            elif method == "POST":
                if path.startswith("/book/"):
                    return self._submit_booking(session, path[6:], params, form or {})
                if path == "/signin":
                    return self._submit_signin(session, form or {})
                if path == "/signout":
                    if session["booking"] is None:
                        session["user"] = None
                        session["drafts"]["book"] = {}
                    return Redirect("/")
            return self._not_found(url)

    # ---- pages -------------------------------------------------------------------------
    def _header(self, session: dict, signin_link: bool = True) -> list[Block]:
        blocks = []
        if session.get("goal"):
            blocks.append(Block("goal", f"Instruction: {session['goal']}"))
        blocks.append(Block("link", "Home", href="/", label="home"))
        if session["user"]:
            account = self.site.accounts[session["user"]]
            blocks.append(Block("text", f"Signed in as {account.username} ({account.name})"))
            blocks.append(Block("button", "Sign out", href="/signout", label="sign out"))
        elif signin_link:
            blocks.append(Block("link", "Sign in", href="/signin", label="sign in"))
        return blocks

    def _home(self, session) -> Page:
        blocks = self._header(session) + [
            Block("h1", "Palaestra Tables"),
            Block("text", f"Book a table at {len(self.site.restaurants)} restaurants. Search by name, cuisine or "
                          "neighbourhood, or browse them all."),
            Block("link", "Browse all restaurants", href=search_url(), label="browse all restaurants"),
            Block("h2", "Cuisines"),
        ]
        blocks += [Block("option", c.title(), href=search_url("", {"cuisine": c}), label=f"cuisine: {c}", group="cuisine")
                   for c in CUISINES]
        blocks.append(Block("h2", "Neighbourhoods"))
        blocks += [Block("option", a.title(), href=search_url("", {"area": a}), label=f"area: {a}", group="area")
                   for a in AREAS]
        return Page("home", "/", "Palaestra Tables", blocks)

    def matches(self, query: str, filters: dict) -> list[Restaurant]:
        tokens = query.lower().split()
        out = []
        for r in self.site.restaurants:
            words = r.search_text().split()
            if tokens and not all(any(w.startswith(t) for w in words) for t in tokens):
                continue
            if filters.get("cuisine") and r.cuisine != filters["cuisine"]:
                continue
            if filters.get("area") and r.area != filters["area"]:
                continue
            if filters.get("price") and r.price_text != filters["price"]:
                continue
            if filters.get("rating") and r.rating < float(filters["rating"].rstrip("+")):
                continue
            out.append(r)
        out.sort(key=lambda r: (-r.rating, r.name))
        return out

    def _results(self, session, params: dict) -> Page:
        query = clean_field(params.get("q", ""), 100)
        filters = {}
        for key, allowed in (("cuisine", CUISINES), ("area", AREAS), ("price", PRICES), ("rating", RATING_FILTERS)):
            if params.get(key) in allowed:
                filters[key] = params[key]
        hits = self.matches(query, filters)
        pages = max(1, (len(hits) + PAGE_SIZE - 1) // PAGE_SIZE)
        page = min(max(_int(params.get("page"), 1), 1), pages)
        url = search_url(query, filters, page)
        title = f'Restaurants matching "{query}"' if query else "All restaurants"
        blocks = self._header(session) + [Block("h1", title)]
        blocks.append(Block("h2", "Filters"))
        for key, values in (("cuisine", CUISINES), ("area", AREAS), ("price", PRICES), ("rating", RATING_FILTERS)):
            for v in values:
                on = filters.get(key) == v
                toggled = dict(filters)
                if on:
                    toggled.pop(key)
                else:
                    toggled[key] = v
                blocks.append(Block("option", f"{key}: {v}", href=search_url(query, toggled), label=f"{key}: {v}",
                                    selected=on, group=key))
        if filters:
            blocks.append(Block("link", "Clear filters", href=search_url(query), label="clear filters"))
        if page > 1:
            blocks.append(Block("link", "< Prev", href=search_url(query, filters, page - 1), label="< prev"))
        if page < pages:
            blocks.append(Block("link", "Next >", href=search_url(query, filters, page + 1), label="next >"))
        if not hits:
            blocks.append(Block("text", "No restaurant matches. Try other words or fewer filters."))
        else:
            blocks.append(Block("text", f"Page {page} of {pages} ({len(hits)} restaurants)"))
        for r in hits[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]:
            blocks.append(Block("restaurant", r.name, href=restaurant_url(r.rid), label=r.label,
                                value=f"{r.cuisine.title()} | {r.area.title()} | rating {r.rating:.1f} | {r.price_text}"))
        return Page("results", url, title, blocks, query=query)

    def _restaurant(self, session, rid: str, params: dict) -> Page:
        r = self.site.by_id.get(rid)
        if r is None:
            return self._not_found(f"/r/{rid}")
        date = params.get("date") if params.get("date") in DATES else ""
        party = _int(params.get("party"), 0)
        party = party if 1 <= party <= PARTY_MAX else 0
        url = restaurant_url(rid, date, party or None)
        blocks = self._header(session) + [
            Block("h1", r.name),
            Block("text", f"{r.cuisine.title()} cuisine | {r.area.title()} | rating {r.rating:.1f} | price {r.price_text}"),
            Block("h2", "Date"),
        ]
        for d in DATES:
            blocks.append(Block("option", date_long(d), href=restaurant_url(rid, d, party or None), label=date_label(d),
                                selected=d == date, group="date"))
        blocks.append(Block("h2", "Party size"))
        for n in range(1, PARTY_MAX + 1):
            blocks.append(Block("option", party_label(n), href=restaurant_url(rid, date, n), label=party_label(n),
                                selected=n == party, group="party"))
        blocks.append(Block("h2", "Time"))
        if not (date and party):
            blocks.append(Block("text", "Choose a date and a party size to see the free times."))
        else:
            free = 0
            for t in TIMES:
                if self.site.available(rid, date, t, party):
                    free += 1
                    blocks.append(Block("slot", time_label(t), href=book_url(rid, date, t, party), label=time_label(t)))
                else:
                    blocks.append(Block("text", f"{time_label(t)} (not available for {party_label(party)})"))
            if not free:
                blocks.append(Block("text", "No free table that day for this party size; try another date."))
        return Page("restaurant", url, r.name, blocks)

    def _slot(self, rid: str, params: dict) -> tuple[Restaurant | None, str, str, int]:
        return (self.site.by_id.get(rid), params.get("date", ""), params.get("time", ""), _int(params.get("party"), 0))

    def _form(self, session, rid: str, params: dict, errors: list[str]) -> Page:
        r, date, time, party = self._slot(rid, params)
        if r is None or date not in DATES or time not in TIMES or not 1 <= party <= PARTY_MAX:
            return self._not_found(f"/book/{rid}")
        url = book_url(rid, date, time, party)
        draft = session["drafts"]["book"]
        prefill = {}
        if session["user"]:
            account = self.site.accounts[session["user"]]
            prefill = {"name": account.name, "phone": account.phone}
        blocks = self._header(session) + [
            Block("h1", f"Book a table at {r.name}"),
            Block("text", f"{date_long(date)} at {time_label(time)}, {party_label(party)}"),
            Block("link", "Change date, time or party", href=restaurant_url(rid, date, party), label="change"),
        ]
        blocks += [Block("error", e) for e in errors]
        for name, text in (("name", "Name"), ("phone", "Phone"), ("requests", "Special requests (optional)")):
            value = draft.get(name, prefill.get(name, ""))
            blocks.append(Block("input", text, label=name, group="book", value=value))
        blocks.append(Block("button", "Book table", href=url, label="book table", group="book"))
        return Page("form", url, f"Book {r.name}", blocks)

    def form_values(self, sid: str, form: str, url: str) -> dict:
        """What the page's form would submit now (the text mode's POST body)."""
        with self.lock:
            page = self.handle(sid, "GET", url)
            if isinstance(page, Redirect):
                return {}
            return {b.label: b.value for b in page.inputs() if b.group == form}

    def _submit_booking(self, session, rid: str, params: dict, form: dict) -> Page | Redirect:
        r, date, time, party = self._slot(rid, params)
        if r is None or date not in DATES or time not in TIMES or not 1 <= party <= PARTY_MAX:
            return self._not_found(f"/book/{rid}")
        if session["booking"] is not None:
            return Redirect("/confirmation")
        values = {k: clean_field(form.get(k, ""), FIELD_MAX[k]) for k in FORMS["book"]}
        session["drafts"]["book"] = dict(values)
        errors = []
        if not values["name"]:
            errors.append("Name is required.")
        elif not _NAME_OK.match(values["name"]) or len(values["name"]) < 2:
            errors.append("Name: use letters, spaces, apostrophes, dots or hyphens (at least 2 characters).")
        digits = phone_digits(values["phone"])
        if not values["phone"]:
            errors.append("Phone is required.")
        elif not 7 <= len(digits) <= 15 or not re.fullmatch(r"[0-9 ()+.\-]+", values["phone"]):
            errors.append("Phone: 7 to 15 digits (spaces, dashes, dots, brackets and + allowed).")
        if not self.site.available(rid, date, time, party):
            errors.append(f"{time_label(time)} on {date_long(date)} has no table for {party_label(party)}; "
                          "choose another time.")
        if errors:
            return self._form(session, rid, params, errors)
        booking_id = "BK" + hashlib.sha256(
            f"{self.site.seed}|{rid}|{date}|{time}|{party}|{values['name']}|{session['user']}".encode()
        ).hexdigest()[:8].upper()
        session["booking"] = {
            "id": booking_id, "restaurant": rid, "date": date, "time": time, "party": party,
            "name": values["name"], "phone": values["phone"], "requests": values["requests"],
            "account": session["user"],
        }
        return Redirect("/confirmation")

    def _signin(self, session, errors: list[str]) -> Page:
        blocks = self._header(session, signin_link=False) + [Block("h1", "Sign in")]
        blocks += [Block("error", e) for e in errors]
        if session["user"]:
            blocks.append(Block("text", "You are signed in."))
        else:
            draft = session["drafts"]["signin"]
            blocks.append(Block("input", "Username", label="username", group="signin", value=draft.get("username", "")))
            blocks.append(Block("input", "Password", label="password", group="signin", value=draft.get("password", "")))
            blocks.append(Block("button", "Sign in", href="/signin", label="sign in", group="signin"))
        return Page("signin", "/signin", "Sign in", blocks)

    def _submit_signin(self, session, form: dict) -> Page | Redirect:
        username = clean_field(form.get("username", ""), FIELD_MAX["username"]).lower()
        password = clean_field(form.get("password", ""), FIELD_MAX["password"])
        session["drafts"]["signin"] = {"username": username, "password": ""}
        account = self.site.accounts.get(username)
        if account is None or account.password != password:
            return self._signin(session, ["Unknown username or wrong password."])
        session["user"] = username
        session["drafts"]["signin"] = {}
        session["drafts"]["book"] = {}  # the form now prefills the account's name and phone
        return Redirect("/")

    def _confirmation(self, session) -> Page:
        b = session.get("booking")
        if b is None:
            return Page("notfound", "/confirmation", "No booking",
                        [Block("text", "No booking has been made yet."), Block("link", "Home", href="/", label="home")])
        r = self.site.by_id[b["restaurant"]]
        blocks = [
            Block("h1", "Your table is booked"),
            Block("text", f"Booking id: {b['id']}"),
            Block("text", f"{r.name}, {date_long(b['date'])} at {time_label(b['time'])}, {party_label(b['party'])}"),
            Block("text", f"Name: {b['name']} | Phone: {b['phone']}"
                          + (f" | Account: {b['account']}" if b["account"] else "")),
        ]
        if b["requests"]:
            blocks.append(Block("text", f"Special requests: {b['requests']}"))
        return Page("confirmation", "/confirmation", "Booking confirmed", blocks, search_box=False)

    def _not_found(self, url: str) -> Page:
        return Page("notfound", url[:200], "Not found",
                    [Block("error", f"Nothing here: {url[:200]}"), Block("link", "Home", href="/", label="home")])


def _int(value, default: int) -> int:
    try:
        return int(str(value)[:6])
    except (TypeError, ValueError):
        return default
