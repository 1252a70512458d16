"""A reranker variant beside the built one, for validation comparisons (issue 25).

    python bench/reranker_variant.py DEST '{"use_cf": false, "use_genres": false}'

Fits the generative reranker with these ``CodeTransformerConfig`` fields on the built artifacts
(same split, text vectors, retriever and seed as `convrec build`), prints its validation NDCG@10
by fusion weight as JSON, and writes a copy of the artifacts with it in DEST, so that any
evaluation runs on it: ``CONVREC_ARTIFACTS=DEST convrec eval sim|regimes|offline --target valid``.
``{"use_cf": false, "use_genres": false}`` is the generator before issue 25 (codes only);
``'{}' --seed N`` is the built reranker refitted with another seed (how much of a gain is the seed's).
Reads validation targets only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import emit, machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dest", type=Path, help="folder for the artifacts copy (replaced)")
    ap.add_argument("config", help="JSON of CodeTransformerConfig fields, e.g. '{\"ask_share\": 0.8}'")
    ap.add_argument("--seed", type=int, default=None,
                    help="the reranker's seed (semantic IDs and training); default: the build's (config.seed)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    from tools.artifacts import Artifacts, _checked_files
    from tools.config import Config
    from tools.reranker import GenerativeReranker
    from tools.reranker.model import CodeTransformerConfig

    config = Config()
    art = Artifacts.load(config.artifacts_dir, config)
    genres = [it.genres for it in art.catalog.get(art.split.item_ids.tolist())]
    seed = config.seed if args.seed is None else args.seed
    t = time.perf_counter()
    reranker = GenerativeReranker(n_candidates=config.candidates,
                                  config=CodeTransformerConfig(**json.loads(args.config))).fit(
        art.split, art.item_vectors, cf_model=art.selected_cf, seed=seed,
        epochs_scale=config.cf_epochs_scale, progress=False, genres=genres)
    fit_s = time.perf_counter() - t
    if args.dest.resolve() == config.artifacts_dir.resolve():
        raise SystemExit("DEST must not be the built artifacts folder")
    if args.dest.exists():
        shutil.rmtree(args.dest)
    shutil.copytree(config.artifacts_dir, args.dest)
    shutil.rmtree(args.dest / "reranker")
    reranker.save(args.dest / "reranker")
    manifest = json.loads((args.dest / "manifest.json").read_text())
    manifest["reranker"] = {"fusion_weight": reranker.fusion_weight_, "fusion_valid_ndcg@10": reranker.fusion_valid_,
                            "variant": json.loads(args.config)}
    manifest["files"] = _checked_files(args.dest)
    (args.dest / "manifest.json").write_text(json.dumps(manifest, indent=2))
    Artifacts.load(args.dest)  # verified as any build
    valid = reranker.fusion_valid_
    emit({"machine": machine(), "variant": json.loads(args.config), "seed": seed, "fit_seconds": round(fit_s, 1),
          "fusion_weight": reranker.fusion_weight_, "valid_ndcg@10": round(valid[reranker.fusion_weight_], 4),
          "retriever_alone": round(valid[0.0], 4), "generator_alone": round(valid[1.0], 4),
          "genres": len(reranker.genres_), "artifacts": str(args.dest)}, args.json)


if __name__ == "__main__":
    main()
