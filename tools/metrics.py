"""Ranking metrics. Every number in the repo goes through these functions."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np


def recall_at_k(ranked: Sequence, targets: Collection, k: int) -> float:
    """Share of ``targets`` found in the first ``k`` of ``ranked``."""
    if not targets:
        raise ValueError("recall needs at least one target")
    top = set(list(ranked)[:k])
    return sum(t in top for t in targets) / len(targets)


def ndcg_at_k(ranked: Sequence, targets: Collection, k: int) -> float:
    """Binary-relevance NDCG@k: DCG of the hits over the DCG of a perfect ranking."""
    if not targets:
        raise ValueError("ndcg needs at least one target")
    targets = set(targets)
    dcg = sum(1.0 / np.log2(r + 2) for r, x in enumerate(list(ranked)[:k]) if x in targets)
    ideal = sum(1.0 / np.log2(r + 2) for r in range(min(k, len(targets))))
    return dcg / ideal


def rank_of_targets(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """0-based rank of each row's target under its scores (ties count against the target)."""
    rows = np.arange(len(targets))
    t = scores[rows, targets][:, None]
    return (scores > t).sum(1) + (scores == t).sum(1) - 1


def metrics_from_ranks(ranks: np.ndarray, ks: Sequence[int] = (10, 20)) -> dict[str, float]:
    """Recall@k for each k and NDCG@10 from 0-based ranks of one target per user."""
    ranks = np.asarray(ranks)
    out = {f"recall@{k}": float((ranks < k).mean()) for k in ks}
    out["ndcg@10"] = float(np.where(ranks < 10, 1.0 / np.log2(ranks + 2), 0.0).mean())
    return out
