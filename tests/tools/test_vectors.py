import numpy as np
import pytest

from tools.vectors import ExactIndex, IVFIndex, top_k


def test_top_k_orders_and_skips_non_finite():
    s = np.array([0.1, np.inf * -1, 0.9, 0.5, 0.9])
    idx, vals = top_k(s, 3)
    assert idx.tolist() == [2, 4, 3] and vals.tolist() == [0.9, 0.9, 0.5]
    assert top_k(np.array([-np.inf, -np.inf]), 5)[0].size == 0


def test_exact_index_matches_brute_force_with_bias():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(500, 16)).astype(np.float32)
    q = rng.normal(size=16).astype(np.float32)
    bias = rng.normal(size=500).astype(np.float32)
    idx, _ = ExactIndex(v).search(q, 10, bias)
    assert idx.tolist() == np.argsort(-(v @ q + bias), kind="stable")[:10].tolist()


def test_ivf_recall_against_exact():
    rng = np.random.default_rng(0)
    centroids = rng.normal(size=(20, 32)).astype(np.float32)
    v = centroids[rng.integers(0, 20, 20_000)] + 0.5 * rng.normal(size=(20_000, 32)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    exact, ivf = ExactIndex(v), IVFIndex(v, nprobe=32)
    queries = v[rng.integers(0, len(v), 20)]
    recall = np.mean([len(set(exact.search(q, 50)[0]) & set(ivf.search(q, 50)[0])) / 50 for q in queries])
    assert recall > 0.9
    with pytest.raises(ValueError, match="bias"):
        ivf.search(queries[0], 5, bias=np.zeros(len(v)))
