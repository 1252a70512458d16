"""Semantic IDs (TIGER-style): residual k-means codes of item content vectors, plus a collision token.

Level 1 clusters the vectors, level 2 clusters what level 1 left over, and so on; an item's code is
the tuple of its nearest centroid at each level. Items whose tuples collide get a last token 0, 1,
2, ... so every item has a unique code. A new item (no interactions) gets a code from its vector
alone, with ``encode``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def kmeans(x: np.ndarray, k: int, n_iter: int, rng: np.random.Generator) -> np.ndarray:
    """Lloyd's k-means with k-means++ seeding; an empty cluster takes the worst-served point."""
    n = len(x)
    sq = (x * x).sum(1)
    centers = np.empty((k, x.shape[1]), dtype=x.dtype)
    centers[0] = x[rng.integers(n)]
    d2 = ((x - centers[0]) ** 2).sum(1)
    for j in range(1, k):
        p = d2 / d2.sum() if d2.sum() > 0 else np.full(n, 1.0 / n)
        centers[j] = x[rng.choice(n, p=p)]
        d2 = np.minimum(d2, ((x - centers[j]) ** 2).sum(1))
    for _ in range(n_iter):
        dist = sq[:, None] - 2.0 * x @ centers.T + (centers * centers).sum(1)[None, :]
        assign = dist.argmin(1)
        counts = np.bincount(assign, minlength=k)
        new = np.zeros_like(centers)
        np.add.at(new, assign, x)
        filled = counts > 0
        new[filled] /= counts[filled, None]
        worst = np.argsort(-dist[np.arange(n), assign], kind="stable")
        for j, i in zip(np.flatnonzero(~filled), worst, strict=False):
            new[j] = x[i]
        if np.allclose(new, centers):
            break
        centers = new
    return centers


class SemanticIDs:
    """Residual k-means over ``n_levels`` levels of ``n_codes`` centroids; codes are (n, n_levels + 1).

    The last column is the collision token, with the same vocabulary size ``n_codes``; an item whose
    cell is full moves to its next-nearest last-level centroid, so codes stay unique.
    """

    def __init__(self, n_levels: int = 3, n_codes: int = 64, n_iter: int = 25, seed: int = 0):
        self.n_levels = n_levels
        self.n_codes = n_codes
        self.n_iter = n_iter
        self.seed = seed

    @property
    def vocab_sizes(self) -> list[int]:
        return [self.n_codes] * (self.n_levels + 1)

    def fit(self, vectors: np.ndarray) -> SemanticIDs:
        """Learn the codebooks on ``vectors`` (n, dim) and give each row a unique code (``codes_``)."""
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim != 2 or len(x) == 0:
            raise ValueError(f"semantic IDs need a non-empty 2-D array of vectors, got shape {x.shape}")
        rng = np.random.default_rng(self.seed)
        k = min(self.n_codes, len(x))
        residual = x.copy()
        books = np.zeros((self.n_levels, self.n_codes, x.shape[1]))
        for level in range(self.n_levels):
            books[level, :k] = kmeans(residual, k, self.n_iter, rng)
            # unused slots (fewer vectors than codes) sit far away so nothing is assigned to them
            books[level, k:] = 1e6
            residual -= books[level, self._nearest(residual, books[level])]
        self.codebooks_ = books.astype(np.float32)
        self.codes_ = np.zeros((0, self.n_levels + 1), dtype=np.int64)
        self.codes_ = self.encode(x)
        return self

    @staticmethod
    def _nearest(x: np.ndarray, book: np.ndarray) -> np.ndarray:
        return ((x * x).sum(1)[:, None] - 2.0 * x @ book.T + (book * book).sum(1)[None, :]).argmin(1)

    def quantize(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Residual codes (m, n_levels) and the last residual's squared distance to every last-level centroid."""
        residual = np.asarray(vectors, dtype=np.float64).copy()
        codes = np.zeros((len(residual), self.n_levels), dtype=np.int64)
        books = self.codebooks_.astype(np.float64)
        for level in range(self.n_levels - 1):
            codes[:, level] = self._nearest(residual, books[level])
            residual -= books[level, codes[:, level]]
        last = books[-1]
        dist = (residual * residual).sum(1)[:, None] - 2.0 * residual @ last.T + (last * last).sum(1)[None, :]
        codes[:, -1] = dist.argmin(1)
        return codes, dist

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """Unique codes (m, n_levels + 1) for new vectors, disambiguated against ``codes_`` and each other."""
        self._check_fitted()
        vectors = np.asarray(vectors, dtype=np.float64)
        if vectors.ndim != 2 or vectors.shape[1] != self.codebooks_.shape[2]:
            raise ValueError(
                f"expected vectors of shape (m, {self.codebooks_.shape[2]}), got {vectors.shape}"
            )
        codes, dist = self.quantize(vectors)
        used: dict[tuple[int, ...], int] = {}
        for row in self.codes_:
            key = tuple(int(c) for c in row[:-1])
            used[key] = max(used.get(key, 0), int(row[-1]) + 1)
        out = np.zeros((len(codes), self.n_levels + 1), dtype=np.int64)
        for i in range(len(codes)):
            prefix = tuple(int(c) for c in codes[i, :-1])
            for last in np.argsort(dist[i], kind="stable"):
                key = (*prefix, int(last))
                if used.get(key, 0) < self.n_codes:
                    break
            else:
                raise ValueError(
                    f"no free code left for vector {i}: raise n_codes (now {self.n_codes})"
                )
            out[i, :-1] = key
            out[i, -1] = used.get(key, 0)
            used[key] = out[i, -1] + 1
        return out

    def _check_fitted(self) -> None:
        if not hasattr(self, "codebooks_"):
            raise ValueError("SemanticIDs is not fitted: call fit(vectors) first")

    # -- persistence --------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        self._check_fitted()
        params = np.array([self.n_levels, self.n_codes, self.n_iter, self.seed], dtype=np.int64)
        return {"codebooks_": self.codebooks_, "codes_": self.codes_, "params": params}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SemanticIDs:
        """Rebuild from ``to_arrays``; shapes are checked, a mismatch raises ValueError."""
        try:
            n_levels, n_codes, n_iter, seed = (int(v) for v in arrays["params"])
            books, codes = np.asarray(arrays["codebooks_"]), np.asarray(arrays["codes_"])
        except (KeyError, ValueError, TypeError) as e:
            raise ValueError(f"semantic ID arrays are incomplete or corrupt: {e}") from e
        if books.ndim != 3 or books.shape[:2] != (n_levels, n_codes):
            raise ValueError(f"codebooks have shape {books.shape}, expected ({n_levels}, {n_codes}, dim)")
        if codes.ndim != 2 or codes.shape[1] != n_levels + 1 or codes.min(initial=0) < 0 or codes.max(initial=0) >= n_codes:
            raise ValueError(f"codes have shape {codes.shape} or values outside [0, {n_codes})")
        sid = cls(n_levels=n_levels, n_codes=n_codes, n_iter=n_iter, seed=seed)
        sid.codebooks_, sid.codes_ = books.astype(np.float32), codes.astype(np.int64)
        return sid

    def save(self, path: Path) -> None:
        np.savez(Path(path), **self.to_arrays())

    @classmethod
    def load(cls, path: Path) -> SemanticIDs:
        try:
            with np.load(Path(path)) as f:
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError, EOFError) as e:
            raise ValueError(f"cannot read semantic IDs from {path}: {e}") from e
        return cls.from_arrays(arrays)
