"""The reranker's offline report on ml-100k: ``python -m tools.reranker [--target test] --json PATH``.

EASE (tuned on validation) retrieves the top 100; the reranker is fitted on the train split with
its fusion weight tuned on validation; validation numbers (and with ``--target test``, what `make
results` passes, test numbers) are reported beside the CF order. Then the same on a split with 100
cold items (their train interactions removed).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

from tools.cf.tune import tune
from tools.config import Config
from tools.data import load_dataset
from tools.reranker import GenerativeReranker
from tools.reranker.evaluate import evaluate_cold, evaluate_rerank
from tools.split import leave_last_out
from tools.text import TextEncoder


def main() -> None:
    """The full offline report: ml-100k, EASE tuned on validation, CF top-100 -> reranker on
    validation (and test with --target test); then the cold-start split."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--save", type=Path, help="write the (non-cold) reranker to this folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cold-items", type=int, default=100)
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--target", choices=("valid", "test"), default="valid",
                    help="test: also the test targets (what `make results` runs, once)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    config = Config()
    dataset = load_dataset("ml-100k", config.home)
    vectors = TextEncoder().encode(list(dataset.items.text))
    report: dict[str, Any] = {"dataset": "ml-100k", "seed": args.seed, "n_candidates": args.candidates}
    for name, cold in (("warm", 0), ("cold", args.cold_items)):
        split = leave_last_out(dataset, cold_items=cold, seed=args.seed)
        cf_report, models = tune(split, ["ease"], seed=args.seed, progress=False)
        cf = models["ease"]
        t = time.perf_counter()
        reranker = GenerativeReranker(n_candidates=args.candidates).fit(split, vectors, cf_model=cf, seed=args.seed,
                                                                        genres=list(dataset.items.genres))
        fit_s = time.perf_counter() - t
        part: dict[str, Any] = {
            "cf_model": {"name": "ease", "params": cf_report["models"]["ease"]["params"]},
            "fit_seconds": round(fit_s, 1),
            "fusion_weight": reranker.fusion_weight_,
            "valid_ndcg@10_by_fusion_weight": reranker.fusion_valid_,
        }
        targets = ("valid", "test") if args.target == "test" else ("valid",)
        for which in targets:
            if cold:
                part[f"cold_{which}"] = evaluate_cold(split, cf, reranker, which, args.candidates, item_vectors=vectors)
            else:
                part[which] = evaluate_rerank(split, cf, reranker, which, args.candidates)
        if not cold and args.save:
            reranker.save(args.save)
        report[name] = part
        print(json.dumps({name: part}, indent=2), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
