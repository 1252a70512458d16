"""Top-k search over item vectors: exact (numpy) by default, FAISS IVF past its latency budget,
and the item text vectors persisted in a Chroma collection with our own embeddings."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
ITEMS_COLLECTION = "convrec_items"


def zscore(x: np.ndarray) -> np.ndarray:
    """Standardised scores (mean 0, sd 1); all zeros when the scores do not vary."""
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the k largest finite scores, best first (ties by index)."""
    finite = int(np.isfinite(scores).sum())
    k = min(k, finite)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=scores.dtype)
    part = np.argpartition(-scores, k - 1)[:k]
    order = np.lexsort((part, -scores[part]))
    top = part[order]
    return top, scores[top]


class ExactIndex:
    """Brute-force inner product: one matrix-vector product and a partial sort."""

    def __init__(self, vectors: np.ndarray):
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)

    def search(self, query: np.ndarray, k: int, bias: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        s = self.vectors @ np.asarray(query, dtype=np.float32)
        if bias is not None:
            s = s + bias
        return top_k(s, k)


class IVFIndex:
    """FAISS inverted lists (k-means cells, ``nprobe`` of them searched). Approximate: report its
    recall against ExactIndex. On 1M synthetic 64-d vectors it beat HNSW here on both recall
    (0.93 vs 0.46 at k=100) and build time (23 s vs 266 s) at ~2 ms a query."""

    def __init__(self, vectors: np.ndarray, nlist: int | None = None, nprobe: int = 64, seed: int = 0):
        import faiss

        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, d = vectors.shape
        nlist = nlist or int(np.clip(np.sqrt(n), 16, 4096))
        self.quantizer = faiss.IndexFlatIP(d)
        self.index = faiss.IndexIVFFlat(self.quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        sample = vectors[rng.choice(n, min(n, 64 * nlist), replace=False)]
        self.index.train(sample)
        self.index.add(vectors)
        self.index.nprobe = min(nprobe, nlist)

    def search(self, query: np.ndarray, k: int, bias: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        if bias is not None:
            raise ValueError("IVFIndex has no item bias; fold it into the vectors first")
        d, i = self.index.search(np.asarray(query, dtype=np.float32)[None, :], k)
        keep = i[0] >= 0
        return i[0][keep].astype(np.int64), d[0][keep]


def chroma_client(path: Path):
    """An embedded Chroma client with telemetry off."""
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def write_chroma_items(path: Path, item_ids: np.ndarray, vectors: np.ndarray, titles: list[str]) -> None:
    """Persist item text vectors in Chroma with our own embeddings (never its default function)."""
    client = chroma_client(path)
    coll = client.get_or_create_collection(
        ITEMS_COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    step = client.get_max_batch_size()
    for s in range(0, len(item_ids), step):
        coll.upsert(
            ids=[str(int(i)) for i in item_ids[s : s + step]],
            embeddings=vectors[s : s + step],
            metadatas=[{"item_id": int(i), "title": t} for i, t in zip(item_ids[s : s + step], titles[s : s + step], strict=True)],
        )


def count_chroma_items(path: Path) -> int:
    return chroma_client(path).get_collection(ITEMS_COLLECTION, embedding_function=None).count()
