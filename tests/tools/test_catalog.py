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
