"""SASRec (Kang & McAuley, 2018): a causal transformer over each user's item sequence.

Trained with a full softmax over the catalog at every position (cross-entropy, which beats the
original sampled binary loss; Klenitskiy & Vasilev, 2023). The input and output item embeddings
are shared, so the model fits the one CF interface: ``item_factors_`` is the embedding table and
a user's vector is the encoder's output at the last position of their history. Recency is
learned (position embeddings, attention over the order), not bolted on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from tools.cf.base import CFModel

log = logging.getLogger(__name__)


@dataclass
class SASRecConfig:
    n_items: int
    dim: int = 64
    layers: int = 2
    heads: int = 2
    max_len: int = 200
    dropout: float = 0.2


class Block(nn.Module):
    """Pre-norm transformer block (nanoGPT's shape): attention and a GELU MLP, each residual."""

    def __init__(self, cfg: SASRecConfig):
        super().__init__()
        self.heads = cfg.heads
        self.ln1, self.ln2 = nn.LayerNorm(cfg.dim), nn.LayerNorm(cfg.dim)
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.proj = nn.Linear(cfg.dim, cfg.dim)
        self.mlp = nn.Sequential(nn.Linear(cfg.dim, cfg.dim), nn.GELU(), nn.Linear(cfg.dim, cfg.dim))
        self.drop = nn.Dropout(cfg.dropout)
        self.p = cfg.dropout

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = (t.view(B, L, self.heads, D // self.heads).transpose(1, 2) for t in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=self.p if self.training else 0.0)
        x = x + self.drop(self.proj(a.transpose(1, 2).reshape(B, L, D)))
        return x + self.drop(self.mlp(self.ln2(x)))


class SASRecNet(nn.Module):
    """Item + position embeddings -> causal transformer blocks -> layer norm. Item 0 is padding."""

    def __init__(self, cfg: SASRecConfig):
        super().__init__()
        self.cfg = cfg
        self.items = nn.Embedding(cfg.n_items + 1, cfg.dim, padding_idx=0)
        self.positions = nn.Embedding(cfg.max_len, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.norm = nn.LayerNorm(cfg.dim)
        self.drop = nn.Dropout(cfg.dropout)
        nn.init.normal_(self.items.weight, std=0.02)
        nn.init.normal_(self.positions.weight, std=0.02)
        with torch.no_grad():
            self.items.weight[0].zero_()

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        """(batch, L) item tokens, left-padded with 0 -> (batch, L, dim) hidden states."""
        L = seq.shape[1]
        # positions count back from the end, so "the last item" is the same embedding for every length
        x = self.items(seq) * self.cfg.dim**0.5 + self.positions(torch.arange(L - 1, -1, -1))[None]
        # causal, and no attention to padding; a padding position sees itself, so no row is empty
        eye = torch.eye(L, dtype=torch.bool)
        allowed = torch.tril(torch.ones(L, L, dtype=torch.bool))[None] & ((seq != 0)[:, None, :] | eye)
        x = self.drop(x)
        for block in self.blocks:
            x = block(x, allowed[:, None])
        return self.norm(x)

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return h @ self.items.weight[1:].T


def _windows(sequences: Sequence[np.ndarray], max_len: int) -> np.ndarray:
    """Every user's sequence cut from its end into windows of ``max_len + 1`` tokens (item index + 1),
    left-padded with 0; a window's first ``max_len`` tokens are inputs, its last ``max_len`` targets."""
    out = []
    for s in sequences:
        tokens = np.asarray(s, dtype=np.int64) + 1
        for end in range(len(tokens), 1, -max_len):
            w = tokens[max(0, end - max_len - 1) : end]
            out.append(np.concatenate([np.zeros(max_len + 1 - len(w), dtype=np.int64), w]))
    return np.stack(out) if out else np.zeros((0, max_len + 1), dtype=np.int64)


class SASRec(CFModel):
    """Sequential retriever; ``epochs`` of full-softmax training with Adam, deterministic under a seed."""

    name = "sasrec"
    # one configuration, from a sweep on validation (README): 20 / 40 / 60 epochs, windows of 50 / 100
    grid = [{"dim": 64, "layers": 2, "heads": 2, "max_len": 50, "dropout": 0.2, "epochs": 40, "lr": 0.002,
             "batch": 256}]

    def __init__(self, dim: int = 64, layers: int = 2, heads: int = 2, max_len: int = 200, dropout: float = 0.2,
                 epochs: int = 60, lr: float = 0.001, batch: int = 128, weight_decay: float = 0.0):
        super().__init__(dim=dim, layers=layers, heads=heads, max_len=max_len, dropout=dropout, epochs=epochs,
                         lr=lr, batch=batch, weight_decay=weight_decay)

    def _config(self, n_items: int) -> SASRecConfig:
        p = self.params
        return SASRecConfig(n_items=n_items, dim=p["dim"], layers=p["layers"], heads=p["heads"],
                            max_len=p["max_len"], dropout=p["dropout"])

    def fit(self, X: sp.csr_matrix, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0,
            sequences: Sequence[np.ndarray] | None = None) -> SASRec:
        if sequences is None:
            raise ValueError("SASRec trains on time-ordered sequences: fit(X, sequences=split.sequences('train'))")
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        self.net_ = SASRecNet(self._config(X.shape[1]))
        data = torch.from_numpy(_windows(sequences, self.params["max_len"]))
        opt = torch.optim.AdamW(self.net_.parameters(), lr=self.params["lr"],
                                weight_decay=self.params["weight_decay"])
        epochs = max(1, round(self.params["epochs"] * epochs_scale))
        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # deterministic sums, and no spin-waiting on busy cores (see BPR)
        try:
            self.net_.train()
            bar = tqdm(range(epochs), desc="train sasrec", disable=not progress, leave=False)
            for _ in bar:
                total, count = 0.0, 0
                data = data[torch.from_numpy(rng.permutation(len(data)))]
                for s in range(0, len(data), self.params["batch"]):
                    batch = data[s : s + self.params["batch"]]
                    inputs, targets = batch[:, :-1], batch[:, 1:]
                    keep = targets > 0
                    h = self.net_(inputs)[keep]
                    loss = F.cross_entropy(self.net_.logits(h), targets[keep] - 1)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += loss.item() * int(keep.sum())
                    count += int(keep.sum())
                bar.set_postfix(loss=f"{total / max(count, 1):.3f}")
            log.info("sasrec: %d windows, %d epochs, last loss %.3f", len(data), epochs, total / max(count, 1))
        finally:
            torch.set_num_threads(threads)
        self._finish()
        return self

    def _finish(self) -> None:
        self.net_.eval()
        self.item_factors_ = self.net_.items.weight[1:].detach().numpy().copy()
        self.item_bias_ = np.zeros(len(self.item_factors_), dtype=np.float32)

    def user_vectors(self, histories: Sequence[Sequence[int]], users: np.ndarray | None = None) -> np.ndarray:
        """The encoder's output after the last item of each history (the last ``max_len`` items)."""
        L = self.params["max_len"]
        out = np.zeros((len(histories), self.params["dim"]), dtype=np.float32)
        with torch.no_grad():
            for s in range(0, len(histories), 256):
                chunk = [np.asarray(h, dtype=np.int64)[-L:] + 1 for h in histories[s : s + 256]]
                width = max([1, *(len(c) for c in chunk)])
                seq = np.zeros((len(chunk), width), dtype=np.int64)
                for r, c in enumerate(chunk):
                    if len(c):
                        seq[r, width - len(c) :] = c
                h = self.net_(torch.from_numpy(seq))[:, -1].numpy()
                h[seq[:, -1] == 0] = 0.0  # an empty history: nothing to go on, every item scores 0
                out[s : s + len(chunk)] = h
        return out

    # -- persistence: the network's weights ride along as arrays -------------------------------
    def _extra_arrays(self) -> dict[str, np.ndarray]:
        return {f"net.{k}": v.numpy() for k, v in self.net_.state_dict().items()}

    def _restore(self, arrays: dict[str, np.ndarray]) -> None:
        super()._restore(arrays)
        self.net_ = SASRecNet(self._config(len(arrays["item_factors_"])))
        self.net_.load_state_dict({k[4:]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("net.")})
        self.net_.eval()
