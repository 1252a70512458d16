"""Paired bootstrap intervals: every "A beats B" the reports state, over the same users.

Every number compared here is a mean over users of a per-user value (a hit, NDCG@10, a success
turn), so a comparison is the mean of a per-user difference, and its interval comes from
resampling users with replacement (the same resample for both systems: paired). The differences
can be of differences too: "the agent's drop between simulators is at most constraints-pop's" is
the mean of (agent_dev - agent_heldout) - (pop_dev - pop_heldout) per user.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
SEED = 0


def mean_interval(d: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED,
                  level: float = LEVEL) -> dict[str, Any]:
    """The mean of per-user values ``d`` and its percentile bootstrap interval (users resampled)."""
    d = np.asarray(d, dtype=np.float64)
    if d.ndim != 1 or len(d) == 0:
        raise ValueError("mean_interval needs a non-empty 1-d array of per-user values")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for s in range(0, resamples, 250):  # in blocks: 250 x users indices at a time
        n = min(250, resamples - s)
        means[s : s + n] = d[rng.integers(0, len(d), size=(n, len(d)))].mean(axis=1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(means, [alpha, 1 - alpha])
    return {"mean": round(float(d.mean()), 4), "lo": round(float(lo), 4), "hi": round(float(hi), 4),
            "users": int(len(d)), "above_zero": bool(lo > 0), "below_zero": bool(hi < 0)}


def paired(a: Sequence[float], b: Sequence[float], **kw) -> dict[str, Any]:
    """Mean of a - b over the same users, with its paired bootstrap interval."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired values need the same users: {a.shape} vs {b.shape}")
    return mean_interval(a - b, **kw)


def share_interval(part: Sequence[float], whole: Sequence[float], resamples: int = RESAMPLES, seed: int = SEED,
                   level: float = LEVEL) -> dict[str, Any]:
    """mean(part) / mean(whole) over the same users, with its percentile bootstrap interval (users
    resampled together): how much of a gap ``whole`` (e.g. known history - stranger, per user) a
    system closes (``part``: memory - stranger). None bounds where a resample's whole is 0."""
    part, whole = np.asarray(part, dtype=np.float64), np.asarray(whole, dtype=np.float64)
    if part.shape != whole.shape or part.ndim != 1 or len(part) == 0:
        raise ValueError("share_interval needs two same-length, non-empty 1-d arrays of per-user values")
    rng = np.random.default_rng(seed)
    ratios = []
    for s in range(0, resamples, 250):
        idx = rng.integers(0, len(part), size=(min(250, resamples - s), len(part)))
        num, den = part[idx].mean(axis=1), whole[idx].mean(axis=1)
        ratios += list(num[den != 0] / den[den != 0])
    point = part.mean() / whole.mean() if whole.mean() else float("nan")
    alpha = (1 - level) / 2
    lo, hi = np.quantile(ratios, [alpha, 1 - alpha]) if ratios else (float("nan"), float("nan"))
    return {"share": round(float(point), 4), "lo": round(float(lo), 4), "hi": round(float(hi), 4),
            "part": round(float(part.mean()), 4), "whole": round(float(whole.mean()), 4), "users": int(len(part))}


def holds(interval: dict[str, Any], margin: float = 0.0) -> bool:
    """A claim "A beats B by at least ``margin``" holds when the whole interval is above the margin."""
    return interval["lo"] > margin


def fmt(interval: dict[str, Any], digits: int = 3) -> str:
    """'+0.047 [+0.021, +0.073]'."""
    return f"{interval['mean']:+.{digits}f} [{interval['lo']:+.{digits}f}, {interval['hi']:+.{digits}f}]"
