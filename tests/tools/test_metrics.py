import math

import numpy as np
import pytest

from tools.metrics import metrics_from_ranks, ndcg_at_k, rank_of_targets, recall_at_k


def test_recall_hand_computed():
    assert recall_at_k([5, 3, 9, 1], {9}, k=3) == 1.0
    assert recall_at_k([5, 3, 9, 1], {9}, k=2) == 0.0
    assert recall_at_k([5, 3, 9, 1], {9, 1, 7}, k=4) == pytest.approx(2 / 3)


def test_ndcg_hand_computed():
    assert ndcg_at_k([9, 3], {9}, k=10) == 1.0
    assert ndcg_at_k([5, 9], {9}, k=10) == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k([5, 3, 9], {9}, k=2) == 0.0
    # two targets at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3))
    assert ndcg_at_k([1, 5, 2], {1, 2}, k=3) == pytest.approx((1 + 0.5) / (1 + 1 / math.log2(3)))


def test_empty_targets_rejected():
    with pytest.raises(ValueError):
        recall_at_k([1], set(), 10)


def test_rank_of_targets_counts_ties_against_target():
    scores = np.array([[0.1, 0.9, 0.5, 0.5], [3.0, 2.0, 1.0, 0.0]])
    ranks = rank_of_targets(scores, np.array([2, 0]))
    assert ranks.tolist() == [2, 0]  # the tie with item 3 puts the target behind it


def test_metrics_from_ranks_agree_with_list_metrics():
    ranks = np.array([0, 4, 9, 10, 25])
    m = metrics_from_ranks(ranks)
    assert m["recall@10"] == pytest.approx(3 / 5)
    assert m["recall@20"] == pytest.approx(4 / 5)
    expected = np.mean([ndcg_at_k(list(range(30)), {r}, 10) for r in ranks])
    assert m["ndcg@10"] == pytest.approx(expected)
