"""The reranker per evidence regime: the conversation's ranker with and without it, offline.

Each user with a target (validation or test) is ranked four ways, as a conversation's first list
would be after the person said one genre of the target (seeded):

- ``known``: the whole history before the target is known (an ml-100k user);
- ``named``: a stranger who names the last ``NAMED`` films they watched before it;
- ``picked``: the same films, picked from a list we showed;
- ``stranger``: the genre alone.

Seen films are never candidates. Each regime is ranked by ``Recommender.recommend`` (the same
call, weights and candidates as a conversation), once with the reranker and once without; the
report gives NDCG@10 and Recall@10 of each and the paired 95% interval of the difference. No
simulated words: what the ranker adds here is its own, not the understander's.
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
REGIMES = ("known", "named", "picked", "stranger")


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


def rank(rec: Recommender, state: dict[str, Any], regime: str, k: int) -> list[int]:
    """The first ``k`` items of the conversation's ranking for ``state`` in ``regime``."""
    flt = ItemFilter(genres_any=[state["genre"]], exclude=state["history"])
    named = state["history"][-NAMED:]
    signals = {"known": {"history": state["history"]}, "named": {"liked": named},
               "picked": {"liked": named, "picked": named}, "stranger": {}}[regime]
    found = rec.recommend(flt, turn=1, **signals)
    return [c.item_id for c in found.candidates[:k]]


def regime_report(rec: Recommender, split, target: str = "valid", seed: int = 0, k: int = 10,
                  limit: int | None = None, progress: bool = True) -> dict[str, Any]:
    """NDCG@k and Recall@k per regime with and without the reranker, with paired intervals."""
    if rec.reranker is None:
        raise ValueError("the recommender has no reranker: build the artifacts with it")
    plain = copy.copy(rec)
    plain.reranker = None
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
