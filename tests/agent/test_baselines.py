"""The `constraints-pop` baseline on the small real build: it listens to the dialogue's hard
constraints and ranks what they allow by popularity alone (no CF, text, reranker or memory)."""

import uuid

import pytest

from agent import ConvRec
from agent.api import SYSTEMS


@pytest.fixture(scope="module")
def baseline(small_artifacts, small_config):
    state = small_config.state_dir / f"cpop-{uuid.uuid4().hex[:6]}"
    r = ConvRec(small_artifacts, small_config.model_copy(update={"memory_dir": state}), system="constraints-pop")
    yield r
    r.close()


@pytest.fixture(scope="module")
def catalog_items(small_artifacts):
    return small_artifacts.catalog.get(small_artifacts.catalog.item_ids)


def _allowed(items, session, excluded):
    """The items the session's constraints allow, computed here from the catalog rows."""
    out, session = [], session.constraints
    for it in items:
        if it.item_id in excluded or set(it.genres) & set(session.genres_none):
            continue
        if session.genres and not set(it.genres) & set(session.genres):
            continue
        if session.year_min is not None and (it.year is None or it.year < session.year_min):
            continue
        if session.year_max is not None and (it.year is None or it.year > session.year_max):
            continue
        out.append(it)
    if len(session.genres) > 1:  # "a funny horror film": every genre asked, when enough films have them
        both = [it for it in out if set(session.genres) <= set(it.genres)]
        out = both if len(both) >= 10 else out
    return out


def _assert_popularity_order(shown, allowed):
    """Shown = the most popular allowed items, most popular first (ties in any order)."""
    pops = [it.popularity for it in shown]
    assert pops == sorted(pops, reverse=True), pops
    allowed_ids = {it.item_id for it in allowed}
    assert all(it.item_id in allowed_ids for it in shown)
    shown_ids = {it.item_id for it in shown}
    left = [it.popularity for it in allowed if it.item_id not in shown_ids]
    assert not left or max(left) <= min(pops), (max(left), min(pops))
    expected = sorted((it.popularity for it in allowed), reverse=True)[: len(shown)]
    assert pops == expected


def test_constraints_pop_flags():
    assert SYSTEMS["constraints-pop"] == {"use_cf": False, "use_text": False, "use_reranker": False,
                                          "use_memory": False, "ask": False}


@pytest.mark.parametrize("user", ["known", "new"])
def test_constraints_pop_ranks_by_popularity_within_the_constraints(baseline, catalog_items, user):
    tools = baseline.tools
    assert tools.recommender.reranker is None and baseline.memory is None and not tools.use_cf and not tools.use_text
    uid = baseline.known_users()[3] if user == "known" else "cpop-" + uuid.uuid4().hex[:8]
    history = set(tools.histories.get(uid, []))
    assert (user == "known") == bool(history)
    session = f"s-{uuid.uuid4().hex[:6]}"
    shown: set[int] = set()
    for message in ("I'm in the mood for a comedy from the 90s", "less romance please",
                    "something a bit like Toy Story", "not the first one"):
        reply = baseline.chat(uid, message, session_id=session)
        prefs = baseline.session(uid, session)
        assert reply.items, message
        items = tools.catalog.get([i.item_id for i in reply.items])
        excluded = history | shown | set(prefs.liked_items) | set(prefs.disliked_items)
        _assert_popularity_order(items, _allowed(catalog_items, prefs, excluded))
        shown |= {i.item_id for i in reply.items}
    asked = prefs.constraints
    assert asked.genres and asked.year_min is not None and asked.genres_none  # the constraints were heard
    assert asked.popularity is None


def test_constraints_pop_is_not_personal(baseline):
    """Two known users with different histories get the same order, less what each has seen."""
    a, b = baseline.known_users()[:2]
    ra = [i.item_id for i in baseline.chat(a, "a drama please", session_id="np").items]
    rb = [i.item_id for i in baseline.chat(b, "a drama please", session_id="np").items]
    assert set(baseline.tools.histories[a]) != set(baseline.tools.histories[b])
    # each list is one ranking less the user's own history: what neither has seen comes in one order,
    # and what one was shown and the other was not is in the other's history or ranked below its list
    both = [i for i in ra if i in rb]
    assert both and both == [i for i in rb if i in ra]
    pop = {it.item_id: it.popularity for it in baseline.tools.catalog.get(ra + rb)}
    for mine, theirs, other in ((ra, rb, b), (rb, ra, a)):
        for i in mine:
            assert i in theirs or i in baseline.tools.histories[other] or pop[i] <= pop[theirs[-1]]


def test_agent_is_not_constraints_pop(small_artifacts, small_config, baseline):
    """The full agent, same constraints, orders differently (it uses CF, text and the reranker)."""
    state = small_config.state_dir / f"agent-{uuid.uuid4().hex[:6]}"
    agent = ConvRec(small_artifacts, small_config.model_copy(update={"memory_dir": state}))
    try:
        uid = baseline.known_users()[5]
        r_agent = [i.item_id for i in agent.chat(uid, "a comedy from the 90s", session_id="x").items]
        r_base = [i.item_id for i in baseline.chat(uid, "a comedy from the 90s", session_id="x").items]
        assert r_agent != r_base
    finally:
        agent.close()
