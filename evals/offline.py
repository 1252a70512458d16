"""Offline CF evaluation over the artifacts: every model, fusion and baseline, and the agent's
own ranker (a conversation's first turn with no constraints), valid and test, one protocol; each
"the agent beats X" with its paired bootstrap 95% interval over users."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from evals.runner import git_state, machine
from evals.stats import fmt, paired
from tools.artifacts import Artifacts
from tools.cf.tune import model_ranks, protocol_histories
from tools.config import Config
from tools.metrics import metrics_from_ranks

METRICS = ("recall@10", "recall@20", "ndcg@10")
# What the offline agent row says to the agent: a request with no constraints, so its list is the
# conversation ranker's for a known user (CF, priors, reranker) and nothing else.
OFFLINE_REQUEST = "Recommend me something."
AGENT = "agent"


def offline_report(art: Artifacts, config: Config | None = None, agent: bool = True,
                   target: str = "valid") -> dict[str, Any]:
    """Re-evaluates every saved model and tuned fusion (nothing is copied from the build log), the
    generative reranker over the retriever's top-N, and the agent's own ranker through ``ConvRec``
    (``agent``), on validation targets, or with ``target="test"`` also on test targets (what only
    ``make results`` does). Ranks are kept per user for the paired intervals, on ``target``."""
    if target not in ("valid", "test"):
        raise ValueError("target must be 'valid' or 'test'")
    t0 = time.perf_counter()
    cf = art.manifest["cf"]
    which = ("valid",) if target == "valid" else ("valid", "test", "test-untied")
    ranks = {name: {w: model_ranks(model, art.split, w) for w in which} for name, model in art.retrievers.items()}
    rows = {name: {w: _row(r[w]) for w in r} for name, r in ranks.items()}
    for name, parts in cf.get("fusions", {}).items():
        rows[name]["parts"] = parts
    selected = cf["selected"]
    if art.reranker is not None:
        from tools.reranker.evaluate import evaluate_rerank

        # the reranker over the agent's retriever's top-N, on the same users as every other row
        n = art.manifest["config"]["candidates"]
        runs = {w: evaluate_rerank(art.split, art.selected_cf, art.reranker, w, n_candidates=n) for w in which[:2]}
        rows[f"{selected}+rerank"] = {w: _rerank_row(r) for w, r in runs.items()} | {
            "fusion_weight": runs["valid"]["fusion_weight"],
            "target_in_top_n": {w: r["target_in_candidates"] for w, r in runs.items()},
            "generator_only": {w: r["generator_only"] for w, r in runs.items()},
        }  # fmt: skip
    lead = selected
    if agent:
        ranks[AGENT] = {w: agent_ranks(art, config or Config(), w) for w in which[:2]}
        rows[AGENT] = {w: _row(ranks[AGENT][w], top_k_only=True) for w in ranks[AGENT]}
        lead = AGENT
    baselines = list(cf.get("baselines", []))
    report = {
        "models": rows,
        "selected": selected,
        "agent": lead,
        "baselines": baselines,
        "dataset": art.manifest["dataset"]["name"],
        "users": int(len(art.split.test)),
        "protocol": art.manifest["split"]["protocol"] + "; full ranking minus the user's history; every model "
                    "ranks test from train + the validation item (factor models fold it in with the weight chosen "
                    "on validation, the same rule as at validation); test-untied: without the validation item "
                    "when it has the target's timestamp",
        "target": target,
        "tied_test_targets": _tied(art),
        "comparison": _comparison(rows, lead, baselines, target),
        "intervals": _intervals(ranks, lead, baselines, selected, target),
        "code": git_state(),
        "machine": machine(),
        "manifest_created": art.manifest.get("created"),
    }  # fmt: skip
    report["seconds"] = round(time.perf_counter() - t0, 2)
    return report


def agent_ranks(art: Artifacts, config: Config, which: str) -> np.ndarray:
    """Each user's target rank in the agent's first list for ``OFFLINE_REQUEST`` (``k`` when it is
    not among the ``k`` shown): the conversation's own ranker, from the protocol's history (train
    for validation targets, train + the validation item for test), no memory."""
    import tempfile

    from agent import ConvRec

    targets, _ = protocol_histories(art.split, which)
    with tempfile.TemporaryDirectory(prefix="convrec-offline-") as tmp:
        rec = ConvRec(art, config.model_copy(update={"memory_dir": tmp}), system="agent", use_memory=False,
                      history_upto="train" if which == "valid" else "valid")
        try:
            out = []
            for user, item in zip(targets.user_id, targets.item_id, strict=True):
                shown = [i.item_id for i in rec.chat(str(int(user)), OFFLINE_REQUEST, session_id=f"offline-{which}",
                                                     raise_errors=True).items]
                out.append(shown.index(int(item)) if int(item) in shown else max(len(shown), config.k))
        finally:
            rec.close()
    return np.asarray(out)


def _row(ranks: np.ndarray, top_k_only: bool = False) -> dict[str, float | None]:
    m = {k: round(v, 4) for k, v in metrics_from_ranks(ranks).items()}
    if top_k_only:  # a list of 10 has no recall@20
        m["recall@20"] = None
    return m


def _per_user(ranks: np.ndarray) -> dict[str, np.ndarray]:
    ranks = np.asarray(ranks)
    return {"ndcg@10": np.where(ranks < 10, 1.0 / np.log2(ranks + 2), 0.0), "recall@10": (ranks < 10).astype(float)}


def _intervals(ranks: dict[str, dict[str, np.ndarray]], lead: str, baselines: list[str],
               selected: str, target: str) -> dict[str, Any]:
    """The lead row minus each baseline, the retriever and every single model, per user on
    ``target``, with paired 95% bootstrap intervals (NDCG@10 and Recall@10)."""
    others = [n for n in dict.fromkeys([*baselines, selected, *ranks]) if n != lead and n in ranks]
    lead_u = _per_user(ranks[lead][target])
    out = {}
    for name in others:
        o = _per_user(ranks[name][target])
        out[f"{lead} vs {name}"] = {m: paired(lead_u[m], o[m]) for m in lead_u}
    return out


def _tied(art: Artifacts) -> dict[str, Any]:
    test, valid = art.split.test, art.split.valid.set_index("uidx").timestamp
    tied = int((test.timestamp.to_numpy() == valid.loc[test.uidx].to_numpy()).sum())
    return {"users": tied, "share": round(tied / len(test), 4)}


def _comparison(rows: dict[str, Any], agent: str, baselines: list[str], target: str) -> dict[str, Any]:
    """The agent's NDCG@10 on ``target`` against the strongest baseline and the strongest other row."""
    ndcg = {name: r[target]["ndcg@10"] for name, r in rows.items()}
    out: dict[str, Any] = {"target": target, "agent_ndcg@10": ndcg[agent]}
    others = {n: v for n, v in ndcg.items() if n != agent}
    for key, pool in (("best_baseline", {n: ndcg[n] for n in baselines if n in ndcg}), ("best_other_row", others)):
        if pool:
            best = max(pool, key=pool.get)
            out[key] = {"name": best, "ndcg@10": pool[best], "agent_ratio": round(ndcg[agent] / pool[best], 4)}
    return out


def format_table(report: dict[str, Any]) -> str:
    cols = [(s, m) for s in ("valid", "test") for m in METRICS] + [("test-untied", "ndcg@10")]
    head = f"{'model':<22}" + "".join(f"{s + ' ' + m:>20}" for s, m in cols)
    lines = [head, "-" * len(head)]
    for name, r in report["models"].items():
        mark = " (agent)" if name == report["agent"] else " *" if name == report["selected"] else ""
        mark += " (b)" if name in report["baselines"] else ""
        lines.append(f"{name + mark:<22}" + "".join(
            f"{r[s][m]:>20.4f}" if r.get(s, {}).get(m) is not None else f"{'-':>20}" for s, m in cols))
    c = report["comparison"]
    lines.append(f"* the agent's retriever (best valid ndcg@10); (b) baseline; {report['users']} users, "
                 f"{report['dataset']}; '+rerank' = the generative reranker over the retriever's top-N; "
                 f"'agent' = the conversation's own ranker (ConvRec, a request with no constraints)")
    for key in ("best_baseline", "best_other_row"):
        if key in c:
            lines.append(f"agent vs {key.replace('_', ' ')} ({c[key]['name']}): {c['target']} ndcg@10 "
                         f"{c['agent_ndcg@10']:.4f} vs {c[key]['ndcg@10']:.4f} = {c[key]['agent_ratio']:.2f}x")
    lines.append(f"paired 95% bootstrap intervals over users, {c['target']} targets (~: holds 0):")
    for name, iv in report.get("intervals", {}).items():
        lines.append(f"  {name}: " + "; ".join(f"{m} {fmt(v)}{'' if v['above_zero'] or v['below_zero'] else ' ~'}"
                                              for m, v in iv.items()))
    lines.append(f"code {report.get('code')}; machine {report.get('machine', {}).get('cpu')}, "
                 f"{report.get('machine', {}).get('cores')} cores")
    return "\n".join(lines)


def plot_report(report: dict[str, Any], path: Path) -> None:
    """Bar chart of NDCG@10 and Recall@10 per model on the report's targets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["models"])
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.4
    for j, metric in enumerate(("ndcg@10", "recall@10")):
        ax.bar([i + j * width for i in range(len(names))],
               [report["models"][n][report["target"]][metric] for n in names], width,
               label=f"{report['target']} {metric}")
    ax.set_xticks([i + width / 2 for i in range(len(names))], names, rotation=30, ha="right")
    ax.set_title(f"Offline CF on {report['dataset']} (leave-last-out, full ranking)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _rerank_row(result: dict[str, Any]) -> dict[str, float | None]:
    """The reranked top-N in the same columns (it returns 10 items, so no recall@20)."""
    return {"recall@10": result["rerank"]["recall@10"], "recall@20": None, "ndcg@10": result["rerank"]["ndcg@10"]}
