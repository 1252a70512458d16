"""Where LangGraph keeps dialogue state between turns: SQLite on disk (default), PostgreSQL when
several app replicas serve one user base, or memory for tests. Chosen by configuration only."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from tools.config import Config

log = logging.getLogger(__name__)

# Connections per process: the request threads of one replica share them. PostgresSaver still
# serialises its own statements (one lock per saver); the pool is what lets a replica outlive a
# dropped connection or a restarted server, and keeps setup and reads off one socket.
POOL_MAX = 8
POOL_TIMEOUT_S = 10.0  # a request waits this long for a connection before failing (503)
_SETUP_LOCK = 0x636F6E76  # pg advisory lock id ("conv"): replicas starting together migrate once


class StateUnavailable(RuntimeError):
    """The configured dialogue-state database cannot be reached or set up."""


def open_checkpointer(config: Config, models: Iterable[type[BaseModel]] = ()) -> BaseCheckpointSaver:
    """The configured checkpointer: ``PostgresSaver`` over a connection pool when
    ``config.checkpoint_url`` is set, else a ``SqliteSaver`` over ``<state_dir>/checkpoints.sqlite``.
    ``models``: the pydantic models the graph's state holds, read back from checkpoints (LangGraph
    warns about, and will block, types it was not told of). Close either with ``saver.conn.close()``."""
    if config.checkpoint_url:
        return postgres_checkpointer(config.checkpoint_url, models)
    config.state_dir.mkdir(parents=True, exist_ok=True)
    # check_same_thread=False: the UI runs turns on worker threads; SqliteSaver serialises with its own lock.
    conn = sqlite3.connect(config.state_dir / "checkpoints.sqlite", check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")  # readers (evals, UI) do not block the writer
    conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a killed process; fewer fsyncs
    return SqliteSaver(conn, serde=_serde(models))


def postgres_checkpointer(url: str, models: Iterable[type[BaseModel]] = ()):
    """LangGraph's own ``PostgresSaver`` on a psycopg pool; creates its tables on first use."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import dict_row
    from psycopg_pool import ConnectionPool

    if urlsplit(url).scheme not in ("postgres", "postgresql"):
        raise ValueError(f"checkpoint_url must start with postgresql://, got {url!r}")
    # the settings PostgresSaver.from_conn_string uses: autocommit (a returned turn is committed),
    # no server-side prepared statements (safe behind pgbouncer), rows as dicts
    kwargs = {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}
    hint = (f"PostgreSQL at {_redacted(url)} is not reachable or not usable. Start one (see "
            "`convrec serve-cluster`), or unset checkpoint_url (CONVREC_CHECKPOINT_URL) for SQLite.")
    try:
        # migrations on one connection under an advisory lock: two replicas starting at once
        # would otherwise both try to create the tables
        with Connection.connect(url, connect_timeout=10, **kwargs) as conn:
            # poll, never block in pg_advisory_lock: a waiting statement is a transaction that the
            # migrations' CREATE INDEX CONCURRENTLY waits for, a deadlock
            while not conn.execute("SELECT pg_try_advisory_lock(%s) AS ok", (_SETUP_LOCK,)).fetchone()["ok"]:
                time.sleep(0.1)
            PostgresSaver(conn).setup()
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK,))
    except Exception as e:  # psycopg raises OperationalError, ProgrammingError, ...
        raise StateUnavailable(f"{hint} ({type(e).__name__}: {e})") from e
    pool = ConnectionPool(url, min_size=1, max_size=POOL_MAX, timeout=POOL_TIMEOUT_S, kwargs=kwargs,
                          check=ConnectionPool.check_connection, open=True, name="convrec-checkpoints")
    log.info("dialogue state: postgres %s", _redacted(url))
    return PostgresSaver(pool, serde=_serde(models))


def memory_checkpointer(models: Iterable[type[BaseModel]] = ()) -> InMemorySaver:
    """A checkpointer that forgets everything with the process (tests, ablations)."""
    return InMemorySaver(serde=_serde(models))


def _serde(models: Iterable[type[BaseModel]]) -> JsonPlusSerializer | None:
    """LangGraph's serializer, allowed to rebuild ``models`` (None: its default, for no models)."""
    allowed = [(m.__module__, m.__name__) for m in models]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed) if allowed else None


def _redacted(url: str) -> str:
    """The URL without its password, for logs and error messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
