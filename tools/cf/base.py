"""The one interface every CF model shares: ``fit``, ``user_vectors``, ``score``, ``similar_items``.

A fitted model is two arrays: ``item_factors_`` (items x d) and ``item_bias_`` (items), and a way
to turn a user's history into a d-vector. Scoring is always ``user_vector @ item_factors_.T +
item_bias_``, so retrieval can move to an ANN index without knowing the model. Training may use
torch; scoring is numpy (a sequential model runs its encoder to make the user vector).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp


class CFModel:
    """Base class. Subclasses set ``name``, ``params`` and implement ``fit``."""

    name: ClassVar[str] = "base"
    # the hyper-parameters `convrec build` tries (tools.cf.tune), the best by validation NDCG@10;
    # each grid is small on purpose: the whole ml-100k build must stay under 5 minutes on 2 cores
    grid: ClassVar[list[dict[str, Any]]] = [{}]
    item_factors_: np.ndarray
    item_bias_: np.ndarray
    user_factors_: np.ndarray | None = None
    user_train_len_: np.ndarray | None = None  # with user_factors_: each user's train history length

    def __init__(self, **params: Any):
        self.params = params

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences: Sequence[np.ndarray] | None = None) -> CFModel:
        """Train on the users x items matrix; sequential models also read ``sequences`` (each
        user's train items, oldest first, one per row of ``X``)."""
        raise NotImplementedError

    @property
    def n_items(self) -> int:
        return self.item_factors_.shape[0]

    # -- user vectors -------------------------------------------------------------------------
    def user_vectors(self, histories: Sequence[Sequence[int]], users: np.ndarray | None = None) -> np.ndarray:
        """One vector per time-ordered history (item indices, oldest first): the one way every
        caller turns a history into a user vector, whatever the model.

        ``users``: the histories' training rows, for models with learned user factors; their
        histories must start with the items the model was trained on. Such a user's vector is
        the learned one plus the factors of the items that came after training (the fold-in
        every test-time ranking uses, so no model ranks from less history than another).
        Without ``users`` (a session user) the model folds the whole history in.

        The fold-in is one rule at validation and at test: the learned vector plus
        ``fold_in_weight`` (a param, tuned on validation; 1.0 when unset) times the factors of the
        items after training, or of the latest train item when none came after. Otherwise a test
        ranking would stress the latest item and a validation ranking would not, and validation
        would choose models and weights for a ranking test never uses."""
        rows = history_rows(histories, self.n_items)
        if self.user_factors_ is None or users is None:
            return self.fold_in_rows(rows)
        seen = np.asarray(self.user_train_len_)[np.asarray(users)]
        latest = [np.asarray(h, dtype=np.int64)[n:] if len(h) > n else np.asarray(h, dtype=np.int64)[-1:]
                  for h, n in zip(histories, seen, strict=True)]
        after = history_rows(latest, self.n_items) * float(self.params.get("fold_in_weight", 1.0))
        return self.user_factors_[users] + np.asarray(after @ self.item_factors_, dtype=np.float32)

    def fold_in(self, item_idx: Sequence[int]) -> np.ndarray:
        """A user vector for someone known only by a few items, oldest first (a session user)."""
        return self.user_vectors([np.asarray(item_idx, dtype=np.int64)])[0]

    def fold_in_rows(self, X_rows: sp.csr_matrix) -> np.ndarray:
        """Fold in many users at once from their history rows. Default: the row is the vector."""
        return np.asarray(X_rows.todense(), dtype=np.float32)

    def contribution(self, history_iidx: Sequence[int], item: int) -> np.ndarray:
        """How much each history item alone raises ``item``'s score (for explanations)."""
        if getattr(self, "_alone", None) is None:  # every item's vector as a one-item history, once
            self._alone = self.user_vectors([np.array([i]) for i in range(self.n_items)])
        return self._alone[np.asarray(history_iidx, dtype=np.int64)] @ self.item_factors_[item]

    # -- ranking ------------------------------------------------------------------------------
    def score(self, user_vecs: np.ndarray) -> np.ndarray:
        # in the factors' dtype: a float64 vector would convert the whole item matrix every call
        return np.atleast_2d(user_vecs).astype(self.item_factors_.dtype, copy=False) @ self.item_factors_.T \
            + self.item_bias_

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
            arrays["user_train_len_"] = self.user_train_len_
        np.savez(Path(path), **arrays, meta=np.array(json.dumps({"name": self.name, "params": self.params})))

    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        self.item_factors_ = arrays["item_factors_"]
        self.item_bias_ = arrays["item_bias_"]
        self.user_factors_ = arrays.get("user_factors_")
        self.user_train_len_ = arrays.get("user_train_len_")


def history_rows(histories: Sequence[Sequence[int]], n_items: int) -> sp.csr_matrix:
    """Binary users x items rows from histories of item indices (an item seen twice counts once)."""
    lens = [len(h) for h in histories]
    cols = np.concatenate([np.asarray(h, dtype=np.int64) for h in histories]) if sum(lens) else np.zeros(0, np.int64)
    rows = np.repeat(np.arange(len(histories)), lens)
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), (rows, cols)), shape=(len(histories), n_items))
    m.data[:] = 1.0
    return m


def train_lengths(X: sp.csr_matrix, sequences: Sequence[np.ndarray] | None) -> np.ndarray:
    """Each user's train history length (what ``user_vectors`` skips for a known user)."""
    return np.array([len(s) for s in sequences]) if sequences is not None else np.diff(X.indptr)
