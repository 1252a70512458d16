import numpy as np
import pytest


def test_every_user_has_one_valid_and_one_test(small_split):
    assert small_split.valid.uidx.is_unique and small_split.test.uidx.is_unique
    assert len(small_split.test) == small_split.n_users  # every ml-100k user has >= 20 ratings


def test_no_target_leaks_into_train(small_split):
    train_pairs = set(zip(small_split.train.uidx, small_split.train.iidx, strict=True))
    for frame in (small_split.valid, small_split.test):
        assert not train_pairs & set(zip(frame.uidx, frame.iidx, strict=True))


def test_targets_are_the_latest_interactions(small_split):
    last_train = small_split.train.groupby("uidx").timestamp.max()
    valid = small_split.valid.set_index("uidx").timestamp
    test = small_split.test.set_index("uidx").timestamp
    assert (valid >= last_train.loc[valid.index]).all()
    assert (test >= valid.loc[test.index]).all()
    order_train = small_split.train.groupby("uidx")["order"].max()
    assert (small_split.valid.set_index("uidx")["order"] == order_train + 1).all()


def test_cold_items_have_no_train_interactions(small_dataset):
    from tools.split import leave_last_out

    split = leave_last_out(small_dataset, cold_items=20, seed=3)
    assert len(split.cold_items) == 20
    assert not np.isin(split.train.iidx, split.cold_items).any()
    targets = np.union1d(split.valid.iidx, split.test.iidx)
    assert np.isin(split.cold_items, targets).all()  # users with cold targets exist to report on


def test_train_matrix_matches_frames(small_split):
    X = small_split.train_matrix()
    assert X.nnz == len(small_split.train.drop_duplicates(["uidx", "iidx"]))
    Xv = small_split.train_matrix("valid")
    assert Xv.nnz == X.nnz + len(small_split.valid)


def test_recent_popularity_counts_each_users_last_train_items(small_split):
    seqs = small_split.sequences("train")
    for last in (1, 5):
        recent = small_split.recent_popularity(last)
        expected = np.bincount(np.concatenate([s[-last:] for s in seqs]), minlength=small_split.n_items)
        assert np.array_equal(recent, expected)
        assert recent.sum() == sum(min(len(s), last) for s in seqs)
    assert (small_split.recent_popularity(10**6) == small_split.item_popularity()).all()  # everything is recent
    with pytest.raises(ValueError):
        small_split.recent_popularity(0)
