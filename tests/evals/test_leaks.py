"""An independent leak check over full simulated runs.

Nothing here comes from the simulator (no `leaks`, no `title_forms`, no phrasing table): the
normalisation, the title variants, the fuzzy match and the genre words are this file's own.
A user message leaks its target when it says the target's title (any reasonable form, or a
near miss of it), the target's id, or the target's exact year while the genres said in the
conversation leave the target alone among that year's films in the catalog.
"""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
from rapidfuzz import fuzz

from tests.evals.conftest import FULL_RUN_USERS, RUN_PROTOCOLS, RUN_SYSTEMS
from tools.catalog import Item

FUZZY_MIN_CHARS = 8  # shorter titles ("Heat", "Ed", "Kids") only match word for word
FUZZY_SCORE = 90
ARTICLES = {"the", "a", "an", "le", "la", "les", "l", "el", "il", "lo", "der", "die", "das", "den", "det", "un", "une"}
# Words a person uses for each catalog genre (written for this check, broader than any one phrasing).
GENRE_WORDS = {
    "Action": r"action",
    "Adventure": r"adventur\w*",
    "Animation": r"animat\w*|cartoons?",
    "Children's": r"kids?|child\w*|family",
    "Comedy": r"comed\w*|funny|laugh\w*|humou?r\w*|hilarious",
    "Crime": r"crimes?|criminals?|gangsters?|heists?|mob",
    "Documentary": r"documentar\w*|non ?fiction|docs?",
    "Drama": r"drama\w*",
    "Fantasy": r"fantas\w*|magic\w*",
    "Film-Noir": r"noir",
    "Horror": r"horror|scary|scare\w*|spooky",
    "Musical": r"musicals?|singing|songs?|danc\w*",
    "Mystery": r"myster\w*|whodunn?its?",
    "Romance": r"romanc\w*|romantic|love stor\w*",
    "Sci-Fi": r"sci ?fi|science fiction",
    "Thriller": r"thrill\w*|suspens\w*|tense",
    "War": r"wars?|wartime",
    "Western": r"westerns?|cowboys?",
}
_GENRE_RE = {g: re.compile(rf"\b(?:{w})\b") for g, w in GENRE_WORDS.items()}
_YEAR_RE = re.compile(r"(?<![\d'])(1[89]\d\d|20\d\d)(?!\d|s\b|'s\b)")


def normalise(text: str) -> str:
    """ASCII, lower case, '&' -> 'and', apostrophes and in-word dots dropped, other punctuation a space."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).encode("ascii", "ignore").decode()
    text = text.casefold().replace("&", " and ")
    text = re.sub(r"(?<=[a-z0-9])[.'\u2019](?=[a-z0-9])", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def title_variants(title: str) -> set[str]:
    """The title, its part outside parentheses, each aka inside them; trailing articles moved
    to the front ('Hussard sur le toit, Le'); each also without its leading article."""
    pieces = [title, re.sub(r"\([^)]*\)", " ", title), *re.findall(r"\(([^)]*)\)", title)]
    out = set()
    for piece in pieces:
        piece = re.sub(r"\b(1[89]\d\d|20\d\d)\b\s*$", "", piece.strip())  # "(1995)" parts, once inside
        m = re.match(r"^(.*?),\s*([^\s,]+)$", piece.strip())
        if m and normalise(m.group(2)) in ARTICLES:
            piece = f"{m.group(2)} {m.group(1)}"
        words = normalise(piece).split()
        if words:
            out.add(" ".join(words))
            if words[0] in ARTICLES and len(words) > 1:
                out.add(" ".join(words[1:]))
    return out


def says_title(message: str, title: str) -> bool:
    said = normalise(message)
    padded = f" {said} "
    for v in title_variants(title):
        if f" {v} " in padded:
            return True
        if len(v) >= FUZZY_MIN_CHARS:
            score = fuzz.partial_ratio(v, said) if len(said) >= len(v) else fuzz.ratio(v, said)
            if score >= FUZZY_SCORE:
                return True
    return False


def says_id(message: str, item_id: int) -> bool:
    return re.search(rf"(?<![\w.]){item_id}(?![\w.])", message) is not None


def genres_said(messages: list[str]) -> set[str]:
    text = " ".join(normalise(m) for m in messages)
    return {g for g, rx in _GENRE_RE.items() if rx.search(text)}


def years_said(messages: list[str]) -> set[int]:
    return {int(y) for m in messages for y in _YEAR_RE.findall(m)}


def names_alone_by_year_and_genres(messages: list[str], target: Item, catalog_items: list[Item]) -> bool:
    """The messages state the target's exact year, and the target's genres among those said (taken
    as asserted, even when said in a negation: the strict reading) leave it alone in that year."""
    if target.year is None or target.year not in years_said(messages):
        return False
    said = genres_said(messages) & set(target.genres)
    return not any(it.year == target.year and said <= set(it.genres) and it.item_id != target.item_id
                   for it in catalog_items)


def leak_reasons(messages: list[str], target: Item, catalog_items: list[Item]) -> list[str]:
    """Why the last message of ``messages`` (a conversation so far) leaks; [] when it does not."""
    last = messages[-1]
    out = []
    if says_title(last, target.title):
        out.append("title")
    if says_id(last, target.item_id):
        out.append("id")
    if names_alone_by_year_and_genres(messages, target, catalog_items):
        out.append("year+genres")
    return out


@pytest.fixture(scope="module")
def catalog_items(small_artifacts):
    return small_artifacts.catalog.get(small_artifacts.catalog.item_ids)


# ---- the checker catches what it should -----------------------------------------------------

def _item(title, item_id=900, year=1994, genres=("Drama",)):
    return Item(item_id=item_id, title=title, year=year, genres=list(genres), popularity=10)


@pytest.mark.parametrize("title, message", [
    ("The Shawshank Redemption", "something like shawshank redemption please"),  # no article
    ("The Shawshank Redemption", "I want the Shawshank Redemtion"),  # misspelt
    ("The Shawshank Redemption", "THE SHAWSHANK REDEMPTION!!"),
    ("The Godfather", "a film like Godfather"),
    ("Seven (Se7en)", "like se7en"),
    ("Seven (Se7en)", "seven please"),
    ("L.A. Confidential", "more like LA Confidential"),
    ("The Horseman on the Roof (Hussard sur le toit, Le)", "Le Hussard sur le toit, maybe?"),
    ("The Horseman on the Roof (Hussard sur le toit, Le)", "something like horseman on the roof"),
    ("La Double vie de Véronique (Double Life of Veronique, The)", "like the double life of véronique"),
    ("Star Wars (1977)", "star wars"),
    ("Schindler's List", "schindlers list!"),
    ("Amélie", "amelie"),
    ("Heat", "something like heat"),
])
def test_checker_catches_planted_title_leaks(title, message):
    assert says_title(message, title), (title, message)


@pytest.mark.parametrize("title, message", [
    ("Heat", "something with heated arguments"),
    ("The Godfather", "a mafia movie from the 70s"),
    ("Seven (Se7en)", "something from the seventies"),
    ("Star Trek VI: The Undiscovered Country", 'Something like "Star Trek III: The Search for Spock".'),
    ("The Shawshank Redemption", "a prison drama from the 90s"),
])
def test_checker_leaves_other_words_alone(title, message):
    assert not says_title(message, title)


def test_checker_catches_an_exact_year_with_genres_only_the_target_has(catalog_items):
    by_year: dict[int, list[Item]] = {}
    for it in catalog_items:
        by_year.setdefault(it.year, []).append(it)
    unique = next(it for it in catalog_items if it.year and len(it.genres) >= 2 and not any(
        set(it.genres) <= set(o.genres) and o.item_id != it.item_id for o in by_year[it.year]))
    shared = next(it for it in catalog_items if it.year and any(
        set(it.genres) <= set(o.genres) and o.item_id != it.item_id for o in by_year[it.year]))
    words = {"Action": "action", "Adventure": "adventure", "Animation": "animated", "Children's": "family",
             "Comedy": "comedy", "Crime": "crime", "Documentary": "documentary", "Drama": "drama",
             "Fantasy": "fantasy", "Film-Noir": "noir", "Horror": "horror", "Musical": "musical",
             "Mystery": "mystery", "Romance": "romance", "Sci-Fi": "sci-fi", "Thriller": "thriller",
             "War": "war", "Western": "western"}
    said = " and ".join(words[g] for g in unique.genres)
    assert leak_reasons([f"Something {said}, from {unique.year}."], unique, catalog_items) == ["year+genres"]
    # said over several messages, the year first: still named
    convo = [f"I'm after {words[unique.genres[0]]}.", f"Roughly {unique.year}."]
    convo += [f"With some {words[g]} in it." for g in unique.genres[1:]]
    assert "year+genres" in leak_reasons(convo, unique, catalog_items)
    # the decade is not the year; a year whose films share these genres names nothing alone
    assert not leak_reasons([f"Something {said} from the {unique.year // 10 * 10}s."], unique, catalog_items)
    shared_said = " and ".join(words[g] for g in shared.genres)
    assert not leak_reasons([f"Something {shared_said} from around {shared.year}."], shared, catalog_items)


def test_checker_catches_the_id():
    assert leak_reasons(["the one with id 900"], _item("Whatever"), [])
    assert not leak_reasons(["from the 90s, 9000 times"], _item("Whatever"), [])


# ---- full runs: no simulator message leaks -----------------------------------------------------

@pytest.mark.slow
def test_no_simulator_message_leaks_in_full_runs(full_runs, small_artifacts, catalog_items):
    """Every message of every conversation (session-1 statements included) in every protocol and
    system of the shared runs: none names its target."""
    by_id = {it.item_id: it for it in catalog_items}
    n_users = min(FULL_RUN_USERS, len(small_artifacts.split.test))
    seen_protocols, checked = set(), 0
    for protocol, (report, convs) in full_runs.items():
        assert report["protocol"]["users"] == n_users
        assert {c.system for c in convs} == set(RUN_SYSTEMS[protocol])
        seen_protocols.add(protocol)
        for c in convs:
            target = by_id[c.target]
            said: list[str] = []
            for message in [*c.setup, *(t.message for t in c.turns)]:
                said.append(message)
                assert not leak_reasons(said, target, catalog_items), (protocol, c.system, c.user_id, said)
                checked += 1
    assert seen_protocols == set(RUN_PROTOCOLS)
    assert checked > 3 * n_users * sum(len(s) for s in RUN_SYSTEMS.values())


@pytest.mark.slow
def test_full_runs_use_years_titles_and_genres(full_runs):
    """The check above is not empty: the runs do say genres, other films' titles, and exact years
    (rarely in 5 turns: the year is among the last things a user reveals)."""
    messages = [t.message for _, convs in full_runs.values() for c in convs for t in c.turns]
    assert sum(bool(years_said([m])) for m in messages) >= 1
    assert sum(bool(genres_said([m])) for m in messages) > 100
    assert sum('"' in m for m in messages) > 100


def test_no_leak_in_long_conversations_against_random_lists(small_artifacts, catalog_items):
    """Every fixture user for 10 turns against random lists (so every fact, exact years included,
    gets said): the independent check finds no leak."""
    from evals.simulator import Shown, SimulatedUser, build_personas

    rng = random.Random(1)
    years = 0
    for p in build_personas(small_artifacts, seed=1):
        sim = SimulatedUser(p, seed=1)
        said = [sim.opening()]
        for _ in range(10):
            shown = [it for it in rng.sample(catalog_items, 11) if it.item_id != p.target.item_id][:10]
            said.append(sim.respond(Shown(items=shown)))
            assert not leak_reasons(said, p.target, catalog_items), (p.user_id, said)
        years += bool(years_said(said))
    assert years > 20


def test_no_leak_from_the_held_out_user_against_random_lists(small_artifacts, catalog_items):
    """The held-out simulated user (evals/heldout.py), 10 lists each with a question now and then:
    the independent check finds no leak either."""
    from evals.heldout import HeldOutUser
    from evals.simulator import Shown, build_personas

    rng = random.Random(2)
    messages = 0
    for p in build_personas(small_artifacts, seed=2):
        sim = HeldOutUser(p, seed=2, popularity=[it.popularity for it in catalog_items])
        said = [sim.opening()]
        for n in range(10):
            shown = [it for it in rng.sample(catalog_items, 11) if it.item_id != p.target.item_id][:10]
            message = sim.respond(Shown(items=shown, question="Older or newer?" if n % 3 == 1 else None))
            if message is None:  # it left
                break
            said.append(message)
            assert not leak_reasons(said, p.target, catalog_items), (p.user_id, said)
        messages += len(said)
    assert messages > 3 * len(small_artifacts.split.test)
