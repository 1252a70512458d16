"""The one interface every CF model shares: ``fit``, ``recommend``, ``similar_items``, ``fold_in``.

A fitted model is two arrays: ``item_factors_`` (items x d) and ``item_bias_`` (items), and a way
to turn a user's history into a d-vector. Scoring is always ``user_vector @ item_factors_.T +
item_bias_``, so retrieval can move to an ANN index without knowing the model. Training may use
torch; inference is numpy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from tools.vectors import top_k


class CFModel:
    """Base class. Subclasses set ``name``, ``params`` and implement ``fit``."""

    name: ClassVar[str] = "base"
    item_factors_: np.ndarray
    item_bias_: np.ndarray
    user_factors_: np.ndarray | None = None

    def __init__(self, **params: Any):
        self.params = params

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0) -> CFModel:
        raise NotImplementedError

    @property
    def n_items(self) -> int:
        return self.item_factors_.shape[0]

    # -- user vectors -------------------------------------------------------------------------
    def fold_in(self, item_idx: Sequence[int]) -> np.ndarray:
        """A user vector for someone known only by a few liked items (a session user)."""
        x = sp.csr_matrix(
            (np.ones(len(item_idx), dtype=np.float32), (np.zeros(len(item_idx), int), np.asarray(item_idx, int))),
            shape=(1, self.n_items),
        )
        x.data[:] = 1.0
        return self.fold_in_rows(x)[0]

    def fold_in_rows(self, X_rows: sp.csr_matrix) -> np.ndarray:
        """Fold in many users at once from their history rows. Default: the row is the vector."""
        return np.asarray(X_rows.todense(), dtype=np.float32)

    def user_vectors(self, X_rows: sp.csr_matrix, users: np.ndarray | None = None) -> np.ndarray:
        """Vectors for known users (learned factors where the model has them), else fold-in."""
        if self.user_factors_ is not None and users is not None:
            return self.user_factors_[users]
        return self.fold_in_rows(X_rows)

    def contribution(self, history_iidx: Sequence[int], item: int) -> np.ndarray:
        """How much each history item alone raises ``item``'s score (for explanations)."""
        h = np.asarray(history_iidx, dtype=np.int64)
        rows = sp.csr_matrix((np.ones(len(h), dtype=np.float32), (np.arange(len(h)), h)), shape=(len(h), self.n_items))
        return self.fold_in_rows(rows) @ self.item_factors_[item]

    # -- ranking ------------------------------------------------------------------------------
    def score(self, user_vecs: np.ndarray) -> np.ndarray:
        return np.atleast_2d(user_vecs) @ self.item_factors_.T + self.item_bias_

    def recommend(
        self, user_vec: np.ndarray, k: int = 10, exclude: Sequence[int] = ()
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k item indices and scores for one user vector, ``exclude`` removed."""
        s = self.score(user_vec)[0]
        if len(exclude):
            s[np.asarray(exclude, int)] = -np.inf
        return top_k(s, k)

    def similar_items(self, item: int, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Items whose factors are closest (cosine) to ``item``'s; the item itself left out."""
        f = self.item_factors_
        norms = np.linalg.norm(f, axis=1) + 1e-9
        sims = (f @ f[item]) / (norms * norms[item])
        sims[item] = -np.inf
        top = np.argsort(-sims, kind="stable")[:k]
        return top, sims[top]

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        arrays = {"item_factors_": self.item_factors_, "item_bias_": self.item_bias_}
        arrays.update(self._extra_arrays())
        if self.user_factors_ is not None:
            arrays["user_factors_"] = self.user_factors_
        np.savez(Path(path), **arrays, meta=np.array(json.dumps({"name": self.name, "params": self.params})))

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_factors_ = arrays["item_factors_"]
        self.item_bias_ = arrays["item_bias_"]
        self.user_factors_ = arrays.get("user_factors_")
