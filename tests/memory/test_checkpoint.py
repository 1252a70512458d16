"""The dialogue-state checkpointers with a trivial LangGraph graph."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel

from memory import memory_checkpointer, open_checkpointer
from tools.config import Config


class Turns(TypedDict):
    said: Annotated[list[str], operator.add]


def build(checkpointer):
    graph = StateGraph(Turns)
    graph.add_node("echo", lambda state: {"said": [f"turn {len(state['said'])}"]})
    graph.add_edge(START, "echo")
    graph.add_edge("echo", END)
    return graph.compile(checkpointer=checkpointer)


def test_sqlite_state_persists_across_savers_on_one_file(tmp_path: Path):
    config = Config(home=tmp_path, memory_dir=tmp_path / "nested" / "state")
    thread = {"configurable": {"thread_id": "ann-session-1"}}

    first = open_checkpointer(config)
    assert build(first).invoke({"said": ["hi"]}, thread)["said"] == ["hi", "turn 1"]
    first.conn.close()

    second = open_checkpointer(config)
    assert second.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    graph = build(second)
    out = graph.invoke({"said": ["again"]}, thread)
    assert out["said"] == ["hi", "turn 1", "again", "turn 3"]
    other = graph.invoke({"said": ["new"]}, {"configurable": {"thread_id": "bob-session-1"}})
    assert other["said"] == ["new", "turn 1"]
    second.conn.close()
    assert (tmp_path / "nested" / "state" / "checkpoints.sqlite").is_file()


def test_memory_checkpointer_keeps_state_per_thread_in_process():
    graph = build(memory_checkpointer())
    thread = {"configurable": {"thread_id": "t"}}
    graph.invoke({"said": ["a"]}, thread)
    assert graph.invoke({"said": ["b"]}, thread)["said"] == ["a", "turn 1", "b", "turn 3"]
    assert graph.get_state({"configurable": {"thread_id": "other"}}).values == {}


# PostgreSQL: what several replicas share ----------------------------------------------------------
def test_postgres_state_is_shared_by_two_savers(postgres_url, tmp_path):
    from langgraph.checkpoint.postgres import PostgresSaver

    config = Config(home=tmp_path, checkpoint_url=postgres_url)
    first, second = open_checkpointer(config), open_checkpointer(config)  # two replicas
    assert isinstance(first, PostgresSaver)
    thread = {"configurable": {"thread_id": "ann-session-1"}}
    try:
        assert build(first).invoke({"said": ["hi"]}, thread)["said"] == ["hi", "turn 1"]
        assert build(second).invoke({"said": ["again"]}, thread)["said"] == ["hi", "turn 1", "again", "turn 3"]
        assert build(first).get_state(thread).values["said"][-1] == "turn 3"
        assert build(second).get_state({"configurable": {"thread_id": "bob"}}).values == {}
    finally:
        first.conn.close()
        second.conn.close()
    assert not (tmp_path / "state").exists()  # no SQLite file was opened


def test_postgres_saver_serves_concurrent_threads(postgres_url, tmp_path):
    import threading

    saver = open_checkpointer(Config(home=tmp_path, checkpoint_url=postgres_url))
    graph, errors = build(saver), []

    def talk(who: str) -> None:
        try:
            for n in range(5):
                out = graph.invoke({"said": [f"{who} {n}"]}, {"configurable": {"thread_id": who}})
                assert len(out["said"]) == 2 * (n + 1) and out["said"][-2] == f"{who} {n}"
        except BaseException as e:  # surfaced below
            errors.append(e)

    workers = [threading.Thread(target=talk, args=(f"user{i}",)) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    saver.conn.close()
    assert not errors, errors


def test_replicas_starting_together_set_the_tables_up_once(postgres_url, tmp_path):
    import threading

    config = Config(home=tmp_path, checkpoint_url=postgres_url)
    savers, errors = [], []

    def start() -> None:
        try:
            savers.append(open_checkpointer(config))
        except BaseException as e:
            errors.append(e)

    starters = [threading.Thread(target=start) for _ in range(4)]
    for t in starters:
        t.start()
    for t in starters:
        t.join()
    for s in savers:
        s.conn.close()
    assert not errors and len(savers) == 4, errors


def test_unreachable_postgres_says_what_to_do(tmp_path):

    from memory import StateUnavailable
    from ui.cluster import free_port

    url = f"postgresql://postgres:secret@127.0.0.1:{free_port()}/convrec"
    with pytest.raises(StateUnavailable, match="CONVREC_CHECKPOINT_URL") as err:
        open_checkpointer(Config(home=tmp_path, checkpoint_url=url))
    assert "secret" not in str(err.value) and ":***@" in str(err.value)
    with pytest.raises(ValueError, match="postgresql://"):
        open_checkpointer(Config(home=tmp_path, checkpoint_url="mysql://x@127.0.0.1/db"))


# pydantic models in the state: checkpointed and read back as models ------------------------------
class Said(BaseModel):
    text: str
    n: int = 0


class Spoken(TypedDict):
    last: Said | None


def build_typed(checkpointer):
    graph = StateGraph(Spoken)
    graph.add_node("echo", lambda state: {"last": Said(text="turn", n=(state["last"].n if state["last"] else 0) + 1)})
    graph.add_edge(START, "echo")
    graph.add_edge("echo", END)
    return graph.compile(checkpointer=checkpointer)


def _said_twice(saver) -> None:
    graph, thread = build_typed(saver), {"configurable": {"thread_id": "typed"}}
    graph.invoke({"last": None}, thread)
    graph.invoke({}, thread)
    last = graph.get_state(thread).values["last"]
    assert isinstance(last, Said) and last.n == 2


def test_sqlite_reads_the_states_models_back(tmp_path: Path, caplog):
    saver = open_checkpointer(Config(home=tmp_path), models=[Said])
    with caplog.at_level("WARNING"):
        _said_twice(saver)
    assert not [r for r in caplog.records if "unregistered" in r.getMessage()]
    saver.conn.close()


def test_postgres_reads_the_states_models_back(postgres_url, tmp_path):
    saver = open_checkpointer(Config(home=tmp_path, checkpoint_url=postgres_url), models=[Said])
    try:
        _said_twice(saver)
    finally:
        saver.conn.close()
