"""The reranker per evidence regime (evals/regimes.py) on the small real build."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from evals.regimes import (
    EVIDENCE_REGIME,
    NAMED,
    REGIMES,
    SHARE_GRID,
    format_regimes,
    format_sweep,
    rank,
    regime_report,
    regime_states,
    request,
    share_sweep,
)


@pytest.fixture(scope="module")
def rec(small_rec):
    return small_rec.tools.recommender


def test_states_say_a_genre_of_the_target_and_hold_the_history_before_it(small_artifacts):
    split, catalog = small_artifacts.split, small_artifacts.catalog
    states = regime_states(split, catalog, "valid", seed=0)
    assert len(states) > 100
    seqs = split.sequences("train")
    for s in states[:40]:
        (target,) = catalog.get([s["target"]])
        assert s["genre"] in target.genres
        u = int(np.flatnonzero(split.user_ids == s["user"])[0])
        assert s["history"] == [int(split.item_ids[i]) for i in seqs[u]]  # valid: the train part only
        assert s["target"] not in s["history"]
    # the same seed says the same genres; another seed says another genre for some target
    assert regime_states(split, catalog, "valid", seed=0) == states
    other = regime_states(split, catalog, "valid", seed=1)
    assert [s["target"] for s in other] == [s["target"] for s in states]
    assert any(a["genre"] != b["genre"] for a, b in zip(states, other, strict=True))
    with pytest.raises(ValueError, match="valid"):
        regime_states(split, catalog, "train", seed=0)


def test_each_regime_ranks_from_its_own_evidence(rec, small_artifacts):
    s = regime_states(small_artifacts.split, small_artifacts.catalog, "test", seed=0)[3]
    lists = {r: rank(rec, s, r, 10) for r in REGIMES}
    for top in lists.values():  # seen films are never listed; every film has the genre said
        assert not set(top) & set(s["history"])
        assert all(s["genre"] in it.genres for it in rec.catalog.get(top))
    # the history, the films named and nothing at all give different lists
    assert lists["known"] != lists["stranger"] and lists["named"] != lists["stranger"]
    assert lists["remembered"] != lists["stranger"]
    assert len(s["history"]) > NAMED
    # each regime's first list is ranked in the evidence regime (the WEIGHTS row) it stands for
    for regime in REGIMES:
        flt, signals = request(s, regime)
        assert rec.candidates(flt, turn=1, **signals).evidence.regime == EVIDENCE_REGIME[regime]


def test_the_sweep_at_the_share_in_use_is_the_conversations_own_ranking(rec, small_artifacts):
    """The sweep fuses the same candidates the way ``recommend`` does: at the share in use its
    NDCG@10 is the report's with the reranker, at 0 the report's without (seed 0 alone)."""
    sweep = share_sweep(rec, small_artifacts.split, seeds=(0,), limit=30, progress=False)
    report = regime_report(rec, small_artifacts.split, target="valid", seed=0, limit=30, progress=False)
    assert sweep["users"] == 30 and set(sweep["regimes"]) == set(REGIMES)
    for regime, part in sweep["regimes"].items():
        assert part["used"] == rec.reranker.fusion_weight_
        assert part["ndcg"][part["used"]] == pytest.approx(report["regimes"][regime]["ndcg@10"]["rerank"])
        assert part["ndcg"][0.0] == pytest.approx(report["regimes"][regime]["ndcg@10"]["no_rerank"])
        assert part["best"] in SHARE_GRID
        assert part["ndcg"][part["best"]] == pytest.approx(max(part["ndcg"][w] for w in SHARE_GRID), abs=1e-6)
        assert part["best_minus_used"]["mean"] >= 0
    assert "| picked |" in format_sweep(sweep)


def test_report_pairs_the_same_users_with_and_without_the_reranker(rec, small_artifacts):
    # the small build's 2-epoch generator may get fusion weight 0 on validation (the retrieval
    # order); give it a share so that the report has something to pair
    mixed = copy.copy(rec)
    mixed.reranker = copy.copy(rec.reranker)
    mixed.reranker.fusion_weight_ = 0.5
    report = regime_report(mixed, small_artifacts.split, target="valid", limit=40, progress=False)
    assert report["users"] == 40 and set(report["regimes"]) == set(REGIMES)
    for part in report["regimes"].values():
        for metric in ("ndcg@10", "recall@10"):
            m = part[metric]
            assert m["diff"]["mean"] == pytest.approx(m["rerank"] - m["no_rerank"], abs=1e-4)  # rounded
            assert m["diff"]["lo"] <= m["diff"]["mean"] <= m["diff"]["hi"]
    # the reranker really reorders: some regime's lists differ with and without it
    assert any(part["ndcg@10"]["rerank"] != part["ndcg@10"]["no_rerank"] for part in report["regimes"].values())
    assert "| known |" in format_regimes(report)
    plain = copy.copy(rec)
    plain.reranker = None
    with pytest.raises(ValueError, match="no reranker"):
        regime_report(plain, small_artifacts.split, limit=5)
