"""Our CF models against a widely used CF library (implicit 0.7.3) on the same split and metric code.

    python bench/cf_libraries.py --json reports/cf_libraries.json

implicit's ALS, BPR and cosine ItemKNN are trained on our train matrix, tuned on validation over
a small grid, and scored on test by ``tools.cf.tune.evaluate`` (full ranking minus history, the
validation item folded into the factor models' user vectors as for ours), so the numbers sit
beside `convrec eval offline` row for row.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # implicit warns (and slows) otherwise

from bench.report import emit, machine  # noqa: E402
from tools.cf.base import CFModel, train_lengths  # noqa: E402
from tools.cf.tune import evaluate  # noqa: E402


class ImplicitModel(CFModel):
    """Wraps a fitted implicit model in our interface: its factors, its own user factors."""

    def __init__(self, make, **params):
        super().__init__(**params)
        self.make = make

    def fit(self, X, seed: int = 0, progress: bool = False, epochs_scale: float = 1.0, sequences=None):
        model = self.make(random_state=seed, **self.params)
        model.fit(X.tocsr().astype(np.float32), show_progress=progress)
        self.item_bias_ = np.zeros(X.shape[1], dtype=np.float32)
        if hasattr(model, "item_factors") and not hasattr(model, "similarity"):
            items = np.asarray(model.item_factors, dtype=np.float32)
            users = np.asarray(model.user_factors, dtype=np.float32)
            if np.allclose(users[:, -1], 1.0):  # implicit's BPR keeps the item bias as a last factor
                items, users, self.item_bias_ = items[:, :-1], users[:, :-1], items[:, -1].copy()
            self.item_factors_, self.user_factors_ = items, users
            # the same test-time rule as ours: learned user factors + the items after training
            self.user_train_len_ = train_lengths(X, sequences)
        else:  # item-item: the history row is the user vector, as in our ItemKNN
            self.item_factors_ = np.asarray(model.similarity.T.todense(), dtype=np.float32)
            self.user_factors_ = None
        return self


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from implicit.als import AlternatingLeastSquares
    from implicit.bpr import BayesianPersonalizedRanking
    from implicit.nearest_neighbours import CosineRecommender

    from tools.artifacts import Artifacts
    from tools.config import Config

    config = Config()
    art = Artifacts.load(config.artifacts_dir, config)
    split, X = art.split, art.split.train_matrix()

    def als(random_state, **p):
        return AlternatingLeastSquares(random_state=random_state, **p)

    def bpr(random_state, **p):
        return BayesianPersonalizedRanking(random_state=random_state, **p)

    def cosine(random_state, **p):
        return CosineRecommender(**p)

    grids = {
        "implicit-als": (als, [{"factors": f, "regularization": r, "iterations": 15, "alpha": a}
                               for f in (64, 128) for r in (0.01, 0.1) for a in (1.0, 10.0)]),
        "implicit-bpr": (bpr, [{"factors": f, "learning_rate": lr, "regularization": 0.01, "iterations": 100}
                               for f in (64, 128) for lr in (0.01, 0.05)]),
        "implicit-itemknn": (cosine, [{"K": k} for k in (50, 100, 200)]),
    }
    out = {"machine": machine(), "models": {}}
    for name, (make, grid) in grids.items():
        best = None
        for params in grid:
            t = time.perf_counter()
            model = ImplicitModel(make, **params).fit(X, sequences=split.sequences("train"))
            valid = evaluate(model, split, "valid")
            if best is None or valid["ndcg@10"] > best[0]["ndcg@10"]:
                best = (valid, params, model, time.perf_counter() - t)
        valid, params, model, secs = best
        out["models"][name] = {"params": params, "valid": valid, "test": evaluate(model, split, "test"),
                               "fit_seconds": round(secs, 2)}
        print(name, json.dumps(out["models"][name]), file=sys.stderr)
    out["ours"] = {name: {"valid": evaluate(m, split, "valid"), "test": evaluate(m, split, "test")}
                   for name, m in art.retrievers.items()}
    out["ours_selected"] = art.manifest["cf"]["selected"]
    emit(out, args.json)


if __name__ == "__main__":
    main()
