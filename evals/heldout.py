"""A held-out simulated user, for evaluating on and never tuning against.

It was written apart from the agent's understander, without reading it, its vocabulary or its
tests, and without reading the development simulator's phrasings: its words
(`evals/heldout_phrasings.py`) are written from how people chat about films, each everyday phrase
with what it covers in the person's mind. Only data types and the leak check come from
`evals/simulator.py`.

Like a person, it is no oracle: it reveals at most MAX_FACTS new facts per message (sometimes one,
sometimes none), describes a genre loosely about a quarter of the time ("something exciting" for a
thriller), speaks of eras approximately and gives up after a seeded number of lists that miss.
Its cut-offs, its own:
- eras: "an old classic" <= 1964; "nothing too recent" <= 1993; "fairly recent" >= 1994 (the
  catalog ends in 1998); "the seventies or so" = 1967-1982 (a decade widened by 3 years each side);
  "older/newer than these" = before/after the list's median year, said when >= 70% of the list is
  more than 8 years off.
- popularity: "a big hit" when at most 15% of catalog films are watched more than the target,
  "a hidden gem" when at least 35% are; nothing said between.
- a shown film is "kind of close" when it shares a genre and is within 8 years; "nothing like it"
  when it shares no genre; "too many <genre>" when half the list has a genre the target lacks.
- a film "liked lately": among the person's last 20 films, rated >= 4, preferring one that shares a
  genre with the target.
- patience: 3-6 lists that miss (weights PATIENCE_WEIGHTS, about 20% leave by the 4th).
Every statement is true of the target under these meanings, and `fits` applies the same ones.

The earlier sessions of the two- and three-session protocols (`earlier_sessions`) are in its own
words too: "lately" tells the last N_LATELY films it can name (loved: rated >= 4; a letdown: <= 2),
waves away a genre it never watches (only with a word whose `covers` misses every genre of the
target, as "too many <genre>" does) and says which shown films it has seen, liked or not (at most
N_REACTIONS); "stale" loves then tires of the development simulator's genre (`stale_genre`);
"mood" is the development simulator's. A message says one or two of these things.
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from evals.heldout_phrasings import (
    DARKER,
    DECADE_SLACK,
    DECADES,
    EARLIER_PHRASES,
    ERAS,
    GENRE_WORDS,
    LIGHTER,
    ORDINALS,
    PHRASES,
    QUESTION_TOPICS,
)
from evals.simulator import Chat, Earlier, Persona, Shown, leaks, stale_genre
from evals.simulator import earlier_sessions as development_earlier_sessions
from tools.catalog import Item

MAX_FACTS = 2  # new facts one message may reveal
CUTOFFS = {
    "hit_share": 0.15,  # "a big hit": at most this share of catalog films watched more
    "gem_share": 0.35,  # "a hidden gem": at least this share watched more
    "close_years": 8,  # a shown film "kind of close": shares a genre, at most this many years apart
    "far_years": 8,  # "too old/too new": a shown film more than this many years off the target
    "far_share": 0.7,  # ... for at least this share of the list
    "many_share": 0.5,  # "too many <genre>": at least this share of the list has it
    "seen_share": 0.5,  # "I've seen most of these": at least this share is in the person's history
    "recent_films": 20,  # "lately": among the person's last this many films
    "liked_rating": 4,  # "liked": rated at least this
    "loose_share": 0.25,  # chance a genre statement uses a loose word when one exists
}
REVEAL_WEIGHTS = {0: 1, 1: 5, 2: 4}  # new facts in a reply to a list
OPENING_WEIGHTS = {1: 2, 2: 3}  # new facts in the opening
PATIENCE_WEIGHTS = {3: 1, 4: 1, 5: 4, 6: 4}  # lists that miss before the person leaves
FACT_WEIGHTS = {"genre": 3, "era": 3, "liked": 2, "popularity": 2}  # what to volunteer
REACTION_WEIGHTS = {"close": 3, "unlike": 2, "too_old": 3, "too_new": 3, "too_many": 3, "seen": 1, "meh": 1}

N_LATELY = 3  # films watched last that the "lately" session tells
N_REACTIONS = 2  # shown films it says it has seen, at most
PAIR_SHARE = 0.4  # chance an earlier-session message says two things at once
QUOTE_SHARE = 0.25  # chance a title is put in quotes

Claim = tuple[str, object]


@dataclass
class _Part:
    """One sentence of a message and the claims it makes (new facts, each)."""

    act: str
    text: str
    claims: list[Claim] = field(default_factory=list)
    films: list[Item] = field(default_factory=list)  # films it names or points at


def _draw(rng: random.Random, weights: dict) -> object:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _spoken_title(title: str) -> str:
    """A title as people say it: without the bracketed alternative title."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title


def _says_year(text: str, year: int | None) -> bool:
    return year is not None and re.search(rf"(?<!\d){year}(?!\d)", text) is not None


def _in_window(year: int | None, window: tuple[int | None, int | None]) -> bool:
    lo, hi = window
    return year is not None and (lo is None or year >= lo) and (hi is None or year <= hi)


def popularity_cutoffs(popularity: Sequence[int]) -> tuple[int, int]:
    """From every catalog film's train interactions: the fewest interactions of "a big hit" and the
    most of "a hidden gem", under CUTOFFS' shares."""
    pop = np.asarray(popularity)
    values = np.unique(pop)
    share_above = np.array([np.mean(pop > v) for v in values])
    hit_min = int(values[share_above <= CUTOFFS["hit_share"]].min())
    gem = values[share_above >= CUTOFFS["gem_share"]]
    return hit_min, int(gem.max()) if len(gem) else -1


def holds(claim: Claim, item: Item, films: dict[int, Item], cutoffs: tuple[int, int] | None = None) -> bool:
    """Whether ``item`` agrees with one claim as the held-out user means it. ``films``: the films
    claims point at, by id; ``cutoffs``: (hit_min, gem_max) in train interactions, when known (else
    popularity rules nothing out)."""
    kind, value = claim
    genres, year = set(item.genres), item.year
    if kind == "genre":
        return bool(genres & GENRE_WORDS[value]["covers"])
    if kind == "not_genre":
        return not genres & GENRE_WORDS[value]["covers"]
    if kind == "era":
        return _in_window(year, value)
    if kind == "older_than":
        return year is not None and year < value
    if kind == "newer_than":
        return year is not None and year > value
    if kind == "popularity":
        if cutoffs is None:
            return True
        return item.popularity >= cutoffs[0] if value == "hit" else item.popularity <= cutoffs[1]
    if kind == "mood":
        light, dark = bool(genres & LIGHTER), bool(genres & DARKER)
        return {"lighter": light and not dark, "darker": dark and not light, "both": light and dark}[value]
    if kind in ("like", "close_to", "unlike"):
        film = films[value]
        shares = bool(genres & set(film.genres))
        if kind == "like":
            return shares
        if kind == "unlike":
            return not shares
        return shares and year is not None and film.year is not None and abs(year - film.year) <= CUTOFFS["close_years"]
    if kind == "enjoyed":  # about the person, not the film it wants
        return True
    raise ValueError(f"unknown claim kind {kind!r}")


class HeldOutUser:
    """A person after one film (``persona.target``) who talks like people do; see the module doc.
    ``popularity``: every catalog film's train interactions, so that `fits` can apply "a big hit" and
    "a hidden gem" (without it, those rule nothing out)."""

    def __init__(self, persona: Persona, seed: int = 0, k: int = 10, popularity: Sequence[int] | None = None):
        self.persona, self.k = persona, k
        self.rng = random.Random(f"heldout-{seed}-{persona.user_id}")
        self.patience = int(_draw(self.rng, PATIENCE_WEIGHTS))
        self.claims: list[Claim] = []
        self.facts_per_message: list[int] = []
        self.acts_per_message: list[list[str]] = []
        self.messages: list[str] = []
        self.left = False
        self.misses = 0
        self._films: dict[int, Item] = {}
        self._said: dict[str, str] = {}  # topic -> the last sentence that said it
        self._cutoffs = popularity_cutoffs(popularity) if popularity is not None else None
        self._seen = {it.item_id for it in persona.history}
        self._lately = self._liked_lately()

    @property
    def target(self) -> Item:
        return self.persona.target

    # ---- the contract ---------------------------------------------------------------------------

    def opening(self) -> str:
        """The first message: a genre word (or a plain ask) and up to MAX_FACTS facts."""
        n = _draw(self.rng, OPENING_WEIGHTS)
        parts: list[_Part] = []
        genre = self._genre_fact("open_genre")
        if genre is None or not self._accept(genre, parts):
            self._accept(_Part("open_plain", self._pick("open_plain")), parts)
        for _ in range(3 * MAX_FACTS):  # a fact that would name the target is left unsaid
            if self._count(parts) >= n or (extra := self._volunteer()) is None:
                break
            self._accept(extra, parts)
        return self._send(parts)

    def respond(self, shown: Shown) -> str | None:
        """A reply to a list that missed (and to its question, if any); None: the person leaves."""
        self.misses += 1
        if self.misses >= self.patience:
            self.left = True
            return None
        items = [it for it in shown.items[: self.k] if it.item_id != self.target.item_id]
        asked = bool(shown.question and shown.question.strip())
        budget = max(_draw(self.rng, REVEAL_WEIGHTS), int(asked))
        parts: list[_Part] = []
        if items and (not asked or budget > 1 or self.rng.random() < 0.5):
            self._accept(self._react(items, budget - int(asked)), parts)
        if asked and not self._accept(self._answer(shown.question, items), parts):
            self._accept(_Part("answer:dont_know", self._pick("dont_know")), parts)
        if self._count(parts) < budget:
            extra = self._volunteer()
            if extra is not None:
                self._accept(extra, parts)
        if not parts:
            self._accept(_Part("meh", self._pick("meh")), parts)
        return self._send(parts)

    def fits(self, item: Item) -> bool:
        """Whether ``item`` agrees with everything said so far, as this person means it."""
        return all(holds(c, item, self._films, self._cutoffs) for c in self.claims)

    # ---- saying things --------------------------------------------------------------------------

    def _pick(self, act: str, **slots: str) -> str:
        return _cap(self.rng.choice(PHRASES[act]).format(**slots))

    def _accept(self, part: _Part, parts: list[_Part]) -> bool:
        """Add ``part`` to the message being written and commit its claims, unless the message
        would then name the target or say its year."""
        text = " ".join([*(p.text for p in parts), part.text])
        if leaks(text, self.target) or _says_year(text, self.target.year):
            return False
        parts.append(part)
        for film in part.films:
            self._films[film.item_id] = film
        self.claims.extend(part.claims)
        for kind, _ in part.claims:
            self._said[_topic_of(kind)] = part.text
        return True

    @staticmethod
    def _count(parts: list[_Part]) -> int:
        return sum(len(p.claims) for p in parts)

    def _send(self, parts: list[_Part]) -> str:
        self.facts_per_message.append(self._count(parts))
        self.acts_per_message.append([p.act for p in parts])
        self.messages.append(" ".join(p.text for p in parts))
        return self.messages[-1]

    # ---- facts ----------------------------------------------------------------------------------

    def _volunteer(self) -> _Part | None:
        """One new fact, of a kind drawn by FACT_WEIGHTS among those left to say."""
        makers = {"genre": lambda: self._genre_fact("genre"), "era": self._era_fact, "liked": self._liked_fact,
                  "popularity": self._popularity_fact}
        kinds = dict(FACT_WEIGHTS)
        while kinds:
            kind = _draw(self.rng, kinds)
            part = makers[kind]()
            if part is not None:
                return part
            del kinds[kind]
        return None

    def _genre_fact(self, template: str) -> _Part | None:
        wanted = set(self.target.genres)
        said = {v for k, v in self.claims if k == "genre"}
        waved_away = set().union(*(GENRE_WORDS[v]["covers"] for k, v in self.claims if k == "not_genre"))
        usable = {w: d for w, d in GENRE_WORDS.items() if w not in said and not d["centre"] & waved_away}
        centred = [w for w, d in usable.items() if d["centre"] & wanted]
        loose = [w for w, d in usable.items() if d["covers"] & wanted and not d["centre"] & wanted]
        pool = loose if loose and (not centred or self.rng.random() < CUTOFFS["loose_share"]) else centred
        if not pool:
            return None
        word = self.rng.choice(pool)
        what = self.rng.choice(GENRE_WORDS[word]["say"])
        return _Part("genre", self._pick(template, what=what), [("genre", word)])

    def _window(self) -> tuple[float, float]:
        """The years every era statement so far leaves open."""
        lo, hi = -np.inf, np.inf
        for kind, value in self.claims:
            if kind == "era":
                lo = max(lo, value[0] if value[0] is not None else -np.inf)
                hi = min(hi, value[1] if value[1] is not None else np.inf)
            elif kind == "older_than":
                hi = min(hi, value - 1)
            elif kind == "newer_than":
                lo = max(lo, value + 1)
        return lo, hi

    def _era_fact(self) -> _Part | None:
        """An approximate era true of the target that narrows what was said before."""
        year = self.target.year
        if year is None:
            return None
        lo, hi = self._window()
        options: list[tuple[tuple[int | None, int | None], str, dict]] = [
            (window, key, {}) for key, (window, _) in ERAS.items()]
        decade = year // 10 * 10
        options += [((d - DECADE_SLACK, d + 9 + DECADE_SLACK), "decade", {"decade": self.rng.choice(DECADES[d])})
                    for d in (decade - 10, decade, decade + 10) if d in DECADES]
        options = [o for o in options if _in_window(year, o[0]) and _narrows(o[0], lo, hi)]
        if not options:
            return None
        window, key, slots = self.rng.choice(options)
        text = self._pick("decade", **slots) if key == "decade" else _cap(self.rng.choice(ERAS[key][1]))
        return _Part("era", text, [("era", window)])

    def _relative_era(self, items: list[Item], min_share: float) -> tuple[str, Claim] | None:
        """Older or newer than the list, when at least ``min_share`` of it is far off the target
        and saying so narrows what was said: ("older_than" | "newer_than", its claim)."""
        year = self.target.year
        years = [it.year for it in items if it.year is not None]
        if year is None or len(years) < 3:
            return None
        median = int(statistics.median(years))
        lo, hi = self._window()
        far = CUTOFFS["far_years"]
        if np.mean([y > year + far for y in years]) >= min_share and median <= hi:
            return "older_than", ("older_than", median)
        if np.mean([y < year - far for y in years]) >= min_share and median >= lo:
            return "newer_than", ("newer_than", median)
        return None

    def _popularity_fact(self) -> _Part | None:
        share = self.persona.popularity_share
        said = {v for k, v in self.claims if k == "popularity"}
        word = "hit" if share <= CUTOFFS["hit_share"] else "gem" if share >= CUTOFFS["gem_share"] else None
        if word is None or word in said:
            return None
        return _Part(word, self._pick(word), [("popularity", word)])

    def _liked_lately(self) -> list[Item]:
        """Films the person liked lately (rated well, among its last films) and can name."""
        p = self.persona
        nameable = {it.item_id for it in p.nameable}
        recent = {it.item_id: it for it in p.history[-CUTOFFS["recent_films"]:]}
        return [it for i, it in recent.items()
                if i in nameable and p.ratings.get(i, 0) >= CUTOFFS["liked_rating"] and i != self.target.item_id]

    def _liked_fact(self) -> _Part | None:
        named = {v for k, v in self.claims if k in ("like", "enjoyed")}
        left = [it for it in self._lately if it.item_id not in named]
        if not left:
            return None
        sharing = [it for it in left if set(it.genres) & set(self.target.genres)]
        film = self.rng.choice(sharing or left)
        act = "like" if sharing else "enjoyed"
        return _Part(act, self._pick(act, title=_spoken_title(film.title)), [(act, film.item_id)], [film])

    def _mood_fact(self) -> _Part | None:
        genres = set(self.target.genres)
        light, dark = bool(genres & LIGHTER), bool(genres & DARKER)
        mood = "both" if light and dark else "lighter" if light else "darker" if dark else None
        if mood is None or ("mood", mood) in self.claims:
            return None
        return _Part(mood, self._pick(mood), [("mood", mood)])

    # ---- reacting to a list ---------------------------------------------------------------------

    def _react(self, items: list[Item], budget: int) -> _Part:
        """One reaction to the list, in people's words; a new fact only when ``budget`` allows."""
        options: dict[str, _Part] = {}
        if budget > 0:
            for act, part in (("close", self._close(items)), ("unlike", self._unlike(items)),
                              ("too_many", self._too_many(items))):
                if part is not None:
                    options[act] = part
            relative = self._relative_era(items, CUTOFFS["far_share"])
            if relative is not None:
                act = "too_new" if relative[0] == "older_than" else "too_old"
                options[act] = _Part(act, self._pick(act), [relative[1]])
        if np.mean([it.item_id in self._seen for it in items]) >= CUTOFFS["seen_share"]:
            options["seen"] = _Part("seen", self._pick("seen"))
        options["meh"] = _Part("meh", self._pick("meh"))
        act = _draw(self.rng, {a: REACTION_WEIGHTS[a] for a in options})
        return options[act]

    def _close(self, items: list[Item]) -> _Part | None:
        t = self.target
        close = [(n, it) for n, it in enumerate(items)
                 if set(it.genres) & set(t.genres) and it.year is not None and t.year is not None
                 and abs(it.year - t.year) <= CUTOFFS["close_years"] and ("close_to", it.item_id) not in self.claims]
        if not close:
            return None
        n, film = self.rng.choice(close)
        if n < len(ORDINALS) and self.rng.random() < 0.5:
            text = self._pick("close_ordinal", ordinal=ORDINALS[n])
        else:
            text = self._pick("close_title", title=_spoken_title(film.title))
        return _Part("close", text, [("close_to", film.item_id)], [film])

    def _unlike(self, items: list[Item]) -> _Part | None:
        wanted = set(self.target.genres)
        off = [it for it in items if wanted and it.genres and not set(it.genres) & wanted
               and ("unlike", it.item_id) not in self.claims]
        if not off:
            return None
        film = self.rng.choice(off)
        text = self._pick("unlike", title=_spoken_title(film.title))
        return _Part("unlike", text, [("unlike", film.item_id)], [film])

    def _too_many(self, items: list[Item]) -> _Part | None:
        wanted = set(self.target.genres)
        said = {v for k, v in self.claims if k == "not_genre"}
        # nor waves away a genre it described what it wants by, even loosely
        described = set().union(*(GENRE_WORDS[v]["centre"] for k, v in self.claims if k == "genre"))
        counts = Counter(g for it in items for g in it.genres)
        for genre, count in counts.most_common():
            if count < CUTOFFS["many_share"] * len(items):
                break
            words = [w for w, d in GENRE_WORDS.items() if genre in d["centre"] and d["many"]
                     and not d["covers"] & (wanted | described) and w not in said]
            if words:
                word = self.rng.choice(words)
                many = self.rng.choice(GENRE_WORDS[word]["many"])
                return _Part("too_many", self._pick("too_many", many=many), [("not_genre", word)])
        return None

    # ---- answering a question -------------------------------------------------------------------

    def _answer(self, question: str, items: list[Item]) -> _Part:
        """An answer to the question, with what a person knows; one new fact at most."""
        topic = question_topic(question)
        part = None
        if topic == "liked":
            part = self._liked_fact()
        elif topic == "era":
            relative = self._relative_era(items, 0.5) if items else None
            if relative is not None:
                part = _Part(relative[0], self._pick(relative[0]), [relative[1]])
            else:
                part = self._era_fact()
        elif topic == "popularity":
            part = self._popularity_fact()
        elif topic == "mood":
            part = self._mood_fact() or self._genre_fact("answer_genre")
        elif topic == "genre":
            part = self._genre_fact("answer_genre")
        else:
            part = self._volunteer()
        if part is not None:
            part.act = f"answer:{part.act}"
            return part
        if topic in self._said:
            said = self._said[topic]
            said = said if re.match(r"I\b", said) else said[:1].lower() + said[1:]
            return _Part("answer:again", self._pick("again", said=said))
        return _Part("answer:dont_know", self._pick("dont_know"))


def question_topic(question: str) -> str | None:
    """What a question asks about, by the held-out user's own keyword table (None: anything)."""
    text = question.lower()
    for topic, words in QUESTION_TOPICS:
        if any(re.search(rf"\b{re.escape(w)}", text) for w in words):
            return topic
    return None


def _topic_of(kind: str) -> str:
    return {"genre": "genre", "not_genre": "genre", "era": "era", "older_than": "era", "newer_than": "era",
            "popularity": "popularity", "mood": "mood", "like": "liked", "enjoyed": "liked"}.get(kind, "list")


def _narrows(window: tuple[int | None, int | None], lo: float, hi: float) -> bool:
    w_lo = window[0] if window[0] is not None else -np.inf
    w_hi = window[1] if window[1] is not None else np.inf
    return max(lo, w_lo) > lo or min(hi, w_hi) < hi


# ---- earlier sessions (the two- and three-session protocols) --------------------------------------


def earlier_sessions(script: str, persona: Persona, seed: int, chat: Chat) -> Earlier:
    """Play a protocol's earlier sessions (``evals.protocols``) in the held-out user's words:
    "lately" (memory), "stale", or "mood" (drift, in the development simulator's words). No message
    names the target or says its year: a sentence that would is left unsaid."""
    if script == "mood":
        return development_earlier_sessions(script, persona, seed, chat)
    if script not in ("lately", "stale"):
        raise ValueError(f"unknown earlier-session script {script!r}")
    rng = random.Random(f"heldout-earlier-{script}-{seed}-{persona.user_id}")
    target = persona.target

    def clean(text: str) -> bool:
        return not leaks(text, target) and not _says_year(text, target.year)

    def say(sentences: list[str], session: int) -> list[Item] | None:
        """Send the sentences that leak nothing as one message; the films shown back (None: silent)."""
        kept: list[str] = []
        for sentence in sentences:
            if clean(" ".join([*kept, sentence])):
                kept.append(sentence)
        return chat(" ".join(kept), session) if kept else None

    if script == "stale":
        return _stale(persona, rng, say)
    _lately(persona, rng, say, clean)
    return Earlier(1)


def _phrase(rng: random.Random, act: str, **slots: str) -> str:
    return _cap(rng.choice(EARLIER_PHRASES[act]).format(**slots))


def _name(item: Item, rng: random.Random) -> str:
    """A film as a person types it: its everyday title, now and then in quotes."""
    title = _spoken_title(item.title)
    return f'"{title}"' if rng.random() < QUOTE_SHARE else title


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _films_sentence(films: list[Item], act: str, rng: random.Random, clean) -> str | None:
    """One sentence about ``films`` (act "lately_loved" or "lately_disliked"), naming only those
    whose title leaks nothing."""
    names = [name for name in (_name(it, rng) for it in films) if clean(name)]
    if not names:
        return None
    if len(names) == 1:
        return _phrase(rng, f"{act}_one", title=names[0])
    return _phrase(rng, f"{act}_many", films=_listed(names))


def _plural(genre: str, target: Item, rng: random.Random, strict: bool) -> str | None:
    """A plural word for a MovieLens genre, from the words centred on it; one whose `covers` misses
    the target's genres (strict: only such a word)."""
    # said on its own, with no list to point at, a plural needs its noun ("silly ones" does not do)
    plurals = {w: [m for m in d["many"] if not m.endswith(" ones")] for w, d in GENRE_WORDS.items()
               if genre in d["centre"]}
    centred = [w for w, many in plurals.items() if many]
    apart = [w for w in centred if not GENRE_WORDS[w]["covers"] & set(target.genres)]
    words = apart or ([] if strict else centred)
    return rng.choice(plurals[rng.choice(words)]) if words else None


def _lately(persona: Persona, rng: random.Random, say, clean) -> None:
    """Session 1 of the memory protocol: the films watched lately, a genre it never watches, then
    the shown films it has seen; one or two of these a message, a greeting when it has nothing to say."""
    recent = persona.nameable[-N_LATELY:]
    liked, disliked = CUTOFFS["liked_rating"], 2
    loved = [it for it in recent if persona.ratings.get(it.item_id, 0) >= liked]
    letdowns = [it for it in recent if persona.ratings.get(it.item_id, liked) <= disliked]
    sentences = [s for s in (_films_sentence(loved, "lately_loved", rng, clean) if loved else None,
                             _films_sentence(letdowns, "lately_disliked", rng, clean) if letdowns else None) if s]
    never = persona.disliked_genre
    many = _plural(never, persona.target, rng, strict=True) if never else None
    if many is not None:
        sentences.append(_phrase(rng, "no_genre", many=many))
    shown: list[Item] | None = None
    while sentences:
        take = 2 if len(sentences) > 1 and rng.random() < PAIR_SHARE else 1
        got = say(sentences[:take], 1)
        shown = got if got is not None else shown
        sentences = sentences[take:]
    if shown is None:
        shown = say([_phrase(rng, "hello")], 1)
    reactions = []
    for item in shown or []:  # the cards of the last list, in order
        if len(reactions) == N_REACTIONS:
            break
        rating = persona.ratings.get(item.item_id)
        if rating is None or disliked < rating < liked or item.item_id == persona.target.item_id:
            continue
        sentence = _phrase(rng, "seen_liked" if rating >= liked else "seen_disliked", title=_name(item, rng))
        if clean(sentence):
            reactions.append(sentence)
    if len(reactions) == 2 and rng.random() >= PAIR_SHARE:
        say(reactions[:1], 1)
        reactions = reactions[1:]
    if reactions:
        say(reactions, 1)


def _stale(persona: Persona, rng: random.Random, say) -> Earlier:
    """The stale protocol's sessions 1 and 2: it loves a genre (the development simulator's choice,
    one the target lacks), then has had enough of it."""
    genre = stale_genre(persona)
    many = _plural(genre, persona.target, rng, strict=False) if genre else None
    if genre is None or many is None:
        say([_phrase(rng, "hello")], 1)
        say([_phrase(rng, "hello")], 2)
        return Earlier(2)
    for session, act in ((1, "love_genre"), (2, "over_genre")):
        if say([_phrase(rng, act, many=many)], session) is None:  # it would name the target: a greeting
            say([_phrase(rng, "hello")], session)
    return Earlier(2, genre)
