"""Paired bootstrap intervals: coverage, pairing, determinism, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from evals.stats import fmt, holds, mean_interval, paired, share_interval


def test_the_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        d = rng.binomial(1, 0.3, size=300).astype(float)  # a hit rate of 0.3
        iv = mean_interval(d, resamples=400, seed=trial)
        covered += iv["lo"] <= 0.3 <= iv["hi"]
    assert 0.88 <= covered / 200 <= 0.99


def test_pairing_removes_what_both_systems_share():
    rng = np.random.default_rng(2)
    hard = rng.normal(0, 1, 500)  # per-user difficulty, shared by both systems
    a, b = hard + 0.1 + rng.normal(0, 0.05, 500), hard + rng.normal(0, 0.05, 500)
    iv = paired(a, b)
    assert iv["above_zero"] and holds(iv) and not holds(iv, margin=0.2)
    unpaired = mean_interval(np.concatenate([a, -b]))  # what ignoring the pairing would see: far wider
    assert iv["hi"] - iv["lo"] < (unpaired["hi"] - unpaired["lo"]) / 5


def test_deterministic_and_formatted():
    d = [0.0, 1.0, 1.0, 0.0, 1.0]
    assert mean_interval(d) == mean_interval(d)
    assert fmt({"mean": 0.047, "lo": 0.021, "hi": 0.073}) == "+0.047 [+0.021, +0.073]"


def test_refuses_what_it_cannot_compare():
    with pytest.raises(ValueError, match="same users"):
        paired([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="non-empty"):
        mean_interval([])


def test_share_of_a_gap_and_its_interval():
    rng = np.random.default_rng(1)
    whole = rng.binomial(1, 0.4, size=2000).astype(float)  # known - stranger, per user (0 or 1 here)
    part = whole * rng.binomial(1, 0.5, size=2000)  # memory closes about half of it
    s = share_interval(part, whole)
    assert abs(s["share"] - 0.5) < 0.05 and s["lo"] < s["share"] < s["hi"] and s["hi"] - s["lo"] < 0.15
    assert share_interval(whole, whole)["share"] == 1.0 and share_interval(0 * whole, whole)["hi"] == 0.0
    with pytest.raises(ValueError):
        share_interval([1.0, 0.0], [1.0])


def _run(protocol: str, turns: list[int]) -> dict:
    return {"protocol": {"name": protocol, "max_turns": 5, "simulator": "template"},
            "per_user": {"agent": {"user_id": list(range(len(turns))), "success_turn": turns}}}


def test_memory_share_from_three_runs():
    from evals.report import format_share, memory_share

    n = 400
    known = _run("standard", [1] * n)  # every target at turn 1
    stranger = _run("cold-user", [3] * (n // 2) + [0] * (n // 2))  # half found at turn 3, half never
    memory = _run("memory", [1] * (n // 4) + [3] * (n // 4) + [1] * (n // 4) + [0] * (n // 4))
    out = memory_share(known, stranger, memory)
    assert out["success@5"]["stranger"] == 0.5 and out["success@5"]["memory"] == 0.75
    assert out["success@5"]["share"]["share"] == 0.5  # (0.75 - 0.5) / (1 - 0.5)
    assert out["turn-1 recall"]["share"]["share"] == 0.5  # (0.5 - 0) / (1 - 0)
    assert "| success@5 | 0.500 | 0.750 | 1.000 | 0.50" in format_share(out)
    with pytest.raises(ValueError):
        memory_share(stranger, known, memory)  # the runs in the wrong order


def test_memory_share_command_reads_three_runs_and_refuses_a_wrong_one(tmp_path):
    import json

    from typer.testing import CliRunner

    from ui.cli import app

    n = 200
    runs = {"known": _run("standard", [1] * n), "stranger": _run("cold-user", [0] * n),
            "memory": _run("memory", [1] * (n // 2) + [0] * (n // 2))}
    paths = []
    for name, run in runs.items():
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(run))
    out = CliRunner().invoke(app, ["eval", "memory-share", *map(str, paths), "--json", str(tmp_path / "share.json")])
    assert out.exit_code == 0, out.output
    assert "| turn-1 recall | 0.000 | 0.500 | 1.000 | 0.50" in out.output
    assert json.loads((tmp_path / "share.json").read_text())["success@5"]["share"]["share"] == 0.5
    bad = CliRunner().invoke(app, ["eval", "memory-share", str(paths[1]), str(paths[0]), str(paths[2])])
    assert bad.exit_code != 0 and "standard protocol" in bad.output
