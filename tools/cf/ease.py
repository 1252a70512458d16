"""EASE (Steck, 2019): a closed-form linear item-item model, B = I - P / diag(P), P = (X'X + l2 I)^-1."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tools.cf.base import CFModel


class EASE(CFModel):
    """Scores are ``x @ B``: the user's history row is the user vector, ``B.T`` the item factors."""

    name = "ease"
    grid = [{"l2": l2} for l2 in (20.0, 50.0, 100.0, 300.0, 1000.0)]

    def __init__(self, l2: float = 500.0):
        super().__init__(l2=l2)

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences=None) -> EASE:
        G = (X.T @ X).toarray().astype(np.float64)
        G[np.diag_indices_from(G)] += self.params["l2"]
        P = np.linalg.inv(G)
        B = -P / np.diag(P)
        B[np.diag_indices_from(B)] = 0.0
        self.item_factors_ = np.ascontiguousarray(B.T, dtype=np.float32)
        self.item_bias_ = np.zeros(X.shape[1], dtype=np.float32)
        return self
