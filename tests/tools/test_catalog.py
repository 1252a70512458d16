import pytest

from tools.catalog import Catalog, ItemFilter, normalize_title


@pytest.fixture(scope="module")
def catalog(ml100k, tmp_path_factory):
    import numpy as np

    pop = np.arange(len(ml100k.items))[::-1]  # any popularity will do for these tests
    return Catalog.create(tmp_path_factory.mktemp("cat") / "catalog.sqlite", ml100k.items, pop)


@pytest.mark.parametrize(
    "query, title, year, status",
    [
        ("heat", "Heat", 1995, "exact"),
        ("Heat (1995)", "Heat", 1995, "exact"),
        ("HEAT", "Heat", 1995, "exact"),
        ("the godfathr", "The Godfather", 1972, "fuzzy"),
        ("star wars", "Star Wars", 1977, "exact"),
        ("The Usual Suspects", "The Usual Suspects", 1995, "exact"),
        ("usual suspects", "The Usual Suspects", 1995, "exact"),
        ("toy story", "Toy Story", 1995, "exact"),
        ("jurasic park", "Jurassic Park", 1993, "fuzzy"),
        ("Silence of the Lambs", "The Silence of the Lambs", 1991, "exact"),
    ],
)
def test_resolve_title(catalog, query, title, year, status):
    r = catalog.resolve_title(query)
    assert r.status == status
    assert (r.matches[0].title, r.matches[0].year) == (title, year)
    assert r.item_id == r.matches[0].item_id


def test_ambiguous_title_is_reported_not_guessed(catalog):
    r = catalog.resolve_title("star trek")
    assert r.status == "ambiguous"
    assert r.item_id is None
    assert len(r.matches) >= 2 and all("Star Trek" in m.title for m in r.matches[:2])


def test_unknown_title(catalog):
    r = catalog.resolve_title("qwzx vvbnm")
    assert r.status == "none" and r.item_id is None
    assert catalog.resolve_title("   ").status == "none"


def test_sql_looking_text_is_just_text(catalog):
    n = len(catalog)
    r = catalog.resolve_title("'; DROP TABLE items; --")
    assert r.item_id is None
    assert len(catalog.filter(ItemFilter(genres_any=["Comedy') OR 1=1 --"]))) == 0
    assert len(Catalog(catalog.path)) == n


def test_filters(catalog, ml100k):
    flt = ItemFilter(genres_any=["comedy"], genres_none=["Romance"], year_min=1990, year_max=1999, exclude=[1])
    ids = catalog.filter(flt)
    assert 1 not in ids and len(ids) > 50
    for item in catalog.get(ids):
        assert "Comedy" in item.genres and "Romance" not in item.genres
        assert 1990 <= item.year <= 1999
    # cross-check against pandas on the raw items
    items = ml100k.items
    expect = items[items.genres.map(lambda g: "Comedy" in g and "Romance" not in g)
                   & items.year.between(1990, 1999) & (items.item_id != 1)]
    assert sorted(ids) == sorted(expect.item_id.tolist())


def test_filter_orders_by_popularity_and_limits(catalog):
    ids = catalog.filter(ItemFilter(), limit=5)
    pops = [i.popularity for i in catalog.get(ids)]
    assert len(ids) == 5 and pops == sorted(pops, reverse=True)
    assert catalog.filter(ItemFilter(min_popularity=10**9)) == []


def test_satisfies_and_get_unknown(catalog):
    assert catalog.satisfies([1, 2], ItemFilter(genres_any=["Animation"])) == [True, False]
    assert [i.item_id for i in catalog.get([2, 999999, 1])] == [2, 1]
    assert 1 in catalog and 999999 not in catalog and "abc" not in catalog


def test_item_label():
    from tools.catalog import Item

    assert Item(item_id=1, title="Heat", year=1995, genres=[], popularity=1).label == "Heat (1995)"
    assert Item(item_id=1, title="Heat", year=None, genres=[], popularity=1).label == "Heat"


def test_normalize_title():
    assert normalize_title("The Godfather") == "godfather"
    assert normalize_title("  L'Amour   fou!! ") == "amour fou"


def test_genres_all_requires_every_genre(catalog):
    ids = catalog.filter(ItemFilter(genres_all=["Comedy", "Horror"]))
    assert ids and all({"Comedy", "Horror"} <= set(i.genres) for i in catalog.get(ids))


# ---- film metadata: directors, MPAA ratings, running time, acclaim ---------------------------

def item_id(ml100k, title, year):
    items = ml100k.items
    return int(items[(items.title == title) & (items.year == year)].item_id.iloc[0])


def test_items_carry_their_metadata(catalog, ml100k):
    (jp,) = catalog.get([item_id(ml100k, "Jurassic Park", 1993)])
    assert (jp.director, jp.mpaa, jp.imdb_rating, jp.rt_rating) == ("Steven Spielberg", "PG-13", 7.9, 87)
    assert (jp.runtime, jp.creative_type, jp.source) == (None, "Science Fiction", "Based on Book/Short Story")
    (kolya,) = catalog.get([item_id(ml100k, "Kolya", 1996)])
    assert kolya.director is kolya.mpaa is kolya.runtime is kolya.imdb_rating is None


def test_directors_filter(catalog, ml100k):
    ids = catalog.filter(ItemFilter(directors_any=["steven spielberg", "Joel Coen"]))
    assert {i.director for i in catalog.get(ids)} == {"Steven Spielberg", "Joel Coen"}
    expect = ml100k.items[ml100k.items.director.isin(["Steven Spielberg", "Joel Coen"])]
    assert sorted(ids) == sorted(expect.item_id) and item_id(ml100k, "Jurassic Park", 1993) in ids
    assert catalog.filter(ItemFilter(directors_any=["Spielberg' OR 1=1 --"])) == []


def test_max_rating_passes_only_known_milder_ratings(catalog, ml100k):
    ids = catalog.filter(ItemFilter(max_rating="PG"))
    assert ids and {i.mpaa for i in catalog.get(ids)} == {"G", "PG"}
    assert len(ids) == ml100k.items.mpaa.isin(["G", "PG"]).sum()
    assert item_id(ml100k, "Jurassic Park", 1993) not in ids and item_id(ml100k, "Kolya", 1996) not in ids
    assert len(catalog.filter(ItemFilter(max_rating="NC-17"))) == ml100k.items.mpaa.notna().sum()


def test_ratings_none_keeps_unknown_ratings(catalog, ml100k):
    ids = catalog.filter(ItemFilter(ratings_none=["R", "NC-17"]))
    assert not {"R", "NC-17"} & {i.mpaa for i in catalog.get(ids)}
    assert len(ids) == (~ml100k.items.mpaa.isin(["R", "NC-17"])).sum()
    assert item_id(ml100k, "Seven (Se7en)", 1995) not in ids and item_id(ml100k, "Kolya", 1996) in ids


def test_max_runtime_passes_only_known_shorter_films(catalog, ml100k):
    ids = catalog.filter(ItemFilter(max_runtime=100))
    films = catalog.get(ids)
    assert films and all(f.runtime is not None and f.runtime <= 100 for f in films)
    assert len(ids) == (ml100k.items.runtime <= 100).sum()
    assert item_id(ml100k, "Fargo", 1996) in ids and item_id(ml100k, "Good Will Hunting", 1997) not in ids  # 87, 126


def test_acclaimed_is_either_score_high(catalog, ml100k):
    from tools.catalog import ACCLAIMED_IMDB, ACCLAIMED_RT

    ids = catalog.filter(ItemFilter(acclaimed=True))
    films = catalog.get(ids)
    assert films and all((f.imdb_rating or 0) >= ACCLAIMED_IMDB or (f.rt_rating or 0) >= ACCLAIMED_RT for f in films)
    items = ml100k.items
    assert len(ids) == ((items.imdb_rating >= ACCLAIMED_IMDB) | (items.rt_rating >= ACCLAIMED_RT)).sum()
    assert item_id(ml100k, "Speed 2: Cruise Control", 1997) not in ids  # IMDb 3.4, no RT score
    assert item_id(ml100k, "Fargo", 1996) in ids


def test_for_children_no_adult_genre_and_no_r_or_nc17(catalog, ml100k):
    from types import SimpleNamespace

    from tools.constraints import ADULT_GENRES, Constraints

    cutoffs = SimpleNamespace(popular_floor_=0, obscure_ceiling_=0)
    ids = catalog.filter(Constraints(audience="children").to_filter(cutoffs))
    films = catalog.get(ids)
    assert len(films) > 300 and not any(set(f.genres) & set(ADULT_GENRES) for f in films)
    assert not {"R", "NC-17"} & {f.mpaa for f in films}
    items = ml100k.items
    adult = items.genres.map(lambda g: bool(set(g) & set(ADULT_GENRES))) | items.mpaa.isin(["R", "NC-17"])
    assert sorted(ids) == sorted(items[~adult].item_id)
    # asking for a horror film for children finds none: the audience wins
    assert catalog.filter(Constraints(audience="children", genres=["Horror"]).to_filter(cutoffs)) == []


def test_a_catalog_built_before_metadata_is_refused(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript("""
            CREATE TABLE items (item_id INTEGER PRIMARY KEY, title TEXT NOT NULL, norm_title TEXT NOT NULL,
                year INTEGER, genres TEXT NOT NULL, popularity INTEGER NOT NULL, text TEXT NOT NULL);
            CREATE TABLE item_genres (item_id INTEGER NOT NULL, genre TEXT NOT NULL);
        """)
    conn.close()
    with pytest.raises(ValueError, match=r"before films had metadata.*convrec build --force"):
        Catalog(path)
