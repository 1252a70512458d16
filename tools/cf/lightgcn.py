"""LightGCN (He et al., 2020): embeddings smoothed over the user-item graph, trained with BPR."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from tools.cf.base import train_lengths
from tools.cf.bpr import FactorModel


def normalized_adjacency(X: sp.csr_matrix) -> torch.Tensor:
    """D^-1/2 A D^-1/2 of the bipartite graph [[0, X], [X', 0]] as a torch sparse tensor."""
    n_u, n_i = X.shape
    A = sp.bmat([[None, X], [X.T, None]], format="coo", dtype=np.float32)
    deg = np.asarray(A.sum(1)).ravel()
    d = np.zeros_like(deg, dtype=np.float32)
    np.power(deg, -0.5, out=d, where=deg > 0)
    vals = d[A.row] * A.data * d[A.col]
    idx = torch.from_numpy(np.vstack([A.row, A.col]).astype(np.int64))
    coo = torch.sparse_coo_tensor(idx, torch.from_numpy(vals), (n_u + n_i, n_u + n_i), check_invariants=True).coalesce()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "CSR support is in beta"
        return coo.to_sparse_csr()  # CSR @ dense is ~1.6x faster than COO on CPU here


class LightGCN(FactorModel):
    name = "lightgcn"
    grid = [{"factors": 64, "layers": 3, "epochs": 50, "lr": 0.01, "reg": 1e-4, "batch": 8192}]

    def __init__(self, factors: int = 64, layers: int = 3, epochs: int = 50, lr: float = 0.01,
                 reg: float = 1e-4, batch: int = 8192, fold_in_weight: float = 1.0):
        super().__init__(factors=factors, layers=layers, epochs=epochs, lr=lr, reg=reg, batch=batch,
                         fold_in_weight=fold_in_weight)

    def _parameters(self):
        return [self._E]

    def _propagate(self) -> torch.Tensor:
        layers = [self._E]
        for _ in range(self.params["layers"]):
            layers.append(self._A @ layers[-1])
        return torch.stack(layers).mean(0)

    def _loss(self, u, i, j):
        out = self._propagate()
        n_u = self._n_users
        eu, ei, ej = F.embedding(u, out), F.embedding(n_u + i, out), F.embedding(n_u + j, out)
        x = (eu * (ei - ej)).sum(1)
        ids = torch.cat([u, n_u + i, n_u + j])
        reg = self.params["reg"] * F.embedding(ids, self._E).pow(2).sum() / len(u)
        return -F.logsigmoid(x).mean() + reg

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences=None) -> LightGCN:
        torch.manual_seed(seed)
        self._n_users = X.shape[0]
        self._A = normalized_adjacency(X)
        self._E = torch.nn.Parameter(torch.randn(X.shape[0] + X.shape[1], self.params["factors"]) * 0.1)
        epochs = max(1, round(self.params["epochs"] * epochs_scale))
        self._train(X, seed, progress, epochs, self.params["lr"])
        with torch.no_grad():
            out = self._propagate().numpy()
        self.user_factors_ = out[: self._n_users].copy()
        self.user_train_len_ = train_lengths(X, sequences)
        self.item_factors_ = out[self._n_users :].copy()
        self.item_bias_ = np.zeros(X.shape[1], dtype=np.float32)
        return self
