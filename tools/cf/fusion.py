"""Score fusion as a CF model: a weighted sum of z-scored scores of other models, each over the
whole history or only its last few items.

Per user, ``z(s) = (s - mean) / sd`` over the catalog; the mean shifts every item alike, so the
ranking of ``sum_k w_k z(s_k)`` is the ranking of ``sum_k (w_k / sd_k) s_k``, which is one dot
product with the parts' item factors stacked side by side (each part's bias as one more column).
So a fusion is a ``CFModel`` like any other: the retriever, the reranker's tuning and an ANN index
use it without knowing. The sd is exact and cheap: ``sd^2 = [u, 1] Cov([V, b]) [u, 1]``.

The strongest simple baselines are fusions: ``last-item`` (item-item neighbours of the last item
alone) and ``recent-ease`` (EASE on the whole history plus EASE on the last n items).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from tools.cf.base import CFModel


@dataclass(frozen=True)
class Part:
    model: str  # a name in the models mapping
    weight: float
    window: int | None = None  # only the last ``window`` items of the history; None = all of it

    def label(self) -> str:
        return self.model if self.window is None else f"{self.model}[-{self.window}:]"


class FusedModel(CFModel):
    """``sum_k weight_k * z(scores of part k)``; built from fitted models, nothing to train."""

    name = "fusion"

    def __init__(self, parts: Sequence[Part], models: Mapping[str, CFModel]):
        if not parts:
            raise ValueError("a fusion needs at least one part")
        missing = sorted({p.model for p in parts} - set(models))
        if missing:
            raise ValueError(f"fusion parts name models that are not loaded: {missing}")
        super().__init__(parts=[[p.model, p.weight, p.window] for p in parts])
        self.parts = list(parts)
        self.models = {p.model: models[p.model] for p in parts}
        stacked = [np.hstack([self.models[p.model].item_factors_, self.models[p.model].item_bias_[:, None]])
                   for p in self.parts]
        self.item_factors_ = np.ascontiguousarray(np.hstack(stacked), dtype=np.float32)
        self.item_bias_ = np.zeros(len(self.item_factors_), dtype=np.float32)
        self._cov = [score_covariance(self.models[p.model]) for p in self.parts]

    @property
    def label(self) -> str:
        return " + ".join(f"{p.weight:g}*{p.label()}" for p in self.parts)

    def user_vectors(self, histories: Sequence[Sequence[int]], users: np.ndarray | None = None) -> np.ndarray:
        out = []
        for part, cov in zip(self.parts, self._cov, strict=True):
            model = self.models[part.model]
            if part.window is None:
                u = model.user_vectors(histories, users)
            else:  # a recent window is a new, short history: folded in, not the learned user
                u = model.user_vectors([np.asarray(h, dtype=np.int64)[-part.window :] for h in histories])
            u1 = np.hstack([u, np.ones((len(u), 1), dtype=u.dtype)]).astype(np.float64)
            sd = np.sqrt(np.maximum(_quadratic(u1, cov), 0.0))
            scale = np.where(sd > 1e-12, part.weight / np.maximum(sd, 1e-12), 0.0)
            out.append(u1 * scale[:, None])
        return np.hstack(out).astype(np.float32)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """The fusion's own ranking for a history of ``item`` alone: each part weighs in as it does
        when ranking for a person. (Cosine over the stacked factors ignores the weights: a part
        weighted 1e-6 would count as much as the rest.)"""
        scores = self.score(self.user_vectors([[int(item)]]))[0].astype(np.float64)
        scores[item] = -np.inf
        top = np.argsort(-scores, kind="stable")[:k]
        return top, scores[top]

    def save(self, path) -> None:
        raise NotImplementedError("a fusion is stored as its parts (see tools.artifacts), not as arrays")


def _quadratic(u: np.ndarray, cov: np.ndarray) -> np.ndarray:
    """``u_r @ cov @ u_r`` for each row. A sparse row (EASE's user vector is the history's
    indicator: a few dozen of 1,683 entries) reads only its nonzero rows and columns of ``cov``;
    dense rows go through BLAS."""
    nonzero = u != 0
    if nonzero.mean() > 0.1:
        return np.einsum("ij,ij->i", u @ cov, u)
    out = np.empty(len(u))
    for r in range(len(u)):
        nz = np.flatnonzero(nonzero[r])
        v = u[r, nz]
        out[r] = v @ cov[np.ix_(nz, nz)] @ v
    return out


def score_covariance(model: CFModel) -> np.ndarray:
    """Covariance over items of ``[item_factors_, item_bias_]``, computed once per fitted model."""
    cov = getattr(model, "_score_cov", None)
    if cov is None:
        stacked = np.hstack([model.item_factors_, model.item_bias_[:, None]]).astype(np.float64)
        cov = model._score_cov = np.atleast_2d(np.cov(stacked, rowvar=False))
    return cov
