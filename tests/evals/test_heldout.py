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
