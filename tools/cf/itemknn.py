"""ItemKNN: cosine item-item similarity on the interaction matrix, top-``k`` neighbours kept."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tools.cf.base import CFModel


class ItemKNN(CFModel):
    name = "itemknn"
    grid = [{"neighbours": n, "shrink": s} for n in (50, 200) for s in (10.0, 50.0)]

    def __init__(self, neighbours: int = 100, shrink: float = 10.0):
        super().__init__(neighbours=neighbours, shrink=shrink)

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences=None) -> ItemKNN:
        Xc = X.tocsc().astype(np.float32)
        co = (Xc.T @ Xc).toarray()
        norms = np.sqrt(np.diag(co))
        S = co / (np.outer(norms, norms) + self.params["shrink"] + 1e-9)
        np.fill_diagonal(S, 0.0)
        k = min(self.params["neighbours"], S.shape[0] - 1)
        if k < S.shape[0] - 1:  # keep each item's k most similar neighbours (columns scored by rows)
            cut = np.partition(S, -k, axis=0)[-k]
            S[S < cut[None, :]] = 0.0
        self.item_factors_ = np.ascontiguousarray(S.T, dtype=np.float32)
        self.item_bias_ = np.zeros(X.shape[1], dtype=np.float32)
        return self

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        sims = self.item_factors_[:, item].copy()  # column = similarity of every item to `item`
        sims[item] = -np.inf
        top = np.argsort(-sims, kind="stable")[:k]
        return top, sims[top]
