"""The LLM planner against a real HTTP server on 127.0.0.1 speaking the OpenAI protocol (scripted).

Each test is one class of behaviour: native tool calls, JSON plans (chat and completion), the
person's words winning over the LLM's arguments, faults falling back to the offline planner,
items only from tool results, and the turn deadline with its circuit breaker.
"""

import json
import logging
import socket
import time

import jsonschema
import pytest

from agent import ConvRec
from agent.llm import CircuitBreaker, Deadline
from agent.registry import REGISTRY, ToolContext, result_items
from tests.llm_server import ScriptedLLM


def _config(small_config, url, **kw):
    return small_config.model_copy(update={"llm_base_url": url, "llm_model": "scripted", "llm_timeout": 2.0,
                                           "llm_turn_seconds": 3.0, **kw})


@pytest.fixture
def make_rec(small_artifacts, small_config):
    made = []

    def make(url, **kw):
        r = ConvRec.load(small_artifacts.path, config=_config(small_config, url, **kw), use_memory=False)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def _tool_items(rec, name, args, **ctx):
    return {c.item_id for c in result_items(REGISTRY.call(name, args, ToolContext(recommender=rec.tools.recommender, **ctx)))}


def test_native_tool_calls_choose_the_tools_and_only_their_items_are_shown(make_rec):
    call = {"name": "semantic_search", "arguments": {"query": "outlaws and gunfights", "k": 12}}
    with ScriptedLLM([{"calls": [call]}, {"content": "that is all"}]) as llm:
        rec = make_rec(llm.base_url)
        r = rec.chat("u1", "zzz qqq")
        assert r.planner == "llm" and r.items
        assert {i.item_id for i in r.items} <= _tool_items(rec, "semantic_search", call["arguments"])
        first, second = llm.requests[0], llm.requests[1]
        names = [t["function"]["name"] for t in first["tools"]]
        assert {"recommend", "similar_items", "semantic_search", "filter_catalog"} <= set(names)
        assert "memory_write" not in names and "rerank" not in names  # writes stay with the rules
        genres = first["tools"][names.index("recommend")]["function"]["parameters"]["properties"]["genres"]
        assert "Western" in genres["items"]["enum"]
        tool_msg = next(m for m in second["messages"] if m["role"] == "tool")
        assert tool_msg["tool_call_id"] == "call_0" and json.loads(tool_msg["content"])["items"]
        assert [s.node for s in r.trace].count("act") == 1 and "compose" in [s.node for s in r.trace]


def test_the_tool_loop_is_bounded(make_rec):
    call = {"calls": [{"name": "filter_catalog", "arguments": {"genres": ["Comedy"]}}]}
    with ScriptedLLM(default=call) as llm:
        r = make_rec(llm.base_url, llm_max_tool_calls=3).chat("u1b", "comedies")
        assert r.planner == "llm" and len(llm.requests) == 3
        assert [s.node for s in r.trace].count("act") == 3


@pytest.mark.parametrize("mode", ["json-chat", "json-completion"])
def test_a_json_plan_runs_its_steps(make_rec, mode):
    plan = {"steps": [{"tool": "similar_items", "args": {"item": "Fargo", "k": 15}},
                      {"tool": "recommend", "args": {"liked": ["Fargo"], "k": 30}}]}
    with ScriptedLLM([{"plan": plan}]) as llm:
        rec = make_rec(llm.base_url, llm_planner=mode)
        r = rec.chat(f"u2-{mode}", "films like Fargo please")
        assert r.planner == "llm" and r.items
        fargo = rec.tools.catalog.resolve_title("Fargo").item_id
        pool = (_tool_items(rec, "similar_items", plan["steps"][0]["args"])
                | _tool_items(rec, "recommend", plan["steps"][1]["args"]))
        assert {i.item_id for i in r.items} <= pool and fargo not in {i.item_id for i in r.items}
        sent = llm.requests[0]
        schema = (sent["response_format"]["json_schema"]["schema"] if mode == "json-chat" else sent["json_schema"])
        jsonschema.validate(plan, schema)  # the plan we scripted is one the schema allows...
        with pytest.raises(jsonschema.ValidationError):  # ...and a tool the LLM is not given is not
            jsonschema.validate({"steps": [{"tool": "memory_write", "args": {}}]}, schema)
        if mode == "json-completion":
            assert sent["_path"].endswith("/v1/completions") and sent["prompt"].rstrip().endswith("Plan:")
            assert sent["prompt"].count("Request:") >= 3  # few-shot examples, then the message


@pytest.mark.parametrize("message,check", [
    ("a 90s comedy but no horror", lambda i: "Comedy" in i.genres and 1990 <= i.year <= 1999 and "Horror" not in i.genres),
    ("westerns from before 1970", lambda i: "Western" in i.genres and i.year < 1970),
    ("something popular, not a drama", lambda i: "Drama" not in i.genres),
])
def test_what_the_person_said_plainly_wins_over_the_llm(make_rec, message, check):
    # a weak model contradicts every constraint; the person's own words still hold
    bad = {"genres": ["Drama", "Horror"], "year_min": 1930, "year_max": 1940, "k": 50}
    plan = {"steps": [{"tool": "filter_catalog", "args": bad}, {"tool": "recommend", "args": bad},
                      {"tool": "recommend", "args": {"k": 50}}]}
    with ScriptedLLM(default={"plan": plan}) as llm:
        r = make_rec(llm.base_url, llm_planner="json-chat").chat(f"u3-{len(message)}", message)
        assert r.planner == "llm" and r.items and all(check(i) for i in r.items), [i.label for i in r.items]


def test_the_llm_may_add_what_the_rules_missed(make_rec):
    plan = {"steps": [{"tool": "recommend", "args": {"genres": ["Western"], "k": 50}}]}
    with ScriptedLLM(default={"plan": plan}) as llm:
        r = make_rec(llm.base_url, llm_planner="json-chat").chat("u3b", "surprise me with something")
        assert r.planner == "llm" and r.items and all("Western" in i.genres for i in r.items)


GOOD = {"calls": [{"name": "recommend", "arguments": {"genres": ["Comedy"]}}]}


@pytest.mark.parametrize("fault,reason", [
    ({"status": 500}, "server error"),
    ({"status": 429}, "server error"),
    ({"body": "{not json"}, "server error"),
    ({"tool_raw": "{\"genres\": [\"Comedy\""}, "invalid arguments"),  # truncated JSON arguments
    ({"tool_raw": "[1, 2]"}, "invalid arguments"),  # not an object
    ({"calls": [{"name": "recommend", "arguments": {"item_ids": [99999]}}]}, "invalid arguments"),  # a field the schema forbids
    ({"calls": [{"name": "recommend", "arguments": {"year_min": 3000}}]}, "invalid arguments"),  # out of range
    ({"calls": [{"name": "recommend", "arguments": {"genres": "Comedy"}}]}, "invalid arguments"),  # wrong type
    ({"calls": [{"name": "recommend", "arguments": {"genres": ["Anime"]}}]}, "invalid arguments"),  # not a catalog genre
    ({"calls": [{"name": "similar_items", "arguments": {"item": "Qwzxv Blorptastic"}}]}, "no tool call"),  # not a catalog film: skipped
    ({"calls": [{"name": "rerank", "arguments": {"item_ids": [99999]}}]}, "tool not given"),  # a tool it is not given
    ({"calls": [{"name": "drop_tables", "arguments": {}}]}, "tool not given"),  # no such tool
    ({"content": "I think you'd like item 99999"}, "no tool call"),
])
def test_llm_faults_fall_back_to_the_offline_planner(make_rec, caplog, fault, reason):
    with ScriptedLLM([fault, fault], default={"content": "x"}) as llm:
        rec = make_rec(llm.base_url)
        with caplog.at_level(logging.WARNING, logger="agent"):
            r = rec.chat(f"u4-{rec.new_session()}", "a 90s comedy")
        assert r.planner == "llm-fallback" and r.fallback_reason == reason
        assert r.items and all("Comedy" in i.genres and 1990 <= i.year <= 1999 for i in r.items)
        assert 99999 not in [i.item_id for i in r.items]
        assert any("fallback to the offline planner" in s.detail for s in r.trace)
        assert any("fell back to the offline planner" in m.getMessage() for m in caplog.records)


@pytest.mark.parametrize("plan,reason", [
    ({"steps": []}, "invalid plan"),
    ({"steps": [{"tool": "recommend", "args": {}}] * 5}, "invalid plan"),  # more steps than allowed
    ({"steps": [{"tool": "semantic_search", "args": {"query": "x" * 400}}]}, "invalid arguments"),  # too long
    ({"plan": "recommend"}, "invalid plan"),
])
def test_invalid_json_plans_fall_back(make_rec, plan, reason):
    with ScriptedLLM(default={"plan": plan}) as llm:
        rec = make_rec(llm.base_url, llm_planner="json-completion")
        r = rec.chat(f"u5-{rec.new_session()}", "a western")
        assert r.planner == "llm-fallback" and r.items and all("Western" in i.genres for i in r.items)
        assert r.fallback_reason == reason


def test_tools_that_find_no_film_fall_back(make_rec):
    lookup_only = {"calls": [{"name": "find_titles", "arguments": {"titles": ["Fargo"]}}]}  # yields no items
    with ScriptedLLM([lookup_only], default={"content": "done"}) as llm:
        r = make_rec(llm.base_url).chat("u5b", "a western")
        assert r.planner == "llm-fallback" and r.fallback_reason == "no film found"
        assert r.items and all("Western" in i.genres for i in r.items)
        assert "found no film" in next(s.detail for s in r.trace if s.node == "compose")  # the trace keeps its words


def test_no_time_left_is_a_spent_deadline_and_nothing_is_sent(small_config):
    from agent.llm import LLMClient, LLMUnavailable

    with ScriptedLLM(default=GOOD) as llm:
        client = LLMClient(_config(small_config, llm.base_url))
        with pytest.raises(LLMUnavailable) as err:
            client.chat_tools([{"role": "user", "content": "a western"}], [], Deadline(0.0))
        assert err.value.reason == "deadline spent" and llm.requests == []


def test_one_retry_recovers(make_rec):
    with ScriptedLLM([{"status": 500}, GOOD, {"content": "done"}]) as llm:
        r = make_rec(llm.base_url).chat("u6", "hm, comedies")
        assert r.planner == "llm" and all("Comedy" in i.genres for i in r.items)


def test_a_slow_endpoint_costs_one_deadline_then_the_breaker_skips_it(make_rec):
    with ScriptedLLM(default={"delay": 6.0, **GOOD}) as llm:
        rec = make_rec(llm.base_url, llm_turn_seconds=1.0, llm_timeout=10.0, llm_cooldown=60.0)
        t0 = time.monotonic()
        first = rec.chat("u7", "a western")
        took = time.monotonic() - t0
        assert first.planner == "llm-fallback" and first.fallback_reason == "timeout" and first.items
        assert took < 1.0 + 2.0
        assert "timed out" in next(s.detail for s in first.trace if s.node == "llm_plan")
        asked = len(llm.requests)
        second = rec.chat("u7", "an older one")
        assert second.planner == "llm-fallback" and second.fallback_reason == "circuit open" and second.llm_ms < 100
        assert "circuit open" in next(s.detail for s in second.trace if s.node == "llm_plan")
        assert len(llm.requests) == asked  # nothing was sent while the circuit is open


def test_the_breaker_lets_the_llm_back_after_its_cooldown(make_rec):
    with ScriptedLLM([{"status": 500}, {"status": 500}, GOOD, {"content": "done"}]) as llm:
        rec = make_rec(llm.base_url, llm_cooldown=0.3, llm_retries=1)
        assert rec.chat("u8", "comedies").fallback_reason == "server error"
        time.sleep(0.4)
        back = rec.chat("u8", "more comedies")
        assert back.planner == "llm" and back.fallback_reason is None


def test_closed_port_falls_back(make_rec):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = make_rec(f"http://127.0.0.1:{port}/v1").chat("u9", "a western")
    assert r.planner == "llm-fallback" and r.fallback_reason == "server error"
    assert r.items and all("Western" in i.genres for i in r.items)


def test_questions_and_small_talk_do_not_wait_for_the_llm(make_rec):
    with ScriptedLLM(default=GOOD) as llm:
        rec = make_rec(llm.base_url)
        assert rec.chat("u10", "hello there").planner == "offline"
        assert rec.chat("u10", "hmm").planner == "offline"  # nothing to go on: the rules ask
        assert llm.requests == []


def test_a_warm_up_at_load_plans_once_with_its_own_patience(make_rec, caplog):
    # the warm-up may take longer than a turn's deadline; what it plans is thrown away
    with ScriptedLLM([{"delay": 1.5, "content": "no plan"}, GOOD, {"content": "done"}]) as llm:
        with caplog.at_level(logging.WARNING, logger="agent"):
            rec = make_rec(llm.base_url, llm_warm_seconds=5.0, llm_turn_seconds=1.0, llm_timeout=1.0)
        assert not caplog.records
        assert len(llm.requests) == 1 and "a good film" in json.dumps(llm.requests[0])
        r = rec.chat("u10w", "hmm, comedies")
        assert r.planner == "llm" and all("Comedy" in i.genres for i in r.items)
        assert len(llm.requests) == 3


@pytest.mark.parametrize("entry", [{"delay": 3.0, **GOOD}, {"status": 500}])
def test_a_warm_up_that_fails_leaves_the_turns_breaker_closed(make_rec, caplog, entry):
    with ScriptedLLM([entry, GOOD, {"content": "done"}]) as llm:
        with caplog.at_level(logging.WARNING, logger="agent"):
            t0 = time.monotonic()
            rec = make_rec(llm.base_url, llm_warm_seconds=1.0, llm_breaker_failures=1)
            assert time.monotonic() - t0 < 1.0 + 2.0  # load waited at most about its warm-up seconds
        assert any("warm-up got no answer" in m.getMessage() for m in caplog.records)
        assert rec.tools.planner.client.breaker.open_for() == 0 and len(llm.requests) == 1
        assert rec.chat("u10f", "hmm, comedies").planner == "llm"


def test_breaker_and_deadline_follow_their_clock():
    now = [0.0]
    b = CircuitBreaker(failures=2, cooldown=10.0, clock=lambda: now[0])
    b.failure(timeout=False)
    assert b.open_for() == 0  # one error: still closed
    b.failure(timeout=False)
    assert b.open_for() == 10.0
    now[0] = 10.5
    assert b.open_for() == 0  # half-open: one trial
    b.failure(timeout=True)
    assert b.open_for() == 10.0  # a timeout opens it at once
    b.success()
    assert b.open_for() == 0
    d = Deadline(8.0, clock=lambda: now[0])
    now[0] += 5.0
    assert d.remaining() == pytest.approx(3.0) and Deadline.at(d.end, clock=lambda: now[0]).remaining() == pytest.approx(3.0)


def test_a_newly_registered_tool_reaches_the_llm_and_runs(make_rec):
    from pydantic import BaseModel, Field

    from agent.registry import ItemList
    from tools.retrievers import Candidate

    class DecadeArgs(BaseModel):
        decade: int = Field(ge=1900, le=2020, multiple_of=10)

    @REGISTRY.tool
    def best_of_decade(args: DecadeArgs, ctx: ToolContext) -> ItemList:
        """The most watched films of one decade, under the person's constraints."""
        ids = ctx.catalog.filter(ctx.must.model_copy(update={"year_min": args.decade, "year_max": args.decade + 9}))
        return ItemList(items=[Candidate(item_id=i, score=0.0) for i in ids[:20]], available=len(ids))

    try:
        call = {"calls": [{"name": "best_of_decade", "arguments": {"decade": 1960}}]}
        with ScriptedLLM([call, {"content": "done"}]) as llm:
            r = make_rec(llm.base_url).chat("u11", "a western")
            assert "best_of_decade" in [t["function"]["name"] for t in llm.requests[0]["tools"]]
            assert r.planner == "llm" and r.items
            assert all("Western" in i.genres and 1960 <= i.year <= 1969 for i in r.items)
    finally:
        REGISTRY.specs.pop("best_of_decade", None)


@pytest.mark.parametrize("message,args,kept,dropped", [
    # a base model copies its few-shot examples: a film or years the person never said are dropped
    ("a comedy please", {"genres": ["Comedy"], "liked": ["Star Wars"], "year_min": 1980, "year_max": 1989},
     {"genres": ["Comedy"], "liked": []}, ["liked 'Star Wars'", "year_min 1980", "year_max 1989"]),
    # what the person did say stays: a title in the message, a decade in their words
    ("something like Fargo from the 90s", {"liked": ["Fargo"], "year_min": 1990, "year_max": 1999},
     {"liked": ["Fargo"], "year_min": 1990, "year_max": 1999}, []),
    ("a thriller made in 1995", {"genres": ["Thriller"], "year_min": 1995}, {"genres": ["Thriller"], "year_min": 1995}, []),
])
def test_what_the_llm_adds_must_be_in_the_persons_words(make_rec, message, args, kept, dropped):
    plan = {"steps": [{"tool": "recommend", "args": {**args, "k": 50}}]}
    with ScriptedLLM(default={"plan": plan}) as llm:
        rec = make_rec(llm.base_url, llm_planner="json-chat")
        r = rec.chat(f"u12-{rec.new_session()}", message)
        act = next(s.detail for s in r.trace if s.node == "act")
        assert r.planner == "llm" and json.dumps({**kept, "k": 50})[1:-1] in act, act
        for d in dropped:
            assert d in act
        if not dropped:
            assert "dropped" not in act


def test_similar_items_of_a_film_never_said_is_skipped(make_rec):
    plan = {"steps": [{"tool": "similar_items", "args": {"item": "Star Wars"}},
                      {"tool": "recommend", "args": {"genres": ["Western"]}}]}
    with ScriptedLLM(default={"plan": plan}) as llm:
        rec = make_rec(llm.base_url, llm_planner="json-chat")
        r = rec.chat("u13", "a western")
        act = next(s.detail for s in r.trace if s.node == "act")
        assert "similar_items of 'Star Wars'" in act and "similar_items(" not in act
        assert r.planner == "llm" and all("Western" in i.genres for i in r.items)
