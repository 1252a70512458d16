"""The LLM planner end to end against a real model: Gemma 3 270M behind `convrec llm serve`.

The model is tiny and often wrong; what must hold whatever it says: the server was used, every
item shown is a catalog item, the constraints the person said in words hold in every list, and no
turn outlives its deadline by more than a second.
"""

import time

import pytest

from agent import ConvRec

CONVERSATIONS = [
    ["a scary film from the seventies", "something older than these", "no more horror, make it a comedy"],
    ["I loved Fargo, something like it but no crime films", "only from the 90s please"],
    ["a popular action movie", "not a comedy", "before 1990 please"],
    ["a light-hearted musical from before 1970", "with some romance too"],
]
DEADLINE = 8.0


@pytest.fixture(scope="module")
def gemma_rec(real_llm, small_artifacts, small_config, tmp_path_factory):
    config = small_config.model_copy(update={
        "llm_base_url": real_llm.base_url, "llm_model": real_llm.model, "llm_planner": "json-completion",
        "llm_turn_seconds": DEADLINE, "memory_dir": tmp_path_factory.mktemp("gemma-state"),
        # cold, the first plan (model warm-up, the few-shot prefix uncached) outlived the 8 s turn
        # on a busy 2-core CI machine; a server warmed at load is what these tests are about
        "llm_warm_seconds": 300.0})
    rec = ConvRec.load(small_artifacts.path, config=config, use_memory=False)
    yield rec
    rec.close()


def _holds(item, session) -> bool:
    """Does a shown item meet what the session established from the person's words?"""
    asked = session.constraints
    ok = (not asked.genres or set(item.genres) & set(asked.genres)) \
        and not set(item.genres) & set(asked.genres_none) \
        and (asked.year_min is None or item.year >= asked.year_min) \
        and (asked.year_max is None or item.year <= asked.year_max)
    return bool(ok) and item.item_id not in session.disliked_items


@pytest.mark.parametrize("messages", CONVERSATIONS, ids=[c[0][:24] for c in CONVERSATIONS])
def test_conversations_through_a_real_llm_keep_every_invariant(gemma_rec, messages):
    rec, user = gemma_rec, f"gemma-{abs(hash(messages[0])) % 10**6}"
    sid = rec.new_session()
    planners = []
    for message in messages:
        t0 = time.monotonic()
        reply = rec.chat(user, message, session_id=sid)
        took = time.monotonic() - t0
        assert took <= DEADLINE + 1.0, (message, took, [(s.node, s.ms) for s in reply.trace])
        assert reply.items or "shown already" in reply.text or "No film" in reply.text, (message, reply.text)
        assert all(i.item_id in rec.tools.catalog for i in reply.items)
        session = rec.session(user, sid)
        items = rec.tools.catalog.get([i.item_id for i in reply.items])
        assert all(_holds(i, session) for i in items), (message, session, [i.label for i in items])
        planners.append((reply.planner, reply.llm_ms))
    assert all(p in ("llm", "llm-fallback") for p in [p for p, _ in planners]), planners
    assert any(ms > 0 for _, ms in planners), planners  # the server was asked
    assert rec.tools.planner.client.breaker.open_for() == 0  # no timeout or repeated errors


def test_the_real_model_plans_at_least_some_turns(gemma_rec):
    """Not a quality bar: across fresh sessions the 270M base model's plans are accepted at all."""
    accepted = 0
    for n, message in enumerate(["a romantic comedy", "space adventures", "a thriller from the 90s"]):
        reply = gemma_rec.chat(f"gemma-plain-{n}", message, session_id=gemma_rec.new_session())
        accepted += reply.planner == "llm" and reply.llm_ms > 0
    assert accepted >= 1
