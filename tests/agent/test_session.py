"""Session merge: ``SessionPrefs.apply`` rules, each fed by several phrasings through the real
offline understander on the ml-100k catalog (phrasings written for these tests)."""

from __future__ import annotations

import pytest

from agent.request import Request
from agent.state import SessionPrefs
from tools.constraints import Constraints


def say(understander, session: SessionPrefs, *messages: str) -> SessionPrefs:
    for message in messages:
        session.apply(understander.parse(message, session.last_shown))
    return session


def title(understander, name: str) -> int:
    return understander.catalog.resolve_title(name).item_id


# ---- genres: add ----------------------------------------------------------------------------

@pytest.mark.parametrize("second", [
    "it should also be a drama", "make it a drama too", "and a drama", "a drama as well, please",
    "with some drama", "I'd like it dramatic too", "but still a drama",
])
def test_also_adds_a_genre_to_the_ones_asked(understander, second):
    s = say(understander, SessionPrefs(), "a romance", second)
    assert set(s.constraints.genres) == {"Romance", "Drama"}


@pytest.mark.parametrize("message", ["something funnier", "funnier but still horror", "a bit more comedy"])
def test_a_comparative_keeps_what_was_asked_and_adds(understander, message):
    s = say(understander, SessionPrefs(), "a horror film", message)
    assert set(s.constraints.genres) == {"Horror", "Comedy"}


# ---- genres: replace ------------------------------------------------------------------------

@pytest.mark.parametrize("second", [
    "a western instead", "actually, a western", "switch to westerns", "I'd rather have a western", "a western",
])
def test_instead_or_a_plain_new_genre_replaces(understander, second):
    s = say(understander, SessionPrefs(), "a romance", second)
    assert s.constraints.genres == ["Western"]


# ---- genres: remove -------------------------------------------------------------------------

@pytest.mark.parametrize("second", [
    "no more drama", "not a drama anymore", "it doesn't have to be a drama", "forget the drama",
    "drama is optional", "enough drama",
])
def test_no_more_withdraws_a_wanted_genre_without_excluding_it(understander, second):
    s = say(understander, SessionPrefs(), "a romantic drama", second)
    assert s.constraints.genres == ["Romance"] and "Drama" not in s.constraints.genres_none


def test_no_more_of_a_genre_never_asked_for_excludes_it(understander):
    s = say(understander, SessionPrefs(), "something like Fargo", "no more thrillers")
    assert s.constraints.genres_none == ["Thriller"] and s.constraints.genres == []


@pytest.mark.parametrize("second", ["no horror", "I hate horror", "anything but horror"])
def test_an_excluded_genre_leaves_the_wanted_ones(understander, second):
    s = say(understander, SessionPrefs(), "a horror comedy", second)
    assert s.constraints.genres == ["Comedy"] and s.constraints.genres_none == ["Horror"]


@pytest.mark.parametrize("message", ["any genre is fine", "the genre doesn't matter", "forget the genre filter"])
def test_lifting_the_genres(understander, message):
    s = say(understander, SessionPrefs(), "a comedy, no horror", message)
    assert s.constraints.genres == [] and s.constraints.genres_none == []


# ---- years ----------------------------------------------------------------------------------

def shown_from(years: list[int]) -> SessionPrefs:
    return SessionPrefs(last_shown=list(range(1, len(years) + 1)), last_years=years)


@pytest.mark.parametrize("message, year_min, year_max", [
    ("something older, before 1980", None, 1979),
    ("older ones, but nothing after 1975", None, 1975),
    ("older, from the 70s on", 1970, 1989),
    ("newer, but before 1997", 1991, 1996),
    ("something more recent, since 1994", 1994, None),
])
def test_relative_and_absolute_years_together(understander, message, year_min, year_max):
    s = say(understander, shown_from([1985, 1988, 1990, 1992, 1995]), message)  # median 1990
    assert (s.constraints.year_min, s.constraints.year_max) == (year_min, year_max)


@pytest.mark.parametrize("message", ["older", "something earlier", "not as recent please"])
def test_relative_years_pivot_on_the_last_list(understander, message):
    s = say(understander, shown_from([1970, 1980, 1990]), message)
    assert (s.constraints.year_min, s.constraints.year_max) == (None, 1979)


@pytest.mark.parametrize("message, year_min, year_max", [
    ("the first one is close but too recent", None, 1969),
    ("the first one's close, just older", None, 1969),
    ("number 3 is the right idea, but newer", 1991, None),
    ("older", None, 1979),  # no film pointed at: the middle of the list
])
def test_older_than_the_film_pointed_at(understander, message, year_min, year_max):
    s = say(understander, shown_from([1970, 1980, 1990]), message)
    assert (s.constraints.year_min, s.constraints.year_max) == (year_min, year_max)


@pytest.mark.parametrize("message", ["hmm, those look a bit dated", "they all feel kind of old-fashioned",
                                     "these seem so dated to me", "these are all pretty ancient"])
def test_a_list_called_dated_asks_for_newer(understander, message):
    s = say(understander, shown_from([1970, 1980, 1990]), message)
    assert (s.constraints.year_min, s.constraints.year_max) == (1981, None)


@pytest.mark.parametrize("message, year_min, year_max", [
    ("mysteries from 1995 or 1996", 1995, 1996),
    ("made in 1993, 1994 or 1997", 1993, 1997),
    ("1994 and 1995 please", 1994, 1995),
    ("anything from the 60s or 70s", 1960, 1979),
    ("something from '95 or '96", 1995, 1996),
])
def test_a_list_of_years_covers_its_span(understander, message, year_min, year_max):
    req = understander.parse(message)
    assert req.warnings == [] and (req.constraints.year_min, req.constraints.year_max) == (year_min, year_max)
    s = say(understander, SessionPrefs(), message)
    assert (s.constraints.year_min, s.constraints.year_max) == (year_min, year_max)


def test_one_bound_keeps_the_compatible_other(understander):
    s = say(understander, SessionPrefs(), "a 90s comedy", "before 1995")
    assert (s.constraints.year_min, s.constraints.year_max) == (1990, 1994)
    s = say(understander, s, "after 1970")  # compatible with the upper bound: only the lower moves
    assert (s.constraints.year_min, s.constraints.year_max) == (1971, 1994)
    s = say(understander, s, "from 1996 on")  # incompatible with 1994: the old upper bound goes
    assert (s.constraints.year_min, s.constraints.year_max) == (1996, None)
    s = say(understander, s, "the 80s")  # both bounds given: both replaced
    assert (s.constraints.year_min, s.constraints.year_max) == (1980, 1989)


@pytest.mark.parametrize("message", ["any year", "the decade doesn't matter", "forget the years", "old or new"])
def test_lifting_the_years(understander, message):
    s = say(understander, SessionPrefs(), "a comedy from the 80s", message)
    assert (s.constraints.year_min, s.constraints.year_max) == (None, None) and s.constraints.genres == ["Comedy"]


# ---- items ----------------------------------------------------------------------------------

def test_liked_titles_accumulate_and_instead_replaces(understander):
    heat, fargo, alien = (title(understander, t) for t in ("Heat", "Fargo", "Alien"))
    s = say(understander, SessionPrefs(), "something like Heat", "also like Fargo")
    assert s.liked_items == [heat, fargo]
    s = say(understander, s, "like Alien instead")
    assert s.liked_items == [alien]


@pytest.mark.parametrize("message", ["forget about Fargo", "forget Fargo", "never mind Fargo"])
def test_forgetting_a_title_drops_it_without_disliking_it(understander, message):
    fargo = title(understander, "Fargo")
    s = say(understander, SessionPrefs(), "like Fargo and Heat", message)
    assert fargo not in s.liked_items and fargo not in s.disliked_items and len(s.liked_items) == 1


def test_a_dislike_cancels_a_like_and_shown_references_resolve_to_ids():
    s = SessionPrefs(liked_items=[5], last_shown=[7, 8, 9])
    applied = s.apply(Request(disliked_items=[5], shown_liked=[2], shown_disliked=[0]))
    assert s.liked_items == [9] and s.disliked_items == [5, 7]
    assert applied.liked == [9] and applied.disliked == [5, 7]


def test_apply_does_not_change_the_request():
    req = Request(shown_liked=[0], constraints=Constraints(genres=["Comedy"]), mode="add")
    before = req.model_dump()
    SessionPrefs(last_shown=[3]).apply(req)
    assert req.model_dump() == before


@pytest.mark.parametrize("message", ["I actually loved Fargo", "I also liked Fargo", "Fargo was great too"])
def test_a_like_said_in_passing_adds_to_the_liked_titles(understander, message):
    heat, fargo = title(understander, "Heat"), title(understander, "Fargo")
    s = say(understander, SessionPrefs(), "something like Heat", message)
    assert s.liked_items == [heat, fargo]


@pytest.mark.parametrize("message, position", [
    ("the first one's close", 0), ("the last one's not bad", 2), ("the second one's more like it", 1),
    ("hmm, the third one's kind of what I mean", 2),
])
def test_a_film_pointed_at_with_a_contraction_is_picked(understander, message, position):
    s = say(understander, shown_from([1970, 1980, 1990]), message)
    assert s.liked_items == [s.last_shown[position]]


@pytest.mark.parametrize("message", ["seen it all", "I've watched every single one of these",
                                     "seen each of them already", "watched every one of those"])
def test_seen_the_whole_list(understander, message):
    s = say(understander, shown_from([1970, 1980, 1990]), message)
    assert s.seen == s.last_shown


@pytest.mark.parametrize("message", ["the first and the last are old favourites", "my old favorite is Heat",
                                     "a comedy like the old times"])
def test_old_favourites_are_no_era(understander, message):
    s = say(understander, shown_from([1970, 1980, 1990]), message)
    assert (s.constraints.year_min, s.constraints.year_max) == (None, None)
