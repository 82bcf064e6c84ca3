"""Shop tasks: WebShop-style instructions, WebShop's reward, and an oracle.

Reward (WebShop, ``web_agent_site/engine/goal.py``)::

    (matched attributes + matched options + [price <= cap]) / (|attributes| + |options| + 1) * r_type

- an attribute matches when rapidfuzz's ``token_set_ratio`` with one of the product's
  attributes exceeds 85, or when it appears in the title, features or description;
- an option matches a chosen option exactly for ``size``, by ``token_set_ratio > 85``
  otherwise (or when it appears in the title/features/description). WebShop loops over
  the *chosen* options, so choosing extra options could count twice; here each *goal*
  option counts at most once;
- ``r_type`` is 1, 0.5, 0.1 or 0 from the query match, the category-path overlap (>= 2
  levels) and the share of the goal's type nouns found in the bought title (WebShop
  finds nouns with spaCy; the generated catalogue knows them, WebShop files use the
  title's words minus stop words).

An order of several different items earns the best item's reward divided by the number
of items (WebShop only sells one). Success = reward 1. Price caps are drawn from the
task's own seeded RNG (WebShop re-drew them unseeded on every load).
"""

from __future__ import annotations

import hashlib
import random
import re
from urllib.parse import parse_qsl, urlsplit

from rapidfuzz import fuzz

from palaestra.core import Task

from .catalog import Catalog, Product
from .world import PAGE_SIZE, RESULTS_MAX, SearchEngine, _option_labels, _options, search_engine

EXACT_MATCH_OPTS = ("size",)
PRICE_RANGE = [10.0 * i for i in range(1, 100)]
SPLITS = {"test": 500, "train": 10_000}

_TEMPLATES = [
    "i need {a} {noun}{opts}, and price lower than {cap:.2f} dollars",
    "i'm looking for {a} {noun}{opts}, and price lower than {cap:.2f} dollars",
    "find me {a} {noun}{opts}, and price lower than {cap:.2f} dollars",
    "i want to buy {a} {noun}{opts}, and price lower than {cap:.2f} dollars",
]


def _split_of(asin: str) -> str:
    """Products are split 20/80 into test/train by a hash of their asin."""
    h = int(hashlib.sha256(asin.encode()).hexdigest()[:8], 16)
    return "test" if h % 5 == 0 else "train"


def price_cap(price: float, rng: random.Random) -> float:
    above = [p for p in PRICE_RANGE if p > price][:4]
    if len(above) >= 2:
        return max(rng.sample(above, 2))
    return 1_000_000.0


class ShopTasks:
    """The task suite of one catalogue: ``task(split, index)`` builds task ``shop:<split>:<i>``."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.engine: SearchEngine = search_engine(catalog)
        if catalog.goals:
            n_test = max(1, min(500, len(catalog.goals) // 5)) if len(catalog.goals) > 1 else 1
            self.goals = {"test": catalog.goals[:n_test], "train": catalog.goals[n_test:] or catalog.goals[:n_test]}
        else:
            self.pools = {s: [p for p in catalog.products if _split_of(p.asin) == s] for s in SPLITS}
            self.goals = None

    def size(self, split: str) -> int:
        if self.goals is not None:
            return len(self.goals[split])
        return SPLITS[split]

    def parse_id(self, task_id: str) -> tuple[str, int]:
        parts = str(task_id).split(":")
        if len(parts) != 3 or parts[0] != "shop" or parts[1] not in SPLITS or not parts[2].isdigit():
            raise ValueError(f"task id {task_id!r} is not of the form 'shop:test:<i>' or 'shop:train:<i>'.")
        index = int(parts[2])
        if index >= self.size(parts[1]):
            raise ValueError(f"task {task_id!r}: the {parts[1]} split has {self.size(parts[1])} tasks.")
        return parts[1], index

    def task(self, split: str, index: int) -> Task:
        goal = self._goal(split, index)
        return Task(
            id=f"shop:{split}:{index}",
            goal=goal["instruction"],
            split=split,
            data=goal,
        )

    # ---- goals ---------------------------------------------------------------------
    def _goal(self, split: str, index: int) -> dict:
        rng = random.Random(f"{self.catalog.name}:{split}:{index}")
        if self.goals is not None:
            g = dict(self.goals[split][index])
            product = self.catalog.by_asin[g["asin"]]
            cap = price_cap(product.price, rng)
            text = g["instruction"] + (f", and price lower than {cap:.2f} dollars" if cap < 1_000_000 else "")
            return self._goal_dict(product, g["attributes"], _options_for(product, g["options"]), cap, text)
        pool = self.pools[split]
        product = pool[rng.randrange(len(pool))]
        attrs = rng.sample(product.attributes, rng.randint(1, min(3, len(product.attributes))))
        groups = list(product.options)
        if len(groups) > 2:
            groups = sorted(rng.sample(groups, 2), key=groups.index)
        options = {g: rng.choice(product.options[g]) for g in groups}
        cap = price_cap(product.price, rng)
        opts = ""
        if options:
            opts = " with " + ", and ".join(f"{g}: {v}" for g, v in options.items())
        # "with pockets", "for dry hair" read after the noun, the others before it
        post = [a for a in attrs if a.split()[0] in ("with", "for", "in")]
        pre = [a for a in attrs if a not in post]
        a = _join(pre)
        noun = product.query + ((" " + _join(post)) if post else "")
        text = rng.choice(_TEMPLATES).format(a=a, noun=noun, opts=opts, cap=cap).replace("  ", " ")
        return self._goal_dict(product, attrs, options, cap, text)

    def _goal_dict(self, product: Product, attrs, options: dict, cap: float, text: str) -> dict:
        return {
            "asin": product.asin,
            "instruction": text,
            "query": product.query,
            "product_category": product.product_category,
            "nouns": list(product.nouns),
            "attributes": list(attrs),
            "options": dict(options),
            "price_upper": cap,
        }

    # ---- reward --------------------------------------------------------------------
    def reward(self, order: dict | None, goal: dict) -> tuple[float, dict]:
        if not order or not order.get("items"):
            return 0.0, {"reason": "nothing bought"}
        scored = [(product_reward(self.catalog.by_asin[line["asin"]], line["options"], goal), line) for line in order["items"]]
        (best, details), _ = max(scored, key=lambda x: x[0][0])
        distinct = {(line["asin"], tuple(sorted(line["options"].items()))) for line in order["items"]}
        if len(distinct) > 1:
            best /= len(distinct)
            details = dict(details, items=len(distinct))
        return best, details

    # ---- oracle --------------------------------------------------------------------
    def oracle_plan(self, goal: dict, page_kind: str, current_url: str = "") -> list[str]:
        """Text actions from any page (but the done page) that buy the goal's product."""
        product = self.catalog.by_asin[goal["asin"]]
        plan: list[str] = []
        on_item = current_url.startswith(f"/item/{product.asin}")
        if not on_item:
            query = " ".join(goal["attributes"] + [goal.get("query") or ""]).strip()
            hits = self.engine.search(query.lower()) if query else ()
            if product.asin not in hits:
                query = product.title
                hits = self.engine.search(query.lower())
            if product.asin not in hits:  # a title that does not find itself: unreachable
                raise RuntimeError(f"product {product.asin} cannot be found by search")
            rank = hits.index(product.asin)
            plan.append(f"search[{' '.join(query.split())}]")
            plan += ["click[next >]"] * (rank // PAGE_SIZE)
            plan.append(f"click[{product.asin.lower()}]")
        labels = _option_labels(product)
        chosen = _options(dict(parse_qsl(urlsplit(current_url).query)), product) if on_item else {}
        for group, value in goal["options"].items():
            if chosen.get(group) != value:
                plan.append(f"click[{labels[(group, value)]}]")
        plan.append("click[buy now]")
        return plan


def _join(words: list[str]) -> str:
    if len(words) < 3:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _options_for(product: Product, wanted: list[str]) -> dict[str, str]:
    """Map free-text goal options (WebShop files) to the product's best-matching values."""
    out: dict[str, str] = {}
    for w in wanted:
        best = None
        for group, values in product.options.items():
            for v in values:
                score = fuzz.token_set_ratio(w.lower(), v)
                if best is None or score > best[0]:
                    best = (score, group, v)
        if best is not None and best[0] > 85 and best[1] not in out:
            out[best[1]] = best[2]
    return out


def _in_text(value: str, product: Product) -> bool:
    """WebShop's fallback: the goal word appears in the title, features or description.
    Here as a whole word (WebShop's substring test let size "s" match any title)."""
    value = value.lower().strip()
    if len(value) < 3:
        return False
    pattern = re.compile(r"(?<![\w])" + re.escape(value) + r"(?![\w])")
    return bool(
        pattern.search(product.title.lower())
        or pattern.search(" ".join(product.bullet_points).lower())
        or pattern.search(product.description.lower())
    )


def type_reward(product: Product, goal: dict) -> dict:
    query_match = bool(goal.get("query")) and product.query == goal["query"]
    cats_p = {x.strip() for x in product.product_category.split("›")}
    cats_g = {x.strip() for x in str(goal.get("product_category", "")).split("›")}
    category_match = len(cats_p & cats_g) >= 2
    desired = set(goal.get("nouns") or [])
    title_tokens = set(product.nouns) | {t for t in product.title.lower().replace(",", " ").split()}
    title_score = 0.2 if not desired else len(desired & title_tokens) / len(desired)
    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {"r_type": r_type, "query_match": query_match, "category_match": category_match, "title_score": title_score}


def product_reward(product: Product, chosen: dict[str, str], goal: dict) -> tuple[float, dict]:
    attrs = goal["attributes"]
    n_attr = 0
    for g in attrs:
        if any(fuzz.token_set_ratio(p, g) > 85 for p in product.attributes) or _in_text(g, product):
            n_attr += 1
    goal_opts = goal["options"]
    n_opt = 0
    for group, value in goal_opts.items():
        if group.lower() in EXACT_MATCH_OPTS:
            hit = chosen.get(group) == value
        else:
            hit = any(fuzz.token_set_ratio(value, v) > 85 for v in chosen.values())
        if hit or (group.lower() not in EXACT_MATCH_OPTS and _in_text(value, product)):
            n_opt += 1
    price_ok = product.price <= goal["price_upper"]
    t = type_reward(product, goal)
    reward = (n_attr + n_opt + int(price_ok)) / (len(attrs) + len(goal_opts) + 1) * t["r_type"]
    details = dict(t, attributes_matched=n_attr, options_matched=n_opt, price_ok=price_ok, asin=product.asin)
    return float(reward), details


def is_success(reward: float) -> bool:
    return reward >= 1.0 - 1e-9


__all__ = ["ShopTasks", "product_reward", "type_reward", "price_cap", "RESULTS_MAX", "is_success"]
