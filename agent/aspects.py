"""What a message says beyond titles, genres and years (issue 22): who is watching, people named,
tones, what the catalog's film knowledge can filter by, films written with their year, and what
a question about a film asks.

A part of the offline understander (``agent/understand.py``), like ``agent/titles.py``:
``AspectFinding`` is mixed into its per-message parse, whose masked working text, tokens, cues and
mentions it reads and extends. Every table lives in ``agent/vocabulary.py`` or ``agent/tones.py``.
"""

from __future__ import annotations

import re

from agent import vocabulary as V
from agent.request import Unfilterable
from agent.titles import Mention
from agent.tones import TONE_RES
from tools.catalog import normalize_title

ACTORS = {a.lower() for a in V.ACTOR_NAMES}
YEAR_AFTER_TITLE = re.compile(r"\(\s*(?P<y>1[89]\d\d|20\d\d)\s*\)")
CONNECTORS = {"of", "the", "a", "an", "and", "in", "on", "to", "&", "de", "la", "le", "du", "for", "with", "at"}
WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "a": 1, "an": 1, "half": 0.5}


def _rating(m: re.Match) -> str:
    return re.sub(r"[\s-]", "", m.group("r").upper()).replace("PG13", "PG-13").replace("NC17", "NC-17")


def _rating_at_most(m: re.Match) -> str | None:
    named = _rating(m)
    return None if named == "NC-17" else named  # "NC-17 or milder" asks nothing


def _rating_below(m: re.Match) -> str | None:
    k = V.RATINGS.index(_rating(m))
    return V.RATINGS[k - 1] if k > 0 else None


def _minutes(m: re.Match) -> int | None:
    """A length said in hours or minutes ("under an hour and a half"), or "short"; None outside
    30-600 minutes."""
    if m.group("short"):
        return V.SHORT_MINUTES
    n, unit = (m.group("n"), m.group("unit")) if m.group("n") else (m.group("n2"), m.group("unit2"))
    value = (float(n) if n[0].isdigit() else WORD_NUMBERS.get(n, 1)) + (0.5 if m.group("half") or m.group("half_after") else 0)
    minutes = int(round(value * 60)) if unit.startswith("h") else int(value)
    return minutes if 30 <= minutes <= 600 else None


def _milder(a: str, b: str) -> str:
    return min(a, b, key=V.RATINGS.index)


# reader name (agent/vocabulary.py: KNOWLEDGE) -> (the value a match says or None, the tighter of two)
READERS = {
    "rating-at-most": (_rating_at_most, _milder),
    "rating-below": (_rating_below, _milder),
    "minutes": (_minutes, min),
    "flag": (lambda m: True, lambda a, b: True),
}


class AspectFinding:
    """The issue-22 reading steps of one message's parse (see ``understand._MessageParse``)."""

    # -- "Title (1999)": that film, never a year filter --------------------------------------------

    def _titled_years(self) -> None:
        """A year in parentheses right after words names the film those words are: the catalog's
        film of that title and year (a year off allowed), else a film the catalog lacks. Either
        way the year is no constraint."""
        for m in list(YEAR_AFTER_TITLE.finditer(self.work)):
            if not self._free(m.start(), m.end()):
                continue
            year = int(m.group("y"))
            end_tok = self._token_index(m.start()) - 1  # the last token before "("
            if end_tok < 0 or self.tokens[end_tok][1] > m.start() or not self._free(*self.tokens[end_tok][:2]):
                continue
            mention = self._catalog_title_before(end_tok, year, m.end()) or self._unknown_title_before(end_tok, m.end())
            if mention is None:
                self._take(m.start(), m.end())  # "(1999)" alone: still no year filter
                continue
            self._add(mention)

    def _catalog_title_before(self, last: int, year: int, end: int) -> Mention | None:
        best = None
        for first in range(last, max(-1, last - 12), -1):
            s = self.tokens[first][0]
            if not self._free(s, self.tokens[last][1]):
                break
            key = " ".join(t[2] for t in self.tokens[first : last + 1])
            for k in (key, key.removeprefix("the ").removeprefix("a ").removeprefix("an ")):
                ids = [i for i in self.und.titles_.get(k, []) if abs((self.und.years_.get(i) or 0) - year) <= 1]
                if ids:
                    exact = [i for i in ids if self.und.years_.get(i) == year] or ids
                    best = Mention(s, end, self.text[s:end], item_id=exact[0])
        return best

    def _unknown_title_before(self, last: int, end: int) -> Mention | None:
        """The words before "(year)" that read as a title: a capitalised run (small words inside
        allowed), or, in a lowercase message, the words back to a cue or the clause's start."""
        first = last
        capitalised = self.text[self.tokens[last][0]].isupper() or self.text[self.tokens[last][0]].isdigit()
        while first > 0:
            s, e, norm = self.tokens[first - 1]
            gap = self.work[e : self.tokens[first][0]]
            if not self._free(s, e) or V.ends_sentence(gap, norm, V.HARD_STOP) and gap.strip() not in ("", ":", "-"):
                break
            word = self.text[s:e]
            if capitalised:
                if not (word[:1].isupper() or word[:1].isdigit() or norm in CONNECTORS) or norm in ("i", "i'm"):
                    break
            elif norm in V.FILLER or norm in V.CHAT or V.CUE.fullmatch(norm) or V.TRIGGER.fullmatch(norm):
                break
            first -= 1
        while first <= last and self.tokens[first][2] in CONNECTORS - {"the", "a", "an"}:
            first += 1
        if first > last:
            return None
        s = self.tokens[first][0]
        label = self.text[s : self.tokens[last][1]]
        return Mention(s, end, label, unknown=True)

    # -- people ---------------------------------------------------------------------------------

    def _people(self) -> None:
        """Actors and directors named: said back as people, kept out of titles and the vibe; a
        director the catalog knows also filters (``Constraints.directors``)."""
        pattern, names = self.und.people_
        for m in pattern.finditer(self.text):
            s, e = m.span()
            if not self._free(s, e) or self._inside_longer_title(s, e):
                continue
            written = re.sub(r"'s$", "", self.text[s:e])
            director = names[written.lower()]
            self.people.append(written)
            if director is not None and director.lower() in ACTORS and not self._before(V.DIRECTOR_BEFORE, s):
                director = None  # Tom Hanks directed one film, but "with Tom Hanks" means the actor
            if director is not None:
                self.directors.append(director)
            else:
                self.unfilterable.append(Unfilterable(kind="cast", text=written[:80]))
            self._take(s, e)
        for m in V.PERSON_NAME.finditer(self.text):  # a name the tables lack, said as a person's
            s, e = m.span("name")
            words = normalize_title(m.group("name")).split()
            if (not self._free(s, e) or " ".join(words) in self.und.title_prefixes_ or self.all_caps
                    or any(w in V.FILLER or w in V.CHAT or w in V.EVERYDAY or V.GENRE_WORD.fullmatch(w) for w in words)):
                continue
            self.people.append(m.group("name"))
            kind = ("director" if self._before(V.DIRECTOR_BEFORE, s) else "cast" if self._before(V.CAST_BEFORE, s)
                    else "person")
            self.unfilterable.append(Unfilterable(kind=kind, text=m.group("name")[:80]))
            self._take(s, e)
        for m in V.PERSON_CUE.finditer(self.text):  # "my friend Jessica", "I'm Priya": a name, no film
            s, e = m.span("name")
            if self._free(s, e) and normalize_title(m.group("name")) not in self.und.titles_:
                self._take(s, e)

    def _inside_longer_title(self, s: int, e: int) -> bool:
        """Whether a catalog title written here holds these words and more ("Romancing the Stone")."""
        i = self._token_index(s)
        for k in range(max(0, i - 6), i + 1):
            span = self._exact_span(k, None) if k < len(self.tokens) else None
            if span is not None and span[0] <= s and span[1] >= e and span[1] - span[0] > e - s:
                return len(span[2].split()) > 1
        return False

    # -- who is watching --------------------------------------------------------------------------

    def _audience(self) -> None:
        """Children in the audience ("my son is 8", "family movie night"), children away ("the kids
        are asleep"), or another audience ("date night"): none of it is words to search. The person's
        own childhood ("as a kid", "growing up") is neither an audience nor the Children's genre."""
        self._take_all(V.PAST_SELF)
        for m in V.CHILDREN_AWAY.finditer(self.work):
            if self._free(m.start(), m.end()):
                self.children_away = True
                self._take(m.start(), m.end())
        if self._take_all(V.AUDIENCE_LIFT):
            self.clear.append("audience")
        for m in V.CHILDREN.finditer(self.work):
            if not self._free(m.start(), m.end()):
                continue
            if self._before(V.NEG_AUDIENCE, m.start()):
                continue  # "no kids' movies": the genre, excluded, is read later
            self.children = True
            self._take(m.start(), m.end())
        self._take_all(V.AUDIENCE_WORDS)

    # -- what the film knowledge filters by -------------------------------------------------------

    def _knowledge(self) -> None:
        """Limits on what the catalog knows of films (MPAA rating, running time, acclaim), read by
        the table ``agent/vocabulary.py: KNOWLEDGE``: each match read by its row's reader into its
        ``Constraints`` field in ``self.film``; two of one field keep the tighter. A new kind that
        reads like one of these is a row there; the request picks the field up as it is."""
        for field, reader, pattern in V.KNOWLEDGE:
            read, tighter = READERS[reader]
            for m in pattern.finditer(self.work):
                if not self._free(m.start(), m.end()):
                    continue
                value = read(m)
                if value is not None:
                    self.film[field] = value if field not in self.film else tighter(self.film[field], value)
                self._take(m.start(), m.end())

    # -- tones ------------------------------------------------------------------------------------

    def _tones(self) -> None:
        """Tone words, their stance read later with the genres' (``_tone_sets``). They stay in
        the working text (a cue such as "go easy on" may hold one) and in the vibe ("clever plot
        twists" is also words about films)."""
        taken: list[tuple[int, int]] = []
        for tone, pattern in TONE_RES:
            for m in pattern.finditer(self.work):
                if self._free(m.start(), m.end()) and not any(s < m.end() and m.start() < e for s, e in taken):
                    self.tone_hits.append((m.start(), m.end(), tone.name))
                    taken.append(m.span())

    def _tone_sets(self) -> tuple[list[str], list[str]]:
        wanted: dict[str, None] = {}
        unwanted: dict[str, None] = {}
        cues = [(c.start, c.end) for c in self.cues if c.kind != "anchor"]
        for s, e, name in sorted(self.tone_hits):
            if any(cs <= s and e <= ce for cs, ce in cues):
                continue  # "go easy on the romance": part of a cue, no tone
            at, less = self._compared_at(s, e)  # "nothing darker than X": the comparative's stance
            cue = self._stance(at)
            if less or (cue is not None and cue.polarity == -1) or self._before(V.TONE_NEG, at):
                unwanted[name] = None
                wanted.pop(name, None)
            else:
                wanted[name] = None
        return list(wanted), list(unwanted)

    # -- questions --------------------------------------------------------------------------------

    def _question_asks(self) -> None:
        """Questions with no cue ``ASK`` knows: "is it scary?", "how long is it", "what's it rated?"."""
        for m in V.ASK_QUESTION.finditer(self.work):
            if not self._free(m.start(), m.end()):
                continue
            name = next((g for g in ("obj", "obj2", "obj3", "obj4", "obj5", "obj6", "obj7", "obj8")
                         if m.group(g) is not None), None)
            if name is None:
                continue
            s, e = m.span(name)
            mention = self._object_at(s, limit=e)
            if mention is not None:
                mention.ask = True
                self.asked = True

    def _question_kind(self) -> str | None:
        for kind, pattern in V.QUESTION_KIND:
            if pattern.search(self.low):
                return kind
        return None
