"""BPR-MF (Rendle et al., 2009): matrix factorisation trained with the pairwise BPR loss in torch."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from tools.cf.base import CFModel, train_lengths

log = logging.getLogger(__name__)


def bpr_triples(X: sp.csr_matrix, rng: np.random.Generator, batch: int) -> Iterator[tuple[torch.Tensor, ...]]:
    """One epoch of (user, positive, negative) batches; negatives resampled once if they hit a positive."""
    coo = X.tocoo()
    users, pos = coo.row.astype(np.int64), coo.col.astype(np.int64)
    order = rng.permutation(len(users))
    users, pos = users[order], pos[order]
    n_items = X.shape[1]
    keys = np.sort(users * n_items + pos)
    neg = rng.integers(0, n_items, len(users))
    clash = np.isin(users * n_items + neg, keys, assume_unique=False)
    neg[clash] = rng.integers(0, n_items, int(clash.sum()))
    for s in range(0, len(users), batch):
        yield (torch.from_numpy(users[s : s + batch]), torch.from_numpy(pos[s : s + batch]),
               torch.from_numpy(neg[s : s + batch]))


class FactorModel(CFModel):
    """Shared by the torch factor models: learned user factors for known users, mean fold-in for new."""

    def fold_in_rows(self, X_rows: sp.csr_matrix) -> np.ndarray:
        # The mean of the liked items' factors. On ml-100k validation it beat a ridge
        # (implicit-ALS style) solve over a grid of reg/confidence; LightGCN's own
        # propagation is a normalised mean of the same kind.
        counts = np.maximum(1.0, np.asarray(X_rows.sum(1), dtype=np.float32))
        return np.asarray(X_rows @ self.item_factors_, dtype=np.float32) / counts

    def _train(self, X: sp.csr_matrix, seed: int, progress: bool, epochs: int, lr: float) -> None:
        # One thread: these models are small, and with two OpenMP threads on two busy cores an
        # epoch went from 0.3 s to 11 s (spin-waiting); one thread also sums gradients in a fixed order.
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            self._epochs(X, seed, progress, epochs, lr)
        finally:
            torch.set_num_threads(threads)

    def _epochs(self, X: sp.csr_matrix, seed: int, progress: bool, epochs: int, lr: float) -> None:
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        opt = torch.optim.Adam(self._parameters(), lr=lr)
        bar = tqdm(range(epochs), desc=f"train {self.name}", disable=not progress, leave=False)
        for epoch in bar:
            total = 0.0
            for u, i, j in bpr_triples(X, rng, self.params.get("batch", 4096)):
                opt.zero_grad()
                loss = self._loss(u, i, j)
                loss.backward()
                opt.step()
                total += loss.item() * len(u)
            bar.set_postfix(loss=f"{total / X.nnz:.4f}")
            if epoch == epochs - 1:
                log.info("%s epoch %d loss %.4f", self.name, epoch + 1, total / X.nnz)


class BPR(FactorModel):
    name = "bpr"
    grid = [{"factors": 64, "epochs": 40, "lr": 0.005, "reg": r} for r in (1e-4, 1e-3)]

    def __init__(self, factors: int = 64, epochs: int = 40, lr: float = 0.005, reg: float = 1e-4,
                 batch: int = 4096, fold_in_weight: float = 1.0):
        super().__init__(factors=factors, epochs=epochs, lr=lr, reg=reg, batch=batch, fold_in_weight=fold_in_weight)

    def _parameters(self):
        return [self._U, self._V, self._b]

    def _loss(self, u, i, j):
        eu, ei, ej = F.embedding(u, self._U), F.embedding(i, self._V), F.embedding(j, self._V)
        x = (eu * (ei - ej)).sum(1) + F.embedding(i, self._b[:, None])[:, 0] - F.embedding(j, self._b[:, None])[:, 0]
        reg = self.params["reg"] * (eu.pow(2).sum() + ei.pow(2).sum() + ej.pow(2).sum()) / len(u)
        return -F.logsigmoid(x).mean() + reg

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences=None) -> BPR:
        torch.manual_seed(seed)
        d = self.params["factors"]
        self._U = torch.nn.Parameter(torch.randn(X.shape[0], d) * 0.1)
        self._V = torch.nn.Parameter(torch.randn(X.shape[1], d) * 0.1)
        self._b = torch.nn.Parameter(torch.zeros(X.shape[1]))
        epochs = max(1, round(self.params["epochs"] * epochs_scale))
        self._train(X, seed, progress, epochs, self.params["lr"])
        self.user_factors_ = self._U.detach().numpy().copy()
        self.user_train_len_ = train_lengths(X, sequences)
        self.item_factors_ = self._V.detach().numpy().copy()
        self.item_bias_ = self._b.detach().numpy().copy()
        return self
