"""Offline evaluation of the reranker: CF top-N -> rerank against the CF order, on the same users.

Protocol: valid target = the user's second-to-last item, history = the train sequence; test target
= the last item, history = train + valid. The CF model scores from the history rows; history items
are never candidates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.cf.base import CFModel, history_rows
from tools.metrics import ndcg_at_k, recall_at_k
from tools.split import Split


def cf_scores(split: Split, cf_model: CFModel, which: str = "test") -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Per target user: the history sequence, and the CF scores over the catalog (history at -inf);
    plus the targets."""
    if which not in ("valid", "test"):
        raise ValueError(f"which must be 'valid' or 'test', got {which!r}")
    upto = "train" if which == "valid" else "valid"
    targets = split.valid if which == "valid" else split.test
    seqs = split.sequences(upto)
    users = targets.uidx.to_numpy()
    hist = [seqs[u] for u in users]
    scores = cf_model.score(cf_model.user_vectors(hist, users)).astype(np.float64)
    scores[history_rows(hist, split.n_items).nonzero()] = -np.inf
    return hist, scores, targets.iidx.to_numpy()


def candidate_lists(
    split: Split, cf_model: CFModel, which: str = "test", n_candidates: int = 100
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Per target user: history sequence, CF top-N candidates (history excluded) best first, their
    CF scores, and the target item."""
    hist, sc, targets = cf_scores(split, cf_model, which)
    n = min(n_candidates, sc.shape[1])
    top = np.argpartition(-sc, n - 1, axis=1)[:, :n]
    cands, scores = [], []
    for r in range(len(sc)):
        t = top[r][np.isfinite(sc[r, top[r]])]
        t = t[np.argsort(-sc[r, t], kind="stable")]
        cands.append(t)
        scores.append(sc[r, t])
    return hist, cands, scores, targets


def _metrics(ranked_lists: list, targets: np.ndarray, k: int = 10) -> dict[str, float]:
    return {
        f"recall@{k}": float(np.mean([recall_at_k(r, [t], k) for r, t in zip(ranked_lists, targets, strict=True)])),
        f"ndcg@{k}": float(np.mean([ndcg_at_k(r, [t], k) for r, t in zip(ranked_lists, targets, strict=True)])),
    }


def evaluate_rerank(
    split: Split, cf_model: CFModel, reranker, which: str = "test", n_candidates: int = 100, k: int = 10
) -> dict[str, Any]:
    """Recall@k and NDCG@k of the CF order and of the reranked CF top-N, on the same users."""
    hist, cands, scores, targets = candidate_lists(split, cf_model, which, n_candidates)
    reranked = [
        [i for i, _ in reranker.rerank(h, c, s, k=k)] for h, c, s in zip(hist, cands, scores, strict=True)
    ]
    gen_only = [
        [i for i, _ in reranker.rerank(h, c, None, k=k)] for h, c in zip(hist, cands, strict=True)
    ]
    return {
        "split": which,
        "users": len(targets),
        "n_candidates": n_candidates,
        "target_in_candidates": float(np.mean([t in set(c.tolist()) for c, t in zip(cands, targets, strict=True)])),
        "fusion_weight": reranker.fusion_weight_,
        "cf": _metrics([c[:k] for c in cands], targets, k),
        "rerank": _metrics(reranked, targets, k),
        "generator_only": _metrics(gen_only, targets, k),
    }


def evaluate_cold(
    split: Split,
    cf_model: CFModel,
    reranker,
    which: str = "test",
    n_candidates: int = 100,
    k: int = 10,
    item_vectors: np.ndarray | None = None,
) -> dict[str, Any]:
    """Recall@k on users whose target is a cold item (no train interactions), two candidate sets.

    ``mixed``: the CF top-N plus every cold item not in the history, as a retriever that also
    surfaces new arrivals would give; ``cold_only``: the cold items alone. CF cannot score a cold
    item, so the reranker orders by the generator alone (``retrieval_scores=None``). Baselines on
    the same sets: the expected recall of a random order, the CF order, and (with ``item_vectors``)
    text similarity to the mean of the last 20 history items.
    """
    if len(split.cold_items) == 0:
        raise ValueError("this split has no cold items: build it with leave_last_out(..., cold_items=N)")
    hist, cands, _, targets = candidate_lists(split, cf_model, which, n_candidates)
    _, full, _ = cf_scores(split, cf_model, which)
    cold = set(split.cold_items.tolist())
    keep = [i for i, t in enumerate(targets) if int(t) in cold]
    lists: dict[str, dict[str, list]] = {"mixed": {}, "cold_only": {}}
    for i in keep:
        seen = set(hist[i].tolist())
        fresh = np.array([c for c in split.cold_items if c not in seen], dtype=np.int64)
        pools = {"mixed": np.concatenate([cands[i], fresh[~np.isin(fresh, cands[i])]]), "cold_only": fresh}
        for name, c in pools.items():
            ranked = {
                "random": min(k, len(c)) / len(c),
                "cf": c[np.argsort(-full[i, c], kind="stable")][:k],
                "rerank": [j for j, _ in reranker.rerank(hist[i], c, None, k=k)],
            }
            if item_vectors is not None:
                profile = item_vectors[hist[i][-20:]].mean(0) if len(hist[i]) else np.zeros(item_vectors.shape[1])
                ranked["text"] = c[np.argsort(-(item_vectors[c] @ profile), kind="stable")][:k]
            for method, r in ranked.items():
                lists[name].setdefault(method, []).append(r)
    t = targets[keep]
    out: dict[str, Any] = {"split": which, "users": len(keep), "cold_items": len(cold)}
    for name, by_method in lists.items():
        out[name] = {"candidates": f"CF top-{n_candidates} + cold items" if name == "mixed" else "cold items"}
        for method, r in by_method.items():
            recall = float(np.mean(r)) if method == "random" else _metrics(r, t, k)[f"recall@{k}"]
            out[name][method] = {f"recall@{k}": recall}
    return out

