"""The reranker per evidence regime: the conversation's ranker with and without it, offline.

Each user with a target (validation or test) is ranked five ways, as a conversation's first list
would be after the person said one genre of the target (seeded):

- ``known``: the whole history before the target is known (an ml-100k user);
- ``remembered``: a returning person whose last ``NAMED`` films before it were liked in an earlier
  session (memory), nothing liked in this one;
- ``named``: a stranger who names the last ``NAMED`` films they watched before it;
- ``picked``: the same films, picked from a list we showed;
- ``stranger``: the genre alone.

Seen films are never candidates. Each regime is ranked by ``Recommender.recommend`` (the same
call, weights and candidates as a conversation), once with the reranker and once without; the
report gives NDCG@10 and Recall@10 of each and the paired 95% interval of the difference. No
simulated words: what the ranker adds here is its own, not the understander's.

``share_sweep`` is the diagnostic behind the reranker's one weight for every regime: NDCG@10 of
the same first lists (validation) at every generator share in ``SHARE_GRID``. Each regime's best
share here did not carry to conversations (docs/notes/issue25.md): its named and picked films are
the last ones watched, the very signal a next-item model reads best, where a person names the
films most like what they want.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from evals.stats import fmt, paired
from tools.catalog import ItemFilter
from tools.metrics import ndcg_at_k, recall_at_k
from tools.recommend import Recommender

NAMED = 2  # films a stranger names (or picks): the last ones they watched before the target
REGIMES = ("known", "remembered", "named", "picked", "stranger")
# each regime here is the evidence regime (tools.recommend.Evidence) its first list is ranked in
EVIDENCE_REGIME = {"known": "known", "remembered": "remembered", "named": "named", "picked": "picked",
                   "stranger": "constraints"}
SHARE_GRID = tuple(float(w) for w in np.round(np.linspace(0.0, 1.0, 21), 2))


def regime_states(split, catalog, target: str, seed: int) -> list[dict[str, Any]]:
    """Per user with a target: its item ids, history, the genre said, and the target."""
    if target not in ("valid", "test"):
        raise ValueError(f"target must be 'valid' or 'test', got {target!r}")
    frame = split.valid if target == "valid" else split.test
    seqs = split.sequences("train" if target == "valid" else "valid")
    rng = np.random.default_rng(seed)
    ids = split.item_ids
    targets = catalog.get([int(ids[i]) for i in frame.iidx])
    states = []
    for u, item in zip(frame.uidx.to_numpy(), targets, strict=True):
        history = [int(ids[i]) for i in seqs[u]]
        if not history or not item.genres:
            continue
        states.append({"user": int(split.user_ids[u]), "history": history, "target": item.item_id,
                       "genre": item.genres[int(rng.integers(len(item.genres)))]})
    return states


def request(state: dict[str, Any], regime: str) -> tuple[ItemFilter, dict[str, Any]]:
    """The filter (the genre said, seen films out) and the evidence ``recommend`` gets in ``regime``
    (as ``agent.nodes`` passes it: a remembered film is history that counts as remembered)."""
    flt = ItemFilter(genres_any=[state["genre"]], exclude=state["history"])
    named = state["history"][-NAMED:]
    signals = {"known": {"history": state["history"]}, "remembered": {"history": named, "remembered": named},
               "named": {"liked": named}, "picked": {"liked": named, "picked": named}, "stranger": {}}[regime]
    return flt, signals


def rank(rec: Recommender, state: dict[str, Any], regime: str, k: int) -> list[int]:
    """The first ``k`` items of the conversation's ranking for ``state`` in ``regime``."""
    flt, signals = request(state, regime)
    found = rec.recommend(flt, turn=1, **signals)
    return [c.item_id for c in found.candidates[:k]]


def without_reranker(rec: Recommender) -> Recommender:
    """The same recommender with its reranker off (the retrieval order); refuses one without it."""
    if rec.reranker is None:
        raise ValueError("the recommender has no reranker: build the artifacts with it")
    plain = copy.copy(rec)
    plain.reranker = None
    return plain


def share_sweep(rec: Recommender, split, target: str = "valid", seeds: tuple[int, ...] = (0, 1), k: int = 10,
                limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Per regime, NDCG@k of the first list at each generator share w in ``SHARE_GRID`` (the
    reranker's w * z(log p) + (1 - w) * z(retrieval score) over the same candidates), over the
    users of every seed (each seed says another genre of the target); the best share (ties: the
    smaller), the share in use (the regime's ``rerank_shares``, else the reranker's fusion weight)
    and the paired interval of best minus in use."""
    plain = without_reranker(rec)
    states = [s for seed in seeds for s in regime_states(split, rec.catalog, target, seed)[:limit]]
    out: dict[str, Any] = {"target": target, "seeds": list(seeds), "users": len(states), "k": k, "regimes": {}}
    for regime in REGIMES:
        used = rec.rerank_shares.get(EVIDENCE_REGIME[regime], rec.reranker.fusion_weight_)
        per: dict[float, list[float]] = {w: [] for w in sorted({*SHARE_GRID, used})}
        for s in tqdm(states, desc=f"sweep {regime}", disable=not progress):
            flt, signals = request(s, regime)
            found = plain.recommend(flt, turn=1, **signals).candidates
            ids = np.array([c.item_id for c in found])
            hist = rec.index.to_iidx([*signals.get("history", []), *signals.get("liked", [])])
            log_p = rec.reranker.log_probs(hist, rec.index.to_iidx(ids), [s["genre"]]) if len(ids) > 1 else np.zeros(len(ids))
            retrieval = np.array([c.score for c in found])
            for w in per:
                top = ids[np.argsort(-rec.reranker.fused_scores(log_p, retrieval, w), kind="stable")[:k]]
                per[w].append(ndcg_at_k(top.tolist(), [s["target"]], k))
        means = {w: float(np.mean(v)) for w, v in per.items()}
        best = max(SHARE_GRID, key=lambda w: (round(means[w], 6), -w))
        out["regimes"][regime] = {"ndcg": means, "best": best, "used": used,
                                  "best_minus_used": paired(per[best], per[used])}
    return out


def format_sweep(report: dict[str, Any]) -> str:
    k = report["k"]
    shown = [w for w in SHARE_GRID if round(w * 20) % 2 == 0]
    lines = [f"{report['target']} targets, seeds {report['seeds']} ({report['users']} first lists per regime): "
             f"NDCG@{k} by the generator's share",
             "| regime | " + " | ".join(f"{w:.1f}" for w in shown) + " | best | in use | best - in use |",
             "|---|" + "---|" * (len(shown) + 3)]
    for regime, part in report["regimes"].items():
        lines.append(f"| {regime} | " + " | ".join(f"{part['ndcg'][w]:.4f}" for w in shown)
                     + f" | {part['best']:.2f} ({part['ndcg'][part['best']]:.4f}) | {part['used']:.2f} "
                     f"({part['ndcg'][part['used']]:.4f}) | "
                     f"{fmt(part['best_minus_used'])} |")
    return "\n".join(lines)


def regime_report(rec: Recommender, split, target: str = "valid", seed: int = 0, k: int = 10,
                  limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """NDCG@k and Recall@k per regime with and without the reranker, with paired intervals."""
    plain = without_reranker(rec)
    states = regime_states(split, rec.catalog, target, seed)[:limit]
    out: dict[str, Any] = {"target": target, "users": len(states), "k": k, "named": NAMED, "regimes": {}}
    for regime in REGIMES:
        rows = {"rerank": ([], []), "no_rerank": ([], [])}
        for s in tqdm(states, desc=regime, disable=not progress):
            for name, r in (("rerank", rec), ("no_rerank", plain)):
                top = rank(r, s, regime, k)
                rows[name][0].append(ndcg_at_k(top, [s["target"]], k))
                rows[name][1].append(recall_at_k(top, [s["target"]], k))
        part = {}
        for m, j in ((f"ndcg@{k}", 0), (f"recall@{k}", 1)):
            a, b = rows["rerank"][j], rows["no_rerank"][j]
            part[m] = {"rerank": float(np.mean(a)), "no_rerank": float(np.mean(b)), "diff": paired(a, b)}
        out["regimes"][regime] = part
    return out


def format_regimes(report: dict[str, Any]) -> str:
    k = report["k"]
    lines = [f"{report['target']} targets, {report['users']} users, one genre said; the reranker's difference, paired 95%",
             f"| regime | NDCG@{k} no rerank / rerank | difference | Recall@{k} no rerank / rerank | difference |",
             "|---|---|---|---|---|"]
    for regime, part in report["regimes"].items():
        n, r = part[f"ndcg@{k}"], part[f"recall@{k}"]
        lines.append(f"| {regime} | {n['no_rerank']:.4f} / {n['rerank']:.4f} | {fmt(n['diff'])} | "
                     f"{r['no_rerank']:.4f} / {r['rerank']:.4f} | {fmt(r['diff'])} |")
    return "\n".join(lines)
