"""Simulated users for conversational evaluation: each wants one hidden target item.

A `Persona` is built from one ml-100k user: the test target and the user's *train* history.
`SimulatedUser` (the default: offline, seeded, template sentences) opens vaguely from the
target's attributes, answers questions and critiques lists that miss, revealing a little more
each turn, and never says the target's title or id. `LLMSimulatedUser` (the iEvaLM style) is
told the target and the history and asked to talk like a user; a message that leaks is
regenerated, and after a few tries the template message is sent instead.

Every statement the template user makes is true of its target (a genre it has, its decade, a
film from the user's own history that is a CF neighbour of it), so a system that honours
constraints never loses the target by listening. Sentences are in the phrasing the offline
understander parses; titles are quoted, as people write them in chat.
"""

from __future__ import annotations

import logging
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tools.artifacts import Artifacts
from tools.catalog import Item, normalize_title
from tools.config import Config

log = logging.getLogger(__name__)

N_ANCHORS = 3
ANCHOR_MODEL = "itemknn"
N_FAVOURITES = 3
POPULAR_PCT, OBSCURE_PCT = 95, 25  # stricter than any popularity filter a system is likely to use

# How the simulator names each catalog genre (several wordings; the first that does not leak is used).
GENRE_WORDS: dict[str, tuple[str, ...]] = {
    "Action": ("action", "action-packed"),
    "Adventure": ("adventure", "adventurous"),
    "Animation": ("animation", "animated"),
    "Children's": ("kids", "family", "children's"),
    "Comedy": ("comedy", "funny"),
    "Crime": ("crime", "gangster"),
    "Documentary": ("documentary", "non-fiction"),
    "Drama": ("drama", "dramatic"),
    "Fantasy": ("fantasy", "magical"),
    "Film-Noir": ("film noir", "noir"),
    "Horror": ("horror", "scary"),
    "Musical": ("musical",),
    "Mystery": ("mystery", "whodunit"),
    "Romance": ("romance", "romantic"),
    "Sci-Fi": ("sci-fi", "science fiction"),
    "Thriller": ("thriller", "suspense"),
    "War": ("war",),
    "Western": ("western", "cowboy"),
}
# "a comedy", "an animated movie": the noun phrase for an opening line, per genre word.
_NOUN = {
    "action": "an action movie", "action-packed": "something action-packed", "adventure": "an adventure",
    "adventurous": "something adventurous", "animation": "an animation", "animated": "an animated movie",
    "kids": "a kids movie", "family": "a family movie", "children's": "a children's movie", "comedy": "a comedy",
    "funny": "something funny", "crime": "a crime movie", "gangster": "a gangster movie",
    "documentary": "a documentary", "non-fiction": "a non-fiction film", "drama": "a drama",
    "dramatic": "something dramatic", "fantasy": "a fantasy film", "magical": "something magical",
    "film noir": "a film noir", "noir": "a noir", "horror": "a horror movie", "scary": "something scary",
    "musical": "a musical", "mystery": "a mystery", "whodunit": "a whodunit", "romance": "a romance",
    "romantic": "something romantic", "sci-fi": "a sci-fi movie", "science fiction": "a science fiction film",
    "thriller": "a thriller", "suspense": "something with suspense", "war": "a war movie",
    "western": "a western", "cowboy": "a cowboy movie",
}  # fmt: skip
_OPENINGS = ("I feel like {g} tonight.", "I'm in the mood for {g}.", "Can you suggest {g}?",
             "Looking for {g} to watch tonight.")
_VAGUE = ("Can you recommend a movie for tonight?", "What should I watch tonight?")
_LIKE = ('Something like "{t}".', 'More like "{t}", please.', 'Maybe something in the vein of "{t}".')
_ELSE = ("Something else, please.", "Show me some other options.")
# What a user reveals after the opening, one step per turn (besides critiques of the list shown).
FACTS = ("decade", "anchor", "genre", "part", "anchor", "popularity", "year", "anchor")


# ---------------------------------------------------------------------------------------------
# Leaks
# ---------------------------------------------------------------------------------------------

def _words(text: str) -> str:
    """Lowercase words with accents, apostrophes and punctuation removed, space-padded."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace("'", "")
    return " " + " ".join(re.findall(r"[a-z0-9]+", text)) + " "


def title_forms(title: str) -> list[str]:
    """The ways a title can be said: whole, without a leading article, its main part, its aka."""
    main = re.sub(r"\s*\(.*?\)\s*", " ", title).strip()
    akas = re.findall(r"\(([^)]*)\)", title)
    forms = set()
    for part in [title, main, *akas]:
        forms |= {normalize_title(part), _words(part).strip(), _words(re.sub(r"(?<=\w)\.(?=\w)", "", part))}
    return sorted({f for f in (_words(f).strip() for f in forms) if f})


def leaks(message: str, target: Item) -> bool:
    """True when ``message`` says the target's title (any form, case- and punctuation-blind) or its id."""
    said = _words(message)
    if any(f" {form} " in said for form in title_forms(target.title)):
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
    anchors: list[Item]  # history items that pull the target up in the CF model, strongest first
    anchor_source: str  # "cf", or "genre" for a cold target the CF model cannot relate to anything
    favourites: list[Item]  # history items rated highest (for stating tastes, memory protocol)
    disliked_genre: str | None  # a genre absent from history and target
    target_popularity: int  # train interactions of the target
    popular: bool  # target among the most-watched items
    obscure: bool  # target among the least-watched items

    @property
    def activity(self) -> int:
        return len(self.history)


def anchor_model_name(art: Artifacts) -> str:
    """The CF model that picks anchors: ItemKNN co-occurrence ("people who watched X watched Y"), not
    the model the systems recommend with, so the user's hints are not tailored to the agent's CF."""
    return ANCHOR_MODEL if ANCHOR_MODEL in art.cf_models else art.manifest["cf"]["selected"]


def build_personas(art: Artifacts, user_ids: Sequence[int] | None = None, seed: int = 0,
                   target: str = "test") -> list[Persona]:
    """One persona per user (default: every user with a target), in user-id order; ``target``
    picks the held-out item: the test item, or the validation item while tuning."""
    split, catalog, cf = art.split, art.catalog, art.cf_models[anchor_model_name(art)]
    popularity = split.item_popularity()
    pop_hi = np.percentile(popularity, POPULAR_PCT)
    pop_lo = np.percentile(popularity, OBSCURE_PCT)
    test = (split.valid if target == "valid" else split.test).set_index("user_id")
    wanted = sorted(int(u) for u in (test.index if user_ids is None else user_ids))
    missing = [u for u in wanted if u not in test.index]
    if missing:
        raise ValueError(f"users without a test target: {missing[:10]}")
    seqs = split.sequences("train")
    ratings = split.train.groupby("uidx")
    items_by_id = {it.item_id: it for it in catalog.get(split.item_ids)}
    personas = []
    for uid in wanted:
        row = test.loc[uid]
        uidx, t_iidx = int(row.uidx), int(row.iidx)
        target = items_by_id[int(row.item_id)]
        hist_iidx = seqs[uidx]
        history = [items_by_id[int(split.item_ids[i])] for i in hist_iidx]
        rng = random.Random(_user_seed(seed, uid))
        anchors, source = _anchors(cf, hist_iidx, t_iidx, history, target, catalog, rng)
        user_rows = ratings.get_group(uidx) if uidx in ratings.groups else split.train.iloc[:0]
        favourites = _favourites(user_rows, split.item_ids, items_by_id, target, catalog, rng)
        genre_share = Counter(g for it in history for g in it.genres)
        disliked = _disliked_genre(genre_share, len(history), target)
        personas.append(Persona(
            user_id=uid, target=target, history=history, anchors=anchors, anchor_source=source,
            favourites=favourites, disliked_genre=disliked, target_popularity=int(popularity[t_iidx]),
            popular=bool(popularity[t_iidx] >= pop_hi), obscure=bool(popularity[t_iidx] <= pop_lo),
        ))  # fmt: skip
    return personas


def _user_seed(seed: int, user_id: int) -> int:
    return seed * 1_000_003 + int(user_id)


def _sayable(item: Item, target: Item, catalog) -> bool:
    """A title the user can name without leaking the target and that names one film only."""
    return not leaks(f'"{item.title}"', target) and catalog.resolve_title(item.title).status == "exact"


def _anchors(cf, hist_iidx, t_iidx, history, target, catalog, rng) -> tuple[list[Item], str]:
    if len(hist_iidx):
        w = cf.contribution(hist_iidx, t_iidx)
        order = np.argsort(-w, kind="stable")
        cf_anchors = [history[o] for o in order if w[o] > 0 and _sayable(history[o], target, catalog)]
        if cf_anchors:
            return _dedupe(cf_anchors)[:N_ANCHORS], "cf"
    # A cold target has no CF neighbours: a user would still name films that resemble it.
    same = set(target.genres)
    scored = [(len(same & set(it.genres)), -abs((it.year or 0) - (target.year or 0)), rng.random(), it)
              for it in history if _sayable(it, target, catalog) and same & set(it.genres)]
    scored.sort(key=lambda s: s[:3], reverse=True)
    return _dedupe([s[3] for s in scored])[:N_ANCHORS], "genre"


def _favourites(rows, item_ids, items_by_id, target, catalog, rng) -> list[Item]:
    if rows.empty:
        return []
    best = rows[rows.rating == rows.rating.max()]
    pool = [items_by_id[int(item_ids[i])] for i in best.iidx.to_numpy()]
    pool = [it for it in pool if _sayable(it, target, catalog)]
    rng.shuffle(pool)
    return pool[:N_FAVOURITES]


def _disliked_genre(share: Counter, n: int, target: Item) -> str | None:
    """The user's least-watched common genre, if they (almost) never watch it and the target isn't one."""
    options = [g for g in ("Horror", "Documentary", "Western", "Musical", "Film-Noir", "War", "Children's", "Animation")
               if g not in target.genres and share[g] <= max(0, 0.02 * n)]
    return min(options, key=lambda g: (share[g], g)) if options else None


def _dedupe(items: list[Item]) -> list[Item]:
    seen, out = set(), []
    for it in items:
        if it.item_id not in seen:
            seen.add(it.item_id)
            out.append(it)
    return out


# ---------------------------------------------------------------------------------------------
# The template simulator
# ---------------------------------------------------------------------------------------------

@dataclass
class Shown:
    """What the simulator sees of one reply: the items (as catalog items) and a question, if any."""

    items: list[Item]
    question: str | None = None
    text: str = ""


@dataclass
class SimulatedUser:
    """Seeded template user. ``opening()`` once, then ``respond(shown)`` after every miss."""

    persona: Persona
    seed: int = 0
    k: int = 10
    rng: random.Random = field(init=False)
    said_genres: list[str] = field(default_factory=list)
    excluded_genres: list[str] = field(default_factory=list)
    year_level: int = 0  # 0 nothing, 1 relative ("older"), 2 decade, 3 part of decade, 4 around a year
    anchors_used: int = 0
    facts_done: set[int] = field(default_factory=set)  # indices into FACTS

    def __post_init__(self):
        self.rng = random.Random(_user_seed(self.seed, self.persona.user_id))
        self.genres = [g for g in self.persona.target.genres if g in GENRE_WORDS]
        self.rng.shuffle(self.genres)

    @property
    def target(self) -> Item:
        return self.persona.target

    # -- the public turns ----------------------------------------------------------------------

    def opening(self) -> str:
        """A vague first message: one of the target's genres, nothing else."""
        if self.genres:
            g = self.genres[0]
            self.said_genres.append(g)
            return self._say([t.format(g=_NOUN[w]) for w in GENRE_WORDS[g] for t in self._shuffled(_OPENINGS)],
                             fallback=self.rng.choice(_VAGUE))
        return self.rng.choice(_VAGUE)

    def respond(self, shown: Shown) -> str:
        """The next message after a reply that did not show the target in its top k."""
        if shown.question and not shown.items:
            return self._answer(shown.question)
        items = shown.items[: self.k]
        critique, covers_year = self._critique(items)
        fact = self._next_fact(skip_year=covers_year)
        parts = [p for p in (critique, fact) if p]
        if not parts:
            parts = [self._say(list(self._shuffled(_ELSE)), fallback="Something else, please.")]
        return " ".join(parts)

    # -- what to say ---------------------------------------------------------------------------

    def _answer(self, question: str) -> str:
        """Answer a question from the target's attributes: a genre if none was said, else the next fact."""
        answer = None
        if not self.said_genres and self.genres:
            g = self.genres[0]
            self.said_genres.append(g)
            answer = self._say([f"{_NOUN[w][0].upper()}{_NOUN[w][1:]}." for w in GENRE_WORDS[g]], fallback="")
        return answer or self._next_fact() or self.rng.choice(_ELSE)

    def _critique(self, items: list[Item]) -> tuple[str | None, bool]:
        """React to the list: too much of a genre the target lacks, or the wrong era."""
        if not items:
            return None, False
        counts = Counter(g for it in items for g in it.genres if g in GENRE_WORDS)
        off = [(n, g) for g, n in counts.items()
               if g not in self.target.genres and g not in self.excluded_genres and n >= max(2, len(items) * 0.4)]
        if off:
            _, g = max(off)
            more = next((x for x in self.genres if x not in self.said_genres), None)
            options = []
            for w in GENRE_WORDS[g]:
                if more:
                    options += [f"Less {w}, more {m}." for m in GENRE_WORDS[more]]
                options.append(f"Less {w}, please.")
            text = self._say(options, fallback="")
            if text:
                self.excluded_genres.append(g)
                if more and "more" in text:
                    self.said_genres.append(more)
                return text, False
        years = [it.year for it in items if it.year]
        ty = self.target.year
        if self.year_level == 0 and years and ty:
            median = int(np.median(years))
            if median - ty >= 10 and ty < median:
                self.year_level = 1
                return "Something older.", True
            if ty - median >= 10 and ty > median:
                self.year_level = 1
                return "Something newer.", True
        return None, False

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
            elif step == "popularity":
                if self.persona.popular:
                    text = self._say(["Something well-known.", "A popular one."], fallback="")
                elif self.persona.obscure:
                    text = self._say(["A lesser-known one.", "Something less well-known."], fallback="")
            if text:
                return text
        return None

    def _year_fact(self, level: int) -> str | None:
        ty = self.target.year
        self.year_level = max(self.year_level, level)
        if not ty:
            return None
        decade = ty // 10 * 10
        name = f"{decade % 100:02d}s" if 1920 <= decade <= 1990 else f"{decade}s"
        if level == 2:
            return self._say([f"Something from the {name}.", f"Preferably from the {name}."], fallback="")
        if level == 3:
            part = "early" if ty % 10 <= 2 else "mid" if ty % 10 <= 6 else "late"
            return self._say([f"Preferably from the {part} {name}."], fallback="")
        return self._say([f"From around {ty}."], fallback="")

    def _anchor_fact(self) -> str | None:
        anchor = self.persona.anchors[self.anchors_used]
        self.anchors_used += 1
        return self._say([t.format(t=anchor.title) for t in self._shuffled(_LIKE)], fallback="")

    def _genre_fact(self) -> str | None:
        first = self.said_genres[0] if self.said_genres else None
        more = next((g for g in self.genres if g not in self.said_genres), None)
        if more is None:
            return None
        self.said_genres.append(more)
        if first is None:
            return self._say([f"{_NOUN[w][0].upper()}{_NOUN[w][1:]}, please." for w in GENRE_WORDS[more]], fallback="")
        return self._say([f"{_NOUN[a][0].upper()}{_NOUN[a][1:]} with some {b} in it."
                          for a in GENRE_WORDS[first] for b in GENRE_WORDS[more]], fallback="")

    # -- plumbing ------------------------------------------------------------------------------

    def _shuffled(self, options: Sequence[str]) -> list[str]:
        out = list(options)
        self.rng.shuffle(out)
        return out

    def _say(self, options: Sequence[str], fallback: str) -> str:
        """The first option that does not leak the target (phrasings are tried in order)."""
        return next((o for o in options if not leaks(o, self.target)), fallback if not leaks(fallback, self.target) else "")


def tastes_statement(persona: Persona) -> list[str]:
    """Session 1 of the memory protocol: the user states tastes from its own history."""
    out = []
    if persona.favourites:
        titles = [f'"{it.title}"' for it in persona.favourites]
        listed = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " and " + titles[-1]
        out.append(f"Some films I loved: {listed}.")
    if persona.disliked_genre:
        out.append(f"I can't stand {GENRE_WORDS[persona.disliked_genre][0]} movies.")
    return [m for m in out if not leaks(m, persona.target)] or ["Hello!"]


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
        liked = ", ".join(f"{it.title} ({it.year})" for it in (p.anchors + p.favourites)[:6]) or "none known"
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
