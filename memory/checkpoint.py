"""Where LangGraph keeps dialogue state between turns: SQLite on disk, or memory for tests."""

from __future__ import annotations

import sqlite3

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver

from tools.config import Config


def open_checkpointer(config: Config) -> SqliteSaver:
    """A SqliteSaver over ``<state_dir>/checkpoints.sqlite``; close it with ``saver.conn.close()``."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: the UI runs turns on worker threads; SqliteSaver serialises with its own lock.
    conn = sqlite3.connect(config.state_dir / "checkpoints.sqlite", check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")  # readers (evals, UI) do not block the writer
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process; fewer fsyncs
    return SqliteSaver(conn)


def memory_checkpointer() -> InMemorySaver:
    """A checkpointer that forgets everything with the process (tests, ablations)."""
    return InMemorySaver()
