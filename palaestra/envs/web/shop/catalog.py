"""The shop's catalogue: products generated from a seed, or loaded from WebShop's files.

A :class:`Product` carries what WebShop's reward reads: title, category path, the
query it was generated for, attributes, bullet points, description, price and option
groups. :func:`generate_catalog` draws at least 1,000 products across six categories
from a seed (Faker for brands and prose, seeded per catalogue);
:func:`load_webshop` reads WebShop's own JSON files (see its docstring).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

# ---- product types: (type noun, category path, price range, attribute pool, option groups)
_SIZES_CLOTHES = ["xs", "s", "m", "l", "xl", "xxl"]
_SIZES_SHOES = ["6", "7", "8", "9", "10", "11", "12"]
_COLORS = ["black", "white", "navy", "grey", "red", "green", "beige", "brown", "pink", "olive", "burgundy", "sky blue"]
_PACKS = ["pack of 1", "pack of 2", "pack of 3", "pack of 6", "pack of 12"]

TYPES: list[dict] = [
    # clothing
    dict(noun="hoodie", cat="clothing › men › hoodies & sweatshirts", price=(18, 70),
         attrs=["machine washable", "fleece lined", "cotton blend", "relaxed fit", "long sleeve", "drawstring closure", "kangaroo pocket"],
         opts={"size": _SIZES_CLOTHES, "color": _COLORS}),
    dict(noun="t-shirt", cat="clothing › men › shirts", price=(8, 35),
         attrs=["machine washable", "100% cotton", "short sleeve", "slim fit", "moisture wicking", "crew neck", "quick drying"],
         opts={"size": _SIZES_CLOTHES, "color": _COLORS}),
    dict(noun="jeans", cat="clothing › women › jeans", price=(20, 90),
         attrs=["machine washable", "stretch denim", "high waist", "slim fit", "button closure", "straight leg"],
         opts={"size": ["24", "26", "28", "30", "32", "34"], "color": ["light wash", "dark wash", "black", "medium wash"]}),
    dict(noun="dress", cat="clothing › women › dresses", price=(20, 120),
         attrs=["hand wash only", "polyester spandex", "short sleeve", "v neck", "floral print", "elastic waist"],
         opts={"size": _SIZES_CLOTHES, "color": _COLORS}),
    dict(noun="leggings", cat="clothing › women › activewear", price=(12, 60),
         attrs=["high waist", "tummy control", "moisture wicking", "squat proof", "machine washable", "with pockets"],
         opts={"size": _SIZES_CLOTHES, "color": _COLORS}),
    dict(noun="rain jacket", cat="clothing › men › coats & jackets", price=(30, 160),
         attrs=["water resistant", "zipper closure", "packable", "hooded", "windproof", "lightweight"],
         opts={"size": _SIZES_CLOTHES, "color": _COLORS}),
    dict(noun="socks", cat="clothing › unisex › socks", price=(6, 30),
         attrs=["moisture wicking", "cushioned sole", "arch support", "cotton blend", "machine washable"],
         opts={"size": ["small", "medium", "large"], "pack": _PACKS}),
    # shoes
    dict(noun="running shoes", cat="shoes › men › athletic", price=(30, 150),
         attrs=["rubber sole", "lightweight", "breathable mesh", "non slip", "arch support", "memory foam insole"],
         opts={"size": _SIZES_SHOES, "color": _COLORS}),
    dict(noun="boots", cat="shoes › women › boots", price=(40, 200),
         attrs=["waterproof", "rubber sole", "faux fur lining", "non slip", "lace up", "block heel"],
         opts={"size": _SIZES_SHOES, "color": ["black", "brown", "tan", "grey", "burgundy"]}),
    dict(noun="sandals", cat="shoes › women › sandals", price=(15, 80),
         attrs=["open toe", "ankle strap", "rubber sole", "arch support", "quick drying", "lightweight"],
         opts={"size": _SIZES_SHOES, "color": _COLORS}),
    dict(noun="slippers", cat="shoes › men › slippers", price=(10, 50),
         attrs=["memory foam", "non slip", "machine washable", "fleece lined", "indoor outdoor"],
         opts={"size": _SIZES_SHOES, "color": _COLORS}),
    # beauty
    dict(noun="shampoo", cat="beauty › hair care › shampoo", price=(5, 45),
         attrs=["sulfate free", "paraben free", "cruelty free", "for dry hair", "natural ingredients", "color safe"],
         opts={"size": ["8.5 fl oz", "12 fl oz", "16.9 fl oz", "33.8 fl oz"], "scent": ["unscented", "lavender", "coconut", "argan oil", "tea tree"]}),
    dict(noun="face moisturizer", cat="beauty › skin care › face", price=(8, 70),
         attrs=["fragrance free", "for sensitive skin", "hyaluronic acid", "non comedogenic", "vegan", "spf 30"],
         opts={"size": ["1 oz", "1.7 oz", "2.5 oz", "3.4 oz"], "scent": ["unscented", "rose", "aloe", "cucumber"]}),
    dict(noun="lipstick", cat="beauty › makeup › lips", price=(5, 40),
         attrs=["long lasting", "matte finish", "cruelty free", "vegan", "moisturizing", "smudge proof"],
         opts={"color": ["nude", "ruby red", "coral", "berry", "mauve", "pink"], "pack": ["pack of 1", "pack of 2", "pack of 3"]}),
    dict(noun="sunscreen", cat="beauty › skin care › sun care", price=(6, 40),
         attrs=["water resistant", "reef safe", "spf 50", "oil free", "for sensitive skin", "broad spectrum"],
         opts={"size": ["3 fl oz", "5 fl oz", "8 fl oz"], "pack": _PACKS[:3]}),
    # electronics
    dict(noun="wireless headphones", cat="electronics › audio › headphones", price=(20, 300),
         attrs=["noise cancelling", "bluetooth 5.3", "long battery life", "over ear", "built in microphone", "foldable"],
         opts={"color": ["black", "white", "silver", "navy", "rose gold"]}),
    dict(noun="phone case", cat="electronics › cell phones › cases", price=(6, 45),
         attrs=["shockproof", "slim fit", "wireless charging compatible", "clear", "raised edges", "magnetic"],
         opts={"compatibility": ["iphone 15", "iphone 15 pro", "galaxy s24", "pixel 8"], "color": _COLORS}),
    dict(noun="usb c cable", cat="electronics › accessories › cables", price=(5, 30),
         attrs=["fast charging", "braided nylon", "data transfer", "durable", "usb c"],
         opts={"length": ["3 ft", "6 ft", "10 ft"], "pack": _PACKS[:4]}),
    dict(noun="power bank", cat="electronics › accessories › chargers", price=(15, 90),
         attrs=["fast charging", "usb c", "portable", "high capacity", "led display", "compact"],
         opts={"capacity": ["5000mah", "10000mah", "20000mah", "26800mah"], "color": ["black", "white", "blue"]}),
    dict(noun="bluetooth speaker", cat="electronics › audio › speakers", price=(20, 250),
         attrs=["waterproof", "portable", "long battery life", "stereo pairing", "bluetooth 5.3", "deep bass"],
         opts={"color": ["black", "blue", "red", "grey", "teal"]}),
    dict(noun="mechanical keyboard", cat="electronics › computers › keyboards", price=(30, 180),
         attrs=["hot swappable", "rgb backlit", "wireless", "compact", "usb c", "tactile switches"],
         opts={"layout": ["full size", "tenkeyless", "75 percent", "60 percent"], "color": ["black", "white", "grey"]}),
    # grocery
    dict(noun="ground coffee", cat="grocery › beverages › coffee", price=(6, 40),
         attrs=["organic", "fair trade", "medium roast", "dark roast", "non gmo", "low acid"],
         opts={"flavor": ["original", "vanilla", "hazelnut", "mocha", "caramel"], "size": ["12 oz", "2 lb", "5 lb"]}),
    dict(noun="green tea", cat="grocery › beverages › tea", price=(4, 30),
         attrs=["organic", "caffeine free", "non gmo", "gluten free", "individually wrapped", "sugar free"],
         opts={"flavor": ["original", "jasmine", "mint", "lemon", "ginger"], "pack": _PACKS}),
    dict(noun="protein bars", cat="grocery › snacks › bars", price=(8, 45),
         attrs=["gluten free", "high protein", "low sugar", "keto friendly", "non gmo", "plant based"],
         opts={"flavor": ["chocolate", "peanut butter", "cookie dough", "berry", "almond"], "pack": _PACKS}),
    dict(noun="olive oil", cat="grocery › pantry › oils", price=(7, 50),
         attrs=["extra virgin", "cold pressed", "organic", "non gmo", "first harvest"],
         opts={"size": ["500 ml", "750 ml", "1 liter", "3 liter"], "pack": _PACKS[:3]}),
    dict(noun="dark chocolate", cat="grocery › snacks › chocolate", price=(3, 35),
         attrs=["sugar free", "organic", "vegan", "gluten free", "fair trade", "70% cacao"],
         opts={"flavor": ["original", "sea salt", "orange", "mint", "almond"], "pack": _PACKS}),
    # home
    dict(noun="bed pillow", cat="home & kitchen › bedding › pillows", price=(15, 90),
         attrs=["memory foam", "hypoallergenic", "machine washable", "cooling", "adjustable loft"],
         opts={"size": ["standard", "queen", "king"], "pack": ["pack of 1", "pack of 2", "pack of 4"]}),
    dict(noun="throw blanket", cat="home & kitchen › bedding › blankets", price=(12, 80),
         attrs=["machine washable", "super soft", "fleece", "lightweight", "fade resistant"],
         opts={"size": ["50x60 inch", "60x80 inch", "90x90 inch"], "color": _COLORS}),
    dict(noun="desk lamp", cat="home & kitchen › lighting › lamps", price=(15, 100),
         attrs=["dimmable", "usb charging port", "eye caring", "touch control", "adjustable arm", "energy efficient"],
         opts={"color": ["black", "white", "silver", "gold", "wood"]}),
    dict(noun="storage bins", cat="home & kitchen › storage & organization › bins", price=(10, 60),
         attrs=["foldable", "with lids", "stackable", "space saving", "easy to clean", "handles"],
         opts={"size": ["small", "medium", "large"], "color": _COLORS, "pack": ["pack of 2", "pack of 3", "pack of 6"]}),
    dict(noun="blackout curtains", cat="home & kitchen › window treatments › curtains", price=(15, 90),
         attrs=["thermal insulated", "noise reducing", "machine washable", "grommet top", "blackout"],
         opts={"size": ["42x63 inch", "52x84 inch", "52x95 inch"], "color": _COLORS}),
]

_STYLE_WORDS = ["classic", "everyday", "premium", "essential", "pro", "ultra", "comfort", "active", "urban", "heritage"]


@dataclass
class Product:
    asin: str
    title: str
    category: str  # top level, e.g. "clothing"
    product_category: str  # "clothing › men › hoodies"
    query: str  # the type query it belongs to (WebShop's ``query``)
    nouns: list[str]  # the type words of the title (WebShop finds them with spaCy)
    attributes: list[str]
    bullet_points: list[str]
    description: str
    price: float
    price_text: str
    options: dict[str, list[str]] = field(default_factory=dict)
    rating: float = 0.0
    brand: str = ""

    def search_text(self) -> str:
        return " ".join([self.title, self.query, " ".join(self.attributes), " ".join(self.bullet_points)])


@dataclass
class Catalog:
    """Products by asin, in a stable order, plus the goals that come with loaded data."""

    products: list[Product]
    name: str = "generated"
    goals: list[dict] | None = None  # from WebShop files: instruction + attributes + options

    def __post_init__(self):
        self.by_asin = {p.asin: p for p in self.products}

    def __len__(self) -> int:
        return len(self.products)


def _asin(rng: random.Random, taken: set[str]) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    while True:
        asin = "B0" + "".join(rng.choice(alphabet) for _ in range(8))
        if asin not in taken:
            taken.add(asin)
            return asin


def _noun_tokens(text: str) -> list[str]:
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if len(t) > 1]


@lru_cache(maxsize=4)
def generate_catalog(seed: int = 0, n_products: int = 1200) -> Catalog:
    """Draw ``n_products`` (at least 1,000 by default) products from ``seed``.

    The same seed always gives the same catalogue (the Faker instance is seeded too).
    Cached per (seed, n): envs share one catalogue object; treat it as read-only.
    """
    from faker import Faker

    rng = random.Random(f"palaestra-shop-{seed}")
    fake = Faker("en_US")
    fake.seed_instance(rng.randrange(2**31))
    brands = sorted({fake.last_name() for _ in range(400)})[:150]
    taken: set[str] = set()
    products = []
    for i in range(n_products):
        spec = TYPES[i % len(TYPES)]
        brand = rng.choice(brands)
        attrs = rng.sample(spec["attrs"], rng.randint(2, min(4, len(spec["attrs"]))))
        options = {}
        for group, values in spec["opts"].items():
            k = rng.randint(min(2, len(values)), min(5, len(values)))
            chosen = rng.sample(values, k)
            options[group] = [v for v in values if v in chosen]  # keep the natural order
        style = rng.choice(_STYLE_WORDS)
        noun = spec["noun"]
        lead = attrs[0]
        title = f"{brand} {style.title()} {noun.title()}, {lead.title()}"
        if len(attrs) > 1:
            title += f", {attrs[1].title()}"
        if rng.random() < 0.3:
            title += f" {fake.word().title()} Edition"
        lo, hi = spec["price"]
        price = round(rng.uniform(lo, hi), 2)
        bullets = [f"{a.capitalize()}: {fake.sentence(nb_words=8).rstrip('.').lower()}." for a in attrs]
        desc = (
            f"The {brand} {style} {noun} is {', '.join(attrs[:-1])} and {attrs[-1]}. "
            + fake.paragraph(nb_sentences=2)
        )
        products.append(
            Product(
                asin=_asin(rng, taken),
                title=title,
                category=spec["cat"].split(" › ")[0],
                product_category=spec["cat"],
                query=noun,
                nouns=_noun_tokens(noun),
                attributes=attrs,
                bullet_points=bullets,
                description=desc,
                price=price,
                price_text=f"${price:.2f}",
                options=options,
                rating=round(rng.uniform(2.5, 5.0), 1),
                brand=brand,
            )
        )
    return Catalog(products, name=f"generated-{seed}-{n_products}")


# ---- WebShop's file format ---------------------------------------------------------------
_STOP = set(
    "a an and the for with of in on to by from at as or is are be this that it its your you our "
    "new set pack piece pcs inch inches oz lb ml size color".split()
)


def _parse_pricing(pricing) -> tuple[float, str]:
    """WebShop's ``pricing`` is a string like "$12.99" or "$10.00$20.00" (a range)."""
    if isinstance(pricing, (int, float)):
        return float(pricing), f"${float(pricing):.2f}"
    if isinstance(pricing, list):
        values = [float(x) for x in pricing]
    else:
        values = [float(Decimal(re.sub(r"[^\d.]", "", p))) for p in str(pricing or "").split("$")[1:] if re.sub(r"[^\d.]", "", p)]
    if not values:
        return 100.0, "$100.00"
    if len(values) == 1:
        return values[0], f"${values[0]:.2f}"
    # WebShop draws a price in the range with an unseeded random.uniform; we take the
    # low end, so that every load gives the same price (its known reproducibility bug).
    return values[0], f"${values[0]:.2f} to ${values[1]:.2f}"


def load_webshop(items_path, attributes_path=None, human_instructions_path=None, limit: int | None = None) -> Catalog:
    """Load products (and their goals) from WebShop's own JSON files.

    - ``items_path``: WebShop's ``items_shuffle*.json``, a list of products with
      ``asin``, ``name``, ``category``, ``query``, ``product_category``,
      ``full_description``, ``small_description`` (list or str), ``pricing``
      ("$12.99" or "$10.00$20.00"), ``customization_options`` ({name: [{"value": ...}]}).
    - ``attributes_path``: ``items_ins_v2*.json``, {asin: {"attributes": [...],
      "instruction": str, "instruction_attributes": [...]}} (synthetic goals).
    - ``human_instructions_path``: ``items_human_ins.json``, {asin: [{"instruction",
      "instruction_attributes", "instruction_options"}, ...]} (human goals, preferred).

    Goals whose instruction has no attributes are skipped, as WebShop does.
    """
    items = json.loads(Path(items_path).read_text())
    attrs = json.loads(Path(attributes_path).read_text()) if attributes_path else {}
    human = json.loads(Path(human_instructions_path).read_text()) if human_instructions_path else {}
    products: list[Product] = []
    seen: set[str] = set()
    goals: list[dict] = []
    for item in items[: limit or None]:
        asin = str(item.get("asin", ""))
        if not asin or asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        options: dict[str, list[str]] = {}
        for name, contents in (item.get("customization_options") or {}).items():
            if not contents:
                continue
            options[name.lower()] = [str(c["value"]).strip().replace("/", " | ").lower() for c in contents]
        small = item.get("small_description") or []
        bullets = small if isinstance(small, list) else [small]
        price, price_text = _parse_pricing(item.get("pricing"))
        name = str(item.get("name", asin))
        product = Product(
            asin=asin,
            title=name,
            category=str(item.get("category", "")),
            product_category=str(item.get("product_category", "")),
            query=str(item.get("query", "")).lower().strip(),
            nouns=[t for t in _noun_tokens(name) if t not in _STOP and not t.isdigit()],
            attributes=list((attrs.get(asin) or {}).get("attributes") or []),
            bullet_points=[str(b) for b in bullets],
            description=str(item.get("full_description") or ""),
            price=price,
            price_text=price_text,
            options=options,
            rating=float(item["average_rating"]) if isinstance(item.get("average_rating"), (int, float)) else 0.0,
        )
        products.append(product)
        instructions = human.get(asin)
        if instructions:
            for ins in instructions:
                if ins.get("instruction_attributes"):
                    goals.append(
                        {
                            "asin": asin,
                            "instruction": str(ins["instruction"]).strip().rstrip("."),
                            "attributes": list(ins["instruction_attributes"]),
                            "options": list(ins.get("instruction_options") or []),
                        }
                    )
        elif asin in attrs and attrs[asin].get("instruction") and attrs[asin].get("instruction_attributes"):
            goals.append(
                {
                    "asin": asin,
                    "instruction": str(attrs[asin]["instruction"]).strip().rstrip("."),
                    "attributes": list(attrs[asin]["instruction_attributes"]),
                    "options": [],
                }
            )
    return Catalog(products, name=f"webshop:{Path(items_path).name}", goals=goals)
