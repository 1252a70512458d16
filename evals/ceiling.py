"""How far the first turn of a conversation can go: the simulated user's opener says one genre of
its target and nothing else, so any system's first list is a function of that genre alone.

The best such function puts first, for each genre, the films that are most often the target of
users who open with it: an oracle that reads the very targets it is scored on. No system can beat
it on those targets, so its recall@10 is the ceiling of turn 1. Beside it, for the same openers:
popularity within the genre (what ``constraints-pop`` shows, before its understander and ties) and
the agent's stranger prior (popularity, recent popularity and genre specificity, before reranking).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from evals.simulator import SimulatedUser, build_personas
from tools.artifacts import Artifacts
from tools.recommend import RECENT_LAST, WEIGHTS
from tools.retrievers import ItemIndex
from tools.vectors import zscore


def opener_ceiling(art: Artifacts, target: str = "test", seed: int = 0, k: int = 10) -> dict[str, Any]:
    """Recall@k of turn-1 rankings that see only the genre the opener says (see the module doc)."""
    split = art.split
    index = ItemIndex(split.item_ids)
    ids = np.asarray(split.item_ids)
    genres = {it.item_id: set(it.genres) for it in art.catalog.get(ids.tolist())}
    said: list[tuple[str, int]] = []
    for persona in build_personas(art, seed=seed, target=target):
        user = SimulatedUser(persona, seed=seed)
        if user.genres:  # what opening() says: the first of its shuffled genres
            said.append((user.genres[0], int(index.to_iidx([persona.target.item_id])[0])))
    counts = Counter(said)
    pop = np.log1p(split.item_popularity().astype(np.float64))
    recent = np.log1p(split.recent_popularity(RECENT_LAST).astype(np.float64))
    w = WEIGHTS["constraints"]
    allowed = {g: index.to_iidx([i for i in ids.tolist() if g in genres[i]]) for g in {g for g, _ in said}}
    n_genres = np.array([max(len(genres[int(i)]), 1) for i in ids], dtype=np.float64)

    def prior(a: np.ndarray, g: str) -> np.ndarray:
        return w.pop * zscore(pop[a]) + w.recent * zscore(recent[a]) + w.specific * zscore(-np.log(n_genres[a]))

    rankings = {
        "oracle": lambda a, g: np.array([counts[(g, int(i))] for i in a], dtype=np.float64) + 1e-6 * pop[a],
        "popularity": lambda a, g: pop[a],
        "agent_prior": prior,
    }
    out = {}
    for name, score in rankings.items():
        hits = 0
        for g, t in said:
            a = allowed[g]
            top = a[np.argsort(-score(a, g), kind="stable")[:k]]
            hits += int(t in top)
        out[name] = round(hits / len(said), 4) if said else 0.0
    return {"target": target, "seed": seed, "k": k, "users": len(said), f"recall@{k}": out,
            "weights": w.model_dump(include={"pop", "recent", "specific"})}
