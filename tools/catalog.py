"""The catalog DB: SQLite with attribute filters and fuzzy title resolution."""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

_ARTICLES = re.compile(r"^((the|a|an|il|la|le|les|das|der|die|el)\s+|l')")
# what is known of a film beyond title, year and genres, with its dtype in a dataset's items
# (tools.metadata joins it from movies.json; None: not known)
FILM_FIELDS = {
    "director": "object", "mpaa": "object", "runtime": "Int64", "imdb_rating": "float64",
    "rt_rating": "Int64", "creative_type": "object", "source": "object",
}  # fmt: skip
_SQL_TYPES = {"object": "TEXT", "Int64": "INTEGER", "float64": "REAL"}
_SCHEMA = f"""
CREATE TABLE items (
    item_id INTEGER PRIMARY KEY, title TEXT NOT NULL, norm_title TEXT NOT NULL, year INTEGER,
    genres TEXT NOT NULL, popularity INTEGER NOT NULL, text TEXT NOT NULL,
    {", ".join(f"{name} {_SQL_TYPES[dtype]}" for name, dtype in FILM_FIELDS.items())}
);
CREATE TABLE item_genres (item_id INTEGER NOT NULL, genre TEXT NOT NULL);
CREATE INDEX item_genres_genre ON item_genres (genre, item_id);
CREATE INDEX items_year ON items (year);
CREATE INDEX items_pop ON items (popularity DESC);
"""
MpaaRating = Literal["G", "PG", "PG-13", "R", "NC-17"]
MPAA_RATINGS: tuple[str, ...] = get_args(MpaaRating)  # mildest first
# "acclaimed": IMDb 7.5 or more (the best sixth of movies.json's films) or Rotten Tomatoes 80 or
# more (the best quarter; RT's own "Certified Fresh" starts at 75). Either is enough: many films
# carry only one of the two, and the two scales disagree on what a typical film gets.
ACCLAIMED_IMDB = 7.5
ACCLAIMED_RT = 80


class Item(BaseModel):
    item_id: int
    title: str
    year: int | None
    genres: list[str]
    popularity: int = Field(description="train interactions")
    director: str | None = None
    mpaa: MpaaRating | None = None
    runtime: int | None = Field(None, description="minutes")
    imdb_rating: float | None = None
    rt_rating: int | None = Field(None, description="Rotten Tomatoes, 0-100")
    creative_type: str | None = None
    source: str | None = None

    @property
    def label(self) -> str:
        return item_label(self.title, self.year)


def item_label(title: str, year: int | None) -> str:
    """How a film is named to people everywhere: 'Title (Year)', or the title alone."""
    return f"{title} ({year})" if year else title


class ItemFilter(BaseModel):
    """Hard constraints; every field optional. Genres and directors compare case-insensitively. A
    limit on metadata (rating, runtime, acclaim) passes only films where it is known, except
    ``ratings_none``, which keeps films of unknown rating."""

    genres_any: list[str] = []
    genres_all: list[str] = []
    genres_none: list[str] = []
    year_min: int | None = None
    year_max: int | None = None
    exclude: list[int] = []
    include_only: list[int] | None = None
    min_popularity: int | None = None
    max_popularity: int | None = None
    directors_any: list[str] = []
    max_rating: MpaaRating | None = Field(None, description="this MPAA rating or milder")
    ratings_none: list[MpaaRating] = Field(default_factory=list, description="not these MPAA ratings")
    max_runtime: int | None = Field(None, description="minutes")
    acclaimed: bool = Field(False, description=f"IMDb >= {ACCLAIMED_IMDB} or Rotten Tomatoes >= {ACCLAIMED_RT}")


# ItemFilter's plain bounds: field -> its SQL (a film whose column is unknown, NULL, never passes)
_BOUNDS = {
    "year_min": "year >= ?", "year_max": "year <= ?", "min_popularity": "popularity >= ?",
    "max_popularity": "popularity <= ?", "max_runtime": "runtime <= ?",
}  # fmt: skip


class TitleMatch(BaseModel):
    item_id: int
    title: str
    year: int | None
    score: float = Field(description="0..100 string similarity")


class TitleResolution(BaseModel):
    query: str
    status: Literal["exact", "fuzzy", "ambiguous", "none"]
    matches: list[TitleMatch]

    @property
    def item_id(self) -> int | None:
        """The resolved item, or None when the title is unknown or ambiguous."""
        return self.matches[0].item_id if self.status in ("exact", "fuzzy") else None


def display_title(raw: str) -> str:
    """'Usual Suspects, The' -> 'The Usual Suspects' (MovieLens moves articles to the end)."""
    raw = raw.strip()
    m = re.match(r"^(.*), (The|A|An|Il|La|Le|Les|L'|Das|Der|Die|El)(\s*\(.*\))?$", raw)
    if m:
        sep = "" if m.group(2).endswith("'") else " "
        raw = f"{m.group(2)}{sep}{m.group(1)}{m.group(3) or ''}"
    return raw


def normalize_title(text: str) -> str:
    """Lowercase, accents and punctuation off, leading article off: 'The Godfather' -> 'godfather'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
    text = _ARTICLES.sub("", re.sub(r"\s+", " ", text).strip())
    return text.replace("'", "")


class Catalog:
    """Read-only view of the items. Thread-safe: one connection behind a lock."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"catalog {self.path} does not exist; run `convrec build`")
        self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        columns = {r[1] for r in self._query("PRAGMA table_info(items)")}
        if not set(FILM_FIELDS) <= columns:
            raise ValueError(f"catalog {self.path} was built before films had metadata (director, rating, ...); "
                             "rebuild with `convrec build --force`")
        rows = self._query("SELECT item_id, norm_title, year FROM items ORDER BY item_id")
        self._ids = np.array([r[0] for r in rows], dtype=np.int64)
        self._norm = [r[1] for r in rows]
        self._years = [r[2] for r in rows]
        genre_rows = self._query("SELECT DISTINCT genre FROM item_genres ORDER BY genre")
        self.genres: list[str] = [g for (g,) in genre_rows]

    @classmethod
    def create(cls, path: Path, items: pd.DataFrame, popularity: Sequence[int]) -> Catalog:
        """Write a new catalog from a dataset's items and their train popularity."""
        path = Path(path)
        path.unlink(missing_ok=True)
        conn = sqlite3.connect(path)
        with conn:
            conn.executescript(_SCHEMA)
            meta = items.reindex(columns=list(FILM_FIELDS))
            meta = meta.astype(object).where(meta.notna(), None)
            conn.executemany(
                f"INSERT INTO items VALUES ({', '.join('?' * (7 + len(FILM_FIELDS)))})",
                (
                    (int(i), t, normalize_title(t), None if pd.isna(y) else int(y), "|".join(g), int(p), x,
                     *_sql_values(m))
                    for i, t, y, g, p, x, m in zip(
                        items.item_id, items.title, items.year, items.genres, popularity, items.text,
                        meta.itertuples(index=False), strict=True,
                    )
                ),
            )
            conn.executemany(
                "INSERT INTO item_genres VALUES (?, ?)",
                ((int(i), g) for i, gs in zip(items.item_id, items.genres, strict=True) for g in gs),
            )
        conn.close()
        return cls(path)

    def _query(self, sql: str, params: Sequence | dict = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def item_ids(self) -> np.ndarray:
        return self._ids

    def __contains__(self, item_id: object) -> bool:
        try:
            i = int(item_id)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
        pos = np.searchsorted(self._ids, i)
        return bool(pos < len(self._ids) and self._ids[pos] == i)

    def get(self, item_ids: Iterable[int]) -> list[Item]:
        """Items in the order asked; unknown ids are skipped."""
        ids = [int(i) for i in item_ids]
        if not ids:
            return []
        found: dict[int, Item] = {}
        for chunk in range(0, len(ids), 900):  # SQLite's variable limit
            part = ids[chunk : chunk + 900]
            rows = self._query(
                f"SELECT item_id, title, year, genres, popularity, {', '.join(FILM_FIELDS)} FROM items "
                f"WHERE item_id IN ({','.join('?' * len(part))})",
                part,
            )
            for i, t, y, g, p, *meta in rows:
                found[i] = Item(item_id=i, title=t, year=y, genres=g.split("|") if g else [], popularity=p,
                                **dict(zip(FILM_FIELDS, meta, strict=True)))
        return [found[i] for i in ids if i in found]

    def text(self, item_ids: Iterable[int]) -> list[str]:
        ids = [int(i) for i in item_ids]
        rows = dict(self._query(f"SELECT item_id, text FROM items WHERE item_id IN ({','.join('?' * len(ids))})", ids)) if ids else {}
        return [rows[i] for i in ids if i in rows]

    def known(self, *fields: str) -> int:
        """How many films the catalog knows any of these film-knowledge fields for ("director")."""
        if not fields or not set(fields) <= set(FILM_FIELDS):
            raise ValueError(f"not film-knowledge fields: {fields}; known ones are {list(FILM_FIELDS)}")
        return self._query(f"SELECT COUNT(*) FROM items WHERE {' OR '.join(f'{f} IS NOT NULL' for f in fields)}")[0][0]

    @cached_property
    def directors(self) -> list[str]:
        """Every director the catalog's film knowledge names (read once: the catalog never changes)."""
        return [r[0] for r in self._query("SELECT DISTINCT director FROM items WHERE director IS NOT NULL ORDER BY director")]

    def canonical_genre(self, name: str) -> str | None:
        low = name.strip().lower()
        return next((g for g in self.genres if g.lower() == low), None)

    def filter(self, flt: ItemFilter, limit: int | None = None) -> list[int]:
        """Ids of items meeting every constraint, most popular first."""
        where, params = self._where(flt)
        sql = f"SELECT item_id FROM items WHERE {where} ORDER BY popularity DESC, item_id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [r[0] for r in self._query(sql, params)]

    def satisfies(self, item_ids: Sequence[int], flt: ItemFilter) -> list[bool]:
        """For each id: does it meet the constraints?"""
        ids = [int(i) for i in item_ids]
        if not ids:
            return []
        narrowed = flt.model_copy(update={"include_only": ids if flt.include_only is None else sorted(set(ids) & set(flt.include_only))})
        ok = set(self.filter(narrowed))
        return [i in ok for i in ids]

    def _where(self, flt: ItemFilter) -> tuple[str, list]:
        clauses, params = ["1=1"], []
        if flt.genres_any:
            clauses.append(
                f"item_id IN (SELECT item_id FROM item_genres WHERE lower(genre) IN ({','.join('?' * len(flt.genres_any))}))"
            )
            params += [g.lower() for g in flt.genres_any]
        for g in flt.genres_all:
            clauses.append("item_id IN (SELECT item_id FROM item_genres WHERE lower(genre) = ?)")
            params.append(g.lower())
        if flt.genres_none:
            clauses.append(
                f"item_id NOT IN (SELECT item_id FROM item_genres WHERE lower(genre) IN ({','.join('?' * len(flt.genres_none))}))"
            )
            params += [g.lower() for g in flt.genres_none]
        for field, clause in _BOUNDS.items():
            if getattr(flt, field) is not None:
                clauses.append(clause)
                params.append(getattr(flt, field))
        if flt.directors_any:
            clauses.append(f"lower(director) IN ({','.join('?' * len(flt.directors_any))})")
            params += [d.lower() for d in flt.directors_any]
        if flt.max_rating is not None:
            milder = MPAA_RATINGS[: MPAA_RATINGS.index(flt.max_rating) + 1]
            clauses.append(f"mpaa IN ({','.join('?' * len(milder))})")  # an unknown rating (NULL) is not in
            params += milder
        if flt.ratings_none:
            clauses.append(f"(mpaa IS NULL OR mpaa NOT IN ({','.join('?' * len(flt.ratings_none))}))")
            params += flt.ratings_none
        if flt.acclaimed:
            clauses.append("(imdb_rating >= ? OR rt_rating >= ?)")
            params += [ACCLAIMED_IMDB, ACCLAIMED_RT]
        if flt.exclude:
            clauses.append("item_id NOT IN (SELECT value FROM json_each(?))")
            params.append(_json_ids(flt.exclude))
        if flt.include_only is not None:
            clauses.append("item_id IN (SELECT value FROM json_each(?))")
            params.append(_json_ids(flt.include_only))
        return " AND ".join(clauses), params

    def resolve_title(self, text: str, limit: int = 5) -> TitleResolution:
        """Find the item a person means by a title; report ambiguity instead of guessing."""
        query = text.strip()
        m = re.search(r"\(?\b(1[89]\d\d|20\d\d)\)?\s*$", query)
        year = int(m.group(1)) if m and m.start() > 0 else None
        norm = normalize_title(query[: m.start()] if year else query)
        if not norm:
            return TitleResolution(query=query, status="none", matches=[])
        exact = [i for i, t in enumerate(self._norm) if t == norm]
        if year is not None and exact:
            exact = [i for i in exact if self._years[i] == year] or exact
        if exact:
            status = "exact" if len(exact) == 1 else "ambiguous"
            pos = exact
            scores = [100.0] * len(exact)
        else:
            found = process.extract(norm, self._norm, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60)
            # WRatio forgives partial matches; rank ties by plain ratio so 'godfathr' prefers 'godfather'
            found.sort(key=lambda f: (-round(f[1]), -fuzz.ratio(norm, f[0])))
            pos = [f[2] for f in found]
            scores = [float(f[1]) for f in found]
            if year is not None:
                scores = [s + (5.0 if self._years[p] == year else 0.0) for s, p in zip(scores, pos, strict=True)]
            if not pos or scores[0] < 86:
                status = "none" if not pos or scores[0] < 75 else "ambiguous"
            elif len(pos) > 1 and scores[1] >= scores[0] - 2 and fuzz.ratio(norm, self._norm[pos[0]]) - fuzz.ratio(norm, self._norm[pos[1]]) < 8:
                status = "ambiguous"
            else:
                status = "fuzzy"
        ids = [int(self._ids[p]) for p in pos[:limit]]
        items = {it.item_id: it for it in self.get(ids)}
        matches = [
            TitleMatch(item_id=i, title=items[i].title, year=items[i].year, score=min(100.0, s))
            for i, s in zip(ids, scores, strict=False)
        ]
        if status == "none":
            matches = matches[:3]
        return TitleResolution(query=query, status=status, matches=matches)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _sql_values(values: Iterable[object]) -> list[object]:
    """numpy and pandas scalars as SQLite's own types."""
    return [v.item() if hasattr(v, "item") else v for v in values]


def _json_ids(ids: Iterable[int]) -> str:
    return "[" + ",".join(str(int(i)) for i in ids) + "]"
