"""Long-term preference memory: one Chroma collection for every user, each read filtered by user."""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import chromadb
from chromadb.api import ClientAPI
from chromadb.config import Settings
from pydantic import BaseModel, Field, field_validator, model_validator

from tools.config import Config
from tools.text import TextEncoder

log = logging.getLogger(__name__)

MAX_USER_ID = 128
Kind = Literal["like", "dislike", "genre_like", "genre_dislike", "statement"]
# Chroma metadata cannot hold None: these stand for "no item" / "no genre" / "no session".
_NO_ITEM = -1
_NONE_STR = ""


class MemoryUnavailable(RuntimeError):
    """The configured Chroma server cannot be reached."""


def check_user_id(user_id: Any, name: str = "user_id") -> str:
    """The id, stripped, if it is a non-empty string of at most 128 printable characters; else ValueError.

    The one check for user (and session) ids: the API, the memory and the checkpointer's thread
    ids (which join user and session with a control character) all rely on it."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise ValueError(f"{name} must be a non-empty string, got {user_id!r}")
    if len(user_id) > MAX_USER_ID:
        raise ValueError(
            f"{name} must be at most {MAX_USER_ID} characters, got {len(user_id)}: {user_id[:40]!r}..."
        )
    if any(not c.isprintable() for c in user_id):
        raise ValueError(f"{name} must not contain control characters: {user_id[:40]!r}")
    return user_id.strip()


class MemoryRecord(BaseModel):
    """One remembered fact about a user: an item or genre they like/dislike, or their own words."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    user_id: str
    kind: Kind
    text: str = Field(min_length=1, description='a sentence, e.g. "likes Fargo (1996)"')
    item_id: int | None = None
    genre: str | None = None
    session_id: str | None = None
    created_at: float = Field(default_factory=time.time, validate_default=True)

    @field_validator("user_id")
    @classmethod
    def _valid_user(cls, v: str) -> str:
        return check_user_id(v)

    @field_validator("created_at")
    @classmethod
    def _to_microseconds(cls, v: float) -> float:
        # Chroma keeps about 16 significant digits of a float: time.time() at full precision
        # comes back one ulp off, a microsecond-rounded one comes back exact.
        return round(v, 6)

    @model_validator(mode="after")
    def _target_present(self) -> MemoryRecord:
        # A like without its item (or a genre_like without its genre) cannot enter the profile.
        if self.kind in ("like", "dislike") and self.item_id is None:
            raise ValueError(f"a {self.kind!r} record needs item_id")
        if self.kind in ("genre_like", "genre_dislike") and not self.genre:
            raise ValueError(f"a {self.kind!r} record needs genre")
        return self

    def metadata(self) -> dict[str, str | int | float]:
        return {
            "user_id": self.user_id,
            "kind": self.kind,
            "item_id": _NO_ITEM if self.item_id is None else self.item_id,
            "genre": self.genre or _NONE_STR,
            "session_id": self.session_id or _NONE_STR,
            "created_at": self.created_at,
        }

    @classmethod
    def from_chroma(cls, id: str, document: str, meta: dict[str, Any]) -> MemoryRecord:
        item_id = int(meta["item_id"])
        return cls(
            id=id,
            user_id=meta["user_id"],
            kind=meta["kind"],
            text=document,
            item_id=None if item_id == _NO_ITEM else item_id,
            genre=meta.get("genre") or None,
            session_id=meta.get("session_id") or None,
            created_at=float(meta["created_at"]),
        )


class UserProfile(BaseModel):
    """What a user's records add up to; a later record about the same item or genre wins."""

    user_id: str
    liked_items: list[int] = []
    disliked_items: list[int] = []
    genres_liked: list[str] = []
    genres_disliked: list[str] = []

    @classmethod
    def from_records(cls, user_id: str, records: Iterable[MemoryRecord]) -> UserProfile:
        """Fold records (in time order) into a profile; lists keep the order preferences were last set."""
        items: dict[int, bool] = {}
        genres: dict[str, tuple[str, bool]] = {}  # casefolded -> (latest spelling, liked)
        for r in records:
            if r.kind in ("like", "dislike") and r.item_id is not None:
                items.pop(r.item_id, None)
                items[r.item_id] = r.kind == "like"
            elif r.kind in ("genre_like", "genre_dislike") and r.genre:
                key = r.genre.casefold()
                genres.pop(key, None)
                genres[key] = (r.genre, r.kind == "genre_like")
        return cls(
            user_id=user_id,
            liked_items=[i for i, liked in items.items() if liked],
            disliked_items=[i for i, liked in items.items() if not liked],
            genres_liked=[g for g, liked in genres.values() if liked],
            genres_disliked=[g for g, liked in genres.values() if not liked],
        )


def _settings() -> Settings:
    return Settings(anonymized_telemetry=False)


class PreferenceMemory:
    """Per-user preference records in one Chroma collection, embedded with our own TextEncoder."""

    def __init__(
        self,
        client: ClientAPI,
        encoder: TextEncoder | None = None,
        collection: str = "convrec_memory",
    ):
        self.client = client
        self.encoder = encoder or TextEncoder()
        # embedding_function=None: Chroma's default one downloads a model; we always pass vectors.
        self.collection = client.get_or_create_collection(
            collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
        )
        self._write_lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config, encoder: TextEncoder | None = None) -> PreferenceMemory:
        """A Chroma server when ``config.chroma_url`` is set, else embedded Chroma under ``state_dir``."""
        if config.chroma_url:
            return cls(_http_client(config.chroma_url), encoder)
        path = config.state_dir / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return cls(chromadb.PersistentClient(path=str(path), settings=_settings()), encoder)

    # writes -----------------------------------------------------------------------------------
    def add(self, record: MemoryRecord) -> MemoryRecord:
        """Store one record; it is on disk (embedded) or on the server when this returns.

        Adding an id that is already stored changes nothing (Chroma ignores it), so a retry is
        harmless and no caller can overwrite another user's record by reusing its id.
        """
        return self.add_many([record])[0]

    def add_many(self, records: Sequence[MemoryRecord]) -> list[MemoryRecord]:
        """Store records with one encoder batch; returns them as stored."""
        records = list(records)
        if not records:
            return []
        vectors = self.encoder.encode([r.text for r in records])
        step = self.client.get_max_batch_size()
        with self._write_lock:
            for lo in range(0, len(records), step):
                chunk = records[lo : lo + step]
                self.collection.add(
                    ids=[r.id for r in chunk],
                    embeddings=vectors[lo : lo + step],
                    documents=[r.text for r in chunk],
                    metadatas=[r.metadata() for r in chunk],
                )
        return records

    def forget(self, user_id: str) -> int:
        """Delete every record of ``user_id``; returns how many were deleted."""
        where = {"user_id": check_user_id(user_id)}
        with self._write_lock:
            ids = self.collection.get(where=where, include=[])["ids"]
            if ids:
                self.collection.delete(ids=ids)
        return len(ids)

    def delete(self, user_id: str, memory_id: str) -> bool:
        """Delete one record of ``user_id``; False when that user has no record with this id."""
        where = {"user_id": check_user_id(user_id)}
        with self._write_lock:
            # the id must be this user's: another user's id is "not found", never deleted
            found = self.collection.get(ids=[memory_id], where=where, include=[])["ids"]
            if found:
                self.collection.delete(ids=found)
        return bool(found)

    # reads ------------------------------------------------------------------------------------
    def recall(self, user_id: str, query: str, k: int = 8) -> list[MemoryRecord]:
        """The ``k`` records of ``user_id`` closest in meaning to ``query``, closest first."""
        where = {"user_id": check_user_id(user_id)}
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        res = self.collection.query(
            query_embeddings=self.encoder.encode([query]),
            n_results=k,
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        return [
            MemoryRecord.from_chroma(i, d, m)
            for i, d, m in zip(res["ids"][0], res["documents"][0], res["metadatas"][0], strict=True)
        ]

    def all(self, user_id: str) -> list[MemoryRecord]:
        """Every record of ``user_id``, oldest first."""
        res = self.collection.get(
            where={"user_id": check_user_id(user_id)}, include=["documents", "metadatas"]
        )
        records = [
            MemoryRecord.from_chroma(i, d, m)
            for i, d, m in zip(res["ids"], res["documents"], res["metadatas"], strict=True)
        ]
        # stable sort: equal timestamps keep Chroma's insertion order
        return sorted(records, key=lambda r: r.created_at)

    def profile(self, user_id: str) -> UserProfile:
        """The user's liked/disliked items and genres, later records overriding earlier ones."""
        return UserProfile.from_records(user_id, self.all(user_id))

    def count(self, user_id: str) -> int:
        """How many records ``user_id`` has."""
        return len(
            self.collection.get(where={"user_id": check_user_id(user_id)}, include=[])["ids"]
        )


def _http_client(url: str) -> ClientAPI:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or "127.0.0.1"
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    hint = (
        f"Chroma server at {url} is not reachable. Start one with "
        f"`chroma run --path DIR --port {port}`, or unset chroma_url (CONVREC_CHROMA_URL) "
        "to use embedded Chroma."
    )
    # Chroma's HTTP client has no connect timeout; check the port first so a dead host fails fast.
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as e:
        raise MemoryUnavailable(f"{hint} ({e})") from None
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=_settings())
        client.heartbeat()
    except Exception as e:  # chroma reports a refused connection as a bare ValueError
        raise MemoryUnavailable(f"{hint} ({e})") from e
    log.info("memory: chroma server %s", url)
    return client
