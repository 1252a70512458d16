"""The generative reranker: semantic IDs, a code transformer, constrained beam search, score fusion.

``GenerativeReranker.rerank`` reorders a retriever's candidates; its output is always a
duplicate-free subset of them, because decoding walks a trie built from the candidates' codes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from scipy.sparse.linalg import svds
from threadpoolctl import ThreadpoolController

from tools.cf.base import CFModel
from tools.metrics import ndcg_at_k
from tools.reranker.decode import PrefixTrie, beam_search
from tools.reranker.evaluate import candidate_lists
from tools.reranker.model import CodeScorer, CodeTransformer, CodeTransformerConfig, train
from tools.reranker.semantic_ids import SemanticIDs
from tools.split import Split
from tools.vectors import zscore

log = logging.getLogger(__name__)

FILES = ("reranker.json", "reranker_codes.npz", "reranker_model.pt")
FUSION_GRID = tuple(np.round(np.linspace(0.0, 1.0, 21), 2))
# Our matrices are small: a second BLAS thread gains little and, when the other core is busy,
# stalls each product for a scheduler slice (measured 16 ms instead of 1 ms for one history).
_BLAS = ThreadpoolController()


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def finite(x: Sequence[float]) -> np.ndarray:
    """Scores as float64 with NaN and -inf (filtered-out items) set to the lowest finite score."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    return np.where(ok, x, x[ok].min() if ok.any() else 0.0)


class GenerativeReranker:
    """Reranks candidates by the generator's log-probability fused with the retrieval score.

    score = w * z(log p(item | history, genres asked, candidates)) + (1 - w) * z(retrieval score),
    both z-scored over the candidate set; w is ``fusion_weight``, or when it is None the weight in
    FUSION_GRID with the best validation NDCG@10 of the CF top-``n_candidates`` (1.0 without a CF
    model); a caller may pass its own (``rerank(..., weight=...)``). Without retrieval scores the
    order is the generator's alone. The generator reads the history's codes with each item's CF
    vector beside them, and the genres the conversation asked for (``rerank(..., genres=...)``;
    see ``tools.reranker.model``).

    Semantic IDs quantise the text vector joined with a CF vector (``cf_weight`` of the squared
    norm, 0 = text only) with ``n_levels`` of ``n_codes`` codes; a cold item borrows the CF
    vector of its ``cold_neighbours`` nearest items by text. ``beam_size`` bounds the search.
    """

    def __init__(
        self,
        n_codes: int = 64,
        n_levels: int = 3,
        cf_weight: float = 0.5,
        cf_dim: int = 64,
        cold_neighbours: int = 5,
        config: CodeTransformerConfig | None = None,
        beam_size: int = 100,
        fusion_weight: float | None = None,
        n_candidates: int = 100,
    ):
        self.n_codes = n_codes
        self.n_levels = n_levels
        self.cf_weight = cf_weight
        self.cf_dim = cf_dim
        self.cold_neighbours = cold_neighbours
        self.config = config or CodeTransformerConfig()
        self.beam_size = beam_size
        self.fusion_weight = fusion_weight
        self.n_candidates = n_candidates

    # -- training -----------------------------------------------------------------------------
    def content_vectors(self, text: np.ndarray, cf: np.ndarray) -> np.ndarray:
        """What the semantic IDs quantise: the unit text vector joined with the unit CF vector
        (``cf_vectors``), weighted by ``cf_weight``, so a cold item's code comes from its text."""
        if self.cf_weight <= 0:
            return text
        return np.hstack([text * np.sqrt(1 - self.cf_weight), cf * np.sqrt(self.cf_weight)])

    def cf_vectors(self, split: Split, text: np.ndarray) -> np.ndarray:
        """Unit CF vectors (n_items, cf_dim): a truncated SVD of the degree-normalised train
        matrix; an item without train interactions takes the mean of its ``cold_neighbours``
        nearest items by (unit) ``text``."""
        X = split.train_matrix("train").T.tocsr().astype(np.float64)  # items x users
        di, du = np.asarray(X.sum(1)).ravel(), np.asarray(X.sum(0)).ravel()
        # degree-normalised, as in spectral CF, so that popular items do not fill the spectrum
        Xn = sp.diags(1 / np.sqrt(np.maximum(di, 1))) @ X @ sp.diags(1 / np.sqrt(np.maximum(du, 1)))
        k = min(self.cf_dim, min(Xn.shape) - 1)
        u, s, _ = svds(Xn, k=k, v0=np.ones(min(Xn.shape)) / np.sqrt(min(Xn.shape)))
        cf = unit_rows(u * s)
        warm = np.flatnonzero(di > 0)
        cold = np.flatnonzero(di == 0)
        if len(cold) and len(warm):
            n = min(self.cold_neighbours, len(warm))
            near = np.argsort(-(text[cold] @ text[warm].T), axis=1, kind="stable")[:, :n]
            cf[cold] = unit_rows(cf[warm[near]].mean(1))
        return cf

    def fit(
        self,
        split: Split,
        item_vectors: np.ndarray,
        cf_model: CFModel | None = None,
        seed: int = 0,
        epochs_scale: float = 1.0,
        progress: bool = True,
        genres: Sequence[Sequence[str]] | None = None,
    ) -> GenerativeReranker:
        """Learn codes (items with train interactions), encode the rest from text, train the
        generator on the train sequences, and tune the fusion weight on validation.

        ``genres``: each item's genres (by index); with them (and ``config.use_genres``) the
        generator also reads the genres a conversation asked for."""
        with _BLAS.limit(limits=1, user_api="blas"):
            return self._fit(split, item_vectors, cf_model, seed, epochs_scale, progress, genres)

    def _fit(self, split, item_vectors, cf_model, seed, epochs_scale, progress, genres) -> GenerativeReranker:
        item_vectors = np.asarray(item_vectors)
        if item_vectors.ndim != 2 or len(item_vectors) != split.n_items:
            raise ValueError(
                f"item_vectors must be (n_items={split.n_items}, dim), got shape {item_vectors.shape}"
            )
        text = unit_rows(item_vectors.astype(np.float64))
        cf_vec = self.cf_vectors(split, text)
        content = self.content_vectors(text, cf_vec)
        warm = split.item_popularity() > 0
        sid = SemanticIDs(n_levels=self.n_levels, n_codes=self.n_codes, seed=seed).fit(content[warm])
        codes = np.zeros((split.n_items, self.n_levels + 1), dtype=np.int64)
        codes[warm] = sid.codes_
        codes[~warm] = sid.encode(content[~warm])
        log.info("semantic IDs: %d items (%d from text only), %d collided tuples",
                 split.n_items, int((~warm).sum()), int((codes[:, -1] > 0).sum()))
        self.semantic_ids_ = sid
        self.codes_ = codes

        cfg = CodeTransformerConfig.from_dict(self.config.to_dict())
        cfg.vocab_sizes = tuple(sid.vocab_sizes)
        cfg.epochs = max(1, round(cfg.epochs * epochs_scale))
        cfg.cf_dim, cfg.n_items = (cf_vec.shape[1], split.n_items) if cfg.use_cf else (0, 0)
        self.genres_: list[str] = []
        item_genres = None
        if cfg.use_genres and genres is not None:
            if len(genres) != split.n_items:
                raise ValueError(f"genres must list each of the {split.n_items} items' genres, got {len(genres)}")
            self.genres_ = sorted({g for gs in genres for g in gs})
            col = {g: n for n, g in enumerate(self.genres_)}
            item_genres = np.zeros((split.n_items, len(col)), dtype=bool)
            for i, gs in enumerate(genres):
                item_genres[i, [col[g] for g in gs]] = True
            cfg.n_genres = len(col)
        else:
            cfg.n_genres = 0
        self.config_ = cfg
        self.model_ = train(split.sequences("train"), codes, cfg, seed=seed, progress=progress,
                            item_cf=cf_vec if cfg.cf_dim else None, item_genres=item_genres)
        self._prepare()

        self.fusion_valid_: dict[float, float] = {}
        if self.fusion_weight is not None:
            self.fusion_weight_ = float(self.fusion_weight)
        elif cf_model is None:
            self.fusion_weight_ = 1.0
        else:
            lists = candidate_lists(split, cf_model, "valid", self.n_candidates)
            self.fusion_weight_, self.fusion_valid_ = self.tune_fusion(*lists)
            log.info("fusion weight %.2f: valid ndcg@10 %.4f (CF order %.4f, generator alone %.4f)",
                     self.fusion_weight_, self.fusion_valid_[self.fusion_weight_],
                     self.fusion_valid_[0.0], self.fusion_valid_[1.0])
        return self

    def tune_fusion(self, histories, candidates, scores, targets) -> tuple[float, dict[float, float]]:
        """The weight in FUSION_GRID with the best validation NDCG@10 (ties: more generator)."""
        gen = [zscore(self.log_probs(h, c)) for h, c in zip(histories, candidates, strict=True)]
        retr = [zscore(finite(s)) for s in scores]
        result = {}
        for w in FUSION_GRID:
            result[float(w)] = float(np.mean([
                ndcg_at_k(np.asarray(c)[np.argsort(-(w * g + (1 - w) * r), kind="stable")[:10]], [t], 10)
                for g, r, c, t in zip(gen, retr, candidates, targets, strict=True)
            ]))  # fmt: skip
        best = max(result, key=lambda w: (round(result[w], 6), w))
        return best, result

    # -- inference ----------------------------------------------------------------------------
    def _prepare(self) -> None:
        self.model_.eval()
        self.scorer_ = CodeScorer(self.model_)
        # the last row is the start-of-history token's codes
        self._table = np.vstack([self.codes_, np.asarray(self.config_.vocab_sizes) + 1])

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise ValueError("GenerativeReranker is not fitted: call fit(...) or load(folder)")

    def _hidden(self, history: np.ndarray) -> np.ndarray:
        hist = history[-self.config_.max_len :]
        if len(history) < self.config_.max_len:  # the whole history fits: BOS in front, as in training
            hist = np.concatenate([[-1], hist]).astype(np.int64)
        return self.scorer_.hidden(self._table[hist], hist)

    def _step(self, h: np.ndarray):
        return lambda level, prefixes: self.scorer_.level_log_probs(h, prefixes, level)

    def _checked(self, history: Sequence[int], candidates: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        self._check_fitted()
        n = len(self.codes_)
        history = np.asarray(history, dtype=np.int64).reshape(-1)
        candidates = np.asarray(candidates, dtype=np.int64).reshape(-1)
        for name, a in (("history", history), ("candidates", candidates)):
            if len(a) and (a.min() < 0 or a.max() >= n):
                raise ValueError(f"{name} holds item indices outside [0, {n}): the catalog this reranker was fitted on")
        return history, candidates

    def genre_indices(self, genres: Sequence[str]) -> np.ndarray:
        """The generator's indices of the genres said (case-insensitive; unknown ones dropped)."""
        col = {g.lower(): n for n, g in enumerate(getattr(self, "genres_", []))}
        return np.array(sorted({col[g.lower()] for g in genres if g.lower() in col}), dtype=np.int64)

    def log_probs(self, history: Sequence[int], candidates: Sequence[int], genres: Sequence[str] = ()) -> np.ndarray:
        """log p(candidate | history, the genres said, answer is a candidate) from the beam search;
        candidates the beam did not reach get the lowest finished beam's score."""
        history, candidates = self._checked(history, candidates)
        out = np.full(len(candidates), -np.inf)
        if len(candidates) == 0:
            return out
        uniq = np.unique(candidates)
        trie = PrefixTrie(self.codes_[uniq], uniq, self.config_.vocab_sizes)
        with _BLAS.limit(limits=1, user_api="blas"):
            h = self.scorer_.with_genres(self._hidden(history), self.genre_indices(genres))
            items, lp = beam_search(self._step(h), trie, self.beam_size)
        floor = lp.min() if len(lp) else 0.0
        value = dict(zip(items.tolist(), lp.tolist(), strict=True))
        return np.array([value.get(int(c), floor) for c in candidates])

    def rerank(
        self,
        history_iidx: Sequence[int],
        candidates_iidx: Sequence[int],
        retrieval_scores: Sequence[float] | None = None,
        k: int = 10,
        genres: Sequence[str] = (),
        weight: float | None = None,
    ) -> list[tuple[int, float]]:
        """The best ``k`` candidates as (item index, fused score), best first.

        ``history_iidx``: the user's items in time order (in a conversation, the session's liked
        items appended). Duplicated candidates count once, with their first retrieval score.
        ``weight``: the generator's share of the fused score (None: ``fusion_weight_``, tuned
        offline; a tuning run may set one per evidence regime, ``Config.rerank_shares``)."""
        history, candidates = self._checked(history_iidx, candidates_iidx)
        if retrieval_scores is not None and len(retrieval_scores) != len(candidates):
            raise ValueError(
                f"retrieval_scores has {len(retrieval_scores)} entries for {len(candidates)} candidates"
            )
        if len(candidates) == 0 or k <= 0:
            return []
        _, first = np.unique(candidates, return_index=True)
        first = np.sort(first)
        candidates = candidates[first]
        retrieval = None if retrieval_scores is None else finite(retrieval_scores)[first]
        score = self.fused_scores(self.log_probs(history, candidates, genres), retrieval, weight)
        order = np.argsort(-score, kind="stable")[:k]
        return [(int(candidates[i]), float(score[i])) for i in order]

    def fused_scores(self, log_probs: np.ndarray, retrieval_scores: np.ndarray | None = None,
                     weight: float | None = None) -> np.ndarray:
        """``w * z(log_probs) + (1 - w) * z(retrieval_scores)`` with ``w`` = ``weight`` (None:
        ``fusion_weight_``); the generator alone without retrieval scores."""
        w = self.fusion_weight_ if weight is None else float(weight)
        if not 0.0 <= w <= 1.0:
            raise ValueError(f"the generator's share must be in [0, 1], got {w}")
        score = zscore(np.asarray(log_probs, dtype=np.float64))
        if retrieval_scores is not None and w < 1.0:
            score = w * score + (1 - w) * zscore(finite(retrieval_scores))
        return score

    # -- persistence --------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Write reranker.json, reranker_codes.npz and reranker_model.pt into ``folder``."""
        self._check_fitted()
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "params": {"n_codes": self.n_codes, "n_levels": self.n_levels, "cf_weight": self.cf_weight,
                       "cf_dim": self.cf_dim, "cold_neighbours": self.cold_neighbours,
                       "beam_size": self.beam_size,
                       "fusion_weight": self.fusion_weight, "n_candidates": self.n_candidates},
            "config": self.config_.to_dict(),
            "n_items": int(len(self.codes_)),
            "fusion_weight_": self.fusion_weight_,
            "fusion_valid_": {str(w): v for w, v in self.fusion_valid_.items()},
            "genres_": self.genres_,
        }  # fmt: skip
        (folder / FILES[0]).write_text(json.dumps(meta, indent=2))
        np.savez(folder / FILES[1], item_codes=self.codes_, **self.semantic_ids_.to_arrays())
        torch.save(self.model_.state_dict(), folder / FILES[2])

    @classmethod
    def load(cls, folder: Path) -> GenerativeReranker:
        """Read a folder written by ``save``; raises ValueError when a file is missing or corrupt."""
        folder = Path(folder)
        missing = [f for f in FILES if not (folder / f).is_file()]
        if missing:
            raise ValueError(f"reranker files missing in {folder}: {', '.join(missing)}; rebuild the artifacts")
        try:
            meta = json.loads((folder / FILES[0]).read_text())
            cfg = CodeTransformerConfig.from_dict(meta["config"])
            self = cls(config=cfg, **meta["params"])
            self.fusion_weight_ = float(meta["fusion_weight_"])
            self.fusion_valid_ = {float(w): float(v) for w, v in meta["fusion_valid_"].items()}
            self.genres_ = [str(g) for g in meta.get("genres_", [])]
            if len(self.genres_) != cfg.n_genres:
                raise ValueError(f"{len(self.genres_)} genre names for a generator of {cfg.n_genres} genres")
            if cfg.cf_dim and cfg.n_items != int(meta["n_items"]):
                raise ValueError(f"CF vectors for {cfg.n_items} items in a reranker of {meta['n_items']}")
            n_items = int(meta["n_items"])
            with np.load(folder / FILES[1], allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            codes = arrays.pop("item_codes").astype(np.int64)
            sid = SemanticIDs.from_arrays(arrays)
            model = CodeTransformer(cfg)
            state = torch.load(folder / FILES[2], map_location="cpu", weights_only=True)
            model.load_state_dict(state)
        except ValueError as e:
            raise ValueError(f"reranker in {folder} is corrupt: {e}") from e
        except (OSError, KeyError, TypeError, RuntimeError, EOFError, json.JSONDecodeError) as e:
            raise ValueError(f"reranker in {folder} is corrupt ({type(e).__name__}: {e}); rebuild the artifacts") from e
        vocab = np.asarray(cfg.vocab_sizes)
        if codes.shape != (n_items, len(vocab)) or (codes < 0).any() or (codes >= vocab).any():
            raise ValueError(f"reranker in {folder} is corrupt: item codes have shape {codes.shape} "
                             f"or values outside the vocabulary {tuple(vocab)}")
        if len(np.unique(codes, axis=0)) != len(codes):
            raise ValueError(f"reranker in {folder} is corrupt: two items share a semantic ID")
        self.semantic_ids_, self.codes_, self.config_, self.model_ = sid, codes, cfg, model
        self._prepare()
        return self
