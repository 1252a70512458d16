"""The offline report: every row from one protocol, the agent's row through the conversation's own
ranker, paired intervals, provenance."""

from __future__ import annotations

import numpy as np
import pytest

from evals.offline import AGENT, OFFLINE_REQUEST, agent_ranks, format_table, offline_report


@pytest.fixture(scope="module")
def report(small_artifacts, small_config):
    return offline_report(small_artifacts, small_config.model_copy(update={"memory_dir": small_config.state_dir / "off"}),
                          target="test")


def test_validation_is_the_default_and_reads_no_test_target(small_artifacts, small_config):
    valid = offline_report(small_artifacts, small_config.model_copy(update={"memory_dir": small_config.state_dir / "v"}),
                           agent=False)
    assert valid["target"] == "valid" and all(set(r) - {"parts"} <= {"valid", "fusion_weight", "target_in_top_n",
                                                                       "generator_only"} for r in valid["models"].values())
    assert "valid targets" in format_table(valid)


def test_the_agent_row_is_the_conversations_first_list(report, small_artifacts, small_config, small_rec):
    """The offline agent row ranks with ConvRec itself: its hits are the hits of a real chat turn."""
    assert report["agent"] == AGENT and report["models"][AGENT]["test"]["recall@20"] is None
    test = small_artifacts.split.test.head(12)
    hits = 0
    for user, item in zip(test.user_id, test.item_id, strict=True):
        shown = [i.item_id for i in small_rec.chat(str(int(user)), OFFLINE_REQUEST, session_id="offline-check").items]
        hits += int(item) in shown
    ranks = agent_ranks(small_artifacts, small_config.model_copy(update={"memory_dir": small_config.state_dir / "o2"}),
                        "test")
    assert len(ranks) == len(small_artifacts.split.test)
    assert hits == int((ranks[:12] < 10).sum())
    assert report["models"][AGENT]["test"]["recall@10"] == pytest.approx(float((ranks < 10).mean()), abs=1e-4)


def test_every_claim_has_a_paired_interval(report):
    iv = report["intervals"]
    for name in [*report["baselines"], report["selected"]]:
        c = iv[f"agent vs {name}"]["ndcg@10"]
        assert c["lo"] <= c["mean"] <= c["hi"] and c["users"] == report["users"]
        # the interval's centre is the difference of the two rows' test means
        diff = report["models"][AGENT]["test"]["ndcg@10"] - report["models"][name]["test"]["ndcg@10"]
        assert c["mean"] == pytest.approx(diff, abs=2e-4)


def test_robustness_rows_and_provenance(report):
    sel = report["models"][report["selected"]]
    assert set(sel) >= {"valid", "test", "test-untied"}
    assert 0 < report["tied_test_targets"]["users"] < report["users"]
    assert sel["test-untied"]["ndcg@10"] != sel["test"]["ndcg@10"]
    assert report["machine"]["cores"] and "code" in report
    text = format_table(report)
    assert "agent vs" in text and "test-untied" in text and np.isfinite(report["seconds"])
