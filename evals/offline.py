"""Offline CF evaluation over the artifacts: every model, fusion and baseline, and the agent's
pipeline, valid and test, one protocol."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tools.artifacts import Artifacts
from tools.cf.tune import evaluate

METRICS = ("recall@10", "recall@20", "ndcg@10")


def offline_report(art: Artifacts) -> dict[str, Any]:
    """Re-evaluates every saved model and tuned fusion (nothing is copied from the build log), then
    the agent's pipeline: its retriever's top-N reranked by the generative reranker."""
    t0 = time.perf_counter()
    cf = art.manifest["cf"]
    rows = {name: {"valid": evaluate(model, art.split, "valid"), "test": evaluate(model, art.split, "test")}
            for name, model in art.retrievers.items()}
    for name, parts in cf.get("fusions", {}).items():
        rows[name]["parts"] = parts
    selected, agent = cf["selected"], cf["selected"]
    if art.reranker is not None:
        from tools.reranker.evaluate import evaluate_rerank

        # the reranker over the agent's retriever's top-N, on the same users as every other row
        n = art.manifest["config"]["candidates"]
        valid = evaluate_rerank(art.split, art.selected_cf, art.reranker, "valid", n_candidates=n)
        test = evaluate_rerank(art.split, art.selected_cf, art.reranker, "test", n_candidates=n)
        agent = f"{selected}+rerank"
        rows[agent] = {
            "valid": _rerank_row(valid), "test": _rerank_row(test),
            "fusion_weight": test["fusion_weight"], "target_in_top_n": {"valid": valid["target_in_candidates"],
                                                                       "test": test["target_in_candidates"]},
            "generator_only": {"valid": valid["generator_only"], "test": test["generator_only"]},
        }  # fmt: skip
    baselines = list(cf.get("baselines", []))
    report = {
        "models": rows,
        "selected": selected,
        "agent": agent,
        "baselines": baselines,
        "dataset": art.manifest["dataset"]["name"],
        "users": int(len(art.split.test)),
        "protocol": art.manifest["split"]["protocol"] + "; full ranking minus the user's history; every model "
                    "ranks test from train + the validation item (factor models fold it in)",
        "comparison": _comparison(rows, agent, baselines),
    }  # fmt: skip
    report["seconds"] = round(time.perf_counter() - t0, 2)
    return report


def _comparison(rows: dict[str, Any], agent: str, baselines: list[str]) -> dict[str, Any]:
    """The agent's test NDCG@10 against the strongest baseline and the strongest other row."""
    ndcg = {name: r["test"]["ndcg@10"] for name, r in rows.items()}
    out: dict[str, Any] = {"agent_test_ndcg@10": ndcg[agent]}
    others = {n: v for n, v in ndcg.items() if n != agent}
    for key, pool in (("best_baseline", {n: ndcg[n] for n in baselines if n in ndcg}), ("best_other_row", others)):
        if pool:
            best = max(pool, key=pool.get)
            out[key] = {"name": best, "test_ndcg@10": pool[best], "agent_ratio": round(ndcg[agent] / pool[best], 4)}
    return out


def format_table(report: dict[str, Any]) -> str:
    head = f"{'model':<22}" + "".join(f"{s + ' ' + m:>17}" for s in ("valid", "test") for m in METRICS)
    lines = [head, "-" * len(head)]
    for name, r in report["models"].items():
        mark = " (agent)" if name == report["agent"] else " *" if name == report["selected"] else ""
        mark += " (b)" if name in report["baselines"] else ""
        lines.append(f"{name + mark:<22}" + "".join(
            f"{r[s][m]:>17.4f}" if r[s][m] is not None else f"{'-':>17}" for s in ("valid", "test") for m in METRICS))
    c = report["comparison"]
    lines.append(f"* the agent's retriever (best valid ndcg@10); (b) baseline; {report['users']} users, "
                 f"{report['dataset']}; '+rerank' = the generative reranker over the retriever's top-N")
    for key in ("best_baseline", "best_other_row"):
        if key in c:
            lines.append(f"agent vs {key.replace('_', ' ')} ({c[key]['name']}): test ndcg@10 "
                         f"{c['agent_test_ndcg@10']:.4f} vs {c[key]['test_ndcg@10']:.4f} = {c[key]['agent_ratio']:.2f}x")
    return "\n".join(lines)


def plot_report(report: dict[str, Any], path: Path) -> None:
    """Bar chart of test NDCG@10 and Recall@10 per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["models"])
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.4
    for j, metric in enumerate(("ndcg@10", "recall@10")):
        ax.bar([i + j * width for i in range(len(names))], [report["models"][n]["test"][metric] for n in names],
               width, label=f"test {metric}")
    ax.set_xticks([i + width / 2 for i in range(len(names))], names, rotation=30, ha="right")
    ax.set_title(f"Offline CF on {report['dataset']} (leave-last-out, full ranking)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _rerank_row(result: dict[str, Any]) -> dict[str, float | None]:
    """The reranked top-N in the same columns (it returns 10 items, so no recall@20)."""
    return {"recall@10": result["rerank"]["recall@10"], "recall@20": None, "ndcg@10": result["rerank"]["ndcg@10"]}
