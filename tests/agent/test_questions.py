"""Ask or recommend (issue 23): which question is worth asking, and when the agent asks it."""

import uuid

import pytest

from agent.questions import BY_KIND, QuestionPolicy, Situation, choose, split_bits
from tools.catalog import Item


def film(i: int, year: int, genres: list[str], popularity: int = 10) -> Item:
    return Item(item_id=i, title=f"Film {i}", year=year, genres=genres, popularity=popularity)


STRANGER = Situation(turn=1, asked_before=(), named_films=False, history=False, said=frozenset({"genre"}))
ON = QuestionPolicy(enabled=True, liked_bits=1.5, min_bits=0.9)  # every question in play


def test_split_bits_is_the_entropy_of_the_ranked_share():
    one_decade = [film(i, 1995, ["Drama"]) for i in range(20)]
    assert split_bits(one_decade, BY_KIND["era"].cells, 100) == 0.0
    two = [film(i, 1975 if i % 2 else 1995, ["Drama"]) for i in range(40)]
    assert 0.95 < split_bits(two, BY_KIND["era"].cells, 100) <= 1.0
    four = [film(i, 1960 + 10 * (i % 4), ["Drama"]) for i in range(40)]
    assert split_bits(four, BY_KIND["era"].cells, 100) > 1.9
    # the top of the list weighs more: the same two decades, one of them only at the bottom
    skewed = [film(i, 1995, ["Drama"]) for i in range(20)] + [film(i, 1975, ["Drama"]) for i in range(20, 40)]
    assert split_bits(skewed, BY_KIND["era"].cells, 100) < split_bits(two, BY_KIND["era"].cells, 100)


def test_the_question_worth_most_bits_is_asked():
    two_decades = [film(i, 1985 + 10 * (i % 2), ["Comedy"]) for i in range(50)]  # 1 bit at most
    q, bits = choose(ON, STRANGER, two_decades, 100)
    assert q.kind == "liked" and bits == ON.liked_bits  # worth more than a 1-bit split
    five_decades = [film(i, 1950 + 10 * (i % 5), ["Comedy"] if i % 2 else ["Horror"]) for i in range(50)]
    q, bits = choose(ON, STRANGER, five_decades, 100)
    assert q.kind == "era" and bits > ON.liked_bits  # five decades split more than a film named
    later = Situation(turn=2, asked_before=("era",), named_films=False, history=False,
                      said=frozenset({"genre"}))
    assert choose(ON, later, five_decades, 100)[0].kind == "liked"  # once a session each


def test_the_tuned_policy_asks_only_what_splits_the_list_well():
    tuned = QuestionPolicy(enabled=True)
    two_decades = [film(i, 1985 + 10 * (i % 2), ["Comedy"]) for i in range(50)]
    assert choose(tuned, STRANGER, two_decades, 100) is None  # 1 bit is not worth a question; "liked" never is
    five_decades = [film(i, 1950 + 10 * (i % 5), ["Comedy"]) for i in range(50)]
    assert choose(tuned, STRANGER, five_decades, 100)[0].kind == "era"


def test_no_question_when_off_known_late_or_worth_too_little():
    mixed = [film(i, 1950 + 10 * (i % 5), ["Comedy"]) for i in range(50)]
    assert choose(QuestionPolicy(), STRANGER, mixed, 100) is None  # off
    known = Situation(turn=1, asked_before=(), named_films=False, history=True, said=frozenset())
    assert choose(ON, known, mixed, 100) is None
    named = Situation(turn=1, asked_before=(), named_films=True, history=False, said=frozenset())
    assert choose(ON, named, mixed, 100) is None
    late = Situation(turn=ON.last_turn + 1, asked_before=(), named_films=False, history=False,
                     said=frozenset())
    assert choose(ON, late, mixed, 100) is None
    # everything said or asked, and one decade, one mood, all hits: nothing is worth asking
    flat = [film(i, 1995, ["Comedy"], popularity=500) for i in range(50)]
    done = Situation(turn=2, asked_before=("liked",), named_films=False, history=False,
                     said=frozenset({"genre"}))
    assert choose(ON, done, flat, 100) is None


@pytest.fixture(scope="module")
def asking(small_artifacts, small_config, tmp_path_factory):
    from agent import ConvRec

    config = small_config.model_copy(update={"memory_dir": tmp_path_factory.mktemp("ask-mem"),
                                             "question_policy": {"liked_bits": 1.5, "min_bits": 0.9}})
    rec = ConvRec(small_artifacts, config, system="agent-ask")
    yield rec
    rec.close()


def test_the_agent_asks_a_stranger_beside_the_list_once_a_kind(asking):
    user = "ask-" + uuid.uuid4().hex[:8]
    first = asking.chat(user, "a comedy please", session_id="s")
    assert first.items and first.question_kind in BY_KIND and first.question == BY_KIND[first.question_kind].text
    assert first.question in first.text
    asked = [first.question_kind]
    for message in ("something else", "more options", "another list"):
        r = asking.chat(user, message, session_id="s")
        assert r.items
        if r.question_kind:
            asked.append(r.question_kind)
    assert len(asked) == len(set(asked))  # each kind at most once a session
    named = asking.chat(user + "-n", "something like Toy Story", session_id="s")
    assert named.items and named.question is None  # a film named: the evidence is not thin


def test_a_known_user_is_not_asked(asking, small_artifacts):
    user = str(int(small_artifacts.split.user_ids[0]))
    r = asking.chat(user, "a comedy please", session_id="k")
    assert r.items and r.question is None
