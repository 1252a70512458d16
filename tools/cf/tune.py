"""Train every CF model over a small grid, pick by validation NDCG@10, report valid and test."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from tools.cf import MODELS, CFModel
from tools.metrics import metrics_from_ranks, rank_of_targets
from tools.split import Split

log = logging.getLogger(__name__)

# Each grid is small on purpose: the whole ml-100k build must stay under 5 minutes on 2 cores.
GRIDS: dict[str, list[dict[str, Any]]] = {
    "pop": [{}],
    "itemknn": [{"neighbours": n, "shrink": s} for n in (50, 200) for s in (10.0, 50.0)],
    "ease": [{"l2": l2} for l2 in (20.0, 50.0, 100.0, 300.0, 1000.0)],
    "bpr": [{"factors": 64, "epochs": 40, "lr": 0.005, "reg": r} for r in (1e-4, 1e-3)],
    "lightgcn": [{"factors": 64, "layers": 3, "epochs": 50, "lr": 0.01, "reg": 1e-4, "batch": 8192}],
}


def evaluate(model: CFModel, split: Split, which: str = "valid", batch: int = 1024) -> dict[str, float]:
    """Full ranking over the catalog minus the user's history. Valid: history = train;
    test: history = train + valid (the valid item happened before the test item)."""
    targets = split.valid if which == "valid" else split.test
    hist = split.train_matrix("train" if which == "valid" else "valid")
    users = targets.uidx.to_numpy()
    items = targets.iidx.to_numpy()
    ranks = []
    for s in range(0, len(users), batch):
        u = users[s : s + batch]
        rows = hist[u]
        scores = model.score(model.user_vectors(rows, u)).astype(np.float64)
        scores[rows.nonzero()] = -np.inf
        ranks.append(rank_of_targets(scores, items[s : s + batch]))
    return metrics_from_ranks(np.concatenate(ranks))


def tune(
    split: Split, names: list[str], seed: int = 0, epochs_scale: float = 1.0, progress: bool = True
) -> tuple[dict[str, Any], dict[str, CFModel]]:
    """Returns the report ({"models": {name: {...}}, "selected": name}) and the best model per name."""
    X = split.train_matrix("train")
    report: dict[str, Any] = {"models": {}}
    best: dict[str, CFModel] = {}
    for name in names:
        if name not in MODELS:
            raise ValueError(f"unknown CF model {name!r}; choose from {sorted(MODELS)}")
        trials = []
        for params in GRIDS[name]:
            t0 = time.perf_counter()
            model = MODELS[name](**params).fit(X, seed=seed, progress=progress, epochs_scale=epochs_scale)
            valid = evaluate(model, split, "valid")
            trials.append((valid["ndcg@10"], params, model, valid, time.perf_counter() - t0))
            log.info("%s %s valid ndcg@10=%.4f (%.1fs)", name, params, valid["ndcg@10"], trials[-1][-1])
        _, params, model, valid, secs = max(trials, key=lambda t: t[0])
        best[name] = model
        report["models"][name] = {
            "params": params, "valid": valid, "test": evaluate(model, split, "test"),
            "fit_seconds": round(secs, 2), "grid": len(trials),
        }  # fmt: skip
    report["selected"] = max(report["models"], key=lambda n: report["models"][n]["valid"]["ndcg@10"])
    return report, best
