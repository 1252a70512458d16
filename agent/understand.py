"""Offline message understanding: rules over the catalog turn one user message into a `Request`.

No LLM. Titles are resolved through the catalog (exact first, fuzzy only after a trigger such as
"like" or "loved"), genres through a synonym table, years through a handful of patterns, and
whatever is left becomes the free-text ``vibe``. Every step works on one lowercased copy of the
message in which the parts already understood are masked out, so a title such as "No Escape" is
never read again as a negation and "Star Wars" never as the genre War. The word tables live in
``agent/vocabulary.py``; finding titles in the text in ``agent/titles.py``.

Conventions, where a phrase could mean two things:

- years: "before 1980" and "pre-1980" give ``year_max=1979``; "after 1990" and "post-1990" give
  ``year_min=1991``; "since 1990", "from 1990 on", "1990 or later" give ``year_min=1990``;
  "nothing before 1990" gives ``year_min=1990``; "in 1995" / "from 1995" / a bare "1995" give
  1995..1995; "recent"/"latest"/"new movies" give ``year_min = newest catalog year - 3``;
  "old"/"classic"/"oldies" give ``year_max=1970``; "older"/"newer" are relative to the list shown.
  Several constraints intersect; "70s or 80s" joins into 1970..1989.
- "it", "that one", "this one" mean the title named earlier in the same message, else the first
  film shown (position 0): the top of the list is what a user who does not say which one means.
- titles: fuzzy matching (typos, "Godfather part 2") only runs right after a cue ("like",
  "loved", "tell me about") or inside quotes. Without a cue, a multi-word title is found anywhere
  ("toy story") unless all its words are everyday ones in lowercase ("good morning", "true
  crime"); a one-word title needs a cue, quotes, an opinion after it ("Fargo was great"), or to be
  the whole message. A one-word title that is also a genre word ("Kids", "War") stays the genre.
  A title with no cue counts as liked: the user gave it as a reference point.
- feedback is a message that only gives opinions on items (loved, hated, seen, thumbs up); as
  soon as it also asks for something (more, another, a genre, a question) it is a refine or a
  recommend.
"""

from __future__ import annotations

import html
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from agent import vocabulary as V
from agent.aspects import AspectFinding
from agent.request import Request, Unfilterable
from agent.titles import MASK, Mention, TitleFinding, title_keys
from tools.catalog import Catalog, TitleResolution, normalize_title
from tools.constraints import Constraints
from tools.text import known_words

MAX_MESSAGE, MAX_VIBE_CHARS = V.MAX_MESSAGE, V.MAX_VIBE_CHARS  # re-exported for tests and callers



# ---------------------------------------------------------------------------------------------
# One message
# ---------------------------------------------------------------------------------------------



@dataclass
class _Cue:
    start: int
    end: int
    polarity: int  # +1, -1, 0
    opinion: bool
    # the CUE group: anchor ("darker than": its words still say a tone), neutral, neg, heard (also "never
    # seen": a film named, neither seen nor liked), seen, pos
    kind: str = "pos"


class OfflineUnderstander:
    """Parses a message into a `Request` with rules and catalog lookups; no model, a few ms a call."""

    def __init__(self, catalog: Catalog, now_year: int | None = None):
        self.catalog = catalog
        items = catalog.get(catalog.item_ids)
        years = [it.year for it in items if it.year is not None]
        self.oldest_year_ = min(years) if years else 1900
        self.newest_year_ = now_year if now_year is not None else (max(years) if years else 2000)
        self.titles_: dict[str, list[int]] = {}
        self.title_prefixes_: set[str] = set()
        for it in items:
            for norm in title_keys(it.title):
                self.titles_.setdefault(norm, []).append(it.item_id)
                words = norm.split()
                for k in range(1, len(words) + 1):
                    self.title_prefixes_.add(" ".join(words[:k]))
        self.genres_ = {g: catalog.canonical_genre(g) for _, gs, _ in V.GENRE_TABLE for g in gs}
        self.years_ = {it.item_id: it.year for it in items}
        self.people_ = _people_patterns(items, set(self.titles_))

    def parse(self, message: str, shown: Sequence[int] = ()) -> Request:
        """Understand one message; `shown` is the list of item ids shown last turn, in order."""
        return _MessageParse(self, message, list(shown)).run()


class _MessageParse(TitleFinding, AspectFinding):
    """The state of parsing one message: the text, what is masked, and what was found."""

    def __init__(self, und: OfflineUnderstander, message: str, shown: list[int]):
        self.und = und
        self.shown = shown
        self.warnings: list[str] = []
        self.text = self._clean(message if isinstance(message, str) else str(message))
        low = self.text.lower()
        if len(low) != len(self.text):  # a few characters lowercase to two ("İ"); keep offsets aligned
            low = "".join(c if len(c.lower()) != 1 else c.lower() for c in self.text)
        self.low = low
        self.work = low  # `low` with understood spans replaced by MASK
        self.tokens = [(m.start(), m.end(), normalize_title(m.group())) for m in V.TOKEN.finditer(self.text)]
        self.token_starts = [t[0] for t in self.tokens]
        self.all_caps = not any(c.islower() for c in self.text)
        self.resolved: dict[str, TitleResolution] = {}
        self.fuzzy_left = V.MAX_FUZZY_LOOKUPS
        self.mentions: list[Mention] = []
        self.cues: list[_Cue] = []
        self.boundaries: list[int] = []
        self.reset = False
        self.asked = False
        self.genre_hits: list[tuple[int, int, tuple[str, ...], bool]] = []
        self.unshown: list[tuple[int, int, str]] = []  # (index among the warnings, position, words)
        self.refused: dict[tuple[int, int], int] = {}  # a genre word's span -> the end of the clause refusing it
        self.cue_starts: list[int] = []
        self.clear: list[str] = []
        self.unfilterable: list[Unfilterable] = []
        self.people: list[str] = []
        self.directors: list[str] = []
        self.children = self.children_away = False
        self.film: dict[str, object] = {}  # Constraints fields the film knowledge filters by (_knowledge)
        self.tone_hits: list[tuple[int, int, str]] = []

    # -- entry ---------------------------------------------------------------------------------

    def run(self) -> Request:
        if self._is_smalltalk():
            return Request(intent="smalltalk", warnings=self.warnings)
        self.reset = self._take_all(V.RESET)
        self.clear = [name for name, pattern in V.CLEAR if self._take_all(pattern)]
        self._titled_years()
        self._people()
        self._asks()
        self._question_asks()
        self._knowledge()
        self._audience()
        self._quoted_titles()
        self._triggered_objects()
        self._untriggered_titles()
        self._standalone_refs()
        self._unfilterable()
        year_min, year_max, relative = self._years()
        popularity = self._popularity()
        self._tones()
        self._genres()
        self._find_cues()
        self._assign_polarity()
        vibe = self._vibe()
        return self._assemble(year_min, year_max, relative, popularity, vibe)

    def _clean(self, message: str) -> str:
        if len(message) > V.RAW_MESSAGE:  # bound the cost of normalising before we cut properly
            message = message[: V.RAW_MESSAGE]
        text = unicodedata.normalize("NFKC", html.unescape(message))
        text = V.TAG.sub(" ", text)
        text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
        text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
        text = re.sub(r"\s+", " ", text).strip()
        if len(text) > V.MAX_MESSAGE:
            cut = text.rfind(" ", 0, V.MAX_MESSAGE)
            text = text[: cut if cut > V.MAX_MESSAGE // 2 else V.MAX_MESSAGE]
            self.warnings.append(f"Your message was long, so I only read its first {V.MAX_MESSAGE:,} characters.")
        return text

    def _is_smalltalk(self) -> bool:
        words = [m.group() for m in V.TOKEN.finditer(self.text.lower())]
        return any(w in V.GREETINGS for w in words) and all(w in V.SMALLTALK for w in words)

    # -- masking -------------------------------------------------------------------------------

    def _take(self, start: int, end: int) -> None:
        self.work = self.work[:start] + MASK * (end - start) + self.work[end:]

    def _free(self, start: int, end: int) -> bool:
        return MASK not in self.work[start:end]

    def _take_all(self, pattern: re.Pattern) -> bool:
        found = False
        for m in pattern.finditer(self.work):
            if self._free(m.start(), m.end()):
                self._take(m.start(), m.end())
                found = True
        return found

    def _before(self, pattern: re.Pattern, pos: int) -> bool:
        """Whether the text just before `pos` ends with `pattern` (which ends in `$`)."""
        return pattern.search(self.work, max(0, pos - 60), pos) is not None

    def _token_index(self, pos: int) -> int:
        """Index of the first token starting at or after `pos`."""
        return bisect_right(self.token_starts, pos - 1)

    # -- titles and references -----------------------------------------------------------------

    def _asks(self) -> None:
        for m in V.ASK.finditer(self.work):
            if not self._free(m.start(), m.end()):
                continue
            obj = "obj" if m.group("obj") is not None else "obj2" if m.group("obj2") is not None else None
            if obj is None:
                mention = self._object_at(m.end())
            else:
                mention = self._object_at(m.start(obj), limit=m.end(obj))
            if mention is not None:
                mention.ask = True
                self.asked = True
                self._take(m.start(), m.start(obj) if obj else m.end())

    def _triggered_objects(self) -> None:
        for m in list(V.TRIGGER.finditer(self.work)):
            if not self._free(m.start(), m.end()):
                continue
            if m.group("like") is not None and self._before(V.LIKE_NOT_CUE, m.start()):
                continue
            if m.group("compared") is not None and not self._before(V.ANCHOR_AT, m.start()):
                continue  # "it was scarier than Alien": a comparison, not a request
            if m.group("think") is not None and (not self._before(V.THINK_AT, m.start())
                                                 or V.QUESTION_AHEAD.match(self.work, m.end())):
                continue  # "I think Fargo was great", "Think Fargo is worth watching?": no film to be like
            refs_only = m.group("ref_only") is not None
            mention = self._object_at(m.end(), refs_only=refs_only)
            while mention is not None:
                sep = V.LIST_SEP.match(self.work, mention.end)
                if sep is None:
                    break
                nxt = self._object_at(sep.end(), refs_only=refs_only, continuation=True)
                if nxt is None:
                    break
                nxt.head = mention.head or mention
                mention = nxt

    def _object_at(
        self, pos: int, refs_only: bool = False, continuation: bool = False,
        limit: int | None = None,
    ) -> Mention | None:
        """The title or reference starting at `pos` (after spaces), registered and masked."""
        while pos < len(self.work) and self.work[pos] in " \"'":
            pos += 1
        if pos >= len(self.work) or self.work[pos] == MASK:
            return None
        ref = V.REF_AFTER_CUE.match(self.work, pos)
        i = self._token_index(pos)
        exact = self._exact_span(i, limit) if i < len(self.tokens) else None
        if ref is not None and exact is not None and exact[1] > ref.end():
            ref = None  # "The Seventh Seal" is a film, not the seventh one shown
        if ref is not None and (limit is None or ref.end() <= limit):
            if continuation and ref.group("pron"):
                return None
            return self._add_ref(ref, pos)
        if refs_only:
            return None
        return self._title_at(pos, continuation=continuation, limit=limit)

    def _standalone_refs(self) -> None:
        for m in V.REF_STANDALONE.finditer(self.work):
            if m.group("pron") == "it" and not V.RIGHT_EVAL.match(self.work, m.end()):
                continue  # "it is late, any comedy?" is not about a film
            if self._free(m.start(), m.end()):
                self._add_ref(m, m.start())

    def _add_ref(self, m: re.Match, pos: int) -> Mention:
        n = len(self.shown)
        groups = m.groupdict()
        label = self.text[pos : m.end()].strip()
        mention = Mention(pos, m.end(), label)
        if groups.get("pron"):
            mention.pronoun = True
        elif groups.get("all") or groups.get("none"):
            mention.positions = list(range(n))
            if groups.get("none"):
                mention.polarity = -1
            if not n:
                self._nothing_shown(label, pos)
        else:
            word = groups.get("ord") or groups.get("ord2")
            count = V.COUNTS.get(groups.get("count") or groups.get("count2") or "", 1)
            if word:
                k = V.ORDINALS.get(word, int(re.sub(r"\D", "", word) or 0))
            else:
                num = groups.get("num") or "0"
                k = int(num) if num.isdigit() else V.NUMBER_WORDS[num]
            if not n:
                self._nothing_shown(label, pos)
                mention.positions = []
            elif k == -1:
                mention.positions = list(range(max(0, n - count), n))
            elif 1 <= k <= n:
                mention.positions = list(range(k - 1, min(n, k - 1 + count)))
            else:
                mention.positions = []
                self.warnings.append(f"There is no '{label}': I showed {n} film{'s' if n != 1 else ''}.")
        return self._add(mention)

    def _nothing_shown(self, label: str, pos: int) -> None:
        """Warn of a reference to shown films when none were shown; said once the genres are known, as
        a pronoun after a genre in its sentence is the genre's ("I love horror but my partner hates it";
        not "scarier than the last one", "more westerns like those")."""
        self.unshown.append((len(self.warnings), pos, label))

    def _unshown_warnings(self) -> None:
        for at, pos, label in reversed(self.unshown):
            # the genre said last before the pronoun, in its sentence, with no film or reference after it
            start = max([self._sentence_start(pos)] + [m.end for m in self.mentions if m.end <= pos and not m.pronoun])
            in_refusal = any(e <= pos < end for (_, e), end in self.refused.items())  # "westerns? I can't stand them"
            if label.lower() == "that" and self._before(V.SOMETHING_LIKE, pos) and V.CLAUSE_ENDS.match(self.low, pos + len(label)):
                continue  # "a comedy from the 90s, or something like that": an idiom, no film meant
            if (label.lower() not in V.GENRE_PRONOUNS or self._before(V.COMPARING, pos)
                    or not (in_refusal or any(start <= h[0] < pos for h in self.genre_hits))):
                self.warnings.insert(at, f"I haven't shown any films yet, so I can't tell which you mean by '{label}'.")

    def _add(self, mention: Mention | None) -> Mention | None:
        if mention is not None:
            self.mentions.append(mention)
            self._take(mention.start, mention.end)
        return mention

    def _known(self, word: str) -> bool:
        """A word the rules give a meaning to (or no meaning at all): never read alone as a title."""
        return word in V.FILLER or bool(V.GENRE_WORD.fullmatch(word)) or word in V.ORDINALS

    def _quoted(self, pos: int) -> bool:
        return pos > 0 and self.low[pos - 1] in "\"'"

    # -- years, popularity, genres -------------------------------------------------------------

    def _unfilterable(self) -> None:
        """People named as cast or director: the catalog cannot filter by them, so they are said
        back to the user and kept out of the vibe (which would otherwise pretend to match them)."""
        for kind, pattern, capitals in V.UNFILTERABLE:
            if capitals and self.all_caps:
                continue
            for m in pattern.finditer(self.text):
                s = m.start("name")
                name = V.NAME_STOP.sub("", self.text[s : m.end("name")]).strip(" .,!?;:'\"")
                words = [normalize_title(w) for w in name.split()]
                if not name or not self._free(m.start(), s + len(name)) or any(self._known(w) for w in words[:1]):
                    continue
                self.unfilterable.append(Unfilterable(kind=kind, text=name[:80]))
                cut = V.NAME_STOP.search(self.text, s, m.end("name")) is not None
                self._take(m.start(), s + len(name) if cut else m.end())  # "Spielberg's films": all of it

    def _years(self) -> tuple[int | None, int | None, str | None]:
        self._take_all(V.BORN)  # "I was born in 1980": a person's year, never a film's
        for m in V.CONTEXT_NUMBER.finditer(self.work):
            n = int(m.group("n"))
            if not 1800 <= n <= 2100 and self._free(m.start(), m.end()):
                self.warnings.append(f"{n} is not a year I can search, so I ignored it.")
                self._take(m.start(), m.end())
        bounds = self._year_rule_bounds()
        # a year or decade said closes the era, or starts it after the old days: then "classic",
        # "vintage", "retro" describe it ("80s classics", "classics after 1975") and add no bound
        explicit = any(b[1] is not None or (b[0] or 0) > V.OLD_YEAR_MAX for b in bounds)
        newest = self.und.newest_year_
        for m in V.NOT_TOO.finditer(self.work):  # "nothing too recent": before the relative "too recent"
            if self._free(m.start(), m.end()):
                bound = (None, newest - V.RECENT_YEARS - 1) if m.group("new") else (V.OLD_YEAR_MAX + 1, None)
                bounds.append((*bound, m.group(), m.start()))
                self._take(m.start(), m.end())
        relative = None
        if self._take_all(V.OLDER):
            relative = "older"
        if self._take_all(V.NEWER):
            relative = "newer" if relative is None else None
        for m in V.RECENT.finditer(self.work):
            if self._free(m.start(), m.end()):
                neg = bool(self._before(V.POP_NEG, m.start()))
                bound = (None, newest - V.RECENT_YEARS - 1) if neg else (newest - V.RECENT_YEARS, None)
                bounds.append((*bound, m.group(), m.start()))
                self._take(m.start(), m.end())
        # a later era said ("a modern classic", "something recent, maybe a future classic", "a classic,
        # nothing too old") makes "classic", "old", "retro" describe the film, as a decade does; said as
        # the other choice ("old classics or recent hits"), neither era binds
        later = [b for b in bounds if (b[0] or 0) > V.OLD_YEAR_MAX]
        carried = -1  # a negation reaches the next era word over plain words: "no old black and white stuff"
        worn = [w.span() for w in V.WORN_OUT_RE.finditer(self.work)]  # "westerns have gotten kinda old"
        for m in V.OLD.finditer(self.work):
            if any(s <= m.start() < e for s, e in worn):
                continue
            if self._free(m.start(), m.end()) and not self._before(V.AGE, m.start()):
                gap = self.work[carried:m.start()] if carried >= 0 else "x"
                neg = (bool(self._before(V.POP_NEG, m.start()) or self._before(V.NEG_BEFORE, m.start()))
                       or not [w for w in V.TOKEN.findall(gap) if w not in V.FILLER])
                carried = m.end() if neg else -1
                bound = (V.OLD_YEAR_MAX + 1, None) if neg else (None, V.OLD_YEAR_MAX)
                describes = V.OLD_DESCRIBES.fullmatch(m.group()) and (explicit or later)  # "80s classics"
                if not neg and describes and not explicit:
                    either = [b for b in later if V.OR_BETWEEN.search(self.work, *sorted((b[3], m.start())))]
                    bounds[:] = [b for b in bounds if b not in either]
                if neg or not describes:
                    bounds.append((*bound, m.group(), m.start()))
                self._take(m.start(), m.end())
        return (*self._intersect(self._eras_as_choices(bounds)), relative)

    def _eras_as_choices(self, bounds: list[tuple[int | None, int | None, str, int]]
                         ) -> list[tuple[int | None, int | None, str, int]]:
        """Two eras each with both ends, said in one message, are choices, not one film's two years:
        with a word of choice between them, their union ("late 80s, maybe early 90s", "a 90s comedy, or
        perhaps late 80s"); a correction keeps the later ("the 70s, actually make it the 90s"). Other
        eras hold together as before: they narrow, or their contradiction is said."""
        closed = sorted((b for b in bounds if b[0] is not None and b[1] is not None), key=lambda b: b[3])
        if len(closed) < 2:
            return bounds
        merged = [closed[0]]
        for later in closed[1:]:
            first = merged[-1]
            end = first[3]
            while end < len(self.work) and self.work[end] == MASK:
                end += 1
            between = self.low[end:later[3]]
            if V.ERA_CORRECTION.search(between):
                merged[-1] = later
            elif V.ERA_CHOICE.search(between):
                merged[-1] = (min(first[0], later[0]), max(first[1], later[1]), f"{first[2]} or {later[2]}", first[3])
            else:
                merged.append(later)
        return [b for b in bounds if b[0] is None or b[1] is None] + merged

    def _year_rule_bounds(self) -> list[tuple[int | None, int | None, str, int]]:
        """(min, max, label, where) for each year phrase, in the order of V.YEAR_RULES."""
        bounds = []
        for kind, pattern in V.YEAR_RULES:
            for m in pattern.finditer(self.work):
                if not self._free(m.start(), m.end()):
                    continue
                if kind == "list":  # every year or decade named: the span they cover
                    spans = [_year_span(y.group()) for y in re.finditer(V.YEARISH, m.group())]
                    a = b = None if None in spans or not spans else (min(x[0] for x in spans), max(x[1] for x in spans))
                else:
                    a = _year_span(m.group("a"))
                    b = _year_span(m.group("b")) if "b" in pattern.groupindex and m.group("b") else None
                if a is None or (kind == "range" and b is None):
                    continue
                if kind == "point" and re.fullmatch(r"\d{4}", m.group()) and not 1880 <= a[0] <= 2030:
                    continue  # a bare number such as 3000 is not read as a year
                label = m.group("a").strip() if kind == "point" else m.group().strip()
                bound = self._year_bound(kind, a, b, bool(self._before(V.NEG_BEFORE, m.start())), label)
                self._take(m.start(), m.end())
                if bound is None:
                    continue
                if any(v is not None and not 1800 <= v <= 2100 for v in bound):
                    self.warnings.append(f"'{m.group().strip()}' is not a year range I can search, so I ignored it.")
                    continue
                bounds.append((bound[0], bound[1], label, m.start()))
        return bounds

    def _year_bound(self, kind: str, a: tuple[int, int], b: tuple[int, int] | None, negated: bool,
                    label: str) -> tuple[int | None, int | None] | None:
        lo, hi = a
        if kind == "range":
            return min(lo, b[0]), max(hi, b[1])
        if kind == "max_excl":
            return (lo, None) if negated else (None, lo - 1)
        if kind == "max_incl":
            return (hi + 1, None) if negated else (None, hi)
        if kind == "min_incl":
            return (None, lo - 1) if negated else (lo, None)
        if kind == "min_excl":
            return (None, hi) if negated else (hi + 1, None)
        if kind == "around":
            return lo - 2, hi + 2
        if negated:  # a point or a list
            label = re.sub(r"^the\s+", "", label)
            self.warnings.append(f"I can't leave out just the {label}, so I ignored that.")
            return None
        return lo, hi

    def _intersect(self, bounds: list[tuple[int | None, int | None, str, int]]) -> tuple[int | None, int | None]:
        """Every bound holds at once; a contradiction or a span outside the catalog is said."""
        year_min = max((b for b in bounds if b[0] is not None), key=lambda b: b[0], default=None)
        year_max = min((b for b in bounds if b[1] is not None), key=lambda b: b[1], default=None)
        lo = year_min[0] if year_min else None
        hi = year_max[1] if year_max else None
        if lo is not None and hi is not None and lo > hi:
            first, second = sorted((year_min, year_max), key=lambda b: b[3])
            self.warnings.append(
                f"{first[2]} and {second[2]} cannot both hold, so no film can match both; "
                "tell me which one you meant."
            )
        elif (lo is not None and lo > self.und.newest_year_) or (hi is not None and hi < self.und.oldest_year_):
            self.warnings.append(f"The catalog only has films from {self.und.oldest_year_} to {self.und.newest_year_}.")
        return lo, hi

    def _popularity(self) -> str | None:
        found = None
        for pattern, value, other in ((V.OBSCURE, "obscure", "popular"), (V.POPULAR, "popular", "obscure")):
            for m in pattern.finditer(self.work):
                if self._free(m.start(), m.end()):
                    neg = bool(self._before(V.POP_NEG, m.start()))
                    found = found or (other if neg else value)
                    self._take(m.start(), m.end())
        return found

    def _genres(self) -> None:
        hits: list[tuple[int, int, tuple[str, ...], bool]] = []
        for pattern, genres, generic in V.GENRE_RES:
            for m in pattern.finditer(self.work):
                if self._free(m.start(), m.end()) and not any(s < m.end() and m.start() < e for s, e, _, _ in hits):
                    hits.append((m.start(), m.end(), genres, generic))
        for m in V.TOKEN.finditer(self.work):  # a misspelt genre word: "comdy", "thriler"
            word = m.group()
            if (len(word) < 5 or word in V.FILLER or word in V.CHAT or word in self.und.title_prefixes_
                    or word in known_words()  # a word spelt right is no typo: "thrilled", "musician"
                    or any(s < m.end() and m.start() < e for s, e, _, _ in hits)):
                continue
            best = process.extractOne(word, list(V.GENRE_SPELLINGS), scorer=fuzz.ratio, score_cutoff=V.GENRE_TYPO_MIN)
            if best is not None and best[0][0] == word[0]:
                hits.append((m.start(), m.end(), (V.GENRE_SPELLINGS[best[0]],), True))
        self.genre_hits = sorted(hits)
        for s, e, _, generic in hits:
            if generic:
                self._take(s, e)

    # -- stance --------------------------------------------------------------------------------

    def _find_cues(self) -> None:
        self.boundaries = [m.end() for m in V.BOUNDARY.finditer(self.work)]
        prev: _Cue | None = None
        for m in V.CUE.finditer(self.work):
            kind = m.lastgroup
            if kind == "anchor" and not self._before(V.ANCHOR_AT, m.start()):
                continue
            polarity = {"anchor": 1, "neutral": 1, "neg": -1, "heard": 0, "seen": 0, "pos": 1}[kind]
            text = m.group()
            opinion = bool(V.OPINION.fullmatch(text))
            if text in ("like", "love", "more like") and self._before(V.OPINION_SUBJECT, m.start()):
                opinion = True
            same_clause = prev is not None and self._clause_start(prev.start) == self._clause_start(m.start())
            if kind in ("pos", "seen") and same_clause and prev.polarity == -1:
                between = self.work[prev.end : m.start()]
                if not [w for w in V.TOKEN.findall(between) if w not in V.FILLER] and MASK not in between:
                    if kind == "seen":  # "I've never seen Alien, is it good?": not seen, nor liked
                        kind = "heard"
                    else:
                        polarity = -1  # "nothing like", "don't want anything with": the negation carries
                        opinion = opinion or bool(V.OPINION.search(self.work[prev.start : prev.end]))
            cue = _Cue(m.start(), m.end(), polarity, opinion, kind)
            self.cues.append(cue)
            prev = cue
        self.cue_starts = [c.start for c in self.cues]

    def _clause_start(self, pos: int) -> int:
        k = bisect_right(self.boundaries, pos)
        return self.boundaries[k - 1] if k else 0

    def _stance(self, pos: int) -> _Cue | None:
        """The last cue before `pos` in the same clause, if any."""
        k = bisect_right(self.cue_starts, pos - 1)
        if k and self.cues[k - 1].end <= pos and self.cues[k - 1].start >= self._clause_start(pos):
            return self.cues[k - 1]
        return None

    def _assign_polarity(self) -> None:
        for mention in self.mentions:
            if mention.head is not None:
                continue
            cue = self._stance(mention.start)
            mention.seen = mention.seen or bool(cue and cue.kind == "seen") or self._before(V.SEEN_BEFORE, mention.start)
            if mention.polarity is None:
                mention.polarity = cue.polarity if cue else None
            mention.opinion = bool(cue and cue.opinion)
            if mention.polarity in (None, 0):
                right = V.RIGHT_EVAL.match(self.work, mention.end)
                if right:
                    mention.polarity = 1 if right.group("pos") else -1
                    mention.opinion = True
                    self._take(mention.end, right.end())
            if mention.polarity is None:
                mention.polarity = 1
        for mention in self.mentions:
            if mention.head is not None:
                mention.polarity, mention.opinion = mention.head.polarity, mention.head.opinion
                mention.seen = mention.seen or mention.head.seen

    # -- vibe and the request ------------------------------------------------------------------

    def _vibe(self) -> str:
        cue_spans = [(c.start, c.end) for c in self.cues] + [(s, e) for s, e, *_ in self.genre_hits
                                                           if self._against(s, e) or self._dropped(s, e)]
        clauses, asking = self._clauses()
        chat = [m.span() for m in V.IDIOMS.finditer(self.low)]
        if any(asking):  # only where a topic sits in a clause that asks (other clauses are small talk)
            keep: list[tuple[int, int]] | None = self._topic_spans(clauses, asking)
        else:  # a bare topic ("pirates?"), less what the person says of themselves ("I'm exhausted")
            keep = None
            chat += [(s, e) for s, e in clauses if V.SPEAKER_STATE.search(self.low, s, e)]
        words = []
        for m in V.TOKEN.finditer(self.work):
            word = m.group()
            if any(s <= m.start() < e for s, e in chat):
                continue
            if keep is not None and not any(s <= m.start() < e for s, e in keep):
                continue
            if (word in V.FILLER or word in V.CHAT or V.NUMBERISH.fullmatch(word)
                    or any(s <= m.start() < e for s, e in cue_spans) or self._a_name(m.start(), word)):
                continue
            cue = self._stance(m.start())
            if cue is not None and cue.polarity == -1:
                continue
            words.append(self.text[m.start() : m.end()])
        vibe = " ".join(words)
        if len(vibe) > V.MAX_VIBE_CHARS:
            vibe = vibe[: vibe.rfind(" ", 0, V.MAX_VIBE_CHARS + 1)].strip() or vibe[:V.MAX_VIBE_CHARS]
        return vibe

    def _clauses(self) -> tuple[list[tuple[int, int]], list[bool]]:
        """The message's clauses, and whether each asks for something: a genre, title, tone or
        request word in it."""
        points = ([h[0] for h in self.genre_hits] + [m.start for m in self.mentions] + [t[0] for t in self.tone_hits]
                  + [m.start() for m in V.REQUEST_WORDS.finditer(self.low)])
        clauses = [(s, e) for s, e in zip([0, *self.boundaries], [*self.boundaries, len(self.work)], strict=True) if e > s]
        return clauses, [any(s <= p < e for p in points) for s, e in clauses]

    def _topic_spans(self, clauses: list[tuple[int, int]], asking: list[bool]) -> list[tuple[int, int]]:
        """Where the asking clauses say what the film is about (``V.TOPIC_LEAD`` to the clause's
        end, the word after "something", the words before a film noun or genre word, a specific
        genre word itself)."""
        spans = []
        for (s, e), asks in zip(clauses, asking, strict=True):
            if not asks:
                continue
            spans += [(m.end(), e) for m in V.TOPIC_LEAD.finditer(self.low, s, e)]
            spans += [m.span("w") for m in V.AFTER_THING.finditer(self.low, s, e)
                      if m.group("w") not in V.FILLER and m.group("w") not in V.CHAT]
            heads = [m.start() for m in V.FILM_NOUN.finditer(self.low, s, e)] + [h[0] for h in self.genre_hits if s <= h[0] < e]
            # a specific genre word ("whodunit", "slasher") says more than its genre: it is a topic
            spans += [(h[0], h[1]) for h in self.genre_hits if s <= h[0] < e and not h[3]]
            for head in heads:
                before = [t.start() for t in V.TOKEN.finditer(self.low, s, head)][-V.PREMODIFIERS:]
                if before:
                    spans.append((before[0], head))
        return spans

    def _a_name(self, pos: int, word: str) -> bool:
        """A given name, capitalised ("Tom said you were good at this"): a person of the person's
        life, not a word about films ("my friend Jessica" is masked by ``_people``)."""
        return word in V.FIRST_NAMES and self.text[pos].isupper()

    def _assemble(self, year_min, year_max, relative, popularity, vibe) -> Request:
        # a clause refusing a genre said before it ("westerns? I can't stand them", "I loved dramas, but
        # now I dislike them"): read once; its pronoun is the genre, not the films shown (_items)
        self.refused = {(s, e): end for s, e, *_ in self.genre_hits if (end := self._refusal_end(s, e)) is not None}
        # genres said together take the refusal together ("I binged comedies and dramas all summer, so
        # I'm over them", "comedies and dramas? I can't stand them"): words joined by "and", "or", a comma
        hits = sorted((s, e) for s, e, *_ in self.genre_hits)
        pairs = [(a, b) for a, b in zip(hits, hits[1:], strict=False) if V.COORDINATED.fullmatch(self.low, a[1], b[0])]
        for a, b in [*reversed(pairs), *pairs]:  # a run of them, either way
            if (a in self.refused) != (b in self.refused):
                self.refused[b if a in self.refused else a] = self.refused.get(a) or self.refused[b]
        found = self._items()
        self._unshown_warnings()
        genres_in, genres_out, genres_drop, comparative = self._genre_sets()
        tone, tone_none = self._tone_sets()
        audience = "children" if self.children and not self.children_away and "audience" not in self.clear else None
        constraints = bool(genres_in or genres_out or genres_drop or year_min or year_max or relative
                           or popularity or vibe or self.clear or tone or tone_none or audience or self.directors
                           or self.film)
        mentioned_titles = any(m.positions is None and not m.pronoun for m in self.mentions)
        if self.reset:
            intent = "reset"
        elif self.asked and (found.ask_about is not None or any(m.ask for m in self.mentions)):
            intent = "ask_item"
        elif found.seen and not constraints and not V.ASKS_FOR_MORE.search(self.low):
            intent = "feedback"  # "seen it": the list moves on without it
        elif (found.opinions and not found.requests and not constraints
              and not V.ASKS_FOR_MORE.search(self.low)):
            intent = "feedback"
        elif self.shown and (
            found.shown_liked or found.shown_disliked or relative
            or (V.REFINE.search(self.low) and not mentioned_titles)
        ):
            intent = "refine"
        else:
            intent = "recommend"
        mode = "add" if comparative or V.ADD.search(self.work) else "replace" if V.REPLACE.search(self.work) else None
        return Request(
            intent=intent, mode=mode,
            liked_items=list(found.liked), disliked_items=list(found.disliked), items_drop=list(found.dropped),
            unknown_titles=found.unknown, unknown_liked=found.unknown_liked, ambiguous_titles=found.ambiguous,
            constraints=Constraints(genres=list(genres_in), genres_none=list(genres_out), year_min=year_min,
                                    year_max=year_max, popularity=popularity, audience=audience,
                                    directors=list(dict.fromkeys(self.directors)), **self.film),
            genres_drop=list(genres_drop), relative_year=relative,
            clear=self.clear, unfilterable=self.unfilterable,
            shown_liked=list(found.shown_liked), shown_disliked=list(found.shown_disliked),
            ask_about=found.ask_about, vibe=vibe, warnings=list(dict.fromkeys(self.warnings)),
            people=list(dict.fromkeys(self.people)), tone=tone, tone_none=tone_none,
            seen_items=list(found.seen), seen_shown=list(found.seen_shown),
            question=self._question_kind() if intent == "ask_item" else None,
            anything=bool(V.ANYTHING.search(self.low)),
        )  # fmt: skip

    def _items(self) -> _Found:
        """Titles and shown-list references, with their stance, as item ids and positions."""
        catalog, found = self.und.catalog, _Found()
        for mention in sorted(self.mentions, key=lambda m: m.start):  # as said: the last word on a film wins
            if mention.label.lower() in V.GENRE_PRONOUNS and any(  # not "the comedy? I can't stand it": a film
                    e <= mention.start < end for (s, e), end in self.refused.items() if not self.low[:s].endswith("the ")):
                continue
            target = self._target(mention)
            if target is None:
                continue
            if mention.opinion:
                found.opinions += 1
            elif not mention.ask:
                found.requests += 1
            if mention.ask and found.ask_about is None:
                if target.item_id is not None:
                    found.ask_about = target.item_id
                elif target.positions:
                    item = self.shown[target.positions[0]]
                    if _in_catalog(item, catalog):
                        found.ask_about = int(item)
                    else:
                        self.warnings.append(f"I can't find '{mention.label}' in the catalog.")
            head = mention.head or mention
            if mention.seen and not mention.ask:  # seen: never shown again; a taste unless said against
                if target.item_id is not None and target.item_id in catalog:
                    found.seen[target.item_id] = None
                for p in target.positions or []:
                    found.seen_shown[p] = None
                if mention.polarity in (None, 0):
                    mention.polarity = 1
            if target.item_id is not None and target.item_id in catalog:
                if mention.ask:
                    continue
                if self._before(V.ITEM_DROP, head.start):  # "forget about Fargo": neither liked nor disliked
                    found.dropped[target.item_id] = None
                else:
                    _side(found.liked, found.disliked, target.item_id, mention.polarity)
            elif target.candidates:
                found.ambiguous[target.label] = [i for i in target.candidates if i in catalog]
            elif target.unknown and target.label not in found.unknown:
                found.unknown.append(target.label)
                if mention.polarity != -1 and not mention.ask:
                    found.unknown_liked.append(target.label)
            elif target.positions is not None and not mention.ask and not self._before(V.ITEM_DROP, head.start):
                for p in target.positions:
                    _side(found.shown_liked, found.shown_disliked, p, mention.polarity)
        return found

    def _target(self, mention: Mention) -> Mention | None:
        """What a mention is about: itself, or for a pronoun the title or reference before it."""
        if not mention.pronoun:
            return mention
        before = [m for m in self.mentions if m.end <= mention.start and not m.pronoun]
        title = max((m for m in before if m.positions is None), key=lambda m: m.start, default=None)
        ref = max((m for m in before if m.positions is not None), key=lambda m: m.start, default=None)
        target = max((m for m in (title, ref) if m is not None), key=lambda m: m.start, default=None)
        if target is None:
            if not self.shown:
                self._nothing_shown(mention.label, mention.start)
                return None
            target = Mention(mention.start, mention.end, mention.label, positions=[0])
        return target

    def _dropped(self, s: int, e: int) -> bool:
        """Whether the genre word at s:e is no longer wanted ("no more horror", "enough space")."""
        return bool(self._before(V.DROP_BEFORE, s)) or V.DROP_AFTER.match(self.low, e) is not None

    def _against(self, s: int, e: int) -> bool:
        """Whether the genre word at s:e is said against ("not horror", "westerns bore me", "less romance
        than Titanic")."""
        at, less = self._compared_at(s, e)
        cue = self._stance(at)
        return less or (cue is not None and cue.polarity == -1) or V.GENRE_NEG_AFTER.match(self.low, e) is not None

    def _topic_refusal_end(self, s: int, e: int) -> int | None:
        """Where the sentence ends if the genre word at s:e (with the genres joined to it) opens it as
        the topic and the rest refuses it ("westerns? I can't watch them anymore"; TOPIC_REFUSAL)."""
        if self._stance(s) is not None or not V.TOPIC_BEFORE.fullmatch(self.low, self._sentence_start(s), s):
            return None
        mark = V.TOPIC_MARK.match(self.low, self._run_end(e))
        if mark is None:
            return None
        end = self._sentence_end(mark.end())
        return end if V.TOPIC_REFUSAL.fullmatch(self.low, mark.end(), end) else None

    def _retracted(self, s: int, e: int) -> bool:
        """Whether the genre word at s:e is a taste stated before and taken back right after it ("I know
        I said I loved westerns, but not anymore"; RETRACT_NEAR in vocabulary)."""
        if V.RETRACT_FRAME.search(self.low, self._sentence_start(s), s) is None:
            return False
        near = V.RETRACT_NEAR.match(self.low, e)
        return near is not None and self._alone_between(e, near.end())

    def _refused_after(self, s: int, e: int) -> bool:
        """Whether the genre word at s:e, a taste or habit of before, is refused by a later clause of its
        sentence ("I loved dramas for years, but now I dislike them"; REFUSAL_FRAME, FRAME_GAP, WHEN,
        CONTRAST, TOPIC_REFUSAL and OWN_REFUSAL in vocabulary), with no other genre or film after it."""
        end = self._sentence_end(e)
        if not self._alone_between(e, end) or (self.shown and V.DEMONSTRATIVE.search(self.low, e, end)):
            return False  # with films shown, "so I'll pass on those" is of them
        frames = list(V.REFUSAL_FRAME.finditer(self.low, self._sentence_start(s), s))
        framed = bool(frames) and V.FRAME_GAP.fullmatch(self.low, frames[-1].end(), s) is not None  # right before it
        for turn in V.CONTRAST.finditer(self.low, e, end):
            if not V.WHEN_BETWEEN.fullmatch(self.low, e, turn.start()):
                continue
            # framed, any refusal; else, after a time ("dramas lately, I'm sick of them"), only one with a verb
            # of its own: an ellipsis or "never" takes the first clause's verb ("I was scared of horror as
            # a kid, but I'm not anymore", "I've wanted westerns for years, but I never watch them")
            if framed:
                refusal = V.TOPIC_REFUSAL
            elif V.WHEN.search(self.low, e, turn.start()):
                refusal = V.OWN_REFUSAL
            else:
                continue
            if refusal.fullmatch(self.low, turn.end(), end):
                return True
        return False

    def _refusal_end(self, s: int, e: int) -> int | None:
        """Where the clause refusing the genre word at s:e ends, if one does (a later clause or the topic's)."""
        if self._refused_after(s, e):
            return self._sentence_end(e)
        return self._topic_refusal_end(s, e)

    def _run_end(self, e: int) -> int:
        """The end of the genre words joined to the one ending at e ("comedies and dramas? ...")."""
        for h in sorted(self.genre_hits):
            if h[0] >= e and V.COORDINATED.fullmatch(self.low, e, h[0]):
                e = h[1]
        return e

    def _subject_against(self, s: int, e: int) -> bool:
        """Whether the genre word at s:e opens its clause as the subject of a predicate against it
        ("drama's not for me these days"; not "if a thriller drags", "people say westerns drag", "long
        dramas drag") that nothing later in the message takes up again (SUBJECT_AGAINST, TAKEN_UP)."""
        if not V.SUBJECT_BEFORE.fullmatch(self.low, self._clause_start(s), s):
            return False
        m = V.SUBJECT_AGAINST.match(self.low, e)
        return m is not None and V.TAKEN_UP.search(self.low, m.end()) is None

    def _sentence_end(self, pos: int) -> int:
        return next((m.start() for m in V.SENTENCE_END.finditer(self.low, pos)), len(self.low))

    def _alone_between(self, e: int, end: int) -> bool:
        """No other genre or film named between e and end: what is said there is of the word before e."""
        return not any(e <= h[0] < end for h in self.genre_hits) and not any(
            e <= m.start < end and m.positions is None and not m.pronoun for m in self.mentions)

    def _sentence_start(self, pos: int) -> int:
        return max((m.end() for m in V.SENTENCE_END.finditer(self.low, 0, pos)), default=0)

    def _compared_at(self, s: int, e: int) -> tuple[int, bool]:
        """Where the stance of the words at s:e is read, and whether they are said less of: inside a
        comparative ("nothing darker than X", "less violent than X") its start, else s."""
        anchor = next((c for c in self.cues if c.kind == "anchor" and c.start <= s and e <= c.end), None)
        if anchor is None:
            return s, False
        return anchor.start, self.work.startswith("less", anchor.start)

    def _genre_sets(self) -> tuple[dict[str, None], dict[str, None], dict[str, None], bool]:
        """Wanted, excluded and withdrawn genres, and whether one was said as a comparative ("funnier")."""
        genres_in: dict[str, None] = {}
        genres_out: dict[str, None] = {}
        genres_drop: dict[str, None] = {}
        comparative = False
        # a genre asked for by its own name ("comedy yes, romantic comedy no", "sci-fi but nothing
        # with aliens") stays wanted when a blend or a theme word of it is said against
        alone = {g for s, _, gs, generic in self.genre_hits if len(gs) == 1 and generic for g in gs
                 if not (self._stance(s) and self._stance(s).polarity == -1)}
        for s, e, genres, generic in self.genre_hits:
            drop = self._dropped(s, e)
            negative = (self._against(s, e) or self._subject_against(s, e) or self._retracted(s, e)
                        or (s, e) in self.refused)
            if not drop and not negative and (self.low[s:e].endswith("ier") or self._before(V.COMPARATIVE_BEFORE, s)):
                comparative = True
            for g in genres:
                name = self.und.genres_.get(g)
                if name is None:
                    continue
                if drop:
                    genres_drop[name] = None
                    genres_in.pop(name, None)
                elif negative:
                    if (len(genres) > 1 or not generic) and g in alone:
                        continue
                    genres_out[name] = None
                    genres_in.pop(name, None)
                else:
                    genres_in[name] = None
                    genres_out.pop(name, None)
        return genres_in, genres_out, genres_drop, comparative


@dataclass
class _Found:
    """What the mentions of one message add up to."""

    liked: dict[int, None] = field(default_factory=dict)
    disliked: dict[int, None] = field(default_factory=dict)
    dropped: dict[int, None] = field(default_factory=dict)
    shown_liked: dict[int, None] = field(default_factory=dict)
    shown_disliked: dict[int, None] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    unknown_liked: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[int]] = field(default_factory=dict)
    ask_about: int | None = None
    seen: dict[int, None] = field(default_factory=dict)
    seen_shown: dict[int, None] = field(default_factory=dict)
    opinions: int = 0
    requests: int = 0


def _side(yes: dict, no: dict, key: int, polarity: int | None) -> None:
    """Put ``key`` on the liked (+1) or disliked (-1) side, taking it off the other."""
    if polarity == 1:
        yes[key] = None
        no.pop(key, None)
    elif polarity == -1:
        no[key] = None
        yes.pop(key, None)




def _in_catalog(item: object, catalog: Catalog) -> bool:
    """Whether a caller-given id is a catalog item (ids of any type or size are simply not)."""
    return isinstance(item, int | np.integer) and not isinstance(item, bool) and int(item) in catalog



def _year_span(text: str) -> tuple[int, int] | None:
    """'1995' -> (1995, 1995); '90s' -> (1990, 1999); 'early 80s' -> (1980, 1983); 'mid-to-late 80s'
    -> (1983, 1989); "'95" -> (1995, 1995)."""
    t = text.lower().replace("’", "'").strip()
    part = re.match(rf"{V.DECADE_PART}[\s-]+", t)
    parts = re.findall(r"early|mid|late", part.group()) if part else []
    t = (t[part.end():] if part else t).strip()
    t = re.sub(r"^the\s+", "", t).strip()
    if t in V.DECADE_WORDS:
        lo, hi = V.DECADE_WORDS[t], V.DECADE_WORDS[t] + 9
    elif m := re.fullmatch(r"'?(\d{2,4})'?s", t):
        d = int(m.group(1))
        if d < 100:
            d += 2000 if d < 20 else 1900
        if d % 10:
            return None
        lo, hi = d, d + 9
    elif m := re.fullmatch(r"'(\d\d)", t):
        y = int(m.group(1))
        lo = hi = y + (2000 if y < 30 else 1900)
    elif re.fullmatch(r"\d{4}", t):
        lo = hi = int(t)
    else:
        return None
    if parts and hi - lo == 9:
        spans = [{"early": (lo, lo + 3), "mid": (lo + 3, lo + 6), "late": (lo + 6, hi)}[p] for p in parts]
        lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    return lo, hi


def _people_patterns(items: list, title_keys: set[str]) -> tuple[re.Pattern, dict[str, str | None]]:
    """One pattern over the original text for every person the understander knows by name, and
    each name (lowercased) -> the director's catalog name, or None for an actor. A director's
    surname alone counts when only one director has it and no title holds it as a word
    ("kubrick", "Hitchcock"); an actor needs the whole name."""
    directors = sorted({d for it in items if (d := getattr(it, "director", None))})
    title_words = {w for k in title_keys for w in k.split()}
    surnames: dict[str, list[str]] = {}
    for d in directors:
        surnames.setdefault(d.split()[-1].lower(), []).append(d)
    names: dict[str, str | None] = {a.lower(): None for a in V.ACTOR_NAMES}
    names.update({d.lower(): d for d in directors})
    for surname, ds in surnames.items():
        if (len(ds) == 1 and len(surname) > 3 and surname not in title_words and surname not in V.FILLER
                and surname not in V.CHAT and surname not in V.EVERYDAY and not V.GENRE_WORD.fullmatch(surname)):
            names.setdefault(surname, ds[0])
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?i)(?<![\w'])(?:{alternation})(?:'s)?(?![\w'])"), names
