"""Constrained decoding: beam search over a prefix trie of the candidates' codes.

The trie only has the code prefixes of the candidate items, and the beam search only expands a
prefix into children the trie has, so every finished beam is a candidate: the generator cannot
produce an item outside the candidate set, by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

# step(level, prefixes) -> log-probabilities (n_prefixes, vocab of that level);
# prefixes is (n_prefixes, level) int64, the codes already generated for each beam
StepFn = Callable[[int, np.ndarray], np.ndarray]


class PrefixTrie:
    """The code prefixes of a set of items, one array of nodes per level.

    Level ``l`` (1..L) has one node per distinct prefix of length ``l``; nodes are sorted by prefix,
    so the children of one parent are contiguous. ``parent_[l]``, ``token_[l]`` and ``prefix_[l]``
    describe the nodes of level ``l``; the last level's nodes are the items, ``items_`` in order.
    """

    def __init__(self, codes: np.ndarray, items: Sequence[int], vocab_sizes: Sequence[int]):
        codes = np.asarray(codes, dtype=np.int64).reshape(len(items), len(vocab_sizes))
        self.items = np.asarray(items, dtype=np.int64)
        self.depth = len(vocab_sizes)
        self.parent_: list[np.ndarray] = [np.zeros(0, np.int64)]
        self.token_: list[np.ndarray] = [np.zeros(0, np.int64)]
        self.prefix_: list[np.ndarray] = [np.zeros((1, 0), np.int64)]
        key = np.zeros(len(codes), dtype=np.int64)
        node_prev = np.zeros(len(codes), dtype=np.int64)
        for level, v in enumerate(vocab_sizes):
            key = key * int(v) + codes[:, level]
            _, first, node = np.unique(key, return_index=True, return_inverse=True)
            self.parent_.append(node_prev[first])
            self.token_.append(codes[first, level])
            self.prefix_.append(codes[first, : level + 1])
            node_prev = node
        if len(self.items) and len(self.token_[-1]) != len(self.items):
            raise ValueError("two candidates share a code: semantic IDs must be unique per item")
        order = np.empty(len(self.items), dtype=np.int64)
        order[node_prev] = np.arange(len(self.items))
        self.items_ = self.items[order]  # the item of each last-level node

    def children(self, prefix: Sequence[int]) -> list[int]:
        """The tokens that follow ``prefix`` among the candidates (empty when the prefix is absent)."""
        level = len(prefix)
        if level >= self.depth:
            return []
        if level == 0:
            return sorted(set(self.token_[1].tolist()))
        hit = np.flatnonzero((self.prefix_[level] == np.asarray(prefix)).all(1))
        if len(hit) == 0:
            return []
        return self.token_[level + 1][self.parent_[level + 1] == hit[0]].tolist()

    def item(self, code: Sequence[int]) -> int | None:
        """The candidate with this full code, or None."""
        hit = np.flatnonzero((self.prefix_[self.depth] == np.asarray(code)).all(1))
        return int(self.items_[hit[0]]) if len(hit) else None


def beam_search(step: StepFn, trie: PrefixTrie, beam_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Items and log-probabilities of the finished beams, best first (at most ``beam_size``).

    At each level the model's log-probabilities are renormalised over the children the trie allows,
    so a beam's score is the log-probability of its item given that the answer is a candidate.
    """
    if beam_size < 1:
        raise ValueError(f"beam_size must be at least 1, got {beam_size}")
    if len(trie.items) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float64)
    beams = np.zeros(1, dtype=np.int64)  # node ids at the current level (level 0: the root)
    scores = np.zeros(1, dtype=np.float64)
    for level in range(trie.depth):
        logp = step(level, trie.prefix_[level][beams])
        slot = np.full(len(trie.prefix_[level]), -1, dtype=np.int64)
        slot[beams] = np.arange(len(beams))
        parent = trie.parent_[level + 1]
        child = np.flatnonzero(slot[parent] >= 0)  # contiguous runs, one per beam
        row = slot[parent[child]]
        lp = logp[row, trie.token_[level + 1][child]].astype(np.float64)
        # children of one beam are contiguous: renormalise each run with a log-sum-exp
        starts = np.flatnonzero(np.concatenate([[True], row[1:] != row[:-1]]))
        sizes = np.diff(np.append(starts, len(lp)))
        m = np.repeat(np.maximum.reduceat(lp, starts), sizes)
        norm = np.repeat(np.log(np.add.reduceat(np.exp(lp - m), starts)), sizes) + m
        total = scores[row] + lp - norm
        keep = np.argsort(-total, kind="stable")[:beam_size]
        beams, scores = child[keep], total[keep]
    return trie.items_[beams], scores
