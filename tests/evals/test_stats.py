"""Paired bootstrap intervals: coverage, pairing, determinism, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from evals.stats import fmt, holds, mean_interval, paired


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
