"""The dialogue-state checkpointers with a trivial LangGraph graph."""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Annotated, TypedDict

from langgraph.graph import END, START, StateGraph

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
