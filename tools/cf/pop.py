"""Popularity: every user gets the most interacted-with items. The floor every model must beat."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tools.cf.base import CFModel


class Popularity(CFModel):
    name = "pop"
    grid = [{}]

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences=None) -> Popularity:
        counts = np.asarray(X.sum(0)).ravel().astype(np.float32)
        self.item_factors_ = np.zeros((X.shape[1], 1), dtype=np.float32)
        self.item_bias_ = counts / max(1.0, counts.max())
        return self

    def fold_in_rows(self, X_rows: sp.csr_matrix) -> np.ndarray:
        return np.zeros((X_rows.shape[0], 1), dtype=np.float32)
