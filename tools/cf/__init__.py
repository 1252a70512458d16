"""Collaborative-filtering models behind one interface (see ``tools.cf.base.CFModel``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tools.cf.base import CFModel
from tools.cf.bpr import BPR
from tools.cf.ease import EASE
from tools.cf.itemknn import ItemKNN
from tools.cf.lightgcn import LightGCN
from tools.cf.pop import Popularity
from tools.cf.sasrec import SASRec

MODELS: dict[str, type[CFModel]] = {
    "pop": Popularity, "itemknn": ItemKNN, "ease": EASE, "bpr": BPR, "lightgcn": LightGCN, "sasrec": SASRec,
}  # fmt: skip


def load_model(path: Path) -> CFModel:
    """Load a model written by ``CFModel.save``; raises ValueError when the file is not one."""
    try:
        with np.load(Path(path), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(str(arrays.pop("meta")))
        model = MODELS[meta["name"]](**meta["params"])
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as e:
        raise ValueError(f"{path} is not a saved CF model ({e})") from e
    model._restore(arrays)
    return model


__all__ = ["MODELS", "CFModel", "BPR", "EASE", "ItemKNN", "LightGCN", "Popularity", "SASRec", "load_model"]
