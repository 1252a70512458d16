"""Offline CF evaluation over the artifacts: every saved model, valid and test, same protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.artifacts import Artifacts
from tools.cf.tune import evaluate

METRICS = ("recall@10", "recall@20", "ndcg@10")


def offline_report(art: Artifacts) -> dict[str, Any]:
    """Re-evaluates each saved model (nothing is copied from the build log)."""
    models = {
        name: {"valid": evaluate(model, art.split, "valid"), "test": evaluate(model, art.split, "test")}
        for name, model in art.cf_models.items()
    }
    selected = art.manifest["cf"]["selected"]
    if art.reranker is not None:
        from tools.reranker.evaluate import evaluate_rerank

        # the reranker over the selected model's top-N, on the same users as the CF rows
        n = art.manifest["config"]["candidates"]
        valid = evaluate_rerank(art.split, art.selected_cf, art.reranker, "valid", n_candidates=n)
        test = evaluate_rerank(art.split, art.selected_cf, art.reranker, "test", n_candidates=n)
        models[f"{selected}+rerank"] = {
            "valid": _rerank_row(valid), "test": _rerank_row(test),
            "fusion_weight": test["fusion_weight"], "target_in_top_n": {"valid": valid["target_in_candidates"],
                                                                       "test": test["target_in_candidates"]},
        }  # fmt: skip
    return {
        "models": models,
        "selected": selected,
        "dataset": art.manifest["dataset"]["name"],
        "users": int(len(art.split.test)),
        "protocol": art.manifest["split"]["protocol"] + "; full ranking minus the user's history",
    }


def format_table(report: dict[str, Any]) -> str:
    head = f"{'model':<18}" + "".join(f"{s + ' ' + m:>17}" for s in ("valid", "test") for m in METRICS)
    lines = [head, "-" * len(head)]
    for name, r in report["models"].items():
        mark = " *" if name == report["selected"] else ""
        lines.append(f"{name + mark:<18}" + "".join(
            f"{r[s][m]:>17.4f}" if r[s][m] is not None else f"{'-':>17}" for s in ("valid", "test") for m in METRICS))
    lines.append(f"* selected by valid ndcg@10; {report['users']} users, {report['dataset']}; "
                 "'+rerank' = the generative reranker over the selected model's top-N")
    return "\n".join(lines)


def plot_report(report: dict[str, Any], path: Path) -> None:
    """Bar chart of test NDCG@10 and Recall@10 per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["models"])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.4
    for j, metric in enumerate(("ndcg@10", "recall@10")):
        ax.bar([i + j * width for i in range(len(names))], [report["models"][n]["test"][metric] for n in names],
               width, label=f"test {metric}")
    ax.set_xticks([i + width / 2 for i in range(len(names))], names)
    ax.set_title(f"Offline CF on {report['dataset']} (leave-last-out, full ranking)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _rerank_row(result: dict[str, Any]) -> dict[str, float | None]:
    """The reranked top-N in the same columns (it returns 10 items, so no recall@20)."""
    return {"recall@10": result["rerank"]["recall@10"], "recall@20": None, "ndcg@10": result["rerank"]["ndcg@10"]}
