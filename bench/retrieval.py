"""Top-100 retrieval latency for one user vector: ml-100k (the built CF model) and synthetic
catalogs of 100k and 1M items (exact numpy vs FAISS IVF), plus the whole ml-100k build time and
the time of `convrec eval offline` on that build.

    python bench/retrieval.py --json reports/bench_retrieval.json [--skip-build]

Synthetic item vectors are 64-d and clustered by genre (a centroid per genre plus noise), the
shape trained factors have; latency does not depend on the values, ANN recall does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402
from tools.config import Config  # noqa: E402
from tools.vectors import ExactIndex, IVFIndex  # noqa: E402


def latency(fn, queries: np.ndarray, warmup: int = 5) -> dict:
    for q in queries[:warmup]:
        fn(q)
    times = []
    for q in queries:
        t = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(float(np.percentile(times, 50)), 3), "p99_ms": round(float(np.percentile(times, 99)), 3),
            "n": len(times)}


def synthetic_vectors(n: int, d: int = 64, groups: int = 18, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centroids = rng.normal(size=(groups, d)).astype(np.float32)
    labels = rng.integers(0, groups, n)
    v = centroids[labels] + 0.8 * rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def bench_size(n: int, n_queries: int, k: int, ann: bool) -> dict:
    t = time.perf_counter()
    vecs = synthetic_vectors(n)
    rng = np.random.default_rng(1)
    queries = vecs[rng.integers(0, n, n_queries)] + 0.3 * rng.normal(size=(n_queries, vecs.shape[1])).astype(np.float32)
    out = {"items": n, "dim": int(vecs.shape[1]), "generate_s": round(time.perf_counter() - t, 2)}
    exact = ExactIndex(vecs)
    out["exact"] = latency(lambda q: exact.search(q, k), queries)
    if ann:
        t = time.perf_counter()
        ann = IVFIndex(vecs)
        out["ivf_build_s"] = round(time.perf_counter() - t, 2)
        out["ivf"] = latency(lambda q: ann.search(q, k), queries)
        recalls = [len(set(exact.search(q, k)[0]) & set(ann.search(q, k)[0])) / k for q in queries[:50]]
        out["ivf"]["recall@100_vs_exact"] = round(float(np.mean(recalls)), 4)
        out["speedup_ivf_over_exact_p50"] = round(out["exact"]["p50_ms"] / max(out["ivf"]["p50_ms"], 1e-6), 2)
    return out


def bench_ml100k(config: Config, k: int) -> dict:
    from tools.artifacts import Artifacts

    art = Artifacts.load(config.artifacts_dir, config)
    model = art.selected_cf
    users = np.arange(art.split.n_users)
    vecs = model.user_vectors(art.split.sequences("valid"), users)
    index = ExactIndex(model.item_factors_)
    return {"model": model.name, "items": int(model.n_items), "dim": int(model.item_factors_.shape[1]),
            "exact": latency(lambda v: index.search(v, k, model.item_bias_), vecs)}


def bench_build(config: Config) -> dict:
    """The whole ml-100k `convrec build`, then `convrec eval offline` on what it built (goals: 5 min, 60 s)."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CONVREC_ARTIFACTS": str(Path(tmp) / "art"), "CONVREC_HOME": str(config.home)}
        out = {}
        for step, args in (("build", ["build", "--force"]), ("eval_offline", ["eval", "offline"])):
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "ui.cli", *args], env=env, capture_output=True, text=True,
                                  cwd=root)
            out[step] = {"ok": proc.returncode == 0, "seconds": round(time.perf_counter() - t, 1),
                         "error": proc.stderr[-500:] if proc.returncode else None}
            if proc.returncode:
                break
        manifest_path = Path(tmp) / "art" / "manifest.json"
        out["build"]["steps"] = json.loads(manifest_path.read_text())["timings"] if manifest_path.exists() else {}
    out["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, help="write the results here too")
    ap.add_argument("--sizes", default="100000,1000000", help="synthetic catalog sizes")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=100)
    ap.add_argument("--skip-build", action="store_true", help="do not time a full ml-100k build")
    ap.add_argument("--no-ann", action="store_true")
    args = ap.parse_args()
    config = Config()
    result = {"machine": machine(), "k": args.k, "ml100k": bench_ml100k(config, args.k), "synthetic": []}
    for n in [int(s) for s in args.sizes.split(",") if s]:
        result["synthetic"].append(bench_size(n, args.queries, args.k, ann=not args.no_ann))
        print(json.dumps(result["synthetic"][-1]), file=sys.stderr)
    if not args.skip_build:
        result["build_ml100k"] = bench_build(config)
    emit(result, args.json)


if __name__ == "__main__":
    main()
