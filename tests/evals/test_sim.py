"""Simulated-user evaluation: metrics on hand-made conversations, leaks, fairness, determinism."""

from __future__ import annotations

import json
import random

import pytest
from typer.testing import CliRunner

from agent.understand import OfflineUnderstander
from evals.report import check_goals, render_markdown, write_report
from evals.runner import (
    Conversation,
    SimSettings,
    Turn,
    bucket_of,
    conversation_metrics,
    conversation_record,
    run_simulation,
    select_personas,
    summarize,
    system_summary,
)
from evals.simulator import (
    LLMSimulatedUser,
    Shown,
    SimulatedUser,
    build_personas,
    leaks,
    tastes_statement,
)
from tests.llm_server import ScriptedLLM
from tools.catalog import Item

SYSTEMS = ["agent", "pop"]


def _turn(shown, target):
    return Turn("msg", "reply", None, shown, shown.index(target) if target in shown else None, 1.0)


def _conv(turn_lists, target=7, pop=50, activity=60):
    return Conversation("agent", 1, target, pop, activity, [_turn(s, target) for s in turn_lists])


# ---- metrics ------------------------------------------------------------------------------------

def test_metrics_on_hand_made_conversations():
    found_at_2 = _conv([[1, 2, 3], [4, 5, 7]])  # target at rank 2 (0-based) of turn 2
    found_at_1 = _conv([[7, 1, 2]])
    never = _conv([[1], [2], [3]])
    m = conversation_metrics(found_at_2, max_turns=3, k=3)
    assert m == {"success": True, "turns": 2, "recall": [0.0, 1.0, 1.0], "ndcg": pytest.approx(0.5)}
    assert conversation_metrics(never, 3, 3) == {"success": False, "turns": 3, "recall": [0, 0, 0], "ndcg": 0}
    s = summarize([found_at_2, found_at_1, never], max_turns=3, k=3)
    assert s["users"] == 3
    assert s["success@3"] == pytest.approx(2 / 3, abs=1e-4)
    assert s["avg_turns"] == pytest.approx((2 + 1 + 3) / 3, abs=1e-4)  # a failure counts N
    assert s["recall@3_by_turn"] == pytest.approx([1 / 3, 2 / 3, 2 / 3], abs=1e-4)
    assert s["ndcg@3"] == pytest.approx((0.5 + 1.0 + 0.0) / 3, abs=1e-4)
    # k cuts the list: rank 2 is outside the top 2
    assert conversation_metrics(found_at_2, 3, 2)["recall"][1] == 0.0


def test_buckets():
    assert [bucket_of(p, (("cold", 0, 10), ("mid", 11, 100), ("warm", 101, None))) for p in (0, 10, 11, 100, 101, 9999)] \
        == ["cold", "cold", "mid", "mid", "warm", "warm"]
    out = system_summary([_conv([[7]], pop=3, activity=20), _conv([[1]], pop=500, activity=400)], 1, 10)
    assert out["target_popularity"]["cold"]["success@1"] == 1.0
    assert out["target_popularity"]["warm"]["success@1"] == 0.0
    assert out["target_popularity"]["mid"] == {"users": 0}
    assert out["user_activity"]["light"]["users"] == out["user_activity"]["heavy"]["users"] == 1


# ---- leaks --------------------------------------------------------------------------------------

def _item(title, item_id=127, year=1972, genres=("Crime", "Drama")):
    return Item(item_id=item_id, title=title, year=year, genres=list(genres), popularity=100)


@pytest.mark.parametrize("message, leaked", [
    ("I want to see The Godfather tonight", True),
    ("something like GODFATHER, please", True),
    ("the godfather!", True),
    ("a mafia movie from the 70s", False),
    ("the one with id 127", True),
    ("item #127?", True),
    ("something from 1972 or 1275", False),
    ("godfathers of soul", False),
])
def test_leak_check_on_titles_and_ids(message, leaked):
    assert leaks(message, _item("The Godfather")) is leaked


def test_leak_check_forms():
    seven = _item("Seven (Se7en)", item_id=11)
    assert leaks("something like se7en", seven) and leaks("Seven, please", seven)
    la = _item("L.A. Confidential", item_id=302)
    assert leaks("like l.a. confidential", la) and leaks("like LA Confidential", la) and leaks("l a confidential", la)
    assert not leaks("something from LA", la)
    assert leaks("something like 12 Monkeys", _item("Twelve Monkeys", item_id=12))  # the id, standalone


@pytest.fixture(scope="module")
def personas(small_artifacts):
    return build_personas(small_artifacts, seed=0)


def _random_list(rng, catalog_items, target, k=10):
    return [it for it in rng.sample(catalog_items, k + 1) if it.item_id != target.item_id][:k]


def test_template_user_never_leaks_and_only_says_true_things(small_artifacts, personas):
    """Drive every persona for 8 turns against random lists: no message leaks, and each message,
    as the offline understander reads it, is true of the target (so listening never loses it)."""
    und = OfflineUnderstander(small_artifacts.catalog)
    items = small_artifacts.catalog.get(small_artifacts.catalog.item_ids)
    rng = random.Random(0)
    parsed_any = {"genres_in": 0, "genres_out": 0, "years": 0, "liked": 0, "relative": 0}
    for p in personas:
        sim = SimulatedUser(p, seed=0)
        history = {it.item_id for it in p.history}
        messages = [sim.opening()]
        for _ in range(8):
            messages.append(sim.respond(Shown(items=_random_list(rng, items, p.target))))
        for m in messages + tastes_statement(p):
            assert not leaks(m, p.target), (p.user_id, m)
            r = und.parse(m, shown=[1, 2, 3])
            t = p.target
            assert not r.unknown_titles and not r.ambiguous_titles, m
            if r.genres_in:
                assert set(r.genres_in) & set(t.genres), (m, t)
                parsed_any["genres_in"] += 1
            assert not set(r.genres_out) & set(t.genres), (m, t)
            parsed_any["genres_out"] += bool(r.genres_out)
            if r.year_min or r.year_max:
                assert (r.year_min or 0) <= t.year <= (r.year_max or 9999), (m, t)
                parsed_any["years"] += 1
            assert set(r.liked_items) <= history, (m, r.liked_items)
            parsed_any["liked"] += bool(r.liked_items)
            parsed_any["relative"] += bool(r.relative_year)
    assert all(parsed_any.values()), parsed_any  # every kind of statement was made and understood


def test_template_user_answers_a_question(personas):
    sim = SimulatedUser(personas[0], seed=0)
    sim.opening()
    answer = sim.respond(Shown(items=[], question="What are you in the mood for?"))
    assert answer and not leaks(answer, personas[0].target)


# ---- full runs: leaks, determinism, report ------------------------------------------------------

@pytest.fixture(scope="module")
def run_twice(small_artifacts, small_config):
    settings = SimSettings(users=20, max_turns=3, systems=SYSTEMS, seed=3)
    first = run_simulation(settings, small_config, progress=False, art=small_artifacts)
    second = run_simulation(settings, small_config, progress=False, art=small_artifacts)
    return settings, first, second


def test_no_simulator_message_leaks_in_a_full_run(run_twice, small_artifacts):
    _, (report, convs), _ = run_twice
    assert len(convs) == 20 * len(SYSTEMS)
    assert any(len(c.turns) == 3 for c in convs)  # some conversations ran to the end
    for c in convs:
        target = small_artifacts.catalog.get([c.target])[0]
        for t in c.turns:
            assert not leaks(t.message, target), (c.user_id, t.message)


def test_same_seed_same_json(run_twice):
    _, (a, convs_a), (b, convs_b) = run_twice
    assert json.dumps({k: v for k, v in a.items() if k != "run"}, sort_keys=True) == \
        json.dumps({k: v for k, v in b.items() if k != "run"}, sort_keys=True)
    assert [[t.message for t in c.turns] for c in convs_a] == [[t.message for t in c.turns] for c in convs_b]


def test_report_shape_and_files(run_twice, small_artifacts, tmp_path):
    settings, (report, convs), _ = run_twice
    assert report["protocol"]["users"] == 20 and report["protocol"]["seed"] == 3
    for name in SYSTEMS:
        r = report["systems"][name]
        assert set(r) == {"all", "target_popularity", "user_activity"}
        assert len(r["all"]["recall@10_by_turn"]) == 3
        assert r["all"]["recall@10_by_turn"] == sorted(r["all"]["recall@10_by_turn"])  # cumulative
        assert sum(b["users"] for b in r["target_popularity"].values()) == 20
        assert report["run"]["wall_s"][name] > 0
    path = write_report(report, tmp_path, [conversation_record(c, small_artifacts.catalog) for c in convs])
    md = path.read_text()
    assert "| agent |" in md and "recall_by_turn.png" in md and "versions" in md
    assert (tmp_path / "recall_by_turn.png").stat().st_size > 1000
    assert (tmp_path / "success_by_bucket.png").stat().st_size > 1000
    assert len((tmp_path / "conversations.jsonl").read_text().splitlines()) == len(convs)
    assert check_goals(report)[0][0] == "success@3 >= 0.9"
    assert render_markdown(report)


def test_memory_protocol_states_tastes_in_session_one(small_artifacts, small_config):
    settings = SimSettings(users=4, max_turns=2, systems=["agent"], protocol="memory")
    report, convs = run_simulation(settings, small_config, progress=False, art=small_artifacts)
    assert report["protocol"]["name"] == "memory"
    assert all(c.setup for c in convs)
    assert any("I loved" in m or "can't stand" in m for c in convs for m in c.setup)


def test_validation_targets_for_tuning(small_artifacts, small_config):
    """With target=valid the users want their validation item, which the agent can show (its
    history is then train only); with the default the same item is history and never shown."""
    settings = SimSettings(users=6, max_turns=3, systems=["agent"], target="valid")
    personas = select_personas(small_artifacts, settings)
    valid = small_artifacts.split.valid.set_index("user_id").item_id
    assert all(p.target.item_id == valid.loc[p.user_id] for p in personas)
    report, convs = run_simulation(settings, small_config, progress=False, art=small_artifacts)
    assert report["protocol"]["target"] == "valid"
    assert len(convs) == 6 and all(c.turns for c in convs)
    from agent import ConvRec

    tuning = ConvRec(small_artifacts, small_config.model_copy(update={"memory_dir": small_config.state_dir / "v"}),
                     history_upto="train", use_memory=False)
    for p in personas:
        assert p.target.item_id not in tuning.tools.histories[str(p.user_id)]
        assert p.target.item_id in small_artifacts_history(small_artifacts, p.user_id)
    tuning.close()


def small_artifacts_history(art, user_id):
    """The default (test-time) history: train + valid item ids of one user."""
    split = art.split
    rows = split.valid[split.valid.user_id == user_id]
    return set(split.train[split.train.user_id == user_id].item_id) | set(rows.item_id)


def test_cold_protocol_needs_cold_artifacts(small_artifacts):
    with pytest.raises(ValueError, match="COLD_ITEMS"):
        select_personas(small_artifacts, SimSettings(protocol="cold"))


def test_unknown_system_is_refused():
    with pytest.raises(ValueError, match="unknown systems"):
        SimSettings(systems=["agent", "gpt"])


# ---- the LLM simulator --------------------------------------------------------------------------

def test_llm_simulator_regenerates_a_leaking_message(personas, small_config):
    p = personas[0]
    script = [{"content": f"I want {p.target.title}!"}, {"content": "Something cosy for tonight."},
              {"content": f"id {p.target.item_id} please"}, {"content": p.target.title.upper()},
              {"content": p.target.title}]
    with ScriptedLLM(script) as llm:
        config = small_config.model_copy(update={"llm_base_url": llm.base_url, "llm_model": "scripted", "llm_timeout": 2.0})
        sim = LLMSimulatedUser(p, config, seed=0, retries=2)
        assert sim.opening() == "Something cosy for tonight."
        assert p.target.title in llm.requests[0]["messages"][0]["content"]  # told the target
        fallback = sim.respond(Shown(items=[]))  # three leaking answers in a row: the template's message
        assert not leaks(fallback, p.target) and fallback
        assert sim.regenerated == 4 and sim.fallbacks == 1


# ---- the command --------------------------------------------------------------------------------

def test_cli_eval_sim(small_artifacts, small_config, tmp_path, monkeypatch):
    from ui.cli import app

    monkeypatch.setenv("CONVREC_HOME", str(small_config.home))
    monkeypatch.setenv("CONVREC_DATASET", small_config.dataset)
    monkeypatch.setenv("CONVREC_ARTIFACTS", str(small_config.artifacts_dir))
    out = CliRunner().invoke(app, ["eval", "sim", "--users", "3", "--max-turns", "2", "--systems", "pop",
                                   "--json", str(tmp_path / "r.json"), "--report", str(tmp_path / "rep")])
    assert out.exit_code == 0, out.output
    assert "| pop |" in out.output
    assert json.loads((tmp_path / "r.json").read_text())["protocol"]["users"] == 3
    assert (tmp_path / "rep" / "report.md").exists()
    bad = CliRunner().invoke(app, ["eval", "sim", "--systems", "nope"])
    assert bad.exit_code == 2 and "unknown systems" in bad.output
