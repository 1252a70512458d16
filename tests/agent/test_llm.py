"""The LLM path against a real HTTP server on 127.0.0.1 speaking the chat-completions protocol."""

import logging
import socket

import pytest

from agent import ConvRec
from tests.llm_server import ScriptedLLM


def _config(small_config, url, **kw):
    return small_config.model_copy(update={"llm_base_url": url, "llm_model": "scripted", "llm_timeout": 2.0, **kw})


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


def test_llm_understands_and_writes_the_reply(make_rec):
    script = [
        {"tool": {"intent": "recommend", "liked_titles": ["Fargo"], "genres_in": ["Comedy"], "year_min": 1990}},
        {"ranking": "reverse"},
        {"content": "Here are comedies for a Fargo fan."},
    ]
    with ScriptedLLM(script) as llm:
        rec = make_rec(llm.base_url)
        r = rec.chat("u1", "zzz the message wording does not matter here")
        assert r.text == "Here are comedies for a Fargo fan."
        assert r.items and all("Comedy" in i.genres and i.year >= 1990 for i in r.items)
        assert rec.session("u1").liked_items == [rec.tools.catalog.resolve_title("Fargo").item_id]
        assert "llm:" in r.trace[0].detail
        assert "llm listwise" in next(s.detail for s in r.trace if s.node == "rerank")
        enum = llm.requests[1]["response_format"]["json_schema"]["schema"]["properties"]["ranking"]["items"]["enum"]
        assert [i.item_id for i in r.items] == list(reversed(enum))[:10]  # the LLM's order, over our candidates
        sent = llm.requests[0]
        assert sent["tools"][0]["function"]["name"] == "set_request"
        assert "Comedy" in sent["tools"][0]["function"]["parameters"]["properties"]["genres_in"]["items"]["enum"]


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 500},
        {"status": 429},
        {"body": "{not json"},
        {"tool_raw": "{\"liked_titles\": [\"Fargo\""},  # truncated JSON arguments
        {"tool": {"intent": "recommend", "item_ids": [99999]}},  # a field the schema forbids
        {"tool": {"intent": "recommend", "year_min": 3000}},  # out of range
        {"tool": {"genres_in": "Comedy"}},  # wrong type
        {"content": "I think you'd like item 99999"},  # no tool call
    ],
)
def test_llm_faults_fall_back_to_offline(make_rec, caplog, fault):
    with ScriptedLLM([fault, fault], default={"content": "x"}) as llm:
        rec = make_rec(llm.base_url)
        with caplog.at_level(logging.WARNING, logger="agent.llm"):
            r = rec.chat("u2", "a 90s comedy")
        assert r.items and all("Comedy" in i.genres and 1990 <= i.year <= 1999 for i in r.items)
        assert "offline:" in r.trace[0].detail
        assert any("offline" in rec_.message for rec_ in caplog.records)
        assert len(llm.requests) >= 2  # one retry before giving up on understanding


def test_one_retry_recovers(make_rec):
    script = [{"status": 500}, {"tool": {"genres_in": ["Western"]}}, {"ranking": "reverse"}, {"content": "Westerns!"}]
    with ScriptedLLM(script) as llm:
        r = make_rec(llm.base_url).chat("u3", "hm")
        assert r.text == "Westerns!" and all("Western" in i.genres for i in r.items)


def test_timeout_falls_back(make_rec):
    with ScriptedLLM(default={"delay": 1.5, "content": "late"}) as llm:
        r = make_rec(llm.base_url, llm_timeout=0.3).chat("u4", "a western")
        assert r.items and all("Western" in i.genres for i in r.items)
        assert r.text != "late"


def test_closed_port(make_rec):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = make_rec(f"http://127.0.0.1:{port}/v1").chat("u5", "a western")
    assert r.items and all("Western" in i.genres for i in r.items)


def test_reply_that_adds_items_is_replaced_by_the_template(make_rec):
    script = [{"tool": {"genres_in": ["Western"]}}, {"ranking": "reverse"}, {"content": "Try Titanic (1997), it's great."},
              {"content": "Also \u201cStar Wars\u201d!"}]
    with ScriptedLLM(script) as llm:
        r = make_rec(llm.base_url).chat("u6", "westerns")
        assert "Titanic" not in r.text and "Star Wars" not in r.text
        assert r.text.startswith("Here are")


def test_llm_titles_are_resolved_by_us_never_trusted(make_rec):
    script = [{"tool": {"liked_titles": ["Qwzxv Blorptastic"], "ask_about_title": None}}, {"content": "ok"}]
    with ScriptedLLM(script) as llm:
        rec = make_rec(llm.base_url)
        r = rec.chat("u7", "like Qwzxv Blorptastic")
        assert "Qwzxv" in r.text  # the unknown title is reported, nothing is invented
        assert rec.session("u7").liked_items == []


def test_llm_rerank_outside_the_candidates_is_refused(make_rec, caplog):
    script = [{"tool": {"genres_in": ["Western"]}}, {"ranking": "foreign"}, {"ranking": "foreign"}, {"content": "ok"}]
    with ScriptedLLM(script) as llm:
        with caplog.at_level(logging.WARNING, logger="agent.llm"):
            r = make_rec(llm.base_url).chat("u8", "westerns")
        assert r.items and 99999 not in [i.item_id for i in r.items]
        assert "llm listwise" not in next(s.detail for s in r.trace if s.node == "rerank")
        assert any("keeping the local order" in x.message for x in caplog.records)
