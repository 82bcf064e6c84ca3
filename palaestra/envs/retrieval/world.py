"""A seeded synthetic world of people, companies, cities and countries, its chunks and
multi-hop questions with known answers (no Gymnasium in here).

Every fact ``relation:subject`` has one primary chunk, often near-duplicate paraphrases
(some naming a bridge entity, as real text does), sometimes a longer *profile* chunk
stating several facts of one entity, sometimes a *contradiction* (the same fact with a
wrong value, hedged or not). *Distractor* chunks talk about an entity without stating
any fact. Filler sentences vary chunk lengths.

Questions (``World.question(seed)``) are split by entity: every fifth person, company,
city and country (``World.split_of``) belongs to the test split, and a question of the
test split (seed 4 mod 5) mentions only test entities, a train question only train
ones; so no test query string occurs among the train queries, and no test question
asks about an entity a train question names. The templates are shared, so training
sees every question shape. They come in four types, as CARROT tunes per query type:

- ``factoid``: one fact ("In which city was Ada Brenner born?");
- ``multihop``: a 2- or 3-hop chain ("In which country was the founder of Velox Labs born?");
- ``comparison``: two facts compared ("Which company was founded earlier, A or B?");
- ``list``: every item of a set ("Which companies are headquartered in Norport?").
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass

from .corpus import Chunk, Corpus, Question

QTYPES = ("factoid", "multihop", "comparison", "list")

_ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "pr", "r", "s",
           "st", "t", "tr", "v", "w", "z", "th", "sh", "kl"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y"]
_CODAS = ["", "", "n", "r", "l", "s", "th", "m", "nd", "x", "k"]
_INDUSTRIES = ["shipping", "robotics", "textiles", "pharmaceuticals", "publishing", "aerospace", "agriculture",
               "banking", "mining", "software", "brewing", "optics"]
_CONTINENTS = ["the northern continent", "the southern continent", "the eastern archipelago", "the western plains"]


def _name(rng: random.Random, syllables: int) -> str:
    s = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)) + rng.choice(_CODAS)
    return s.capitalize()


@dataclass(frozen=True)
class Fact:
    key: str  # "relation:subject"
    relation: str
    subject: str
    value: str


# templates: relation -> list of (text with {s} subject, {v} value, {b} bridge or None)
_TEMPLATES: dict[str, list[str]] = {
    "born_in": ["{s} was born in {v}.", "Records show that {s} was born in the city of {v}.",
                "{s}, the founder of {b}, was born in {v}.", "{v} is the birthplace of {s}."],
    "birth_year": ["{s} was born in {v}.", "The birth year of {s} is {v}.", "{s} was born in the year {v}."],
    "profession": ["{s} works in the profession of {v}.", "The profession of {s} is listed as {v}."],
    "founded_by": ["{s} was founded by {v}.", "{v} founded {s}.", "The founder of {s} is {v}.",
                   "{s} traces its origins to its founder, {v}."],
    "headquartered_in": ["{s} is headquartered in {v}.", "The headquarters of {s} are located in {v}.",
                         "{s} runs its main office in {v}, where it is headquartered."],
    "founded_year": ["{s} was founded in {v}.", "{s} was established in the year {v}.",
                     "The company {s} dates back to {v}, when it was founded."],
    "industry": ["{s} operates in the {v} industry.", "{s} is a company in the {v} sector."],
    "located_in": ["{s} is a city in {v}.", "The city of {s} lies in {v}.", "{s}, a city in {v}, is home to {b}."],
    "population": ["{s} has a population of {v}.", "About {v} people live in {s}."],
    "continent": ["{s} is a country in {v}.", "{s} lies in {v}."],
}
_HEDGES = ["According to an outdated directory, ", "Some early reports claimed that ", "A widely shared post says that ",
           "One unverified source states that ", ""]
_FILLER = [
    "{e} has been the subject of several local news stories.",
    "Observers often mention {e} in discussions about the region.",
    "Little else about {e} is documented in public archives.",
    "Historians continue to debate the broader significance of {e}.",
    "A short documentary about {e} aired some years ago.",
    "Visitors sometimes ask about {e} at the regional museum.",
    "Further details about {e} can be found in older encyclopedias.",
    "The name {e} appears in a number of trade publications.",
]
_DISTRACTORS = [
    "{e} sponsored a community festival in {o} last spring.",
    "A profile of {e} appeared in a magazine alongside {o}.",
    "{e} was mentioned in a debate about infrastructure in {o}.",
    "Critics compared {e} unfavourably with {o} in a recent column.",
    "{e} hosted a delegation from {o} during a trade fair.",
]
_PROFESSIONS = ["engineer", "chemist", "architect", "economist", "physician", "designer", "pilot", "lawyer"]


class World:
    """Entities, facts, the chunk corpus and a question generator, all from ``seed``."""

    def __init__(self, seed: int = 0, n_people: int = 60, n_companies: int = 40, n_cities: int = 18,
                 n_countries: int = 6, duplicate_rate: float = 0.6, contradiction_rate: float = 0.35,
                 profile_rate: float = 0.3, distractors_per_entity: float = 1.0):
        self.seed = int(seed)
        rng = random.Random(f"world-{seed}")
        used: set[str] = set()

        def unique(make):
            while True:
                n = make()
                if n not in used:
                    used.add(n)
                    return n

        self.countries = [unique(lambda: _name(rng, 2) + rng.choice(["ia", "land", "stan", "ora"]))
                          for _ in range(n_countries)]
        self.cities = [unique(lambda: _name(rng, 2) + rng.choice(["ville", "burg", "port", "ton", "a", "holm"]))
                       for _ in range(n_cities)]
        self.people = [unique(lambda: _name(rng, 2) + " " + _name(rng, 2)) for _ in range(n_people)]
        self.companies = [unique(lambda: _name(rng, 2) + " " + rng.choice(["Labs", "Industries", "Group", "Works",
                                                                              "Holdings", "Systems"]))
                          for _ in range(n_companies)]
        facts: dict[str, Fact] = {}

        def add(rel, subj, value):
            facts[f"{rel}:{subj}"] = Fact(f"{rel}:{subj}", rel, subj, str(value))

        for c in self.countries:
            add("continent", c, rng.choice(_CONTINENTS))
        for c in self.cities:
            add("located_in", c, rng.choice(self.countries))
            add("population", c, f"{rng.randrange(20, 900) * 1000:,}")
        for p in self.people:
            add("born_in", p, rng.choice(self.cities))
            add("birth_year", p, rng.randrange(1930, 1996))
            add("profession", p, rng.choice(_PROFESSIONS))
        founders = rng.sample(self.people, n_companies)
        for c, f in zip(self.companies, founders):
            add("founded_by", c, f)
            add("headquartered_in", c, rng.choice(self.cities))
            add("founded_year", c, rng.randrange(1890, 2016))
            add("industry", c, rng.choice(_INDUSTRIES))
        self.facts = facts

        # the split by entity: every fifth of each kind is a test entity
        def pool(items, split):
            return [e for i, e in enumerate(items) if (i % 5 == 4) == (split == "test")]

        self.pools = {split: {"people": pool(self.people, split), "companies": pool(self.companies, split),
                              "cities": pool(self.cities, split)} for split in ("train", "test")}
        self.founded: dict[str, str] = {f: c for c, f in zip(self.companies, founders)}
        self._rates = (duplicate_rate, contradiction_rate, profile_rate, distractors_per_entity)
        self.corpus = self._build_chunks(rng)

    # ---- chunks ----------------------------------------------------------------------
    def _wrong_value(self, rng: random.Random, fact: Fact) -> str:
        pools = {"born_in": self.cities, "headquartered_in": self.cities, "located_in": self.countries,
                 "founded_by": self.people, "industry": _INDUSTRIES, "profession": _PROFESSIONS,
                 "continent": _CONTINENTS}
        if fact.relation in pools:
            choices = [v for v in pools[fact.relation] if v != fact.value]
            return rng.choice(choices)
        if fact.relation == "population":
            return f"{rng.randrange(20, 900) * 1000:,}"
        v = int(fact.value)
        return str(v + rng.choice([-1, 1]) * rng.randrange(3, 25))

    def _bridge(self, fact: Fact) -> str | None:
        if fact.relation == "born_in":
            return self.founded.get(fact.subject)
        if fact.relation == "located_in":
            hq = [c for c in self.companies if self.facts[f"headquartered_in:{c}"].value == fact.subject]
            return hq[0] if hq else None
        return None

    def _sentence(self, rng: random.Random, fact: Fact, value: str, exclude: set[int]) -> tuple[str, int]:
        options = [i for i, t in enumerate(_TEMPLATES[fact.relation])
                   if i not in exclude and ("{b}" not in t or self._bridge(fact))]
        if not options:
            options = [i for i, t in enumerate(_TEMPLATES[fact.relation]) if "{b}" not in t]
        i = rng.choice(options)
        return _TEMPLATES[fact.relation][i].format(s=fact.subject, v=value, b=self._bridge(fact)), i

    def _filler(self, rng: random.Random, entity: str, lo: int, hi: int) -> list[str]:
        return [t.format(e=entity) for t in rng.sample(_FILLER, rng.randint(lo, hi))]

    def _build_chunks(self, rng: random.Random) -> Corpus:
        dup_rate, con_rate, prof_rate, dis_rate = self._rates
        chunks: list[Chunk] = []

        def emit(text, kind, supports=(), contradicts=()):
            chunks.append(Chunk(f"c{len(chunks)}", text, tuple(supports), tuple(contradicts), kind))

        for fact in self.facts.values():
            sent, used = self._sentence(rng, fact, fact.value, set())
            emit(" ".join([sent] + self._filler(rng, fact.subject, 0, 3)), "fact", [fact.key])
            n_dup = (rng.random() < dup_rate) + (rng.random() < dup_rate / 3)
            seen = {used}
            for _ in range(n_dup):
                sent, i = self._sentence(rng, fact, fact.value, seen)
                seen.add(i)
                parts = self._filler(rng, fact.subject, 0, 2) + [sent] + self._filler(rng, fact.subject, 0, 2)
                emit(" ".join(parts), "duplicate", [fact.key])
            if rng.random() < con_rate:
                wrong = self._wrong_value(rng, fact)
                sent, _ = self._sentence(rng, fact, wrong, set())
                hedge = rng.choice(_HEDGES)
                if hedge:
                    first = sent.split()[0]
                    if first in ("The", "Records", "About"):
                        sent = first.lower() + sent[len(first):]
                    sent = hedge + sent
                emit(" ".join([sent] + self._filler(rng, fact.subject, 0, 2)), "contradiction", (), [fact.key])
        # profiles: several facts of one entity in one longer chunk
        by_subject: dict[str, list[Fact]] = {}
        for fact in self.facts.values():
            by_subject.setdefault(fact.subject, []).append(fact)
        for subject, fs in by_subject.items():
            if len(fs) >= 2 and rng.random() < prof_rate:
                pick = rng.sample(fs, rng.randint(2, min(3, len(fs))))
                sents = [self._sentence(rng, f, f.value, set())[0] for f in pick]
                text = " ".join(self._filler(rng, subject, 1, 2) + sents + self._filler(rng, subject, 1, 3))
                emit(text, "profile", [f.key for f in pick])
        # topical distractors: about an entity, stating nothing
        others = self.cities + self.companies
        for entity in self.people + self.companies + self.cities:
            n = int(dis_rate) + (rng.random() < dis_rate - int(dis_rate))
            for _ in range(n):
                other = rng.choice([o for o in others if o != entity])
                text = " ".join([rng.choice(_DISTRACTORS).format(e=entity, o=other)]
                                + self._filler(rng, entity, 0, 3))
                emit(text, "distractor")
        order = list(range(len(chunks)))
        rng.shuffle(order)
        shuffled = [chunks[i] for i in order]
        shuffled = [Chunk(f"c{j}", c.text, c.supports, c.contradicts, c.kind) for j, c in enumerate(shuffled)]
        return Corpus(f"world-{self.seed}", shuffled)

    # ---- questions -------------------------------------------------------------------
    def supporting_chunks(self, key: str) -> list[str]:
        return [c.id for c in self.corpus.chunks if key in c.supports]

    @staticmethod
    def split_of(seed: int) -> str:
        """``"test"`` for seeds 4 mod 5, else ``"train"``."""
        return "test" if int(seed) % 5 == 4 else "train"

    def question(self, seed: int, qtypes=None) -> Question:
        """The question of ``seed`` (deterministic), of one of ``qtypes`` (default: all four),
        about entities of the seed's split only."""
        qtypes = tuple(qtypes) if qtypes else QTYPES
        bad = [t for t in qtypes if t not in QTYPES]
        if bad:
            raise ValueError(f"unknown question type(s) {bad}; use some of {', '.join(QTYPES)}")
        split = self.split_of(seed)
        rng = random.Random(f"q-{self.seed}-{seed}")
        qtype = qtypes[rng.randrange(len(qtypes))]
        self._pool = self.pools[split]
        q = getattr(self, "_q_" + qtype)(rng)
        query, answer, keys, items, hops = q
        if q[-1] == "factoid":  # a list question fell back (no suitable city in this split)
            query, answer, keys, items, hops, qtype = q[0], q[1], q[2], q[3], q[4], "factoid"
        gold = tuple(cid for k in keys for cid in self.supporting_chunks(k))
        return Question(f"q{seed}", query, answer, qtype, tuple(keys), tuple(dict.fromkeys(gold)),
                        tuple(items), hops, split)

    def _v(self, rel, subj) -> str:
        return self.facts[f"{rel}:{subj}"].value

    def _q_factoid(self, rng):
        kind = rng.choice(["born_in", "headquartered_in", "founded_year", "birth_year", "located_in", "industry"])
        pool = self._pool
        if kind in ("born_in", "birth_year"):
            s = rng.choice(pool["people"])
            q = f"In which city was {s} born?" if kind == "born_in" else f"In which year was {s} born?"
        elif kind == "located_in":
            s = rng.choice(pool["cities"])
            q = f"In which country is the city of {s}?"
        else:
            s = rng.choice(pool["companies"])
            q = {"headquartered_in": f"Where is {s} headquartered?", "founded_year": f"In which year was {s} founded?",
                 "industry": f"In which industry does {s} operate?"}[kind]
        return q, self._v(kind, s), [f"{kind}:{s}"], [], 1

    def _q_multihop(self, rng):
        c = rng.choice(self._pool["companies"])
        founder = self._v("founded_by", c)
        kind = rng.choice(["founder_city", "founder_country", "hq_country", "founder_year"])
        if kind == "founder_city":
            return (f"In which city was the founder of {c} born?", self._v("born_in", founder),
                    [f"founded_by:{c}", f"born_in:{founder}"], [], 2)
        if kind == "founder_year":
            return (f"In which year was the founder of {c} born?", self._v("birth_year", founder),
                    [f"founded_by:{c}", f"birth_year:{founder}"], [], 2)
        if kind == "hq_country":
            city = self._v("headquartered_in", c)
            return (f"In which country is {c} headquartered?", self._v("located_in", city),
                    [f"headquartered_in:{c}", f"located_in:{city}"], [], 2)
        city = self._v("born_in", founder)
        return (f"In which country was the founder of {c} born?", self._v("located_in", city),
                [f"founded_by:{c}", f"born_in:{founder}", f"located_in:{city}"], [], 3)

    def _q_comparison(self, rng):
        if rng.random() < 0.5:
            while True:
                a, b = rng.sample(self._pool["companies"], 2)
                ya, yb = int(self._v("founded_year", a)), int(self._v("founded_year", b))
                if ya != yb:
                    break
            return (f"Which company was founded earlier, {a} or {b}?", a if ya < yb else b,
                    [f"founded_year:{a}", f"founded_year:{b}"], [], 2)
        while True:
            a, b = rng.sample(self._pool["people"], 2)
            ya, yb = int(self._v("birth_year", a)), int(self._v("birth_year", b))
            if ya != yb:
                break
        return (f"Who was born first, {a} or {b}?", a if ya < yb else b,
                [f"birth_year:{a}", f"birth_year:{b}"], [], 2)

    def _q_list(self, rng):
        hq: dict[str, list[str]] = {}
        for c in self.companies:
            hq.setdefault(self._v("headquartered_in", c), []).append(c)
        cities = sorted(city for city, cs in hq.items() if 2 <= len(cs) <= 4 and city in self._pool["cities"])
        if not cities:  # no such city in this split: fall back to a factoid
            return self._q_factoid(rng) + ("factoid",)
        city = rng.choice(cities)
        cs = sorted(hq[city])
        return (f"Which companies are headquartered in {city}?", ", ".join(cs),
                [f"headquartered_in:{c}" for c in cs], cs, 1)


@functools.lru_cache(maxsize=8)
def world(seed: int = 0, size: str = "default") -> World:
    """The (cached) world of ``seed``; ``size`` is ``"default"`` or ``"small"``."""
    if size == "small":
        return World(seed, n_people=20, n_companies=14, n_cities=8, n_countries=4)
    if size != "default":
        raise ValueError(f"world size {size!r}: use 'default' or 'small'")
    return World(seed)
