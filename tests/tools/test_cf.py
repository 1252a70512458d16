import numpy as np
import pytest

from tools.cf import MODELS, SASRec, load_model
from tools.cf.fusion import FusedModel, Part
from tools.cf.tune import BASELINES, evaluate, tune_fusions
from tools.metrics import rank_of_targets
from tools.vectors import top_k


@pytest.fixture(scope="module")
def fitted(small_split):
    X, seqs = small_split.train_matrix(), small_split.sequences("train")
    return {name: cls().fit(X, seed=0, epochs_scale=0.15, sequences=seqs) for name, cls in MODELS.items()}


@pytest.mark.parametrize("name", list(MODELS))
def test_interface_and_shapes(fitted, small_split, name):
    model = fitted[name]
    assert model.item_factors_.shape[0] == small_split.n_items
    vec = model.fold_in([0, 1, 2])
    scores = model.score(vec)  # what CFRetriever.scores ranks by
    assert scores.shape == (1, small_split.n_items) and np.all(np.isfinite(scores))
    top, best = top_k(scores[0], 10)
    assert len(top) == 10 and np.all(np.diff(best) <= 0)
    sim, _ = model.similar_items(5, k=5)
    assert 5 not in sim and len(sim) == 5


@pytest.mark.parametrize("name", ["itemknn", "ease", "bpr", "lightgcn", "sasrec"])
def test_fold_in_beats_popularity(fitted, small_split, name):
    """A user folded in from their own train items ranks their held-out item higher than popularity."""
    model, pop = fitted[name], fitted["pop"]
    seqs = small_split.sequences("train")
    users, targets = small_split.valid.uidx.to_numpy(), small_split.valid.iidx.to_numpy()
    X = small_split.train_matrix()

    def ranks(m):
        s = m.score(m.user_vectors([seqs[u] for u in users])).astype(np.float64)
        s[X[users].nonzero()] = -np.inf
        return rank_of_targets(s, targets)

    assert ranks(model).mean() < ranks(pop).mean()


@pytest.mark.parametrize("name", ["bpr", "lightgcn"])
def test_factor_models_fold_in_the_latest_item_by_one_rule(fitted, small_split, name):
    """A known user's vector is the learned one plus ``fold_in_weight`` times the latest item's
    factors: at test the validation item (after training), at validation the last train item. One
    rule, so validation tunes what test uses."""
    model = fitted[name]
    u = int(small_split.valid.uidx.iloc[0])
    train = small_split.sequences("train")[u]
    with_valid = small_split.sequences("valid")[u]
    added = with_valid[len(train):]
    assert len(added) == 1
    try:
        for w in (0.0, 1.0, 2.0):
            model.params["fold_in_weight"] = w
            assert np.allclose(model.user_vectors([train], np.array([u]))[0],
                               model.user_factors_[u] + w * model.item_factors_[train[-1]], atol=1e-5)
            assert np.allclose(model.user_vectors([with_valid], np.array([u]))[0],
                               model.user_factors_[u] + w * model.item_factors_[added].sum(0), atol=1e-5)
    finally:
        model.params["fold_in_weight"] = 1.0


def test_tuning_chooses_the_fold_in_weight_on_validation(small_split):
    from tools.cf.tune import FOLD_IN_WEIGHTS, tune

    report, best = tune(small_split, ["bpr"], epochs_scale=0.15, progress=False)
    w = report["models"]["bpr"]["params"]["fold_in_weight"]
    assert w in FOLD_IN_WEIGHTS and best["bpr"].params["fold_in_weight"] == w
    chosen = report["models"]["bpr"]["valid"]["ndcg@10"]
    for other in FOLD_IN_WEIGHTS:
        best["bpr"].params["fold_in_weight"] = other
        assert evaluate(best["bpr"], small_split, "valid")["ndcg@10"] <= chosen + 1e-9


def test_untied_test_targets_drop_a_validation_item_of_the_same_second(small_split):
    from tools.cf.tune import protocol_histories

    test, seqs = protocol_histories(small_split, "test")
    _, untied = protocol_histories(small_split, "test-untied")
    valid_ts = small_split.valid.set_index("uidx").timestamp
    tied = test.timestamp.to_numpy() == valid_ts.loc[test.uidx].to_numpy()
    assert 0 < tied.sum() < len(test)  # ml-100k has both kinds
    for u, is_tied in zip(test.uidx, tied, strict=True):
        assert len(untied[u]) == len(seqs[u]) - is_tied
    with pytest.raises(ValueError, match="which must be"):
        protocol_histories(small_split, "later")


def test_sasrec_reads_order(fitted, small_split):
    """The same items in another order give another user vector: recency is learned, not ignored."""
    model = fitted["sasrec"]
    seq = small_split.sequences("train")[0][-20:]
    a, b = model.user_vectors([seq, seq[::-1]])
    assert not np.allclose(a, b)
    # the empty history has nothing to go on: every item scores the same
    assert np.ptp(model.score(model.user_vectors([np.zeros(0, dtype=np.int64)]))) == 0


def test_sasrec_needs_sequences(small_split):
    with pytest.raises(ValueError, match="sequences"):
        SASRec(epochs=1).fit(small_split.train_matrix())


@pytest.mark.slow  # trains each model three times (~20 s)
@pytest.mark.parametrize("name", ["bpr", "sasrec"])
def test_training_is_deterministic(small_split, name):
    X, seqs = small_split.train_matrix(), small_split.sequences("train")
    a = MODELS[name]().fit(X, seed=7, epochs_scale=0.05, sequences=seqs)
    b = MODELS[name]().fit(X, seed=7, epochs_scale=0.05, sequences=seqs)
    c = MODELS[name]().fit(X, seed=8, epochs_scale=0.05, sequences=seqs)
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


def _z(x):
    return (x - x.mean()) / x.std()


def test_fusion_ranks_like_the_weighted_sum_of_z_scores(fitted, small_split):
    """One dot product over stacked factors gives the order of sum_k w_k z(scores_k), windows included."""
    parts = [Part("ease", 0.6), Part("bpr", 0.3), Part("ease", 0.5, 3), Part("pop", 0.2)]
    fused = FusedModel(parts, fitted)
    seqs = small_split.sequences("train")
    users = np.arange(5)
    got = fused.score(fused.user_vectors([seqs[u] for u in users], users))
    for row, u in enumerate(users):
        want = np.zeros(small_split.n_items)
        for p in parts:
            m = fitted[p.model]
            h = seqs[u] if p.window is None else seqs[u][-p.window:]
            s = m.score(m.user_vectors([h], None if p.window else np.array([u])))[0].astype(np.float64)
            want += p.weight * _z(s)
        assert np.allclose(_z(got[row].astype(np.float64)), _z(want), atol=1e-3)


def test_fusion_similar_items_follow_the_weighted_parts(fitted):
    """Neighbours of a fusion are its ranking for a one-item history, each part at its weight: a
    fusion that is all EASE gives EASE's neighbours, one that is nearly all BPR gives BPR's."""
    item = 7
    for main in ("ease", "bpr"):
        other = "bpr" if main == "ease" else "ease"
        fused = FusedModel([Part(main, 1.0), Part(other, 1e-6)], fitted)
        m = fitted[main]
        alone = m.score(m.user_vectors([[item]]))[0].astype(np.float64)
        alone[item] = -np.inf
        want = np.argsort(-alone, kind="stable")[:10]
        got, _ = fused.similar_items(item, k=10)
        assert item not in got and len(set(got[:5]) & set(want[:5])) >= 4, (main, got, want)


def test_fusion_refuses_unknown_parts(fitted):
    with pytest.raises(ValueError, match="not loaded"):
        FusedModel([Part("nope", 1.0)], fitted)


def test_baselines_are_tuned_on_validation(fitted, small_split):
    report, best = tune_fusions(small_split, fitted)
    assert set(BASELINES) <= set(report)
    assert report["last-item"]["parts"][0][2] == 1  # the last item alone
    # the kept fusion is the grid's best on validation (the test number plays no part)
    for name, fused in best.items():
        assert report[name]["valid"] == evaluate(fused, small_split, "valid")


def test_a_new_cf_model_is_its_class_and_one_registry_line(small_split, monkeypatch):
    """A model carries its own grid; `tune` needs nothing but its line in MODELS."""
    from tools.cf.pop import Popularity
    from tools.cf.tune import tune

    class Twice(Popularity):
        name = "twice"
        grid = [{}, {}]

    monkeypatch.setitem(MODELS, "twice", Twice)
    report, best = tune(small_split, ["twice"], progress=False)
    assert report["models"]["twice"]["grid"] == 2 and isinstance(best["twice"], Twice)


def test_the_fusions_spread_of_a_sparse_user_vector_is_the_dense_one():
    # the fusion standardises each part by its score spread; a sparse row (EASE's history
    # indicator) takes a shortcut through its nonzero entries, which must agree with BLAS
    from tools.cf.fusion import _quadratic

    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 300))
    cov = a @ a.T / 300
    sparse = np.zeros((20, 300))
    for row in sparse:
        row[rng.choice(300, 12, replace=False)] = rng.random(12)
    dense = rng.normal(size=(5, 300))
    for u in (sparse, dense):
        np.testing.assert_allclose(_quadratic(u, cov), np.einsum("ij,ij->i", u @ cov, u), rtol=1e-12)
