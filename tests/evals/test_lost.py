"""`python -m evals.lost` counts where the agent's reading rules the target out (issues 21, 23): the
counts must say which constraint it was and how far outside the target lies."""

from __future__ import annotations

from evals.lost import _bucket, how_far, ruled_out_by
from tools.catalog import ItemFilter


def _a_film(rec, **flt) -> int:
    return rec.tools.catalog.filter(ItemFilter(**flt), limit=1)[0]


def test_the_constraint_that_rules_the_target_out(small_rec):
    user, session = "lost-1", "lost-s1"
    small_rec.chat(user, "a comedy from the 90s", session_id=session)
    prefs = small_rec.session(user, session)
    cons = prefs.constraints
    inside = _a_film(small_rec, genres_all=["Comedy"], year_min=1990, year_max=1999)
    early = _a_film(small_rec, genres_all=["Comedy"], year_min=1986, year_max=1987)
    other = _a_film(small_rec, genres_none=["Comedy"], year_min=1990, year_max=1999)
    neither = _a_film(small_rec, genres_none=["Comedy"], year_max=1960)
    assert ruled_out_by(small_rec, prefs, inside) is None
    assert ruled_out_by(small_rec, prefs, early) == "years"
    assert how_far(small_rec, cons, "years", early) == "years: before the span, 3-5 years"
    assert ruled_out_by(small_rec, prefs, other) == "genres"
    assert how_far(small_rec, cons, "genres", other) == "genres: lacks every wanted genre"
    assert ruled_out_by(small_rec, prefs, neither) == "several"


def test_a_film_said_seen_is_ruled_out_as_seen(small_rec):
    user, session = "lost-2", "lost-s2"
    small_rec.chat(user, "I've already seen Toy Story", session_id=session)
    toy_story = 1
    prefs = small_rec.session(user, session)
    assert toy_story in prefs.seen
    assert ruled_out_by(small_rec, prefs, toy_story) == "seen"


def test_buckets_of_allowed_over_fits():
    assert [_bucket(r) for r in (0.1, 1.0, 1.5, 3, 10, 50)] == ["< 0.5", "< 1.1", "< 2", "< 5", "< 20", ">= 20"]
