"""Train every CF model over a small grid, pick by validation NDCG@10, report valid and test."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tools.cf import MODELS, CFModel
from tools.cf.base import history_rows
from tools.cf.fusion import FusedModel, Part
from tools.metrics import metrics_from_ranks, rank_of_targets
from tools.split import Split

log = logging.getLogger(__name__)

# Test targets ranked from train + the validation item ("test"), or, as a robustness check, without
# the validation item when it shares its timestamp with the target ("test-untied": in ml-100k many
# ratings were entered in the same second, so "before" is not always known).
TARGETS = ("valid", "test", "test-untied")
# The weight of the latest item in the factor models' fold-in, tuned on validation (CFModel.user_vectors).
FOLD_IN_WEIGHTS = (0.0, 0.5, 1.0, 2.0)


def evaluate(model: CFModel, split: Split, which: str = "valid", batch: int = 1024) -> dict[str, float]:
    """Full ranking over the catalog minus the user's history, every model from the same history:
    valid: history = train; test: history = train + valid (the valid item happened before the test
    item; factor models fold it in, item-item and sequential models read it)."""
    return metrics_from_ranks(model_ranks(model, split, which, batch))


def model_ranks(model: CFModel, split: Split, which: str = "valid", batch: int = 1024) -> np.ndarray:
    """Each user's 0-based target rank under ``model`` (the per-user values behind ``evaluate``)."""
    return target_ranks(lambda hist, users: model.score(model.user_vectors(hist, users)), split, which, batch)


def protocol_histories(split: Split, which: str = "valid") -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The targets of ``which`` (one row per user) and each user's history before them, oldest first."""
    if which not in TARGETS:
        raise ValueError(f"which must be one of {TARGETS}, got {which!r}")
    targets = split.valid if which == "valid" else split.test
    seqs = split.sequences("train" if which == "valid" else "valid")
    if which == "test-untied":
        valid = split.valid.set_index("uidx").timestamp
        tied = set(targets.uidx[targets.timestamp.to_numpy() == valid.loc[targets.uidx].to_numpy()])
        seqs = [s[:-1] if u in tied else s for u, s in enumerate(seqs)]
    return targets, seqs


def target_ranks(score: Callable[[list[np.ndarray], np.ndarray], np.ndarray], split: Split, which: str = "valid",
                 batch: int = 1024) -> np.ndarray:
    """0-based rank of each user's target under ``score(histories, users)`` (users x items), the
    protocol's histories in time order, history items excluded from the ranking."""
    targets, seqs = protocol_histories(split, which)
    users = targets.uidx.to_numpy()
    items = targets.iidx.to_numpy()
    ranks = []
    for s in range(0, len(users), batch):
        u = users[s : s + batch]
        hist = [seqs[i] for i in u]
        scores = np.asarray(score(hist, u), dtype=np.float64)
        scores[history_rows(hist, split.n_items).nonzero()] = -np.inf
        ranks.append(rank_of_targets(scores, items[s : s + batch]))
    return np.concatenate(ranks)


def tune(
    split: Split, names: list[str], seed: int = 0, epochs_scale: float = 1.0, progress: bool = True
) -> tuple[dict[str, Any], dict[str, CFModel]]:
    """Returns the report ({"models": {name: {...}}, "selected": name}) and the best model per name."""
    X, seqs = split.train_matrix("train"), split.sequences("train")
    report: dict[str, Any] = {"models": {}}
    best: dict[str, CFModel] = {}
    for name in names:
        if name not in MODELS:
            raise ValueError(f"unknown CF model {name!r}; choose from {sorted(MODELS)}")
        trials = []
        for params in MODELS[name].grid:
            t0 = time.perf_counter()
            model = MODELS[name](**params).fit(X, seed=seed, progress=progress, epochs_scale=epochs_scale,
                                              sequences=seqs)
            if model.user_factors_ is not None:  # the fold-in's weight of the latest item, on validation
                by_weight = {}
                for w in FOLD_IN_WEIGHTS:
                    model.params["fold_in_weight"] = w
                    by_weight[w] = evaluate(model, split, "valid")["ndcg@10"]
                model.params["fold_in_weight"] = max(by_weight, key=by_weight.get)
                params = model.params
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


# The strongest simple baselines (every report runs them beside the agent), and the fusions the
# agent's retriever may be: each a grid of Part lists, the best by validation NDCG@10 kept.
WINDOWS = (1, 2, 3, 5, 10, 20, 50)
WEIGHTS = tuple(np.round(np.linspace(0.1, 0.9, 9), 2))
BASELINES = ("last-item", "recent-ease")


def fusion_grids(models: dict[str, CFModel]) -> dict[str, list[list[Part]]]:
    """``last-item``: neighbours of the last item under an item-item model; ``recent-ease``: EASE on
    the whole history and on the last n items; ``<seq>+ease``: the sequential model fused with
    EASE (and with EASE on a recent window), the agent's retriever when validation prefers it."""
    grids: dict[str, list[list[Part]]] = {}
    item_item = [m for m in ("itemknn", "ease") if m in models]
    if item_item:
        grids["last-item"] = [[Part(m, 1.0, 1)] for m in item_item]
    if "ease" in models:
        grids["recent-ease"] = [[Part("ease", 1 - w, None), Part("ease", w, n)] for n in WINDOWS for w in WEIGHTS]
    if "sasrec" in models and "ease" in models:
        grids["sasrec+ease"] = [[Part("sasrec", 1 - w, None), Part("ease", w, None)] for w in WEIGHTS]
    return grids


def tune_fusions(split: Split, models: dict[str, CFModel]) -> tuple[dict[str, Any], dict[str, FusedModel]]:
    """Each fusion's grid on validation; returns report rows and the best fusion per name.

    The grid is searched on cached per-part z-scores (the ranking a FusedModel gives, see
    tests/tools/test_cf.py); the kept fusion is then evaluated as a model like any other."""
    cache: dict[tuple, np.ndarray] = {}

    def part_z(part: Part, hist: list[np.ndarray], users: np.ndarray) -> np.ndarray:
        key = (part.model, part.window, int(users[0]), len(users))
        if key not in cache:
            m = models[part.model]
            vecs = (m.user_vectors(hist, users) if part.window is None
                    else m.user_vectors([h[-part.window :] for h in hist]))
            cache[key] = zscore_rows(m.score(vecs).astype(np.float64))
        return cache[key]

    def valid_ndcg(parts: list[Part]) -> float:
        ranks = target_ranks(lambda hist, users: sum(p.weight * part_z(p, hist, users) for p in parts), split)
        return metrics_from_ranks(ranks)["ndcg@10"]

    report: dict[str, Any] = {}
    best: dict[str, FusedModel] = {}
    for name, grid in fusion_grids(models).items():
        t0 = time.perf_counter()
        fused = FusedModel(max(grid, key=valid_ndcg), models)
        best[name] = fused
        report[name] = {
            "parts": fused.params["parts"], "label": fused.label, "valid": evaluate(fused, split, "valid"),
            "test": evaluate(fused, split, "test"), "fit_seconds": round(time.perf_counter() - t0, 2),
            "grid": len(grid), "baseline": name in BASELINES,
        }  # fmt: skip
        log.info("%s = %s: valid ndcg@10=%.4f (grid %d)", name, fused.label, report[name]["valid"]["ndcg@10"],
                 len(grid))
    return report, best


def zscore_rows(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=1, keepdims=True)
    return np.where(sd > 1e-12, (x - x.mean(axis=1, keepdims=True)) / np.maximum(sd, 1e-12), 0.0)
