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
