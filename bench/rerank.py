"""Latency of GenerativeReranker.rerank for 100 CF candidates, after warm-up.

    python bench/rerank.py --json reports/bench_rerank.json [--reranker FOLDER] [--requests 300]

Requests are real: ml-100k users' train+valid histories and their EASE top-100 with scores.
Without ``--reranker`` (a folder written by ``GenerativeReranker.save``) a reranker is fitted
first on ml-100k with one epoch; inference cost does not depend on how long it trained.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    return round(float(np.percentile(xs, q)), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--reranker", type=Path, help="folder of a saved GenerativeReranker")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--candidates", type=int, default=100)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    from tools.cf.ease import EASE
    from tools.config import Config
    from tools.data import load_dataset
    from tools.reranker import GenerativeReranker
    from tools.reranker.evaluate import candidate_lists
    from tools.split import leave_last_out

    config = Config()
    split = leave_last_out(load_dataset("ml-100k", config.home))
    cf = EASE(l2=100.0).fit(split.train_matrix())
    if args.reranker:
        reranker = GenerativeReranker.load(args.reranker)
    else:
        from tools.text import TextEncoder

        vectors = TextEncoder().encode(list(load_dataset("ml-100k", config.home).items.text))
        reranker = GenerativeReranker(fusion_weight=0.7).fit(split, vectors, epochs_scale=1 / 15, progress=False)
    hist, cands, scores, _ = candidate_lists(split, cf, "test", args.candidates)
    n = len(hist)
    for i in range(args.warmup):
        reranker.rerank(hist[i % n], cands[i % n], scores[i % n], k=args.k)
    times = []
    for i in range(args.requests):
        j = (i * 7) % n
        t = time.perf_counter()
        reranker.rerank(hist[j], cands[j], scores[j], k=args.k)
        times.append((time.perf_counter() - t) * 1000)
    result = {
        "machine": machine(),
        "requests": len(times),
        "candidates": int(np.mean([len(c) for c in cands])),
        "beam_size": reranker.beam_size,
        "history_items_mean": round(float(np.mean([min(len(h), reranker.config_.max_len) for h in hist])), 1),
        "rerank_ms": {"p50": pct(times, 50), "p90": pct(times, 90), "p99": pct(times, 99),
                      "mean": round(float(np.mean(times)), 3)},
        "goal": {"p50_ms": 20},
    }  # fmt: skip
    emit(result, args.json)


if __name__ == "__main__":
    main()
