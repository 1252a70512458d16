"""The turn state: typed models through the graph and the checkpointer, a trace and notes that add
up within a turn and start afresh with the next, and one session merge."""

from __future__ import annotations

import uuid

import pytest

from agent import ConvRec
from agent.request import Request
from agent.state import LLMLoop, Reply, SessionPrefs, TraceStep, TurnContext, state_models
from memory.preferences import UserProfile
from tools.constraints import Constraints


@pytest.fixture(scope="module")
def rec(small_artifacts, small_config):
    r = ConvRec.load(small_artifacts.path, config=small_config)
    yield r
    r.close()


def thread(user: str, session: str = "default") -> dict:
    return {"configurable": {"thread_id": f"{user}\x1f{session}"}}


def test_the_checkpoint_holds_the_states_models(rec):
    user = "s-" + uuid.uuid4().hex[:8]
    rec.chat(user, "a comedy from the 90s, no romance")
    values = rec.graph.get_state(thread(user)).values
    assert isinstance(values["session"], SessionPrefs) and isinstance(values["request"], Request)
    assert isinstance(values["turn"], TurnContext) and isinstance(values["profile"], UserProfile)
    assert isinstance(values["reply"], Reply) and all(isinstance(s, TraceStep) for s in values["trace"])
    asked = values["session"].constraints
    assert asked.genres == ["Comedy"] and asked.genres_none == ["Romance"] and (asked.year_min, asked.year_max) == (1990, 1999)
    assert "found" not in values and values["ranked"] == [] and values["llm"] is None  # per-turn lists dropped
    assert {LLMLoop, TurnContext, SessionPrefs, Request, Reply} <= set(state_models())


def test_trace_and_notes_add_up_within_a_turn_and_start_afresh(rec):
    user = "s-" + uuid.uuid4().hex[:8]
    # a cast name: said back once, as the catalog cannot filter by it (a director now stays as a constraint)
    first = rec.chat(user, "a film with Bruce Willis, a western")
    second = rec.chat(user, "something older")
    nodes = ["understand", "recall", "plan", "retrieve", "respond", "remember"]
    assert [s.node for s in first.trace] == nodes and [s.node for s in second.trace] == nodes
    assert any("Bruce Willis" in w for w in first.warnings)
    assert not any("Bruce Willis" in w for w in second.warnings)
    assert [s.node for s in rec.graph.get_state(thread(user)).values["trace"]] == nodes


def test_a_session_stored_as_a_dict_is_read(rec):
    user = "s-" + uuid.uuid4().hex[:8]
    rec.graph.update_state(thread(user), {"session": {"constraints": {"genres": ["Western"]}, "turns": 1}})
    r = rec.chat(user, "more please")
    assert r.items and all("Western" in i.genres for i in r.items)
    assert rec.session(user).constraints.genres == ["Western"] and rec.session(user).turns == 2


def test_show_is_the_one_place_shown_items_change():
    from agent.state import RecItem

    s = SessionPrefs(shown=[1, 2])
    s.show([RecItem(item_id=i, title="t", year=y, genres=[], score=0.0, reason="") for i, y in ((2, 1990), (3, None))])
    assert (s.last_shown, s.last_years, s.shown) == ([2, 3], [1990], [1, 2, 3])


def test_a_request_carries_its_constraints_as_one_model():
    req = Request(constraints=Constraints(genres=["Comedy"], popularity="popular"), mode="add", clear=["years"])
    s = SessionPrefs(constraints=Constraints(genres=["Drama"], year_min=1990, year_max=1999))
    s.apply(req)
    assert s.constraints == Constraints(genres=["Drama", "Comedy"], popularity="popular")
    with pytest.raises(ValueError):
        Request(constraints={"genres": ["Comedy"], "runtime": 90})  # one model, extra fields forbidden


def test_directors_and_audience_stay_until_replaced_or_lifted():
    s = SessionPrefs()
    s.apply(Request(constraints=Constraints(directors=["Steven Spielberg"], audience="children", max_runtime=120)))
    s.apply(Request(constraints=Constraints(genres=["Adventure"])))  # says nothing of them: they stay
    assert s.constraints == Constraints(genres=["Adventure"], directors=["Steven Spielberg"], audience="children",
                                        max_runtime=120)
    s.apply(Request(constraints=Constraints(directors=["Joel Coen"])))  # named ones replace them
    assert s.constraints.directors == ["Joel Coen"] and s.constraints.audience == "children"
    s.apply(Request(clear=["audience", "runtime"]))
    assert s.constraints == Constraints(genres=["Adventure"], directors=["Joel Coen"])
    s.apply(Request(clear=["people"]))
    assert s.constraints == Constraints(genres=["Adventure"])


def test_a_session_checkpointed_before_one_constraints_model_resumes_with_its_constraints(rec):
    # the session as main at 347b796 checkpointed it: constraints as fields of its own, a dict
    user = "old-" + uuid.uuid4().hex[:8]
    rec.chat(user, "hello")
    old = {"liked_items": [], "disliked_items": [], "genres_in": ["Comedy"], "genres_out": ["Romance"],
           "year_min": 1990, "year_max": 1999, "popularity": None, "vibe": "", "shown": [], "last_shown": [],
           "last_years": [], "turns": 1}
    rec.graph.update_state(thread(user), {"session": old})
    assert isinstance(rec.graph.get_state(thread(user)).values["session"], dict)  # stored as the old shape
    reply = rec.chat(user, "something popular please")
    asked = rec.session(user).constraints
    assert asked.genres == ["Comedy"] and asked.genres_none == ["Romance"] and (asked.year_min, asked.year_max) == (1990, 1999)
    assert asked.popularity == "popular"
    films = rec.tools.catalog.get([i.item_id for i in reply.items])
    assert films and all("Comedy" in f.genres and "Romance" not in f.genres and 1990 <= f.year <= 1999 for f in films)
