"""How far the first turn of a conversation can go: the simulated user's opener says one genre of
its target and nothing else, so any system's first list is a function of that genre alone.

The best such function puts first, for each genre, the films that are most often the target of
users who open with it: an oracle that reads the very targets it is scored on. No system can beat
it on those targets, so its recall@10 is the ceiling of turn 1. Beside it, for the same openers:
popularity within the genre (what ``constraints-pop`` shows, before its understander and ties) and
the agent's stranger prior (popularity, recent popularity and genre specificity, before reranking).

The oracle is an in-sample maximum: with about 50 targets per genre, its top 10 per genre also
fits their luck. ``oracle_cross_fitted`` is the same rule cross-fitted: the users are split in
FOLDS parts (seeded) and each part is ranked by the counts of the others, so it reaches what a
ranking that knows the distribution of such targets (not these very targets) can reach.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from evals.simulator import SimulatedUser, build_personas
from tools.artifacts import Artifacts
from tools.constraints import Constraints
from tools.recommend import RECENT_LAST, WEIGHTS, Recommender
from tools.retrievers import ItemIndex

FOLDS = 10  # the cross-fitted oracle: each tenth of the openers ranked by the other nine tenths' targets


def opener_ceiling(art: Artifacts, target: str = "test", seed: int = 0, k: int = 10) -> dict[str, Any]:
    """Recall@k of turn-1 rankings that see only the genre the opener says (see the module doc)."""
    split = art.split
    index = ItemIndex(split.item_ids)
    # the agent's own retrieval for a stranger (no CF, no text: constraints and priors only)
    rec = Recommender(art.catalog, index, None, None, split.item_popularity(), n_candidates=k,
                      recent=split.recent_popularity(RECENT_LAST))
    said: list[tuple[str, int]] = []
    for persona in build_personas(art, seed=seed, target=target):
        user = SimulatedUser(persona, seed=seed)
        if user.genres:  # what opening() says: the first of its shuffled genres
            said.append((user.genres[0], persona.target.item_id))
    counts = Counter(said)
    genres = {g for g, _ in said}
    by_genre = {g: Constraints(genres=[g]).to_filter(rec) for g in genres}

    def oracle(g: str, counts: Counter = counts) -> list[int]:
        allowed = rec.catalog.filter(by_genre[g])
        return sorted(allowed, key=lambda i: (-counts[(g, i)], -rec.popularity[index.to_iidx([i])[0]]))[:k]

    fold = np.random.default_rng(seed).permutation(len(said)) % FOLDS  # each opener's part
    crossfit = {}
    for part in range(FOLDS):
        rest = Counter(p for p, f in zip(said, fold, strict=True) if f != part)
        crossfit[part] = {g: oracle(g, rest) for g in genres}
    rankings = {
        "oracle": {g: oracle(g) for g in genres},
        # what constraints-pop shows (popularity alone) and the agent's prior before reranking
        "popularity": {g: [c.item_id for c in rec.candidates(by_genre[g], use_cf=False).candidates] for g in genres},
        "agent_prior": {g: [c.item_id for c in rec.candidates(by_genre[g]).candidates] for g in genres},
    }
    out = {name: round(sum(t in top[g][:k] for g, t in said) / len(said), 4) if said else 0.0
           for name, top in rankings.items()}
    if said:
        out["oracle_cross_fitted"] = round(sum(t in crossfit[f][g] for (g, t), f in zip(said, fold, strict=True))
                                           / len(said), 4)
    return {"target": target, "seed": seed, "k": k, "users": len(said), f"recall@{k}": out,
            "weights": WEIGHTS["constraints"].model_dump(include={"pop", "recent", "specific"})}
