"""The held-out simulated user on the small real build: every fixture persona, several seeds, lists
made of real catalog films (too old, wrong genre, one close film, popular ones, a random mix), with
and without a question."""

from __future__ import annotations

import ast
import random
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from evals.heldout import CUTOFFS, MAX_FACTS, HeldOutUser, popularity_cutoffs, question_topic
from evals.heldout_phrasings import DARKER, DECADE_SLACK, DECADES, ERAS, GENRE_WORDS, LIGHTER
from evals.simulator import Shown, build_personas, leaks
from tools.catalog import Item

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2)
TURNS = 6
QUESTIONS = [
    "Do you want something older or more recent?",
    "Is it a popular film or a lesser-known one?",
    "Something light or something dark?",
    "What kind of film are you after?",
    "Any film you liked recently that is similar?",
    "Anything else you can tell me?",
]


@pytest.fixture(scope="module")
def world(small_artifacts):
    """Personas (test targets), every catalog film, and train popularity per catalog film."""
    split = small_artifacts.split
    catalog = small_artifacts.catalog.get(split.item_ids)
    return build_personas(small_artifacts), catalog, split.item_popularity()


def _lists(persona, catalog: list[Item], rng: random.Random) -> dict[str, list[Item]]:
    """Lists that miss the target, made of real catalog films."""
    t = persona.target
    others = [it for it in catalog if it.item_id != t.item_id and it.year is not None]
    wanted = set(t.genres)
    old = [it for it in others if t.year and it.year <= t.year - 15]
    wrong = [it for it in others if it.genres and not set(it.genres) & wanted]
    close = [it for it in others if set(it.genres) & wanted and t.year and abs(it.year - t.year) <= 5]
    lists = {"popular": sorted(others, key=lambda it: -it.popularity)[:10], "mixed": rng.sample(others, 10)}
    if len(old) >= 5:
        lists["too_old"] = rng.sample(old, min(10, len(old)))
    if len(wrong) >= 9:
        lists["wrong_genre"] = rng.sample(wrong, 10)
        if close:
            lists["one_close"] = [*lists["wrong_genre"][:2], rng.choice(close), *lists["wrong_genre"][3:]]
    return lists


def _converse(persona, catalog, popularity, seed: int) -> dict:
    """One scripted conversation: the opening, then up to TURNS lists that miss."""
    user = HeldOutUser(persona, seed=seed, popularity=popularity)
    rng = random.Random(f"test-{seed}-{persona.user_id}")
    lists = _lists(persona, catalog, rng)
    record = {"persona": persona, "user": user, "messages": [user.opening()], "fits": [user.fits(persona.target)],
              "shown": [], "films": {}}
    for _ in range(TURNS):
        name = rng.choice(sorted(lists))
        question = rng.choice([*QUESTIONS, None, None, None])
        shown = Shown(items=lists[name], question=question, text="Here are some films.")
        record["shown"].append((name, shown))
        record["films"].update({it.item_id: it for it in shown.items})
        message = user.respond(shown)
        if message is None:
            break
        record["messages"].append(message)
        record["fits"].append(user.fits(persona.target))
    return record


@pytest.fixture(scope="module")
def dialogues(world):
    personas, catalog, popularity = world
    return [_converse(p, catalog, popularity, seed) for p in personas for seed in SEEDS]


def _era_windows() -> set:
    windows = {w for w, _ in ERAS.values()}
    return windows | {(d - DECADE_SLACK, d + 9 + DECADE_SLACK) for d in DECADES}


def _true_of(claim, persona, films: dict[int, Item]) -> bool:
    """The claim's meaning, read from the tables, checked against the target and the persona."""
    kind, value = claim
    t = persona.target
    wanted = set(t.genres)
    if kind == "genre":
        return bool(wanted & GENRE_WORDS[value]["covers"])
    if kind == "not_genre":
        return not wanted & GENRE_WORDS[value]["covers"]
    if kind == "era":
        lo, hi = value
        return (value in _era_windows() and (lo is None or t.year >= lo) and (hi is None or t.year <= hi)
                and lo != hi)
    if kind == "older_than":
        return t.year < value
    if kind == "newer_than":
        return t.year > value
    if kind == "popularity":
        share = persona.popularity_share
        return share <= CUTOFFS["hit_share"] if value == "hit" else share >= CUTOFFS["gem_share"]
    if kind == "mood":
        light, dark = bool(wanted & LIGHTER), bool(wanted & DARKER)
        return {"lighter": light and not dark, "darker": dark and not light, "both": light and dark}[value]
    if kind in ("like", "enjoyed"):
        recent = {it.item_id for it in persona.history[-CUTOFFS["recent_films"]:]}
        film = next(it for it in persona.nameable if it.item_id == value)
        ok = value in recent and persona.ratings[value] >= CUTOFFS["liked_rating"]
        return ok and (kind == "enjoyed" or bool(set(film.genres) & wanted))
    film = films[value]
    if kind == "close_to":
        return bool(set(film.genres) & wanted) and abs(film.year - t.year) <= CUTOFFS["close_years"]
    if kind == "unlike":
        return not set(film.genres) & wanted
    raise AssertionError(f"unknown claim kind {kind}")


def test_every_claim_is_true_of_the_target(dialogues):
    kinds = Counter()
    for d in dialogues:
        for claim in d["user"].claims:
            assert _true_of(claim, d["persona"], d["films"]), (d["persona"].user_id, claim, d["messages"])
            kinds[claim[0]] += 1
    # every kind of statement happens, so each check above has something to check
    for kind in ("genre", "not_genre", "era", "older_than", "newer_than", "popularity", "mood", "like",
                 "close_to", "unlike"):
        assert kinds[kind] > 0, kinds


def test_fits_the_target_after_every_message_and_rules_films_out(dialogues, world):
    _, catalog, _ = world
    assert all(all(d["fits"]) for d in dialogues)
    narrowed = [sum(map(d["user"].fits, catalog)) for d in dialogues[:60]]
    assert min(narrowed) >= 1 and np.median(narrowed) < len(catalog) / 2, narrowed


def test_popularity_words_follow_their_cutoffs(dialogues, world):
    said = Counter()
    for d in dialogues:
        share = d["persona"].popularity_share
        for kind, value in d["user"].claims:
            if kind == "popularity":
                said[value] += 1
                assert CUTOFFS["hit_share"] < share if value == "gem" else share <= CUTOFFS["hit_share"]
        if CUTOFFS["hit_share"] < share < CUTOFFS["gem_share"]:
            assert "popularity" not in {k for k, _ in d["user"].claims}
    assert said["hit"] > 0 and said["gem"] > 0
    # "a big hit" rules out the same film were it hardly watched, by the person's own cut-off
    _, _, popularity = world
    hit_min, gem_max = popularity_cutoffs(popularity)
    assert np.mean(popularity >= hit_min) <= CUTOFFS["hit_share"] + 0.02 and gem_max < hit_min
    hit = next(d for d in dialogues if ("popularity", "hit") in d["user"].claims)
    target = hit["persona"].target
    assert hit["user"].fits(target) and not hit["user"].fits(target.model_copy(update={"popularity": 0}))


def test_at_most_two_new_facts_a_message(dialogues):
    counts = Counter()
    for d in dialogues:
        user = d["user"]
        assert len(user.facts_per_message) == len(d["messages"])
        assert sum(user.facts_per_message) == len(user.claims) == len(set(map(repr, user.claims)))
        counts.update(user.facts_per_message[1:])
        assert 1 <= user.facts_per_message[0] <= MAX_FACTS
    assert max(counts) <= MAX_FACTS
    assert counts[0] > 0 and counts[1] > 0 and counts[2] > 0, counts  # not an oracle: some say nothing new


def test_never_names_the_target_nor_its_year(dialogues):
    titled = 0
    for d in dialogues:
        t = d["persona"].target
        for message in d["messages"]:
            assert not leaks(message, t), (t.title, message)
            assert not re.search(rf"(?<!\d){t.year}(?!\d)", message), (t.year, message)
        titled += any(kind in ("like", "enjoyed", "unlike") for kind, _ in d["user"].claims)
    assert titled > 0  # other films are named, so the check above has titles to check


def test_a_film_titled_like_the_target_is_not_said(world):
    personas, catalog, popularity = world
    checked = 0
    for persona in personas:
        t = persona.target
        twins = [it for it in catalog if it.item_id != t.item_id and leaks(it.title, t)]
        if not twins:
            continue
        wrong = [it for it in catalog if it.genres and not set(it.genres) & set(t.genres)][:9]
        for seed in SEEDS:
            user = HeldOutUser(persona, seed=seed, popularity=popularity)
            user.opening()
            for _ in range(3):
                message = user.respond(Shown(items=[twins[0], *wrong], question=None))
                if message is None:
                    break
                assert not leaks(message, t)
                checked += 1
    assert checked > 0


def test_a_question_is_answered_also_beside_a_list(dialogues):
    answered_with_fact = 0
    for d in dialogues:
        acts = d["user"].acts_per_message[1:]
        for (_, shown), message_acts in zip(d["shown"], acts, strict=False):
            answers = [a for a in message_acts if a.startswith("answer:")]
            if shown.question:
                assert len(answers) == 1, (shown.question, message_acts)
                answered_with_fact += answers[0] not in ("answer:dont_know", "answer:again")
            else:
                assert not answers
    assert answered_with_fact > 0


def test_reads_questions_with_its_own_keywords():
    assert question_topic("Do you want something older or more recent?") == "era"
    assert question_topic("Is it a popular film or a lesser-known one?") == "popularity"
    assert question_topic("Something light or something dark?") == "mood"
    assert question_topic("What kind of film are you after?") == "genre"
    assert question_topic("Any film you liked recently that is similar?") == "liked"
    assert question_topic("Anything else you can tell me?") is None


def test_reacts_to_the_list_in_peoples_words(dialogues):
    acts = Counter(a for d in dialogues for m in d["user"].acts_per_message for a in m)
    for act in ("close", "unlike", "too_old", "too_many", "seen", "meh"):
        assert acts[act] > 0, acts
    labels = ("Sci-Fi", "Film-Noir", "Children's", "Documentary", "Thriller", "Musical")
    assert not [m for d in dialogues for m in d["messages"] if any(label in m for label in labels)]


def test_a_close_film_is_pointed_at(dialogues):
    pointed = 0
    for d in dialogues:
        for (name, _), message_acts in zip(d["shown"], d["user"].acts_per_message[1:], strict=False):
            if name == "one_close" and "close" in message_acts:
                pointed += 1
    assert pointed > 0


def test_some_descriptions_are_loose(dialogues):
    loose = total = 0
    for d in dialogues:
        wanted = set(d["persona"].target.genres)
        for kind, word in d["user"].claims:
            if kind == "genre":
                total += 1
                loose += not GENRE_WORDS[word]["centre"] & wanted
    assert 0.05 < loose / total < 0.4, (loose, total)


def test_leaves_after_its_patience(world):
    personas, catalog, popularity = world
    left_by_fourth = 0
    for persona in personas:
        for seed in SEEDS:
            user = HeldOutUser(persona, seed=seed, popularity=popularity)
            assert 3 <= user.patience <= 6
            user.opening()
            miss = Shown(items=[it for it in catalog[:10] if it.item_id != persona.target.item_id])
            replies = [user.respond(miss) for _ in range(user.patience)]
            assert all(isinstance(r, str) for r in replies[:-1]) and replies[-1] is None and user.left
            left_by_fourth += user.patience <= 4
    share = left_by_fourth / (len(personas) * len(SEEDS))
    assert 0.05 < share < 0.35, share


def test_deterministic_under_the_seed(world):
    personas, catalog, popularity = world
    first = [_converse(p, catalog, popularity, 0)["messages"] for p in personas[:20]]
    again = [_converse(p, catalog, popularity, 0)["messages"] for p in personas[:20]]
    other = [_converse(p, catalog, popularity, 1)["messages"] for p in personas[:20]]
    assert first == again
    assert first != other


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_written_apart_from_the_agent():
    for module in ("evals/heldout.py", "evals/heldout_phrasings.py"):
        names = _imports(ROOT / module)
        assert names, module
        assert not [n for n in names if n == "agent" or n.startswith("agent.") or n == "evals.phrasings"], names
    agent_tests = list((ROOT / "tests" / "agent").rglob("*.py"))
    assert agent_tests
    for path in agent_tests:
        assert not [n for n in _imports(path) if n.startswith("evals.heldout")], path


# ---- earlier sessions (the memory and stale protocols) ------------------------------------------


LATELY, REACTIONS = 3, 2  # the memory protocol's films watched lately, and shown films it says it saw, at most
_TWINS: dict[int, list[Item]] = {}  # target id -> catalog films titled like it


def _cards(persona, catalog: list[Item], rng: random.Random) -> list[Item]:
    """A list the agent might show in an earlier session: films the person rated well, so-so and badly,
    films it never saw, the target itself and, when there is one, a film titled like the target."""
    t = persona.target
    seen = list({it.item_id: it for it in persona.history}.values())
    good = [it for it in seen if persona.ratings.get(it.item_id, 0) >= 4]
    bad = [it for it in seen if persona.ratings.get(it.item_id, 5) <= 2]
    so_so = [it for it in seen if persona.ratings.get(it.item_id) == 3]
    unseen = [it for it in catalog if it.item_id not in persona.ratings and it.item_id != t.item_id]
    if t.item_id not in _TWINS:
        _TWINS[t.item_id] = [it for it in catalog if it.item_id != t.item_id and leaks(it.title, t)]
    twins = _TWINS[t.item_id]
    cards = [*rng.sample(good, min(2, len(good))), *rng.sample(bad, min(2, len(bad))), *so_so[:2], *rng.sample(unseen, 4), t,
             *twins[:1]]
    rng.shuffle(cards)
    return cards


def _play(script: str, persona, catalog: list[Item], seed: int = 0):
    """Play ``script`` against a fake agent that records (message, session) and shows `_cards`."""
    from evals.heldout import earlier_sessions

    rng = random.Random(f"cards-{seed}-{persona.user_id}")
    said: list[tuple[str, int]] = []
    shown: list[Item] = []

    def chat(message: str, n: int) -> list[Item]:
        said.append((message, n))
        cards = _cards(persona, catalog, rng)
        shown.extend(cards)
        return cards

    return earlier_sessions(script, persona, seed, chat), said, shown


def _spoken(title: str) -> str:
    return re.sub(r"\s*\([^)]*\)\s*$", "", title).strip() or title


def _plurals_in(message: str) -> set[str]:
    """The genre words whose plurals a message uses (longest match first, so 'horror films' is not 'films')."""
    text = message.lower()
    return {w for w, d in GENRE_WORDS.items() for m in d["many"] if re.search(rf"\b{re.escape(m)}\b", text)}


def test_lately_leaks_nothing_and_names_only_recent_or_shown_films(world):
    from evals.heldout_phrasings import EARLIER_PHRASES
    from evals.simulator import Earlier

    personas, catalog, _ = world
    # the phrasings' own words may be a film's title too ("Caught ..."): only the slots name films
    wording = " ".join(re.sub(r"\{\w+\}", "|", p) for ps in EARLIER_PHRASES.values() for p in ps)
    titles = sorted({title for it in catalog if len(title := _spoken(it.title)) >= 4
                     and not re.search(rf"(?<![\w']){re.escape(title)}(?![\w'])", wording)}, key=len, reverse=True)
    any_title = re.compile(rf"(?<![\w'])(?:{'|'.join(map(re.escape, titles))})(?![\w'])")
    named_lately = named_cards = rejected = twins_offered = 0
    for persona in personas:
        t = persona.target
        for seed in (0, 1):
            earlier, said, shown = _play("lately", persona, catalog, seed)
            assert earlier == Earlier(1)
            assert said and {n for _, n in said} == {1}
            lately = {it.item_id for it in persona.nameable[-LATELY:]}
            by_title = {_spoken(it.title): it for it in [*persona.nameable[-LATELY:], *shown]}
            allowed_titles = sorted(by_title, key=len, reverse=True)
            twins_offered += any(leaks(it.title, t) for it in shown if it.item_id != t.item_id)
            cards_named = set()
            for message, _ in said:
                assert not leaks(message, t), (t.title, message)
                assert not re.search(rf"(?<!\d){t.year}(?!\d)", message), (t.year, message)
                # every film named is a recent one or a card shown; the rest of the message names none
                rest = message
                for title in allowed_titles:
                    if title in rest:
                        rest = rest.replace(title, "<film>")
                        film = by_title[title]
                        if film.item_id in lately:
                            named_lately += 1
                        else:
                            cards_named.add(film.item_id)
                            # a card is named only to say it was seen: liked or not, never lukewarm
                            rating = persona.ratings[film.item_id]
                            assert rating >= 4 or rating <= 2, (film.title, rating, message)
                strays = any_title.findall(rest)
                assert not strays, (strays, message)
                # a genre waved away is the one the person never watches, in a word apart from the target
                for word in _plurals_in(message):
                    assert persona.disliked_genre in GENRE_WORDS[word]["centre"], (word, message)
                    assert not GENRE_WORDS[word]["covers"] & set(t.genres), (word, t.genres, message)
                    rejected += 1
            assert len(cards_named) <= REACTIONS, said
            named_cards += len(cards_named)
    # each kind of statement happens, so the checks above have something to check
    assert named_lately > 0 and named_cards > 0 and rejected > 0 and twins_offered > 0


def test_lately_tells_loved_and_disappointing_films_and_combines_some(world):
    from evals.heldout_phrasings import EARLIER_PHRASES

    personas, catalog, _ = world
    starts = {act: [re.escape(p.split("{")[0]) for p in EARLIER_PHRASES[act] if not p.startswith("{")]
              for act in EARLIER_PHRASES}
    seen = Counter()
    for persona in personas:
        _, said, _ = _play("lately", persona, catalog)
        for message, _ in said:
            for act, heads in starts.items():
                seen[act] += any(re.search(rf"(^|\. ){h}", message) for h in heads if h)
        seen["two_in_one"] += any(len(re.findall(r"[.!]( |$)", m)) >= 2 for m, _ in said)
    for act in ("lately_loved_one", "lately_loved_many", "lately_disliked_one", "no_genre", "seen_liked",
                "seen_disliked"):
        assert seen[act] > 0, seen
    assert seen["two_in_one"] > 0, seen


def test_stale_loves_a_genre_then_takes_it_back(world):
    from evals.heldout_phrasings import EARLIER_PHRASES
    from evals.simulator import Earlier, stale_genre

    personas, catalog, _ = world
    played = 0
    for persona in personas:
        for seed in (0, 1):
            earlier, said, _ = _play("stale", persona, catalog, seed)
            genre = stale_genre(persona)
            assert [n for _, n in said] == [1, 2], said
            if genre is None:
                assert earlier == Earlier(2) and all(m in EARLIER_PHRASES["hello"] for m, _ in said)
                continue
            assert earlier == Earlier(2, genre) and genre not in persona.target.genres
            (loved, _), (over, _) = said
            words = [w for w, d in GENRE_WORDS.items() if genre in d["centre"]]
            plural = next(m for w in words for m in GENRE_WORDS[w]["many"] if m in loved.lower())
            assert any(loved.lower() == p.format(many=plural).lower() for p in EARLIER_PHRASES["love_genre"]), loved
            assert any(over.lower() == p.format(many=plural).lower() for p in EARLIER_PHRASES["over_genre"]), over
            assert not leaks(loved + " " + over, persona.target)
            played += 1
    assert played > 0


def test_earlier_sessions_are_numbered_and_the_protocols_find_them(world):
    from evals.protocols import PROTOCOLS
    from evals.runner import _earlier_sessions

    personas, catalog, _ = world
    play = _earlier_sessions("heldout")
    assert play.__module__ == "evals.heldout"
    for persona in personas[:20]:
        for name in ("memory", "stale", "drift"):
            said: list[tuple[str, int]] = []
            earlier = play(PROTOCOLS[name].earlier, persona, 0, lambda m, n, said=said: said.append((m, n)) or [])
            sessions = [n for _, n in said]
            assert sessions == sorted(sessions) and set(sessions) == set(range(1, earlier.sessions + 1)), (name, said)
            assert earlier.sessions == (2 if name == "stale" else 1)
            assert all(m.strip() for m, _ in said)


def test_unknown_earlier_script_raises(world):
    from evals.heldout import earlier_sessions

    personas, _, _ = world
    said = []
    with pytest.raises(ValueError, match="nostalgia"):
        earlier_sessions("nostalgia", personas[0], 0, lambda m, n: said.append((m, n)) or [])
    assert not said


def test_earlier_sessions_deterministic_under_the_seed(world):
    personas, catalog, _ = world
    first = [_play("lately", p, catalog, 0)[1] for p in personas[:30]]
    again = [_play("lately", p, catalog, 0)[1] for p in personas[:30]]
    other = [_play("lately", p, catalog, 1)[1] for p in personas[:30]]
    assert first == again and first != other
