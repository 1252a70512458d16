"""One constraints model: its words, the kinds a person lifts, and the person's words over a tool's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tools.constraints import KINDS, Constraints, filterable


def test_describe_says_the_constraints_in_words():
    assert Constraints(genres=["Comedy", "Horror"], year_min=1995, year_max=1995).describe() == "Comedy or Horror, from 1995"
    assert Constraints(genres=["Comedy", "Horror"], year_max=1979).describe(every_genre=True) == "Comedy and Horror, up to 1979"
    assert Constraints(genres_none=["Drama", "Comedy"], genres=["Comedy"], popularity="obscure").describe() \
        == "Comedy, without Drama, lesser-known"
    assert Constraints(year_min=1990, popularity="popular").describe() == "from 1990 on, popular"
    assert Constraints().describe() == ""


def test_lifting_a_kind_of_constraint():
    asked = Constraints(genres=["Comedy"], genres_none=["Drama"], year_min=1990, popularity="popular")
    assert asked.lifted("genres", "popularity") == Constraints(year_min=1990)
    assert asked.genres == ["Comedy"]  # lifting copies
    assert asked.constrains("years") and not Constraints().constrains("years")
    assert {f for k in KINDS.values() for f in k.fields} == set(Constraints.model_fields)  # every field has a kind


def test_excluded_genres_alone_do_not_say_what_is_wanted():
    assert not Constraints(genres_none=["Horror"]).says_what_is_wanted
    assert Constraints(popularity="obscure").says_what_is_wanted and Constraints(year_max=1970).says_what_is_wanted


@pytest.mark.parametrize("person,tool,merged", [
    (dict(genres=["Comedy"]), dict(genres=["Horror"]), dict(genres=["Comedy"])),
    (dict(genres_none=["Drama"]), dict(genres=["Drama", "War"]), dict(genres=["War"], genres_none=["Drama"])),
    (dict(genres=["Horror"]), dict(genres_none=["Horror", "Romance"]), dict(genres=["Horror"], genres_none=["Romance"])),
    (dict(year_max=1969), dict(year_min=1950, year_max=1999), dict(year_min=1950, year_max=1969)),
    (dict(popularity="obscure"), dict(popularity="popular"), dict(popularity="obscure")),
    (dict(), dict(genres=["Western"], popularity="popular"), dict(genres=["Western"], popularity="popular")),
])
def test_the_persons_words_win_over_a_tools(person, tool, merged):
    assert Constraints(**tool).within(Constraints(**person)) == Constraints(**merged)


def test_implausible_years_and_unknown_fields_are_refused():
    with pytest.raises(ValidationError):
        Constraints(year_max=3000)
    with pytest.raises(ValidationError):
        Constraints(runtime_max=90)
    assert Constraints(year_max=1849).year_max == 1849  # "before 1850": plausible, if not in the catalog


def test_what_the_catalog_can_filter_by_is_said_from_the_kinds():
    assert filterable() == "genre, years and popularity"
