"""How far perfect understanding would go: a diagnostic beside the systems, not a recommender.

``understanding-oracle`` hears a simulated user exactly as that user means every word. Each turn it
lists the catalog films that agree with every fact said so far (the simulator's own ``fits``: the
genres, eras, popularity, moods and "like X" in that user's sense), leaving out what it showed
before and the person's history, ranked by the agent's own ranking for the evidence at hand: the
collaborative model over the history and the films the person said they liked, popularity, recent
popularity and genre specificity, fused with ``tools.recommend.WEIGHTS`` and reordered by the
reranker, as ``Recommender.recommend`` does. It uses no text and asks nothing.

It reads nothing of the target beyond what the person said, so it is not an upper bound on every
system (the agent's text signal can beat it). It answers one question: with the words understood
perfectly and our ranking as it is, what would success be? The distance from the agent to it is what
understanding still costs; the distance from it to a goal is what understanding alone cannot reach.
Only protocols without earlier sessions: the oracle keeps no memory.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.state import RecItem, Reply
from tools.artifacts import Artifacts
from tools.recommend import RECENT_LAST, WEIGHTS, Evidence, Recommender
from tools.retrievers import CFRetriever, ItemIndex, fuse

ORACLE = "understanding-oracle"


class UnderstandingOracle:
    """The ``ConvRec`` surface ``evals.runner.converse`` uses (``chat``, ``system``, ``artifacts``,
    ``close``), listening to the simulated user it is given with ``listen``."""

    system = ORACLE

    def __init__(self, artifacts: Artifacts, history_upto: str = "valid", k: int = 10, candidates: int = 100,
                 rerank_shares: dict[str, float] | None = None):
        split = artifacts.split
        self.artifacts, self.k = artifacts, k
        self.index = ItemIndex(split.item_ids)
        self.rec = Recommender(artifacts.catalog, self.index, CFRetriever(artifacts.selected_cf, self.index), None,
                               split.item_popularity(), reranker=artifacts.reranker, n_candidates=candidates,
                               recent=split.recent_popularity(RECENT_LAST), rerank_shares=rerank_shares)
        self.histories = {str(int(split.user_ids[u])): [int(split.item_ids[i]) for i in seq]
                          for u, seq in enumerate(split.sequences(history_upto))}
        self.items = artifacts.catalog.get(split.item_ids.tolist())
        self._fits: Callable[[object], bool] | None = None
        self._claims: list[tuple[str, object]] = []
        self._shown: dict[str, set[int]] = {}

    def listen(self, sim) -> None:
        """The simulated user of the next conversation: its ``fits`` and its ``claims``."""
        self._fits, self._claims = sim.fits, sim.claims

    def chat(self, user_id: str, message: str, session_id: str) -> Reply:
        if self._fits is None:
            raise RuntimeError("the oracle hears a simulated user: call listen(sim) first")
        shown = self._shown.setdefault(session_id, set())
        history = self.histories.get(user_id, [])
        liked = [int(v) for kind, v in self._claims if kind in ("like", "enjoyed") and isinstance(v, int)]
        out = set(history) | shown | set(liked)
        allowed = self.index.to_iidx([it.item_id for it in self.items
                                      if it.item_id not in out and self._fits(it)])
        regime = Evidence(history=len(history), liked=len(liked)).regime
        w = WEIGHTS[regime]
        cf = self.rec._cf_scores(liked, history) if (history or liked) and w.cf else None
        said = self._genres_said()
        priors = {"recent": (self.rec.recent, w.recent),
                  "specific": (self.rec.specificity(said) if said and w.specific else None, w.specific)}
        found = fuse(allowed, self.index, self.rec.n_candidates, cf, None, self.rec.popularity,
                     cf_weight=w.cf, pop_weight=w.pop, priors=priors)
        ranked = self.rec.rerank(found, [*history, *liked], weight=self.rec.rerank_shares.get(regime), genres=said)[: self.k]
        shown.update(c.item_id for c in ranked)
        by_id = {it.item_id: it for it in self.artifacts.catalog.get([c.item_id for c in ranked])}
        items = [RecItem(item_id=c.item_id, title=by_id[c.item_id].title, year=by_id[c.item_id].year,
                         genres=by_id[c.item_id].genres, score=c.score, reason="") for c in ranked]
        return Reply(text=f"{len(allowed)} films fit what you said ({regime}).", items=items, session_id=session_id)

    def _genres_said(self) -> list[str]:
        """The catalog genres the person's genre words cover (the development user says catalog
        genres; the held-out user's words cover one or more)."""
        from evals.heldout import GENRE_WORDS

        out: list[str] = []
        for kind, value in self._claims:
            if kind == "genre":
                out += sorted(GENRE_WORDS[value]["covers"]) if value in GENRE_WORDS else [str(value)]
        return list(dict.fromkeys(out))

    def close(self) -> None:
        self._shown.clear()
