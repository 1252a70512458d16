import numpy as np
import pytest

from tools.cf import MODELS, load_model
from tools.cf.tune import evaluate
from tools.metrics import rank_of_targets


@pytest.fixture(scope="module")
def fitted(small_split):
    X = small_split.train_matrix()
    return {name: cls().fit(X, seed=0, epochs_scale=0.15) for name, cls in MODELS.items()}


@pytest.mark.parametrize("name", list(MODELS))
def test_interface_and_shapes(fitted, small_split, name):
    model = fitted[name]
    assert model.item_factors_.shape[0] == small_split.n_items
    vec = model.fold_in([0, 1, 2])
    top, scores = model.recommend(vec, k=10, exclude=[0, 1, 2])
    assert len(top) == 10 and not set(top) & {0, 1, 2}
    assert np.all(np.diff(scores) <= 0)
    sim, _ = model.similar_items(5, k=5)
    assert 5 not in sim and len(sim) == 5


@pytest.mark.parametrize("name", ["itemknn", "ease", "bpr", "lightgcn"])
def test_fold_in_beats_popularity(fitted, small_split, name):
    """A user folded in from their own train items ranks their held-out item higher than popularity."""
    model, pop = fitted[name], fitted["pop"]
    X = small_split.train_matrix()
    users, targets = small_split.valid.uidx.to_numpy(), small_split.valid.iidx.to_numpy()

    def ranks(m):
        s = m.score(m.fold_in_rows(X[users])).astype(np.float64)
        s[X[users].nonzero()] = -np.inf
        return rank_of_targets(s, targets)

    assert ranks(model).mean() < ranks(pop).mean()


def test_training_is_deterministic(small_split):
    X = small_split.train_matrix()
    a = MODELS["bpr"]().fit(X, seed=7, epochs_scale=0.05)
    b = MODELS["bpr"]().fit(X, seed=7, epochs_scale=0.05)
    c = MODELS["bpr"]().fit(X, seed=8, epochs_scale=0.05)
    assert np.array_equal(a.item_factors_, b.item_factors_)
    assert not np.array_equal(a.item_factors_, c.item_factors_)


@pytest.mark.parametrize("name", list(MODELS))
def test_save_load_round_trip(fitted, small_split, tmp_path, name):
    fitted[name].save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert evaluate(loaded, small_split, "valid") == evaluate(fitted[name], small_split, "valid")


def test_load_garbage_is_a_clear_error(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a saved CF model"):
        load_model(tmp_path / "bad.npz")


def test_ease_beats_popularity_on_validation(fitted, small_split):
    assert evaluate(fitted["ease"], small_split)["ndcg@10"] > evaluate(fitted["pop"], small_split)["ndcg@10"]
