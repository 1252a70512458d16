"""The validation sweep behind SASRec's one configuration in ``tools/cf/tune.py``.

    python bench/sasrec_sweep.py --json reports/sasrec_sweep.json

Trains SASRec on the artifacts' train sequences for each setting and prints validation (and test)
metrics. The build trains only the chosen setting, to stay within its time budget.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402

SWEEP = [
    {"epochs": 20, "max_len": 50, "batch": 256, "lr": 0.002},
    {"epochs": 40, "max_len": 50, "batch": 256, "lr": 0.002},
    {"epochs": 60, "max_len": 50, "batch": 256, "lr": 0.002},
    {"epochs": 20, "max_len": 100, "batch": 128, "lr": 0.002},
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from tools.artifacts import Artifacts
    from tools.cf import SASRec
    from tools.cf.tune import evaluate
    from tools.config import Config

    config = Config()
    split = Artifacts.load(config.artifacts_dir, config).split
    X, seqs = split.train_matrix(), split.sequences("train")
    out = {"machine": machine(), "runs": []}
    for params in SWEEP:
        t = time.perf_counter()
        model = SASRec(**params).fit(X, seed=config.seed, sequences=seqs)
        out["runs"].append({"params": params, "fit_seconds": round(time.perf_counter() - t, 1),
                            "valid": evaluate(model, split, "valid"), "test": evaluate(model, split, "test")})
        print(out["runs"][-1], file=sys.stderr)
    emit(out, args.json)


if __name__ == "__main__":
    main()
