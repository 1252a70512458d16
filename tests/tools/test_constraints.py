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
    assert filterable() == ("genre, years, popularity, who it is for (children), director, MPAA rating, "
                            "running time and critical acclaim")


def test_describe_says_the_film_metadata_constraints_in_words():
    assert Constraints(audience="children").describe() == "for children"
    assert Constraints(directors=["Steven Spielberg"]).describe() == "directed by Steven Spielberg"
    assert Constraints(max_rating="PG-13").describe() == "rated PG-13 or milder"
    assert Constraints(max_rating="G").describe() == "rated G"
    assert Constraints(max_runtime=120).describe() == "under 120 minutes"
    assert Constraints(acclaimed=True).describe() == "critically acclaimed"
    assert Constraints(genres=["Comedy"], audience="children", directors=["Joel Coen", "Ethan Coen"], acclaimed=True
                       ).describe() == "Comedy, for children, directed by Joel Coen or Ethan Coen, critically acclaimed"


def test_each_new_field_reaches_the_filter():
    from types import SimpleNamespace

    from tools.constraints import ADULT_GENRES

    cutoffs = SimpleNamespace(popular_floor_=0, obscure_ceiling_=0)
    flt = Constraints(directors=["Steven Spielberg"], max_rating="PG", max_runtime=90, acclaimed=True).to_filter(cutoffs)
    assert (flt.directors_any, flt.max_rating, flt.max_runtime, flt.acclaimed) == (["Steven Spielberg"], "PG", 90, True)
    assert flt.ratings_none == [] and flt.genres_none == []
    kids = Constraints(audience="children", genres=["Crime", "Comedy"], genres_none=["Drama"]).to_filter(cutoffs)
    assert kids.genres_none == ["Drama", *ADULT_GENRES] and kids.ratings_none == ["R", "NC-17"]
    assert set(ADULT_GENRES) == {"Horror", "Crime", "Thriller", "Film-Noir"}


def test_new_kinds_lift_count_and_merge():
    asked = Constraints(audience="children", directors=["Joel Coen"], max_rating="PG-13", max_runtime=100, acclaimed=True)
    assert all(asked.constrains(k) for k in ("audience", "people", "rating", "runtime", "acclaim"))
    assert asked.lifted("audience", "people", "rating", "runtime", "acclaim") == Constraints()
    assert Constraints(directors=["Joel Coen"]).says_what_is_wanted and Constraints(audience="children").says_what_is_wanted
    # a tool's directors stand when the person named none; the person's win when they did
    tool = Constraints(directors=["Tim Burton"], max_runtime=150)
    assert tool.within(Constraints(max_runtime=90)) == Constraints(directors=["Tim Burton"], max_runtime=90)
    assert tool.within(Constraints(directors=["Joel Coen"])).directors == ["Joel Coen"]
    assert tool.within(Constraints(audience="children")).audience == "children"


def test_acclaim_not_asked_is_none_and_runtimes_are_plausible():
    assert Constraints(acclaimed=False) == Constraints() and not Constraints(acclaimed=False).says_what_is_wanted
    with pytest.raises(ValidationError):
        Constraints(max_runtime=0)
    with pytest.raises(ValidationError):
        Constraints(max_rating="NC-17")  # "NC-17 or milder" is every rated film: no limit to ask
    with pytest.raises(ValidationError):
        Constraints(audience="adults")
