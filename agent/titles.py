"""Finding film titles in a message: exact runs of words, fuzzy matches after a cue, quoted titles.

A part of the offline understander (``agent/understand.py``): ``TitleFinding`` is mixed into its
per-message parse, whose masked working text, tokens and mention list it reads and extends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from agent import vocabulary as V
from tools.catalog import TitleResolution, normalize_title
from tools.data import display_title

MASK = "\x00"  # stands in for understood text; cleaning removes control characters, so never typed


@dataclass
class Mention:
    """A title or a reference to the shown list, found in the message."""

    start: int
    end: int
    label: str
    item_id: int | None = None  # a resolved title
    candidates: list[int] = field(default_factory=list)  # an ambiguous title
    unknown: bool = False  # looked like a title, matched nothing
    positions: list[int] | None = None  # a reference to the shown list
    pronoun: bool = False  # "it", "that one": resolved against earlier mentions
    ask: bool = False
    head: Mention | None = None  # list continuation: "like Star Wars and Alien"
    polarity: int | None = None  # +1 liked, -1 disliked, 0 neutral (seen)
    opinion: bool = False
    seen: bool = False  # "already seen X": never shown again, taste evidence unless said against


class TitleFinding:
    """The title-finding steps of one message's parse (see ``understand._MessageParse``)."""

    def _quoted_titles(self) -> None:
        for m in re.finditer(r"\"([^\"]{1,100})\"|(?<![\w])'([^']{1,100})'(?![\w])", self.work):
            s, e = m.span(1) if m.group(1) is not None else m.span(2)
            if not self._free(s, e):
                continue
            raw = self.text[s:e].strip()
            res = self._resolve(raw)
            mention = self._from_resolution(s, e, raw, res, allow_unknown=raw[:1].isupper()) if res else None
            if mention is not None:
                self._add(mention)
                self._take(m.start(), m.end())

    def _title_at(self, pos: int, continuation: bool, limit: int | None) -> Mention | None:
        i = self._token_index(pos)
        if i >= len(self.tokens) or self.tokens[i][0] - pos > 1:
            return None
        exact = self._exact_span(i, limit)
        sequel = V.SEQUEL.match(self.work, exact[1]) if exact is not None else None
        if exact is not None and (exact[3] or sequel):
            # "Terminator 2", "Godfather part 2": a longer title than the exact one, maybe misspelt
            longer = self._fuzzy_title(i, continuation, limit, allow_unknown=False)
            if longer is not None:
                return longer
            if sequel:  # "Toy Story 2" is not in the catalog; "Toy Story" would be a wrong guess
                return self._add(Mention(exact[0], sequel.end(), self.text[exact[0] : sequel.end()], unknown=True))
        if exact is not None:
            s, e, key, _ = exact
            if len(key.split()) == 1 and self._known(key) and not self._quoted(s):
                return None  # "I like kids movies": the genre reading wins over the film "Kids"
            return self._add(self._exact_mention(s, e, key))
        return self._fuzzy_title(i, continuation, limit, allow_unknown=True)

    def _exact_span(self, i: int, limit: int | None) -> tuple[int, int, str, bool] | None:
        """Longest run of tokens from `i` that is exactly a catalog title (article optional).

        Returns (start, end, normalised title, flag); the flag says the words go on like a longer
        title ("Godfather part 2"), worth a fuzzy look.
        """
        best: tuple[int, int, str] | None = None
        reach = 0
        for first in (i, i + 1) if self.tokens[i][2] in V.ARTICLE else (i,):
            key = ""
            for j in range(first, min(len(self.tokens), first + 14)):
                s, e, norm = self.tokens[j]
                if limit is not None and e > limit:
                    break
                if not self._free(s, e) or (j > first and V.ends_sentence(
                        self.work[self.tokens[j - 1][1] : s], self.tokens[j - 1][2], V.SENTENCE_END)):
                    break
                if not norm:
                    break
                if f"{key} {norm}" not in self.und.title_prefixes_ and norm == "and" and key:
                    continue  # "Batman and Robin": the catalog's "&" normalises away
                key = f"{key} {norm}" if key else norm
                if key not in self.und.title_prefixes_:
                    break
                reach = max(reach, e)
                if key in self.und.titles_ and (best is None or e > best[1]):
                    best = (self.tokens[i][0], e, key)
        return None if best is None else (*best, reach > best[1])

    def _exact_mention(self, s: int, e: int, key: str) -> Mention | None:
        """A title typed exactly; duplicates ("Cape Fear") are told apart by a year after it."""
        ids = self.und.titles_[key]
        year = re.match(r"\s*\(?\s*(1[89]\d\d|20\d\d)\s*\)?(?![\w'])", self.work[e:])
        if year and MASK not in year.group():
            e += year.end()
        label = self.text[s:e]
        if len(ids) == 1:
            return Mention(s, e, label, item_id=ids[0])
        res = self._resolve(label)  # the catalog knows the years
        if res is not None and res.status == "exact" and res.item_id in ids:
            return Mention(s, e, label, item_id=res.item_id)
        return Mention(s, e, label, candidates=ids)

    def _fuzzy_title(self, i: int, continuation: bool, limit: int | None, allow_unknown: bool) -> Mention | None:
        """A title with a typo, or an unknown one: only right after a trigger, never on its own."""
        span: list[tuple[int, int, str]] = []
        for j in range(i, min(len(self.tokens), i + 6)):
            s, e, norm = self.tokens[j]
            if (limit is not None and e > limit) or not self._free(s, e) or not norm:
                break
            if span and (norm in V.BREAKERS or V.ends_sentence(self.work[span[-1][1] : s], span[-1][2])):
                break
            span.append(self.tokens[j])
        content = [t for t in span if t[2] not in V.ARTICLE]
        if not content or self._known(content[0][2]) or re.fullmatch(r"\d+s?", content[0][2]):
            return None
        capital = not self.all_caps and self.text[content[0][0]].isupper()
        if continuation and not capital:
            return None
        if len("".join(t[2] for t in content)) < 3:
            return None
        res = self._resolve(self.text[span[0][0] : span[-1][1]])
        if res is None:
            return None
        best: tuple[int, list[tuple[float, int]]] | None = None  # (tokens used, [(ratio, item_id)])
        if res.status != "none":
            for k in range(len(span), 0, -1):
                if k < len(span) and V.SEQUEL.fullmatch(" " + span[k][2]):
                    continue  # never drop a sequel number: "Toy Story 2" is not "Toy Story"
                words = [t[2] for t in span[:k]]
                if all(w in V.ARTICLE for w in words):
                    break
                ok = self._acceptable(normalize_title(" ".join(words)), res)
                if ok:
                    best = (k, ok)
                    break
        if best is None:
            if not capital or not allow_unknown:
                return None
            # an unknown title: the run of capitalised words ("The Dark Knight"), linked by small words
            run = [span[0]]
            for t in span[1:]:
                if self.text[t[0]].isupper() or t[2] in ("of", "the", "a", "an", "in", "on", "to"):
                    run.append(t)
                else:
                    break
            while run and run[-1][2] in ("of", "the", "a", "an", "in", "on", "to"):
                run.pop()
            s, e = run[0][0], run[-1][1]
            return self._add(Mention(s, e, self.text[s:e], unknown=True))
        k, ok = best
        s, e = span[0][0], span[k - 1][1]
        return self._add(_choose(s, e, self.text[s:e], ok, res.status))

    @staticmethod
    def _acceptable(norm: str, res: TitleResolution) -> list[tuple[float, int]]:
        """Catalog candidates that really are the words typed, not a title that merely contains them.

        The catalog's fuzzy score forgives partial matches ("the matrix" scores 90 against "M");
        a span after a trigger may run on past the title, so we check the words ourselves.
        """
        norm = _arabic(norm)
        digits = set(re.findall(r"\d+", norm))
        out = []
        for m in res.matches:
            best = 0.0
            for title in map(_arabic, title_keys(m.title)):
                if set(re.findall(r"\d+", title)) != digits:
                    continue  # "Terminator 2" is not "The Terminator"
                ratio = fuzz.ratio(norm, title)
                if len(norm.split()) >= 2 and title.startswith(norm + " "):
                    ratio = max(ratio, 90.0)  # "star trek" for "Star Trek: Generations"
                best = max(best, ratio)
            if best >= 85:
                out.append((best, m.item_id))
        return out

    def _from_resolution(
        self, s: int, e: int, label: str, res: TitleResolution, allow_unknown: bool
    ) -> Mention | None:
        if res.status == "exact":
            return Mention(s, e, label, item_id=res.item_id)
        if res.status == "fuzzy":
            ok = self._acceptable(normalize_title(label), res)
            if ok:
                return _choose(s, e, label, ok, res.status)
            return Mention(s, e, label, unknown=True) if allow_unknown else None
        if res.status == "ambiguous":
            norm = normalize_title(label)
            ids = [m.item_id for m in res.matches if normalize_title(m.title) == norm] or [
                i for _, i in self._acceptable(norm, res)
            ]
            if ids:
                return Mention(s, e, label, candidates=ids)
        return Mention(s, e, label, unknown=True) if allow_unknown else None

    def _untriggered_titles(self) -> None:
        """Multi-word titles named anywhere ("toy story"), and "Fargo was great"."""
        i = 0
        while i < len(self.tokens):
            s = self.tokens[i][0]
            span = self._exact_span(i, None) if self._free(s, self.tokens[i][1]) else None
            if span is None:
                i += 1
                continue
            s, e, key, _ = span
            words = [t for t in self.tokens if s <= t[0] < e]
            content = [t for t in words if t[2] not in V.ARTICLE] or words
            significant = [t for t in content if len(t[2]) > 3 or t is content[0]]  # not "of", "in"
            capitalised = not self.all_caps and all(self.text[t[0]].isupper() for t in significant)
            # alone: nothing else said but filler and chat ("the godfather pls")
            alone = all(s <= t[0] < e or t[2] in ("the", "a", "an", "movie", "film") or t[2] in V.CHAT for t in self.tokens)
            if len(content) >= 2:
                believable = alone or capitalised or not all(self._known(t[2]) or t[2] in V.EVERYDAY for t in content)
            else:
                believable = not self._known(content[0][2]) and (
                    alone or capitalised and bool(V.RIGHT_EVAL.match(self.work, e) or V.TOPIC_BACKREF.match(self.low, e)
                                                  or V.TITLE_SUFFIX.match(self.low, e))
                    or bool(V.TITLE_HYPHEN.match(self.low, e))
                )
            if believable:
                mention = self._add(self._exact_mention(s, e, key))
                i = self._token_index(mention.end)
            else:
                i += 1

    def _resolve(self, raw: str) -> TitleResolution | None:
        """The catalog's reading of a title; None once the message has used up its fuzzy lookups."""
        if raw not in self.resolved:
            if normalize_title(raw) not in self.und.titles_:  # a fuzzy search: a few ms each
                if self.fuzzy_left == 0:
                    return None
                self.fuzzy_left -= 1
            self.resolved[raw] = self.und.catalog.resolve_title(raw)
        return self.resolved[raw]


def _choose(s: int, e: int, label: str, ok: list[tuple[float, int]], status: str) -> Mention:
    """One film when the match is clear, else the candidates, so the user is asked; never a guess."""
    ok = sorted(ok, key=lambda r: -r[0])
    if (len(ok) == 1 and ok[0][0] >= 90) or (len(ok) > 1 and status == "fuzzy" and ok[0][0] - ok[1][0] >= 8):
        return Mention(s, e, label, item_id=ok[0][1])
    return Mention(s, e, label, candidates=[i for _, i in ok])


def title_keys(title: str) -> list[str]:
    """The normalised names a film goes by: 'Seven (Se7en)' -> ['seven se7en', 'seven', 'se7en']."""
    keys = [normalize_title(title)]
    if "(" in title:
        main, *aliases = re.split(r"\s*[()]\s*", title)
        keys += [normalize_title(display_title(t)) for t in (main, *aliases)]
    # an alias that is a year or a letter ("... (V) (1995)") names no film
    return [k for k in dict.fromkeys(keys) if k and not k.isdigit() and len(k) > 1]


def _arabic(norm: str) -> str:
    """Sequel numbers as digits, so 'godfather part ii' and 'godfather part 2' compare equal."""
    return re.sub(r"(?<!\S)(ii|iii|iv|v|vi)(?!\S)", lambda m: str(V.ROMAN[m.group(1)]), norm)
