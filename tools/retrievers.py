"""Candidate retrievers: collaborative (CF user vector) and semantic (item text vectors), fused.

Tools know items, not dialogue: every input here is item ids, texts and weights. Item ids at
this boundary are catalog ``item_id`` values; the models work in item indices (``iidx``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

from tools.cf import CFModel
from tools.text import TextEncoder
from tools.vectors import top_k, zscore


class ItemIndex:
    """item_id <-> iidx for one artifacts build (items sorted by id)."""

    def __init__(self, item_ids: np.ndarray):
        self.item_ids = np.asarray(item_ids, dtype=np.int64)

    def to_iidx(self, item_ids: Sequence[int]) -> np.ndarray:
        ids = np.asarray(list(item_ids), dtype=np.int64)
        pos = np.searchsorted(self.item_ids, ids)
        ok = (pos < len(self.item_ids)) & (self.item_ids[np.minimum(pos, len(self.item_ids) - 1)] == ids)
        return pos[ok]

    def to_ids(self, iidx: Sequence[int]) -> list[int]:
        return [int(self.item_ids[i]) for i in iidx]


class Candidate(BaseModel):
    item_id: int
    score: float = Field(description="fused retrieval score (higher is better)")
    cf: float | None = Field(None, description="standardised CF score, None without a CF signal")
    text: float | None = Field(None, description="standardised text similarity, None without a text query")
    sources: list[str] = Field(default_factory=list)


class CFRetriever:
    """Scores from a trained CF model for a user known by history and/or a few liked items."""

    def __init__(self, model: CFModel, index: ItemIndex):
        self.model = model
        self.index = index

    def user_vector(self, liked_ids: Sequence[int], history_ids: Sequence[int] = (),
                    liked_weight: float = 3.0) -> np.ndarray | None:
        """Fold in the history and the liked items (liked count ``liked_weight`` times as much)."""
        hist = self.index.to_iidx(history_ids)
        liked = self.index.to_iidx(liked_ids)
        if len(hist) == 0 and len(liked) == 0:
            return None
        parts, weights = [], []
        if len(hist):
            parts.append(self.model.fold_in(hist))
            weights.append(1.0)
        if len(liked):
            parts.append(self.model.fold_in(liked))
            weights.append(liked_weight)
        return np.average(np.stack(parts), axis=0, weights=weights)

    def scores(self, user_vec: np.ndarray) -> np.ndarray:
        """A score per item index."""
        return self.model.score(user_vec)[0]

    def neighbours_of(self, item_id: int, among_ids: Sequence[int], k: int = 2) -> list[int]:
        """Which of ``among_ids`` (the user's liked items) most pull ``item_id`` up in the CF model."""
        among = self.index.to_iidx(among_ids)
        target = self.index.to_iidx([item_id])
        if len(among) == 0 or len(target) == 0:
            return []
        w = self.model.contribution(among, int(target[0]))
        order = np.argsort(-w, kind="stable")[:k]
        return [self.index.to_ids([among[o]])[0] for o in order if w[o] > 0]


class SemanticRetriever:
    """Cosine similarity between a text (or liked items' vectors) and every item's text vector."""

    def __init__(self, item_vectors: np.ndarray, index: ItemIndex, encoder: TextEncoder | None = None):
        self.vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)
        self.index = index
        self.encoder = encoder or TextEncoder()

    def query_vector(self, text: str = "", liked_ids: Sequence[int] = ()) -> np.ndarray | None:
        parts = []
        if text.strip():
            parts.append(self.encoder.encode_one(text))
        liked = self.index.to_iidx(liked_ids)
        if len(liked):
            parts.append(self.vectors[liked].mean(0))
        if not parts:
            return None
        q = np.mean(parts, axis=0)
        return q / (np.linalg.norm(q) + 1e-9)

    def scores(self, query: np.ndarray) -> np.ndarray:
        return self.vectors @ query


def fuse(
    allowed_iidx: np.ndarray,
    index: ItemIndex,
    n: int,
    cf_scores: np.ndarray | None = None,
    text_scores: np.ndarray | None = None,
    popularity: np.ndarray | None = None,
    cf_weight: float = 1.0,
    text_weight: float = 1.0,
    pop_weight: float = 0.2,
    priors: dict[str, tuple[np.ndarray, float]] | None = None,
) -> list[Candidate]:
    """Top-n of the allowed items by a weighted sum of standardised scores.

    Scores are standardised over the allowed set so the signals speak the same units; a
    missing signal simply drops out. Popularity is a weak prior that breaks ties for known users;
    ``priors`` adds named item-level signals ``name -> (score per item index, weight)`` (recent
    popularity, genre specificity), which a stranger's ranking leans on (tools.recommend).
    """
    allowed_iidx = np.asarray(allowed_iidx, dtype=np.int64)
    if len(allowed_iidx) == 0:
        return []
    total = np.zeros(len(allowed_iidx))
    cf = zscore(cf_scores[allowed_iidx]) if cf_scores is not None else None
    tx = zscore(text_scores[allowed_iidx]) if text_scores is not None else None
    if cf is not None:
        total += cf_weight * cf
    if tx is not None:
        total += text_weight * tx
    if popularity is not None:
        total += pop_weight * zscore(np.log1p(popularity[allowed_iidx].astype(np.float64)))
    used = [name for name, (scores, weight) in (priors or {}).items() if scores is not None and weight]
    for name in used:
        scores, weight = priors[name]  # type: ignore[index]
        total += weight * zscore(np.asarray(scores, dtype=np.float64)[allowed_iidx])
    top, _ = top_k(total, n)
    ids = index.to_ids(allowed_iidx[top])
    return [
        Candidate(
            item_id=i, score=float(total[t]),
            cf=None if cf is None else float(cf[t]), text=None if tx is None else float(tx[t]),
            sources=[s for s, v in (("cf", cf), ("text", tx)) if v is not None] + used or ["popularity"],
        )
        for i, t in zip(ids, top, strict=True)
    ]  # fmt: skip
