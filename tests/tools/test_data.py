import numpy as np
import pytest

from tools.data import DataError, display_title, load_dataset, load_grouplens, synth_dataset


def test_ml100k_shape(ml100k):
    assert len(ml100k.items) == 1682
    assert len(ml100k.interactions) == 100_000
    assert ml100k.interactions.user_id.nunique() == 943
    toy = ml100k.items.set_index("item_id").loc[1]
    assert (toy.title, toy.year, toy.genres) == ("Toy Story", 1995, ("Animation", "Children's", "Comedy"))
    assert "Toy Story (1995)" in toy.text


def test_display_title_moves_articles():
    assert display_title("Usual Suspects, The") == "The Usual Suspects"
    assert display_title("Piano, The") == "The Piano"
    assert display_title("Heat") == "Heat"


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="convrec data fetch"):
        load_dataset("ml-100k", tmp_path, fetch=False)
    with pytest.raises(DataError, match="u.data"):
        load_grouplens(tmp_path)
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("netflix", tmp_path)


def test_grouplens_layout(tmp_path):
    (tmp_path / "u.data").write_text("1\t1\t5\t874965758\n1\t2\t3\t876893171\n2\t1\t4\t888550871\n")
    flags = ["0"] * 19
    toy = flags.copy()
    for g in (3, 4, 5):  # Animation, Children's, Comedy (after 'unknown')
        toy[g] = "1"
    gold = flags.copy()
    for g in (1, 2, 16):  # Action, Adventure, Thriller
        gold[g] = "1"
    (tmp_path / "u.item").write_bytes(
        ("1|Toy Story (1995)|01-Jan-1995||http://x|" + "|".join(toy) + "\n"
         "2|GoldenEye (1995)|01-Jan-1995||http://x|" + "|".join(gold) + "\n"
         "3|Café, Le (1996)|01-Jan-1996||http://x|" + "|".join(flags) + "\n").encode("latin-1")
    )
    ds = load_grouplens(tmp_path)
    assert ds.items.title.tolist() == ["Toy Story", "GoldenEye", "Le Café"]
    assert ds.items.genres[1] == ("Action", "Adventure", "Thriller")
    assert ds.items.year.tolist() == [1995, 1995, 1996]
    assert len(ds.interactions) == 3


def test_grouplens_matches_recbole_copy(ml100k, tmp_path):
    """The two layouts of the same data give the same items when written and read back."""
    items = ml100k.items.head(50)
    genres = ["unknown", *sorted({g for gs in items.genres for g in gs} | set())]
    from tools.data import GENRES

    rows = []
    for r in items.itertuples():
        flags = ["0"] + ["1" if g in r.genres else "0" for g in GENRES]
        rows.append(f"{r.item_id}|{r.title} ({r.year})|01-Jan-{r.year}||http://x|" + "|".join(flags))
    (tmp_path / "u.item").write_bytes(("\n".join(rows) + "\n").encode("latin-1", "replace"))
    (tmp_path / "u.data").write_text("1\t1\t5\t1\n")
    ds = load_grouplens(tmp_path)
    assert ds.items.genres.tolist() == items.genres.tolist() and genres


def test_synthetic_catalog_is_power_law_and_seeded():
    a = synth_dataset(5_000, 500, seed=1)
    b = synth_dataset(5_000, 500, seed=1)
    assert a.checksum == b.checksum
    assert synth_dataset(5_000, 500, seed=2).checksum != a.checksum
    counts = np.sort(a.interactions.item_id.value_counts().to_numpy())[::-1]
    top1 = counts[: len(a.items) // 100].sum() / counts.sum()
    assert top1 > 0.15  # the top 1% of items carry a large share, as under a power law
    assert a.items.genres.map(len).between(1, 3).all()
    assert a.items.year.between(1920, 2025).all()
    assert not a.interactions.duplicated(["user_id", "item_id"]).any()


def test_bad_synth_spec(tmp_path):
    with pytest.raises(DataError):
        load_dataset("synth:abc:10", tmp_path)


# ---- fetching pinned files out of registry packages ------------------------------------------

@pytest.fixture(scope="module")
def vega_archive(home):
    """The real vega-datasets tarball in the test home's downloads (npm pack, once)."""
    from tools.data import VEGA, download_archive

    return download_archive(VEGA, home)


def test_film_metadata_is_fetched_once_then_offline(home, vega_archive):
    from dataclasses import replace

    from tools.data import MOVIES, VEGA, fetch_film_metadata, fetch_package, sha256_file

    movies = fetch_film_metadata(home)
    assert sha256_file(movies) == VEGA.files[MOVIES][1] and sha256_file(vega_archive) == VEGA.sha256
    # a second call runs no client: one that would fail is never started
    assert fetch_package(replace(VEGA, command=("false",)), home) == movies.parent


def test_a_corrupt_cached_archive_is_refused_and_fetched_again(tmp_path, vega_archive, caplog):
    from dataclasses import replace

    from tools.data import MOVIES, VEGA, fetch_package, sha256_file

    cached = tmp_path / "downloads" / VEGA.archive
    cached.parent.mkdir()
    cached.write_bytes(vega_archive.read_bytes()[:1000])  # a partial download
    # the registry's client, standing in: it leaves the real archive in the downloads folder
    again = replace(VEGA, command=("cp", str(vega_archive), "."))
    with caplog.at_level("WARNING"):
        folder = fetch_package(again, tmp_path)
    assert "does not match its pinned sha256" in caplog.text
    assert sha256_file(cached) == VEGA.sha256 and sha256_file(folder / MOVIES) == VEGA.files[MOVIES][1]

    (folder / MOVIES).write_text("[]")  # a changed extracted file is read again from the cached archive
    assert sha256_file(fetch_package(replace(VEGA, command=("false",)), tmp_path) / MOVIES) == VEGA.files[MOVIES][1]


def test_a_download_that_fails_or_does_not_match_is_a_clear_error(tmp_path):
    from dataclasses import replace

    from tools.data import VEGA, fetch_package

    with pytest.raises(DataError, match=r"`no-such-npm-client` is not installed.*convrec data fetch"):
        fetch_package(replace(VEGA, command=("no-such-npm-client", "pack", VEGA.spec)), tmp_path)
    with pytest.raises(DataError, match=r"could not download vega-datasets@3\.2\.1.*convrec data fetch"):
        fetch_package(replace(VEGA, command=("false",)), tmp_path)
    other = tmp_path / "other.tgz"
    other.write_bytes(b"not the release")
    with pytest.raises(DataError, match="not the pinned"):
        fetch_package(replace(VEGA, command=("cp", str(other), VEGA.archive)), tmp_path)
    assert not (tmp_path / "downloads" / VEGA.archive).exists()  # deleted, so the next call fetches it again


def test_without_cached_metadata_ml100k_loads_with_it_unknown(home, tmp_path, caplog):
    import shutil

    from tools.data import FILM_FIELDS, ml100k_dir

    shutil.copytree(ml100k_dir(home), ml100k_dir(tmp_path))
    with caplog.at_level("WARNING"):
        ds = load_dataset("ml-100k:10", tmp_path, fetch=False)
    assert "convrec data fetch" in caplog.text and ds.metadata is None
    assert ds.items[list(FILM_FIELDS)].isna().all().all() and len(ds.items) == 1682


# ---- film metadata joined on title and year --------------------------------------------------

def film(items, title, year):
    rows = items[(items.title == title) & (items.year == year)]
    assert len(rows) == 1, (title, year)
    return rows.iloc[0]


def test_metadata_covers_a_third_of_the_films(ml100k):
    from tools.metadata import coverage

    cov = coverage(ml100k.items)
    assert cov["films"] == 1682 and cov["matched"] >= 450
    assert cov["director"] >= 350 and cov["mpaa"] >= 350 and cov["imdb_rating"] >= 400
    assert ml100k.metadata == "e63c499759e3b07b49563e036f55290f87feb56def8703ec049ca305ab1523d3"
    assert set(ml100k.items.mpaa.dropna()) <= {"G", "PG", "PG-13", "R", "NC-17"}  # "Not Rated" is None


@pytest.mark.parametrize("title, year, director, mpaa", [
    ("Jurassic Park", 1993, "Steven Spielberg", "PG-13"),
    ("Seven (Se7en)", 1995, "David Fincher", "R"),  # the other title in parentheses
    ("The Usual Suspects", 1995, "Bryan Singer", "R"),  # "Usual Suspects, The"
    ("Toy Story", 1995, "John Lasseter", "G"),
    ("Star Wars", 1977, "George Lucas", "PG"),  # "Star Wars Ep. IV: A New Hope" in movies.json
    ("Casablanca", 1942, "Michael Curtiz", None),  # released Dec 31 1941 there: a year apart
    ("Gone with the Wind", 1939, "George Cukor", "G"),  # dated "Dec 15 2039" there
    ("Speed 2: Cruise Control", 1997, "Jan De Bont", "PG-13"),  # "Speed II: ..."
    ("Kolya", 1996, None, None),  # not in movies.json
])  # fmt: skip
def test_spot_checks_against_movies_json(ml100k, title, year, director, mpaa):
    row = film(ml100k.items, title, year)
    assert (row.director, row.mpaa) == (director, mpaa)
    # the knowledge lives in its columns, not in the embedded text (tools.data.item_text says why)
    assert row.text.startswith(f"{title} ({year}).") and (director or "Directed by") not in row.text


def test_numbers_and_kinds_of_story_come_through(ml100k):
    fargo = film(ml100k.items, "Fargo", 1996)
    assert (fargo.runtime, fargo.imdb_rating, fargo.rt_rating) == (87, 8.3, 94)
    assert (fargo.creative_type, fargo.source) == ("Contemporary Fiction", "Based on Real Life Events")


def test_no_film_is_matched_twice(ml100k, vega_archive, home):
    from tools.data import FILM_FIELDS, fetch_film_metadata
    from tools.metadata import join_movies, read_movies

    movies = read_movies(fetch_film_metadata(home))
    marked = movies.assign(source=movies.index.astype(str))  # each movies.json row names itself
    joined = join_movies(ml100k.items.drop(columns=list(FILM_FIELDS)), marked)
    assert len(joined) == 1682 and joined.item_id.is_unique
    assert joined.source.dropna().is_unique
    # ml-100k lists a few films twice under two ids: one of the two gets the metadata
    amy = joined[joined.title == "Chasing Amy"]
    assert len(amy) == 2 and amy.director.notna().sum() == 1


def test_title_keys_meet_across_spellings():
    from tools.metadata import title_keys

    assert title_keys("Seven (Se7en)") == ["sevense7en", "seven", "se7en"]
    assert set(title_keys("Speed 2: Cruise Control")) & set(title_keys("Speed II: Cruise Control"))
    assert title_keys("E.T. the Extra-Terrestrial")[0] == title_keys("ET: The Extra-Terrestrial")[0]
    assert title_keys("Boot, Das")[0] == title_keys("Das Boot")[0] == "boot"
    assert title_keys("Blood & Wine")[0] == title_keys("Blood and Wine")[0]
