"""Simulated users for conversational evaluation: each wants one hidden target item.

A `Persona` is one ml-100k user: the held-out target (test item, or validation item while
tuning) and the user's *train* history with its ratings. It knows what a person could know:
the attributes of the film it wants (genres, year, whether it is well known) and the films it
has watched. It knows nothing a model computes: its "like <film>" anchors are films from its own
history that share genres and era with what it wants, preferring recent and well-rated ones.

`SimulatedUser` (the default: offline, seeded) opens vaguely from the target's genres, answers
questions, reacts to the list it is shown (less of a genre, older/newer, more like one film of
the list, not that one) and reveals a little more each turn. Every act has several phrasings
(`evals/phrasings.py`, written apart from the understander); the seeded rng picks one. Every
statement is true of the target, and none names it: not its title (in any form, fuzzily
matched) nor its id, nor its exact year together with genres that only it has in that year.
`LLMSimulatedUser` (the iEvaLM style) is told the same and asked to talk like a user; a message
that leaks is regenerated, and after a few tries the template message is sent instead.
"""

from __future__ import annotations

import logging
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz

from evals.phrasings import (
    DECADE_FORMS,
    DECADE_WORDS,
    GENRE_MASS,
    GENRE_NOUNS,
    GENRE_PLURALS,
    ORDINALS,
    PHRASINGS,
)
from tools.artifacts import Artifacts
from tools.catalog import Item
from tools.config import Config
from tools.data import GENRES

log = logging.getLogger(__name__)

N_ANCHORS = 3
N_LATELY = 3  # films watched lately that the memory protocol's session 1 talks about
N_REACTIONS = 2  # shown films the memory protocol's session 1 says it saw
# How a person picks the film to name as "like <film>" among its own history (items sharing a
# genre with what it wants): genre overlap (Jaccard), era (1 for the same year, 0 at ERA_SPAN
# years apart), recency (1 for the latest film watched, 0 for the first) and a good rating.
# A film rated DISLIKED_RATING or lower is never named: nobody asks for more of what they disliked.
ANCHOR_WEIGHTS = {"genres": 1.0, "era": 0.5, "recency": 0.5, "liked": 0.25}
ERA_SPAN = 20
LIKED_RATING, DISLIKED_RATING = 4, 2
# The simulator's own sense of "well-known" and "lesser-known": the target's rank by train
# interactions among all items (top 8% / bottom 30%).
POPULAR_SHARE, OBSCURE_SHARE = 0.08, 0.30
# Its own parts of a decade: (name, first and last year digit).
PARTS_OF_DECADE = (("early", 0, 3), ("mid", 4, 6), ("late", 7, 9))
# A shown film "resembles" the target when a person can see it: genre Jaccard >= 0.5 and at
# most 5 years apart; it "clearly does not fit" with no genre in common or 20+ years apart.
RESEMBLE_JACCARD, RESEMBLE_YEARS, OFF_YEARS = 0.5, 5, 20
# An era critique needs the list's median year this far from the target's.
ERA_CRITIQUE_YEARS = 10
# Which reaction to a list that misses, when several apply (relative weights).
REACTION_WEIGHTS = {"less": 3, "era": 3, "more_like": 2, "not_that": 1}
# What a user reveals after the opening, one step per turn (besides reactions to the list shown).
FACTS = ("decade", "anchor", "genre", "part", "anchor", "popularity", "year", "anchor")
# Fuzzy title matches at or above this (rapidfuzz ratio over word windows) count as saying it.
LEAK_RATIO = 85


# ---------------------------------------------------------------------------------------------
# Leaks: the simulator's own check of what it is about to say
# ---------------------------------------------------------------------------------------------

_ARTICLES = ("the", "a", "an", "le", "la", "les", "l", "il", "el", "der", "die", "das")


def _words(text: str) -> list[str]:
    """Lowercase ASCII words; accents off, '&' as 'and', apostrophes and dots inside words dropped."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"(?<=\w)['.](?=\w)", "", text.replace("&", " and "))
    return re.findall(r"[a-z0-9]+", text)


def title_forms(title: str) -> list[tuple[str, ...]]:
    """The ways a title can be said, as word tuples: whole, main part, each aka, each with and
    without a leading article (also one moved to the end: 'Hussard sur le toit, Le')."""
    parts = [title, re.sub(r"\s*\([^)]*\)", "", title), *re.findall(r"\(([^)]*)\)", title)]
    forms = set()
    for part in parts:
        m = re.match(r"^(.*),\s*(\w+)\s*$", part.strip())
        if m and m.group(2).lower() in _ARTICLES:
            part = f"{m.group(2)} {m.group(1)}"
        w = _words(part)
        forms.add(tuple(w))
        if w and w[0] in _ARTICLES:
            forms.add(tuple(w[1:]))
    return sorted(f for f in forms if f)


def _says_form(said: list[str], form: tuple[str, ...]) -> bool:
    n = len(form)
    if any(tuple(said[i : i + n]) == form for i in range(len(said) - n + 1)):
        return True
    text = " ".join(form)
    if len(text) < 6:  # short titles ("Heat", "Ed"): only the exact words count
        return False
    for size in {max(1, n - 1), n, n + 1}:
        for i in range(max(1, len(said) - size + 1)):
            if fuzz.ratio(text, " ".join(said[i : i + size])) >= LEAK_RATIO:
                return True
    return False


def leaks(message: str, target: Item) -> bool:
    """True when ``message`` says the target's title (any form, fuzzily) or its id."""
    said = _words(message)
    if any(_says_form(said, form) for form in title_forms(target.title)):
        return True
    return re.search(rf"(?<![\w.]){int(target.item_id)}(?![\w.])", message) is not None


# ---------------------------------------------------------------------------------------------
# Personas
# ---------------------------------------------------------------------------------------------

@dataclass
class Persona:
    """What one simulated user knows: its hidden target and its own past."""

    user_id: int  # the ml-100k user
    target: Item
    history: list[Item]  # train interactions, oldest first
    anchors: list[Item]  # history films that resemble the target (genres, era), best first
    disliked_genre: str | None  # a genre the user (almost) never watches, from its history alone
    target_popularity: int  # train interactions of the target
    popular: bool  # target among the most-watched items
    obscure: bool  # target among the least-watched items
    year_is_sayable: bool = True  # another film of the target's year has all its genres
    # for simulators with cut-offs of their own: the share of catalog items watched more often
    # than the target (0 = the most watched), the user's train ratings by item id, and the
    # history films it can name without leaking the target, oldest first
    popularity_share: float = 0.0
    popular_min: int = 0  # the development simulator's cut-offs, in train interactions
    obscure_max: int = 0
    ratings: dict[int, float] = field(default_factory=dict)
    nameable: list[Item] = field(default_factory=list)

    @property
    def activity(self) -> int:
        return len(self.history)


ANCHOR_RULE = ("the user's own train history: films sharing a genre with the target, ranked by "
               f"{' + '.join(f'{w} x {k}' for k, w in ANCHOR_WEIGHTS.items())}")


def build_personas(art: Artifacts, user_ids: Sequence[int] | None = None, seed: int = 0,
                   target: str = "test") -> list[Persona]:
    """One persona per user (default: every user with a target), in user-id order; ``target``
    picks the held-out item: the test item, or the validation item while tuning."""
    split, catalog = art.split, art.catalog
    popularity = split.item_popularity()
    order = np.sort(popularity)[::-1]
    pop_hi = order[max(0, int(len(order) * POPULAR_SHARE) - 1)]
    pop_lo = np.sort(popularity)[max(0, int(len(order) * OBSCURE_SHARE) - 1)]
    test = (split.valid if target == "valid" else split.test).set_index("user_id")
    wanted = sorted(int(u) for u in (test.index if user_ids is None else user_ids))
    missing = [u for u in wanted if u not in test.index]
    if missing:
        raise ValueError(f"users without a test target: {missing[:10]}")
    seqs = split.sequences("train")
    ratings = split.train.groupby("uidx")
    items_by_id = {it.item_id: it for it in catalog.get(split.item_ids)}
    by_year: dict[int, list[Item]] = {}
    for it in items_by_id.values():
        by_year.setdefault(it.year or 0, []).append(it)
    personas = []
    for uid in wanted:
        row = test.loc[uid]
        uidx, t_iidx = int(row.uidx), int(row.iidx)
        target = items_by_id[int(row.item_id)]
        history = [items_by_id[int(split.item_ids[i])] for i in seqs[uidx]]
        rng = random.Random(_user_seed(seed, uid))
        user_rows = ratings.get_group(uidx) if uidx in ratings.groups else split.train.iloc[:0]
        rating = {int(split.item_ids[i]): float(r) for i, r in zip(user_rows.iidx, user_rows.rating, strict=True)}
        year_is_sayable = any(set(target.genres) <= set(it.genres)
                              for it in by_year.get(target.year or 0, []) if it.item_id != target.item_id)
        sayable = [it for it in history if _sayable(it, target, catalog, year_is_sayable)]
        anchors = choose_anchors(sayable, rating, target, rng)
        genre_share = Counter(g for it in history for g in it.genres)
        personas.append(Persona(
            user_id=uid, target=target, history=history, anchors=anchors,
            # its own rng: what the user dislikes must not depend on the target (the rng above does)
            disliked_genre=_disliked_genre(genre_share, len(history), random.Random(_user_seed(seed, uid) + 2)),
            target_popularity=int(popularity[t_iidx]),
            popular=bool(popularity[t_iidx] >= max(pop_hi, 1)), obscure=bool(popularity[t_iidx] <= pop_lo),
            year_is_sayable=year_is_sayable,
            popularity_share=float(np.mean(popularity > popularity[t_iidx])), ratings=rating, nameable=sayable,
            popular_min=int(max(pop_hi, 1)), obscure_max=int(pop_lo),
        ))  # fmt: skip
    return personas


def _user_seed(seed: int, user_id: int) -> int:
    return seed * 1_000_003 + int(user_id)


def _sayable(item: Item, target: Item, catalog, year_is_sayable: bool = True) -> bool:
    """A title the user can name without leaking the target and that names one film only."""
    return (item.item_id != target.item_id and not leaks(f'"{item.title}"', target)
            and (year_is_sayable or not _says_year(item.title, target.year))
            and catalog.resolve_title(item.title).status == "exact")


def _says_year(text: str, year: int | None) -> bool:
    return year is not None and re.search(rf"(?<!\d){year}(?!\d)", text) is not None


def _jaccard(a: Sequence[str], b: Sequence[str]) -> float:
    a, b = set(a), set(b)
    return len(a & b) / len(a | b) if a | b else 0.0


def choose_anchors(history: list[Item], rating: dict[int, float], target: Item, rng: random.Random) -> list[Item]:
    """Films from the user's own history that a person would name for what it wants: shared
    genres, a close era, recently watched, liked (never one it disliked). No model's score of the
    target is used."""
    n = len(history)
    best: dict[int, tuple[float, float, Item]] = {}
    for pos, it in enumerate(history):
        if not set(it.genres) & set(target.genres) or rating.get(it.item_id, 0) <= DISLIKED_RATING:
            continue
        era = max(0.0, 1 - abs((it.year or 0) - (target.year or 0)) / ERA_SPAN) if it.year and target.year else 0.0
        score = (ANCHOR_WEIGHTS["genres"] * _jaccard(it.genres, target.genres) + ANCHOR_WEIGHTS["era"] * era
                 + ANCHOR_WEIGHTS["recency"] * (pos / (n - 1) if n > 1 else 1.0)
                 + ANCHOR_WEIGHTS["liked"] * (rating.get(it.item_id, 0) >= LIKED_RATING))
        best[it.item_id] = (score, rng.random(), it)  # a film seen twice counts at its latest
    ranked = sorted(best.values(), key=lambda s: s[:2], reverse=True)
    return [s[2] for s in ranked[:N_ANCHORS]]


def _disliked_genre(share: Counter, n: int, rng: random.Random) -> str | None:
    """A genre the user (almost) never watches, judged from its history alone: the least watched
    of those at most 2% of its films (ties broken by the seeded rng)."""
    options = [g for g in GENRES if share[g] <= 0.02 * n]
    if not options or n == 0:
        return None
    rng.shuffle(options)
    return min(options, key=lambda g: share[g])


# ---------------------------------------------------------------------------------------------
# The template simulator
# ---------------------------------------------------------------------------------------------

@dataclass
class Shown:
    """What the simulator sees of one reply: the items (as catalog items) and a question, if any."""

    items: list[Item]
    question: str | None = None
    text: str = ""


def decade_names(year: int) -> list[str]:
    """The ways a person names the decade of ``year``: '90s', "'90s", '1990s', 'nineties'."""
    decade = year // 10 * 10
    if not 1920 <= decade <= 1990:
        return [f"{decade}s"]
    return [f.format(nn=f"{decade % 100:02d}", yyyy=decade, word=DECADE_WORDS[decade]) for f in DECADE_FORMS]


def part_of_decade(year: int) -> tuple[str, int, int]:
    """('early' | 'mid' | 'late', first year, last year) of the part of its decade ``year`` is in."""
    decade = year // 10 * 10
    name, lo, hi = next(p for p in PARTS_OF_DECADE if p[1] <= year % 10 <= p[2])
    return name, decade + lo, decade + hi


@dataclass
class SimulatedUser:
    """Seeded template user. ``opening()`` once, then ``respond(shown)`` after every miss.

    ``claims`` records what each statement asserts, e.g. ("genre", "War"), ("years", (1990, 1999)),
    so tests can check it against the target without parsing the words; ``phrasings_used`` the
    (act, template) of each."""

    persona: Persona
    seed: int = 0
    k: int = 10
    rng: random.Random = field(init=False)
    said_genres: list[str] = field(default_factory=list)
    excluded_genres: list[str] = field(default_factory=list)
    year_level: int = 0  # 0 nothing, 1 relative ("older"), 2 decade, 3 part of decade, 4 around a year
    anchors_used: int = 0
    facts_done: set[int] = field(default_factory=set)  # indices into FACTS
    reacted_to: set[int] = field(default_factory=set)  # shown items already called close / not it
    claims: list[tuple[str, object]] = field(default_factory=list)
    phrasings_used: list[tuple[str, str]] = field(default_factory=list)  # (act, template)

    def __post_init__(self):
        self.rng = random.Random(_user_seed(self.seed, self.persona.user_id))
        self.genres = [g for g in self.persona.target.genres if g in GENRE_NOUNS]
        self.rng.shuffle(self.genres)

    @property
    def target(self) -> Item:
        return self.persona.target

    # -- the public turns ----------------------------------------------------------------------

    def opening(self) -> str:
        """A vague first message: one of the target's genres, nothing else."""
        if self.genres:
            g = self.genres[0]
            text = self._say("open_genre", genre=GENRE_NOUNS[g])
            if text:
                self._said_genre(g)
                return text
        return self._say("open_vague") or "Hi."

    def respond(self, shown: Shown) -> str:
        """The next message after a reply that did not show the target in its top k. A question
        is answered whenever one is asked; beside a list, the answer takes the place of the fact
        the user would have volunteered (one fact a turn either way)."""
        topic = question_topic(shown.question) if shown.question else None
        if shown.question and not shown.items:
            return self._answer(topic)
        reaction, covers_year = self._react(shown.items[: self.k])
        fact = self._answer(topic) if topic else self._next_fact(skip_year=covers_year)
        parts = [p for p in (reaction, fact) if p]
        return " ".join(parts) if parts else (self._say("something_else") or "Something else.")

    # -- what to say ---------------------------------------------------------------------------

    def _answer(self, topic: str | None = None) -> str:
        """Answer a question from the target's attributes: what it asks about when it names one
        thing (``question_topic``), else a genre if none was said, else the next fact."""
        if topic is not None:
            text = self._on_topic(topic)
            if text:
                return text
            if topic == "popularity":  # neither a hit nor a gem: say so, and go on as usual
                fact = self._next_fact()
                return " ".join(filter(None, [self._say("no_preference"), fact]))
        if not self.said_genres and self.genres:
            g = self.genres[0]
            text = self._say("answer_genre", genre=GENRE_NOUNS[g])
            if text:
                self._said_genre(g)
                return text
        return self._next_fact() or self._say("something_else") or "Something else."

    def _on_topic(self, topic: str) -> str | None:
        """The fact a question on ``topic`` asks for, if the user has one left to say."""
        if topic == "liked" and self.anchors_used < len(self.persona.anchors):
            return self._anchor_fact()
        if topic == "era":
            for level in (2, 3, 4):
                if self.year_level < level and (text := self._year_fact(level)):
                    return text
            return None
        if topic == "popularity" and (self.persona.popular or self.persona.obscure):
            return self._popularity_fact()
        if topic in ("mood", "genre"):
            return self._genre_fact()
        return None

    def _react(self, items: list[Item]) -> tuple[str | None, bool]:
        """React to a list that misses: too much of a genre the target lacks, the wrong era, one
        film that resembles the target, or one that clearly does not fit (one reaction a turn)."""
        if not items:
            return None, False
        options: list[tuple[str, object]] = []
        counts = Counter(g for it in items for g in it.genres if g in GENRE_MASS)
        off = [(n, g) for g, n in counts.items()
               if g not in self.target.genres and g not in self.excluded_genres and n >= max(2, len(items) * 0.4)]
        if off:
            options.append(("less", max(off)[1]))
        years = [it.year for it in items if it.year]
        ty = self.target.year
        if self.year_level == 0 and years and ty:
            median = int(np.median(years))
            if abs(median - ty) >= ERA_CRITIQUE_YEARS:
                options.append(("era", median))
        close = [(n, it) for n, it in enumerate(items) if it.item_id not in self.reacted_to and self._resembles(it)]
        if close:
            options.append(("more_like", close[0]))
        off_items = [(n, it) for n, it in enumerate(items) if it.item_id not in self.reacted_to and self._clearly_off(it)]
        if off_items:
            options.append(("not_that", self.rng.choice(off_items)))
        while options:
            pick = self.rng.choices(options, weights=[REACTION_WEIGHTS[o[0]] for o in options])[0]
            options.remove(pick)
            text = self._reaction(*pick)
            if text:
                return text, pick[0] == "era"
        return None, False

    def _reaction(self, kind: str, what) -> str | None:
        if kind == "less":
            g = what
            more = next((x for x in self.genres if x not in self.said_genres), None)
            text = self._say("less_more", word=GENRE_MASS[g], word2=GENRE_MASS[more]) if more and self.rng.random() < 0.5 else None
            if text:
                self._said_genre(more)
            text = text or self._say("less", word=GENRE_MASS[g])
            if text:
                self.excluded_genres.append(g)
                self.claims.append(("not_genre", g))
            return text
        if kind == "era":
            median = what
            older = self.target.year < median
            text = self._say("older" if older else "newer")
            if text:
                self.year_level = 1
                self.claims.append(("older_than" if older else "newer_than", median))
            return text
        n, item = what
        act = "more_like_shown" if kind == "more_like" else "not_that"
        text = self._say(act, title=[item.title], nth=[ORDINALS[n]])
        if text:
            self.reacted_to.add(item.item_id)
            self.claims.append(("resembles" if kind == "more_like" else "not", item.item_id))
        return text

    def fits(self, item: Item) -> bool:
        """Whether ``item`` agrees with every fact said so far (its claims), as this user means them."""
        y, p = item.year or 0, self.persona
        checks = {
            "genre": lambda g: g in item.genres, "not_genre": lambda g: g not in item.genres,
            "years": lambda span: span[0] <= y <= span[1], "older_than": lambda m: y < m, "newer_than": lambda m: y > m,
            "popular": lambda _: item.popularity >= p.popular_min, "obscure": lambda _: item.popularity <= p.obscure_max,
        }  # "like", "resembles" and "not" name other films: they rule nothing out
        return all(checks[kind](value) for kind, value in self.claims if kind in checks)

    def _resembles(self, item: Item) -> bool:
        t = self.target
        return (item.item_id != t.item_id and _jaccard(item.genres, t.genres) >= RESEMBLE_JACCARD
                and bool(item.year and t.year) and abs(item.year - t.year) <= RESEMBLE_YEARS)

    def _clearly_off(self, item: Item) -> bool:
        t = self.target
        far = bool(item.year and t.year) and abs(item.year - t.year) >= OFF_YEARS
        return item.item_id != t.item_id and (not set(item.genres) & set(t.genres) or far)

    def _next_fact(self, skip_year: bool = False) -> str | None:
        """Reveal one more thing, in the order of ``FACTS``; a step with nothing to say is passed."""
        for n, step in enumerate(FACTS):
            if n in self.facts_done or (skip_year and step in ("decade", "part", "year")):
                continue  # a year step skipped because a critique spoke of years stays for later
            self.facts_done.add(n)
            text = None
            if step in ("decade", "part", "year"):
                level = {"decade": 2, "part": 3, "year": 4}[step]
                text = self._year_fact(level) if self.year_level < level else None
            elif step == "anchor" and self.anchors_used < len(self.persona.anchors):
                text = self._anchor_fact()
            elif step == "genre":
                text = self._genre_fact()
            elif step == "popularity" and (self.persona.popular or self.persona.obscure):
                text = self._popularity_fact()
            if text:
                return text
        return None

    def _popularity_fact(self) -> str | None:
        kind = "popular" if self.persona.popular else "obscure"
        if (kind, None) in self.claims:  # said already (an answer to a question)
            return None
        text = self._say(kind)
        if text:
            self.claims.append((kind, None))
        return text

    def _year_fact(self, level: int) -> str | None:
        ty = self.target.year
        if not ty:
            return None
        if level == 2:
            text, years = self._say("decade", decade=decade_names(ty)), (ty // 10 * 10, ty // 10 * 10 + 9)
        elif level == 3:
            part, lo, hi = part_of_decade(ty)
            text, years = self._say("part_of_decade", part=[part], decade=decade_names(ty)), (lo, hi)
        elif self.persona.year_is_sayable:  # else the year with its genres would name the target alone
            text, years = self._say("year", year=[str(ty)]), (ty, ty)
        else:
            return None
        if text:
            self.year_level = level
            self.claims.append(("years", years))
        return text

    def _anchor_fact(self) -> str | None:
        anchor = self.persona.anchors[self.anchors_used]
        self.anchors_used += 1
        text = self._say("anchor", title=[anchor.title])
        if text:
            self.claims.append(("like", anchor.item_id))
        return text

    def _genre_fact(self) -> str | None:
        first = self.said_genres[0] if self.said_genres else None
        more = next((g for g in self.genres if g not in self.said_genres), None)
        if more is None:
            return None
        if first is None:
            text = self._say("add_first_genre", genre=GENRE_NOUNS[more])
        else:
            text = self._say("add_genre", genre=GENRE_NOUNS[first], word2=GENRE_MASS[more])
        if text:
            self._said_genre(more)
        return text

    def _said_genre(self, g: str) -> None:
        self.said_genres.append(g)
        self.claims.append(("genre", g))

    # -- plumbing ------------------------------------------------------------------------------

    def _say(self, act: str, **slots: Sequence[str]) -> str | None:
        """One phrasing of ``act``, chosen by the seeded rng, with slot values that do not leak."""
        templates = list(PHRASINGS[act])
        self.rng.shuffle(templates)
        for template in templates:
            used = [name for name in slots if "{" + name + "}" in template]
            combos = [{}]
            for name in used:
                values = list(slots[name])
                self.rng.shuffle(values)
                combos = [c | {name: v} for c in combos for v in values]
            for combo in combos:
                text = template.format(**combo)
                text = text[0].upper() + text[1:]
                # a shown or remembered title may hold the target's year: unsayable when the year names it
                if not leaks(text, self.target) and (self.persona.year_is_sayable
                                                     or not _says_year(text, self.target.year)):
                    self.phrasings_used.append((act, template))
                    return text
        return None


# What a question asks about, by this user's own words; a question naming several things (or none)
# gets the old answer (a genre, else the next fact).
QUESTION_TOPICS: dict[str, tuple[str, ...]] = {
    "liked": ("film you liked", "movie you liked", "film you loved", "favourite", "favorite", "enjoyed lately"),
    "era": ("older or newer", "era", "decade", "how old", "what year"),
    "popularity": ("big hit", "hidden gem", "popular", "well-known", "mainstream", "obscure"),
    "mood": ("lighter or darker", "light or dark", "tone"),
    "genre": ("genre", "kind of film", "kind of movie", "what kind"),
}


def question_topic(question: str) -> str | None:
    """The one thing ``question`` asks about, or None when it names several or none."""
    text = question.lower()
    topics = [t for t, words in QUESTION_TOPICS.items() if any(re.search(rf"\b{re.escape(w)}\b", text) for w in words)]
    return topics[0] if len(topics) == 1 else None


# The earlier sessions of a protocol (evals.protocols): say a message in earlier session n (1, 2,
# ...); the films the agent showed back.
Chat = Callable[[str, int], list[Item]]


@dataclass(frozen=True)
class Earlier:
    """What the earlier sessions of a two- or three-session protocol left: how many there were, and
    for the stale-preference protocol the genre said loved then taken back."""

    sessions: int
    stale_genre: str | None = None


def earlier_sessions(script: str, persona: Persona, seed: int, chat: Chat) -> Earlier:
    """Play a protocol's earlier sessions (``evals.protocols``) in this user's words: "lately" (the
    memory protocol), "stale" or "mood" (drift). Every message is checked not to name the target."""
    rng = random.Random(f"earlier-{script}-{seed}-{persona.user_id}")

    def say(act: str, session: int, **slots: str) -> list[Item] | None:
        text = rng.choice(PHRASINGS[act]).format(**slots)
        text = text[0].upper() + text[1:]
        return None if leaks(text, persona.target) else chat(text, session)

    if script == "mood":
        for message in mood_of_the_day(persona, seed):
            chat(message, 1)
        return Earlier(1)
    if script == "lately":
        shown = _lately(persona, say)
        # a genre it never watches, unless the film it is about to want has it (then it would not say so)
        if persona.disliked_genre and persona.disliked_genre not in persona.target.genres:
            shown = say("disliked_genre", 1, genres=rng.choice(GENRE_PLURALS[persona.disliked_genre])) or shown
        said = 0
        for item in shown or []:  # the films of the last list the user has seen, liked or not
            rating = persona.ratings.get(item.item_id)
            if rating is not None and said < N_REACTIONS and (rating >= LIKED_RATING or rating <= DISLIKED_RATING):
                said += say("seen_loved" if rating >= LIKED_RATING else "seen_disliked", 1, title=item.title) is not None
        return Earlier(1)
    if script == "stale":
        genre = stale_genre(persona)
        if genre is None:
            chat(rng.choice(PHRASINGS["hello"]), 1)
            chat(rng.choice(PHRASINGS["hello"]), 2)
            return Earlier(2)
        words = rng.choice(GENRE_PLURALS[genre])
        say("love_genre", 1, genres=words)
        say("off_genre", 2, genres=words)
        return Earlier(2, genre)
    raise ValueError(f"unknown earlier-session script {script!r}")


def _lately(persona: Persona, say) -> list[Item] | None:
    """The films watched last before the target (those the user can name), as a person tells them:
    the loved ones together, then one that disappointed."""
    recent = persona.nameable[-N_LATELY:]
    loved = [it for it in recent if persona.ratings.get(it.item_id, 0) >= LIKED_RATING]
    disliked = [it for it in recent if persona.ratings.get(it.item_id, 5) <= DISLIKED_RATING]
    shown = None
    if loved:
        titles = [f'"{it.title}"' for it in loved]
        listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
        shown = say("lately_loved", 1, titles=listed, them="it" if len(loved) == 1 else "them")
    if disliked:
        shown = say("lately_disliked", 1, title=f'"{disliked[-1].title}"') or shown
    if not loved and not disliked:
        shown = say("hello", 1)
    return shown


def stale_genre(persona: Persona) -> str | None:
    """The genre the stale protocol has the user love then take back: the one it watched most
    that the target lacks (and that it does not dislike)."""
    counts = Counter(g for it in persona.history for g in it.genres if g in GENRE_PLURALS)
    options = [g for g, _ in counts.most_common() if g not in persona.target.genres and g != persona.disliked_genre]
    return options[0] if options else None


def mood_of_the_day(persona: Persona, seed: int = 0) -> list[str]:
    """Session 1 of the drift protocol: another genre, then a critique of one of the target's genres,
    in the simulator's own phrasings."""
    rng = random.Random(f"drift-{seed}-{persona.user_id}")
    wanted = [g for g in persona.target.genres if g in GENRE_MASS]
    others = sorted(g for g in GENRE_NOUNS if g not in persona.target.genres)
    if not wanted or not others:
        return ["Hello!"]
    critiqued = wanted[1] if len(wanted) > 1 else wanted[0]  # the opening usually names wanted[0]
    other = rng.choice(others)
    said = [rng.choice(PHRASINGS["open_genre"]).format(genre=rng.choice(GENRE_NOUNS[other])),
            rng.choice(PHRASINGS["less"]).format(word=rng.choice(GENRE_MASS[critiqued]))]
    return [m for m in said if not leaks(m, persona.target)] or ["Hello!"]


# ---------------------------------------------------------------------------------------------
# The LLM simulator (iEvaLM style)
# ---------------------------------------------------------------------------------------------

SYSTEM_SIMULATOR = (
    "You play a person chatting with a movie recommender. You secretly want to watch one film, "
    "described below, but you must NEVER write its title (or any part of it) or any id. Open "
    "vaguely, answer questions, and when the list shown does not contain your film, say what is "
    "wrong with it and reveal a little more about what you want (genre, era, films you liked that "
    "resemble it). Write one short chat message (at most 30 words), nothing else."
)


class LLMSimulatedUser(SimulatedUser):
    """An LLM talks like the user; a message that leaks is regenerated, then the template's is sent."""

    def __init__(self, persona: Persona, config: Config, seed: int = 0, k: int = 10, retries: int = 2):
        super().__init__(persona, seed=seed, k=k)
        import openai

        self.client = openai.OpenAI(base_url=config.llm_base_url, api_key=config.llm_api_key or "not-needed",
                                    timeout=config.llm_timeout, max_retries=0)
        self.model = config.llm_model
        self.retries = retries
        self.messages: list[dict[str, str]] = [{"role": "system", "content": self._brief()}]
        self.regenerated = 0
        self.fallbacks = 0

    def _brief(self) -> str:
        t, p = self.persona.target, self.persona
        loved = [it for it in p.nameable[::-1] if p.ratings.get(it.item_id, 0) >= LIKED_RATING]  # latest first
        liked = ", ".join(f"{it.title} ({it.year})" for it in list({it.item_id: it for it in p.anchors + loved}.values())[:6]) or "none known"
        return (f"{SYSTEM_SIMULATOR}\n\nYour film (SECRET): {t.title} ({t.year}), genres: {', '.join(t.genres)}.\n"
                f"Films you watched and that resemble it: {liked}.")

    def opening(self) -> str:
        return self._generate(super().opening(), "Write your first message to the recommender.")

    def respond(self, shown: Shown) -> str:
        listing = "\n".join(f"{n}. {it.title} ({it.year}) [{', '.join(it.genres)}]" for n, it in enumerate(shown.items[: self.k], 1))
        said = f"{shown.text}\n{listing}" if listing else shown.text
        return self._generate(super().respond(shown), f"The recommender said:\n{said}\nYour film is not in this list. Reply.")

    def _generate(self, template: str, prompt: str) -> str:
        self.messages.append({"role": "user", "content": prompt})
        for attempt in range(self.retries + 1):
            try:
                out = self.client.chat.completions.create(model=self.model, messages=self.messages,
                                                          temperature=0.7 if attempt else 0.0, seed=self.seed + attempt)
                text = (out.choices[0].message.content or "").strip()
            except Exception as e:  # noqa: BLE001 - any fault: fall back to the template user
                log.warning("LLM simulator failed (%s: %s); using the template message", type(e).__name__, e)
                break
            if text and not leaks(text, self.target):
                self.messages.append({"role": "assistant", "content": text})
                return text
            self.regenerated += 1
            log.info("LLM simulator message leaked the target; regenerating (attempt %d)", attempt + 1)
        self.fallbacks += 1
        self.messages.append({"role": "assistant", "content": template})
        return template
