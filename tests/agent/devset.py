"""Issue 22's development set: messages in people's words, each with its expected reading.

The data lives beside this file in ``devset/``: ``tune.jsonl`` (what the understander is tuned
on), ``heldback.jsonl`` (a fifth of every class, read only at the end to report how the
tuning generalises; nobody tuning the understander reads it) and ``fresh.jsonl`` (a third set,
written apart from the tuning and never seen by it; its ids are ``fresh-<class>-NNN``). One
JSON object a line::

    {"id": "tone-007", "class": "tone", "message": "...", "shown": ["Toy Story (1995)"],
     "expect": {"tone_none": ["sappy"]}}

``shown`` is the list shown before the message, as "Title (Year)" labels of catalog films.
Every key of ``expect`` is one check, and an entry passes when all its checks pass
(``check``). A label must name exactly one catalog film, or the data is wrong (``resolve``).

Run ``python -m tests.agent.devset tune`` for the per-class table and the failures;
``heldback`` and ``fresh`` print their table only (``--reveal`` adds their failures, for the final
report).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.request import Intent, Question, Request
from tools.catalog import Catalog, normalize_title
from tools.data import display_title

DIR = Path(__file__).with_name("devset")
SPLITS = ("tune", "heldback", "fresh", "added")  # added: phrasings written while tuning, tuned on
SEALED = ("heldback", "fresh")  # splits whose messages are never printed unless revealed

# the tone table of issue 22: every tone name the set uses is one of these
Tone = Literal[
    "feel-good", "light", "funny", "dark", "sad", "sappy", "romantic", "intense",
    "scary", "violent", "gross", "mind-bending", "slow", "exciting", "thoughtful", "quirky",
]  # fmt: skip
TONES: tuple[str, ...] = get_args(Tone)
Genre = Literal[
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
]  # fmt: skip
# the eight classes, and ordinary requests
Class = Literal["evidence", "audience", "people", "tone", "seen", "negation", "question", "titles", "ordinary"]
CLASSES: tuple[str, ...] = get_args(Class)
LABEL = re.compile(r"^(?P<title>.+) \((?P<year>\d{4})\)$")
YEAR_SUFFIX = re.compile(r"\s*[\(\[]\s*\d{4}\s*[\)\]]\s*$")


def _some():
    """A list check: absent, or at least one thing to check."""
    return Field(None, min_length=1)


class Expect(BaseModel):
    """What a careful reader expects of the message. Only the keys given are checked."""

    model_config = ConfigDict(extra="forbid")

    intent: Intent | None = None
    genres: list[Genre] | None = _some()
    genres_absent: list[Genre] | None = _some()
    genres_none: list[Genre] | None = _some()
    genres_none_absent: list[Genre] | None = _some()
    year_min: int | None = None
    year_max: int | None = None
    popularity: Literal["popular", "obscure"] | None = None
    audience: Literal["children"] | None = None
    max_rating: Literal["G", "PG", "PG-13", "R"] | None = None
    max_runtime: int | None = Field(None, gt=0, le=600)
    acclaimed: bool | None = None
    directors: list[str] | None = _some()
    people: list[str] | None = _some()
    tone: list[Tone] | None = _some()
    tone_none: list[Tone] | None = _some()
    tone_absent: list[Tone] | None = _some()
    liked: list[str] | None = _some()
    disliked: list[str] | None = _some()
    seen: list[str] | None = _some()
    not_liked: list[str] | None = _some()
    unknown: list[str] | None = _some()
    question: Question | None = None
    ask_about: str | None = None
    vibe_lacks: list[str] | None = _some()
    vibe_has: list[str] | None = _some()
    vibe_empty: bool | None = None
    unfilterable: list[Literal["cast", "director", "person"]] | None = _some()

    @model_validator(mode="after")
    def _given_means_checked(self) -> Expect:
        # null is a check only for the keys where None is an expected value
        nullable = {"year_min", "year_max", "popularity", "audience", "max_rating", "max_runtime", "acclaimed"}
        for key in self.model_fields_set:
            if getattr(self, key) is None and key not in nullable:
                raise ValueError(f"expect.{key} is null, which checks nothing")
        for key in self.label_keys():
            for label in self.labels(key):
                if not LABEL.match(label):
                    raise ValueError(f"expect.{key}: {label!r} is not a 'Title (Year)' label")
        return self

    @property
    def checks(self) -> list[str]:
        """The keys given, in the model's order: one check each."""
        return [k for k in Expect.model_fields if k in self.model_fields_set]

    @staticmethod
    def label_keys() -> tuple[str, ...]:
        return ("liked", "disliked", "seen", "not_liked", "ask_about")

    def labels(self, key: str) -> list[str]:
        value = getattr(self, key)
        return [] if value is None else [value] if isinstance(value, str) else list(value)


class Entry(BaseModel):
    """One message of the set, with its expected reading."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(pattern=r"^(fresh-)?[a-z]+-\d{3}$")
    cls: Class = Field(alias="class")
    message: str = Field(min_length=1, max_length=2000)
    shown: list[str] = Field(default_factory=list)
    expect: Expect

    @model_validator(mode="after")
    def _consistent(self) -> Entry:
        if self.id.removeprefix("fresh-").rsplit("-", 1)[0] != self.cls:
            raise ValueError(f"{self.id}: the id does not start with its class {self.cls!r}")
        if not self.expect.checks:
            raise ValueError(f"{self.id}: expect has no check")
        for label in self.shown:
            if not LABEL.match(label):
                raise ValueError(f"{self.id}: shown {label!r} is not a 'Title (Year)' label")
        return self


class DevsetError(ValueError):
    """The data is wrong: a label that names no film, or several."""


class Sealed(list):
    """The held-back entries: a list whose repr quotes none of them (pytest prints a failed test's
    arguments, and whoever tunes the understander reads those)."""

    def __repr__(self) -> str:
        return f"<{len(self)} held-back entries>"

    __str__ = __repr__


def load(split: str, folder: Path = DIR) -> list[Entry]:
    """The entries of one split ('tune', 'heldback' or 'fresh'), validated; a bad line raises with its
    number. The held-back and fresh splits come ``Sealed``."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {SPLITS}")
    path = folder / f"{split}.jsonl"
    entries = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entries.append(Entry.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValueError) as e:
            raise DevsetError(f"{path.name}:{n}: {e}") from e
    return Sealed(entries) if split in SEALED else entries


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------


class Titles:
    """'Title (Year)' -> the one catalog item id; the title as the catalog spells it or as
    MovieLens does ('Usual Suspects, The (1995)')."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.by_label: dict[tuple[str, int], list[int]] = {}
        for item in catalog.get(catalog.item_ids):
            if item.year is not None:
                self.by_label.setdefault((item.title, int(item.year)), []).append(item.item_id)

    def resolve(self, label: str) -> int:
        m = LABEL.match(label)
        if m is None:
            raise DevsetError(f"{label!r} is not a 'Title (Year)' label")
        ids = self.by_label.get((display_title(m.group("title")), int(m.group("year"))), [])
        if len(ids) != 1:
            raise DevsetError(f"{label!r} names {len(ids)} catalog films, not one")
        return ids[0]

    def unresolved(self, entries: Iterable[Entry]) -> list[str]:
        """Every label of these entries that does not name exactly one film, said with its entry."""
        bad = []
        for entry in entries:
            labels = list(entry.shown) + [lab for k in Expect.label_keys() for lab in entry.expect.labels(k)]
            for label in labels:
                try:
                    self.resolve(label)
                except DevsetError as e:
                    bad.append(f"{entry.id}: {e}")
        return bad


# ---------------------------------------------------------------------------------------------
# Checking one reading
# ---------------------------------------------------------------------------------------------


def _words(text: str, word: str) -> bool:
    """Whether ``word`` (or a phrase) occurs in ``text`` as a whole word, case-insensitively."""
    return re.search(rf"(?<![\w'-]){re.escape(word)}(?![\w'-])", text, re.IGNORECASE) is not None


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.lower().split()) == " ".join(b.lower().split())


def _title_key(title: str) -> str:
    """'The Sixth Sense (1999)' and 'sixth sense' compare equal."""
    return normalize_title(YEAR_SUFFIX.sub("", title))


def check(entry: Entry, request: Request, catalog: Catalog | Titles) -> list[str]:
    """The checks of ``entry`` that ``request`` fails, each said in words; [] when it passes."""
    titles = catalog if isinstance(catalog, Titles) else Titles(catalog)
    exp, c = entry.expect, request.constraints
    shown = [titles.resolve(label) for label in entry.shown]
    failed: list[str] = []

    def fail(key: str, what: str) -> None:
        failed.append(f"{key}: {what}")

    def item_in(label: str, ids: Sequence[int], positions: Sequence[int] = ()) -> bool:
        item = titles.resolve(label)
        return item in ids or any(0 <= p < len(shown) and shown[p] == item for p in positions)

    for key in exp.checks:
        want = getattr(exp, key)
        if key == "intent" and request.intent != want:
            fail(key, f"expected {want!r}, got {request.intent!r}")
        elif key in ("genres", "genres_none"):
            missing = [g for g in want if g not in getattr(c, key)]
            if missing:
                fail(key, f"{missing} missing from {getattr(c, key)}")
        elif key in ("genres_absent", "genres_none_absent"):
            field = key.removesuffix("_absent")
            there = [g for g in want if g in getattr(c, field)]
            if there:
                fail(key, f"{there} should not be in {field} {getattr(c, field)}")
        elif key in ("year_min", "year_max", "popularity", "audience", "max_rating", "max_runtime", "acclaimed"):
            got = getattr(c, key, None)
            if got != want:
                fail(key, f"expected {want!r}, got {got!r}")
        elif key == "directors":
            got = list(getattr(c, "directors", None) or [])
            missing = [d for d in want if not any(_same_name(d, g) for g in got)]
            if missing:
                fail(key, f"{missing} missing from {got}")
        elif key == "people":
            missing = [p for p in want if not any(_same_name(p, g) for g in request.people)]
            if missing:
                fail(key, f"{missing} missing from {request.people}")
        elif key in ("tone", "tone_none"):
            got = getattr(request, key)
            missing = [t for t in want if t not in got]
            if missing:
                fail(key, f"{missing} missing from {got}")
        elif key == "tone_absent":
            there = [t for t in want if t in request.tone]
            if there:
                fail(key, f"{there} should not be in tone {request.tone}")
        elif key == "liked":
            missing = [lab for lab in want if not item_in(lab, request.liked_items, request.shown_liked)]
            if missing:
                fail(key, f"{missing} not liked (liked {request.liked_items}, shown_liked {request.shown_liked})")
        elif key == "disliked":
            missing = [lab for lab in want if not item_in(lab, request.disliked_items, request.shown_disliked)]
            if missing:
                fail(key, f"{missing} not disliked (disliked {request.disliked_items}, "
                          f"shown_disliked {request.shown_disliked})")
        elif key == "seen":
            missing = [lab for lab in want if not item_in(lab, request.seen_items, request.seen_shown)]
            if missing:
                fail(key, f"{missing} not seen (seen {request.seen_items}, seen_shown {request.seen_shown})")
        elif key == "not_liked":
            there = [lab for lab in want if item_in(lab, request.liked_items, request.shown_liked)]
            if there:
                fail(key, f"{there} should not be liked")
        elif key == "unknown":
            got = [_title_key(t) for t in request.unknown_titles + request.unknown_liked]
            missing = [t for t in want if _title_key(t) not in got]
            if missing:
                fail(key, f"{missing} not among unknown titles {request.unknown_titles}")
        elif key == "question" and request.question != want:
            fail(key, f"expected {want!r}, got {request.question!r}")
        elif key == "ask_about" and request.ask_about != titles.resolve(want):
            fail(key, f"expected {want!r} (item {titles.resolve(want)}), got item {request.ask_about}")
        elif key == "vibe_lacks":
            there = [w for w in want if _words(request.vibe, w)]
            if there:
                fail(key, f"{there} in the vibe {request.vibe!r}")
        elif key == "vibe_has":
            missing = [w for w in want if not _words(request.vibe, w)]
            if missing:
                fail(key, f"{missing} not in the vibe {request.vibe!r}")
        elif key == "vibe_empty" and bool(request.vibe.strip()) == want:
            fail(key, f"expected {'an empty' if want else 'a'} vibe, got {request.vibe!r}")
        elif key == "unfilterable":
            kinds = [u.kind for u in request.unfilterable]
            missing = [k for k in want if k not in kinds]
            if missing:
                fail(key, f"{missing} missing from {kinds}")
    return failed


# ---------------------------------------------------------------------------------------------
# Scoring a split
# ---------------------------------------------------------------------------------------------


@dataclass
class Failure:
    id: str
    cls: str
    message: str
    failed: list[str]

    def __str__(self) -> str:
        return f"{self.id} {self.message!r}\n    " + "\n    ".join(self.failed)


def score(entries: Sequence[Entry], understander: Any) -> dict:
    """Each entry read by ``understander`` (``parse(message, shown=ids)``) and checked.

    Returns {"n", "passed", "rate", "classes": {class: {"n", "passed", "rate"}}, "failures":
    [Failure]}; a parse that raises is a failure of that entry."""
    titles = Titles(understander.catalog)
    classes: dict[str, dict[str, Any]] = {}
    failures: list[Failure] = []
    for entry in entries:
        row = classes.setdefault(entry.cls, {"n": 0, "passed": 0})
        row["n"] += 1
        try:
            request = understander.parse(entry.message, shown=[titles.resolve(s) for s in entry.shown])
            failed = check(entry, request, titles)
        except DevsetError:
            raise
        except Exception as e:  # a crash is one more failed reading
            failed = [f"parse raised {type(e).__name__}: {e}"]
        if failed:
            failures.append(Failure(entry.id, entry.cls, entry.message, failed))
        else:
            row["passed"] += 1
    ordered = {c: classes[c] for c in CLASSES if c in classes}
    for row in ordered.values():
        row["rate"] = row["passed"] / row["n"]
    n = sum(r["n"] for r in ordered.values())
    passed = sum(r["passed"] for r in ordered.values())
    return {"n": n, "passed": passed, "rate": passed / n if n else 0.0, "classes": ordered, "failures": failures}


def table(result: dict) -> str:
    """The per-class rates of a ``score`` result, as a text table."""
    lines = [f"{'class':<10} {'n':>4} {'passed':>6} {'rate':>6}"]
    for cls, row in result["classes"].items():
        lines.append(f"{cls:<10} {row['n']:>4} {row['passed']:>6} {row['rate']:>6.1%}")
    lines.append(f"{'all':<10} {result['n']:>4} {result['passed']:>6} {result['rate']:>6.1%}")
    return "\n".join(lines)


def build_catalog(folder: Path | None = None) -> Catalog:
    """The full ml-100k catalog, as the tests build it (from CONVREC_HOME), in ``folder`` or a temporary one."""
    import numpy as np

    from tools.config import Config
    from tools.data import load_dataset

    items = load_dataset("ml-100k", Config().home).items
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="devset-"))
    return Catalog.create(folder / "catalog.sqlite", items, np.arange(len(items))[::-1])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.agent.devset", description=__doc__.split("\n\n")[0])
    parser.add_argument("split", choices=SPLITS, nargs="?", default="tune")
    parser.add_argument("--reveal", action="store_true",
                        help="also print the held-back or fresh part's failures (only for the final report)")
    args = parser.parse_args(argv)

    from agent.understand import OfflineUnderstander

    entries = load(args.split)
    with tempfile.TemporaryDirectory(prefix="devset-") as tmp:
        catalog = build_catalog(Path(tmp))
        bad = Titles(catalog).unresolved(entries)
        if bad:
            print("bad labels:\n  " + "\n  ".join(bad), file=sys.stderr)
            return 2
        result = score(entries, OfflineUnderstander(catalog))
    print(f"{args.split}: {len(entries)} messages")
    print(table(result))
    if args.split not in SEALED or args.reveal:
        print(f"\n{len(result['failures'])} failures:")
        for failure in result["failures"]:
            print(failure)
    else:
        print(f"\n({args.split} failures are not printed; --reveal prints them, for the final report only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
