"""Film knowledge beyond ml-100k's title, year and genres: director, MPAA rating, running time,
IMDb and Rotten Tomatoes ratings, kind of story and source, from vega-datasets' ``movies.json``
(3,201 films; ``tools.data`` fetches it) joined on normalised title and year."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from tools.catalog import FILM_FIELDS, MPAA_RATINGS, display_title, normalize_title

_COLUMNS = {  # movies.json's names -> ours
    "Title": "title", "Director": "director", "MPAA Rating": "mpaa", "Running Time min": "runtime",
    "IMDB Rating": "imdb_rating", "Rotten Tomatoes Rating": "rt_rating", "Creative Type": "creative_type",
    "Source": "source",
}  # fmt: skip
# movies.json's own slips, checked by hand: title -> (the title and year as ml-100k has them)
_FIXES = {
    "Star Wars Ep. IV: A New Hope": ("Star Wars", 1977),
    "Grosse Point Blank": ("Grosse Pointe Blank", 1997),
    "Ri¢hie Ri¢h": ("Richie Rich", 1994),
    "Good Will Hunting": ("Good Will Hunting", 1997),  # dated Feb 20 1987
}
_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7", "viii": "8", "ix": "9", "x": "10"}
# the data ends in 2011; older films with two-digit years were read as 20xx ("Dec 15 2039")
_LAST_YEAR = 2011


def read_movies(path: Path) -> pd.DataFrame:
    """movies.json as title, year and our ``FILM_FIELDS``; MPAA ratings other than G..NC-17 ("Not Rated") are None."""
    raw = pd.DataFrame.from_records(json.loads(Path(path).read_text()))
    raw = raw[raw.Title.notna()]
    movies = raw[list(_COLUMNS)].rename(columns=_COLUMNS).astype({"title": str})
    year = pd.to_datetime(raw["Release Date"], format="%b %d %Y").dt.year
    movies["year"] = year.where(year <= _LAST_YEAR, year - 100)
    for wrong, right in _FIXES.items():
        movies.loc[movies.title == wrong, ["title", "year"]] = right
    movies["mpaa"] = movies.mpaa.where(movies.mpaa.isin(MPAA_RATINGS))
    return movies.reset_index(drop=True)


def title_keys(title: str) -> list[str]:
    """The ways a title may be written, closest first: whole; without its parentheses; each part in
    parentheses (ml-100k's other titles: "Seven (Se7en)"); what follows a colon. A key has no case,
    accents, punctuation, spaces or leading article, and roman numerals as digits ("Speed II" = "Speed 2")."""
    title = display_title(title)
    plain = re.sub(r"\s*\([^)]*\)", "", title).strip()
    forms = [title, plain, *(display_title(p) for p in re.findall(r"\(([^)]*)\)", title))]
    if ":" in plain:
        forms.append(plain.split(":", 1)[1])
    keys = [normalize_title(f.replace("&", " and ").replace(".", "")) for f in forms]
    return list(dict.fromkeys(k for k in ("".join(_ROMAN.get(w, w) for w in k.split()) for k in keys) if k))


def join_movies(items: pd.DataFrame, movies: pd.DataFrame) -> pd.DataFrame:
    """``items`` with ``FILM_FIELDS`` from the one film of ``movies`` each matches, or None: a title key
    in common and years at most 1 apart (release dates differ by country), the same year first, then
    the closest keys. No film on either side is matched twice."""
    def keyed(frame: pd.DataFrame, id_col: str) -> pd.DataFrame:
        keys = frame[[id_col, "title", "year"]].assign(key=frame.title.map(title_keys)).explode("key")
        return keys.assign(rank=keys.groupby(id_col).cumcount()).dropna(subset=["key", "year"])

    pairs = keyed(items, "item_id").merge(keyed(movies.rename_axis("row").reset_index(), "row"), on="key")
    pairs["gap"] = (pairs.year_x.astype(int) - pairs.year_y.astype(int)).abs()
    pairs["rank"] = pairs.rank_x + pairs.rank_y
    pairs = pairs[pairs.gap <= 1].sort_values(["gap", "rank", "item_id", "row"])
    matched: dict[int, int] = {}  # item_id -> row of movies
    taken: set[int] = set()
    for item_id, row in zip(pairs.item_id, pairs.row, strict=True):
        if item_id not in matched and row not in taken:
            matched[int(item_id)] = int(row)
            taken.add(row)
    found = movies.loc[list(matched.values()), list(FILM_FIELDS)].assign(item_id=list(matched))
    return items.drop(columns=[c for c in FILM_FIELDS if c in items]).merge(found, on="item_id", how="left")


def coverage(items: pd.DataFrame) -> dict[str, int]:
    """How many films there are, how many have any metadata, and how many have each field."""
    known = items[list(FILM_FIELDS)].notna()
    return {"films": len(items), "matched": int(known.any(axis=1).sum()), **{f: int(n) for f, n in known.sum().items()}}
