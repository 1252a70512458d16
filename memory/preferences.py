"""Long-term preference memory: one Chroma collection for every user, each read filtered by user."""

from __future__ import annotations

import hashlib
import logging
import socket
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any, Literal
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.config import Settings
from pydantic import BaseModel, Field, field_validator, model_validator

from tools.config import Config
from tools.text import TextEncoder

log = logging.getLogger(__name__)

MAX_USER_ID = 128
# Durable tastes: like/dislike (an item), genre_like/genre_dislike, era_like (a decade);
# critique: said in one session without a durable marker ("less romance", "not that one"), kept
# only as evidence, never a filter; note: the person's own words about their taste, used by meaning.
Kind = Literal["like", "dislike", "genre_like", "genre_dislike", "era_like", "critique", "note"]
DURABLE_KINDS = ("like", "dislike", "genre_like", "genre_dislike", "era_like")
KIND_NAMES = {"like": "liked film", "dislike": "disliked film", "genre_like": "loved genre",
              "genre_dislike": "avoided genre", "era_like": "loved era", "critique": "session critique",
              "note": "note"}
# Chroma metadata cannot hold None: these stand for "no item" / "no genre" / "no session".
_NO_ITEM = -1
_NONE_STR = ""
# the most records one turn reads; a user's keyed records are bounded by the catalog anyway
READ_LIMIT = 1000


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


def keyed_id(user_id: str, key: str) -> str:
    """The record id for one subject of one user: a hash, so ids of different users never meet."""
    return hashlib.sha256(f"{user_id}\x1f{key}".encode()).hexdigest()[:32]


class MemoryRecord(BaseModel):
    """One remembered fact about a user: an item or genre they like/dislike, or their own words."""

    id: str = Field("", description="derived from user and subject (see ``key``) unless given")
    user_id: str
    kind: Kind
    text: str = Field(min_length=1, description='a sentence, e.g. "likes Fargo (1996)"')
    item_id: int | None = None
    genre: str | None = None
    era: int | None = Field(None, description="first year of a decade, e.g. 1970")
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
        if self.kind == "era_like" and self.era is None:
            raise ValueError("an 'era_like' record needs era")
        if self.kind == "critique" and self.item_id is None and not self.genre:
            raise ValueError("a 'critique' record needs item_id or genre")
        if not self.id:
            self.id = keyed_id(self.user_id, self.key)
        return self

    @property
    def key(self) -> str:
        """The subject: records with the same key say one thing, so the newest replaces the rest
        (liked then disliked is disliked; a like by button and by "more like that one" is one)."""
        if self.item_id is not None and self.kind in ("like", "dislike", "critique"):
            return f"item:{self.item_id}"
        if self.genre and self.kind in ("genre_like", "genre_dislike", "critique"):
            return f"genre:{self.genre.casefold()}"
        if self.kind == "era_like":
            return f"era:{self.era}"
        return f"note:{' '.join(self.text.casefold().split())}"

    @property
    def keyed(self) -> bool:
        """Whether the id is the one derived from user and key (then a write replaces, see ``add_many``)."""
        return self.id == keyed_id(self.user_id, self.key)

    @property
    def durable(self) -> bool:
        return self.kind in DURABLE_KINDS

    def metadata(self) -> dict[str, str | int | float]:
        return {
            "user_id": self.user_id,
            "kind": self.kind,
            "item_id": _NO_ITEM if self.item_id is None else self.item_id,
            "genre": self.genre or _NONE_STR,
            "era": _NO_ITEM if self.era is None else self.era,
            "session_id": self.session_id or _NONE_STR,
            "created_at": self.created_at,
        }

    @classmethod
    def from_chroma(cls, id: str, document: str, meta: dict[str, Any]) -> MemoryRecord:
        item_id, era = int(meta["item_id"]), int(meta.get("era", _NO_ITEM))
        return cls(
            id=id,
            user_id=meta["user_id"],
            kind="note" if meta["kind"] == "statement" else meta["kind"],  # format 1's raw messages
            text=document,
            item_id=None if item_id == _NO_ITEM else item_id,
            genre=meta.get("genre") or None,
            era=None if era == _NO_ITEM else era,
            session_id=meta.get("session_id") or None,
            created_at=float(meta["created_at"]),
        )


class UserProfile(BaseModel):
    """What a user's records add up to for one turn; a later record about the same subject wins.

    ``relevance`` is each subject's similarity (cosine, 0..1) to the turn's message, from the same
    Chroma query that read the records: ranking weighs remembered tastes by it."""

    user_id: str
    liked_items: list[int] = []
    disliked_items: list[int] = []
    genres_liked: list[str] = []
    genres_disliked: list[str] = []
    eras_liked: list[int] = []
    notes: list[str] = []
    critiques: dict[str, str] = Field(default_factory=dict, description="key -> session it was said in")
    relevance: dict[str, float] = Field(default_factory=dict, description="record key -> similarity")

    @classmethod
    def from_records(cls, user_id: str, records: Iterable[MemoryRecord],
                     relevance: dict[str, float] | None = None) -> UserProfile:
        """Fold records (in time order) into a profile; lists keep the order preferences were last set."""
        items: dict[int, bool] = {}
        genres: dict[str, tuple[str, bool]] = {}  # casefolded -> (latest spelling, liked)
        eras: dict[int, None] = {}
        notes: dict[str, None] = {}
        critiques: dict[str, str] = {}
        for r in records:
            if r.kind in ("like", "dislike") and r.item_id is not None:
                items.pop(r.item_id, None)
                items[r.item_id] = r.kind == "like"
            elif r.kind in ("genre_like", "genre_dislike") and r.genre:
                key = r.genre.casefold()
                genres.pop(key, None)
                genres[key] = (r.genre, r.kind == "genre_like")
            elif r.kind == "era_like" and r.era is not None:
                eras.pop(r.era, None)
                eras[r.era] = None
            elif r.kind == "note":
                notes[r.text] = None
            elif r.kind == "critique":
                critiques[r.key] = r.session_id or ""
        return cls(
            user_id=user_id,
            liked_items=[i for i, liked in items.items() if liked],
            disliked_items=[i for i, liked in items.items() if not liked],
            genres_liked=[g for g, liked in genres.values() if liked],
            genres_disliked=[g for g, liked in genres.values() if not liked],
            eras_liked=list(eras),
            notes=list(notes),
            critiques=critiques,
            relevance=dict(relevance or {}),
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
        """Store records with one encoder batch; returns them as stored.

        A record with its derived id (the default) replaces the user's record on the same subject:
        that is the dedupe and the "newer statement wins" of memory hygiene, in one write. A record
        given another id is only added (an existing id is left alone, see ``add``).
        """
        latest: dict[str, MemoryRecord] = {}
        for r in records:  # one subject said twice in one batch: the newer statement (ties: the later one)
            if r.id not in latest or r.created_at >= latest[r.id].created_at:
                latest[r.id] = r
        records = list(latest.values())
        if not records:
            return []
        texts = [r.text for r in records]
        # a turn writes a record or two, often a text already embedded ("likes Fargo (1996)"): cached
        vectors = (np.stack([self.encoder.encode_one(t) for t in texts]) if len(texts) <= 4
                   else self.encoder.encode(texts))
        step = self.client.get_max_batch_size()
        with self._write_lock:
            for keyed in (True, False):
                rows = [(r, v) for r, v in zip(records, vectors, strict=True) if r.keyed == keyed]
                write = self.collection.upsert if keyed else self.collection.add
                for lo in range(0, len(rows), step):
                    chunk = rows[lo : lo + step]
                    write(
                        ids=[r.id for r, _ in chunk],
                        embeddings=[v for _, v in chunk],
                        documents=[r.text for r, _ in chunk],
                        metadatas=[r.metadata() for r, _ in chunk],
                    )
        return records

    def delete(self, user_id: str, memory_id: str) -> bool:
        """Delete one record of ``user_id``; False when that user has no record with this id."""
        user_id = check_user_id(user_id)
        if not isinstance(memory_id, str) or not memory_id:
            raise ValueError(f"memory_id must be a non-empty string, got {memory_id!r}")
        with self._write_lock:
            # the id must be this user's: another user's id is "not found", never deleted
            found = self.collection.get(ids=[memory_id], where={"user_id": user_id}, include=[])["ids"]
            if found:
                self.collection.delete(ids=found)
        return bool(found)

    def forget(self, user_id: str) -> int:
        """Delete every record of ``user_id``; returns how many were deleted."""
        where = {"user_id": check_user_id(user_id)}
        with self._write_lock:
            ids = self.collection.get(where=where, include=[])["ids"]
            if ids:
                self.collection.delete(ids=ids)
        return len(ids)

    # reads ------------------------------------------------------------------------------------
    def read(self, user_id: str, query: str | np.ndarray) -> tuple[list[MemoryRecord], dict[str, float]]:
        """What one turn needs, in one Chroma read: every record of the user (oldest first) and
        each one's similarity to ``query`` (text, or its unit vector), by record key."""
        vector = self.encoder.encode_one(query) if isinstance(query, str) else np.asarray(query)
        # an exact read: a filtered HNSW query is approximate and was seen to miss one of a user's
        # records (tests/memory: concurrent writers); a user's records are few, so their
        # similarities are computed here from the stored unit vectors
        res = self.collection.get(
            where={"user_id": check_user_id(user_id)}, include=["documents", "metadatas", "embeddings"],
            limit=READ_LIMIT,
        )
        if not res["ids"]:
            return [], {}
        sims = np.asarray(res["embeddings"], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        records, relevance = [], {}
        for i, d, m, sim in zip(res["ids"], res["documents"], res["metadatas"], sims, strict=True):
            r = MemoryRecord.from_chroma(i, d, m)
            records.append(r)
            relevance[r.key] = round(max(0.0, float(sim)), 4)  # cosine similarity of unit vectors
        return sorted(records, key=lambda r: r.created_at), relevance

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
