"""The recommender the dialogue calls: constraints -> candidates -> rerank, ``similar``, ``explain``.

One object owns the catalog, the item index, both retrievers, the reranker and popularity. Item
ids in and out are catalog ``item_id`` values (the models' indices never leave this module), and
every input is a plain value: no dialogue state, so this can be tested and reused without the
agent. A new recommendation behaviour is one method here and one node in ``agent/``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Literal, Protocol

import numpy as np
from pydantic import BaseModel, Field
from scipy.special import comb

from tools.catalog import Catalog, Item, ItemFilter
from tools.constraints import KINDS, Constraints, Kind
from tools.retrievers import Candidate, CFRetriever, ItemIndex, SemanticRetriever, fuse

POPULAR_PERCENTILE = 90  # the hits: at least as many viewers as 90% of the catalog's items
# A person's "a big hit" or "a hidden gem" has no sharp edge, and their edge is not ours: the words
# rule out only what is plainly the other thing (a "popular" film is watched at least as much as the
# median film; a "lesser-known" one is not among the hits) and rank the rest by how popular it is,
# up or down, with this weight in standardised units beside CF and text (set before measuring, not
# tuned; issue 21's held-out user showed it: the films our old edges ruled out lay near them)
POPULAR_FLOOR_PERCENTILE = 50  # "popular": at least the median film's viewers; "lesser-known": below the hits
ASKED_POPULARITY_WEIGHT = 1.0  # in place of the regime's own popularity weight (WEIGHTS: 0.2 to 1.0)
TEXT_WEIGHT_VIBE = 1.0  # CF carries taste, text carries what was said...
TEXT_WEIGHT_TITLES = 0.5  # ...and without words said, text only adds "like X" content
TEXT_REASON_MIN = 1.0  # standardised text similarity above which "close to what you said" is true
RECENT_LAST = 10  # recent popularity: how often an item is among its viewers' last this-many items
TONE_WEIGHT = 0.5  # a tone's lean over genres, in standardised units beside CF and text (not tuned: no
# simulated user says tones; small enough that it reorders within what was asked, never overrides it)
ALSO_K = 20  # per extra filter of ``Recommender.recommend`` (a remembered genre or era), films added to the pool
Regime = Literal["known", "remembered", "named", "picked", "words", "constraints"]


class Weights(BaseModel):
    """How one regime of evidence fuses the signals (see ``WEIGHTS``)."""

    cf: float = Field(description="CF of the history and the films named this session")
    text: float = Field(description="text similarity to the words said (halved when only titles were named)")
    pop: float = Field(description="popularity in the training data (log viewers)")
    recent: float = Field(description="recent popularity: among viewers' last RECENT_LAST items")
    specific: float = Field(0.0, description="how likely the genres said name the item: -log C(its genres, those said)")


# The weights by the evidence a turn holds, first match wins: a known history (ml-100k user), films
# liked in an earlier session and nothing liked in this one (memory, issue 12), films named this
# session unprompted, films only picked from a list we showed, words beyond the constraints, or
# constraints alone. Every row is tuned on validation targets only (docs/notes/issue16.md and
# issue12.md have the grids and the commands). The reranker fuses every regime's candidates with
# its own weight: a share per regime tuned on first lists (`convrec eval regimes --sweep`) lost in
# conversation (docs/notes/issue25.md).
WEIGHTS: dict[Regime, Weights] = {
    "known": Weights(cf=1.0, text=1.0, pop=0.2, recent=0.0, specific=0.25),
    "remembered": Weights(cf=1.0, text=0.0, pop=0.5, recent=1.0, specific=1.0),
    "named": Weights(cf=1.0, text=1.0, pop=0.2, recent=0.5, specific=1.0),
    "picked": Weights(cf=0.0, text=2.0, pop=1.0, recent=1.0, specific=1.0),
    "words": Weights(cf=0.0, text=1.0, pop=0.2, recent=0.0, specific=1.0),
    "constraints": Weights(cf=0.0, text=0.0, pop=1.0, recent=1.0, specific=1.0),
}


class Evidence(BaseModel):
    """What one turn holds to rank by; its ``regime`` picks the row of ``WEIGHTS``."""

    history: int = Field(0, description="long-term items: an ml-100k history")
    liked: int = Field(0, description="catalog films named this session (not picked from a list shown)")
    words: bool = Field(False, description="words beyond the constraints (a vibe, a title not in the catalog)")
    remembered: int = Field(0, description="films liked in an earlier session (memory), in neither count above")
    picked: int = Field(0, description="films liked this session by picking them from a list shown")
    allowed: int = Field(0, description="items meeting the constraints")
    turn: int = 0

    @property
    def regime(self) -> Regime:
        if self.history:
            return "known"
        if self.remembered and not (self.liked or self.picked):
            return "remembered"
        if self.liked:
            return "named"
        if self.picked:
            return "picked"
        return "words" if self.words else "constraints"


class Reranker(Protocol):
    def rerank(self, history_iidx, candidates_iidx, retrieval_scores, k: int,
               genres: Sequence[str] = (), weight: float | None = None) -> list[tuple[int, float]]: ...


class Retrieval(BaseModel):
    """The candidates for one set of constraints, and what the reply needs to say about them."""

    candidates: list[Candidate]
    available: int = Field(description="items meeting every constraint and not excluded")
    blend: list[str] = Field(default_factory=list, description="genres asked together (preferred all at once)")
    blend_available: int = Field(0, description="of `available`, items that have every genre in `blend`")
    preferred: list[int] = Field(default_factory=list, description="candidates with every blend genre")
    evidence: Evidence = Field(default_factory=Evidence)
    unresolved: list[str] = Field(default_factory=list, description="liked titles or ids not in the catalog")


class Loosening(BaseModel):
    """Dropping one kind of constraint: which, and how many more items it would allow."""

    constraint: Kind
    available: int


class Recommender:
    """Candidates, reranking, similar items and reasons over one artifacts build."""

    def __init__(self, catalog: Catalog, index: ItemIndex, cf: CFRetriever | None,
                 semantic: SemanticRetriever | None, popularity: np.ndarray,
                 reranker: Reranker | None = None, n_candidates: int = 100,
                 recent: np.ndarray | None = None, order: np.ndarray | None = None,
                 rerank_shares: Mapping[str, float] | None = None):
        self.catalog, self.index, self.cf, self.semantic = catalog, index, cf, semantic
        # the reranker's generator share per evidence regime (Config.rerank_shares, for tuning
        # runs); a regime not in it, the reranker's own weight
        self.rerank_shares = dict(rerank_shares or {})
        bad = {r: w for r, w in self.rerank_shares.items() if r not in WEIGHTS or not 0.0 <= w <= 1.0}
        if bad:
            raise ValueError(f"rerank_shares: regimes are {', '.join(WEIGHTS)} and shares in [0, 1], got {bad}")
        self.popularity = np.asarray(popularity)
        # a fixed score per item that replaces popularity as the ranking prior (the
        # constraints-random baseline); filters and reasons keep the real popularity
        self.order = None if order is None else np.asarray(order, dtype=np.float64)
        # recent popularity (Split.recent_popularity), log-scaled like popularity; None: not known
        self.recent = None if recent is None else np.log1p(np.asarray(recent, dtype=np.float64))
        self.reranker = reranker
        self.n_candidates = n_candidates
        pop = self.popularity if len(self.popularity) else np.zeros(1)
        self.popular_min_ = int(np.percentile(pop, POPULAR_PERCENTILE))  # the hits ("a big hit or a hidden gem?")
        self.popular_floor_ = int(np.percentile(pop, POPULAR_FLOOR_PERCENTILE))
        self.obscure_ceiling_ = max(1, self.popular_min_)

    @staticmethod
    def popularity_weight(flt: ItemFilter, regime_weight: float) -> float:
        """The weight of the popularity prior (log viewers): what "popular" (up) or "lesser-known"
        (down) asks, in place of the regime's own; the regime's when the filter asks neither."""
        if flt.min_popularity is not None and flt.max_popularity is None:
            return ASKED_POPULARITY_WEIGHT
        if flt.max_popularity is not None and flt.min_popularity is None:
            return -ASKED_POPULARITY_WEIGHT
        return regime_weight

    # ---- constraints ----------------------------------------------------------------------------
    def count(self, flt: ItemFilter) -> int:
        return len(self.catalog.filter(flt))

    def loosest(self, asked: Constraints, exclude: Sequence[int] = ()) -> Loosening | None:
        """The one kind of constraint whose removal allows the most items (exclusions kept), if any helps."""
        best = None
        for kind in KINDS:
            if not asked.constrains(kind):
                continue  # not constrained: nothing to loosen
            n = self.count(asked.lifted(kind).to_filter(self, exclude))
            if n > 0 and (best is None or n > best.available):
                best = Loosening(constraint=kind, available=n)
        return best

    # ---- candidates -----------------------------------------------------------------------------
    def candidates(self, flt: ItemFilter, *, liked: Sequence[int] = (), history: Sequence[int] = (),
                   vibe: str = "", use_cf: bool = True, use_text: bool = True, turn: int = 0,
                   remembered: Sequence[int] = (), picked: Sequence[int] = (),
                   lean: Mapping[str, float] | None = None) -> Retrieval:
        """Top candidates meeting ``flt``, by CF, text, popularity and priors fused with the
        weights of the turn's evidence (``WEIGHTS``).

        ``liked`` weighs most (said in this conversation), ``history`` is the long-term record.
        With several genres asked, items having all of them come first ("a funny horror film").
        ``lean`` (genre -> -1..1, from tones such as "light" or "not sappy", or a film for children) is a soft prior.
        """
        allowed = self.index.to_iidx(self.catalog.filter(flt))
        if len(allowed) == 0:
            return Retrieval(candidates=[], available=0)
        mem = set(remembered)
        chosen = set(picked) & set(liked)
        evidence = Evidence(history=len(set(history) - mem), liked=len(set(liked) - mem - chosen),
                            picked=len(chosen - mem), remembered=len(mem),
                            words=bool(vibe.strip()), allowed=len(allowed), turn=turn)
        w = WEIGHTS[evidence.regime]
        cf_scores = text_scores = None
        if use_cf and self.cf is not None:
            cf_scores = self._cf_scores(liked, history)
        if use_text and self.semantic is not None:
            query = self.semantic.query_vector(vibe, list(liked))
            text_scores = self.semantic.scores(query) if query is not None else None
        text_weight = w.text * (1.0 if vibe.strip() else TEXT_WEIGHT_TITLES / TEXT_WEIGHT_VIBE)
        # the priors are the agent's: a baseline without CF keeps the plain popularity floor; what
        # "popular" or "lesser-known" asks is part of the constraint, so every system ranking by
        # popularity honours it: it sets the popularity prior's weight, up or down (not the
        # seeded order of constraints-random)
        priors = {"recent": (self.recent, w.recent),
                  "specific": (self.specificity(flt.genres_any) if w.specific else None, w.specific),
                  "tone": (self.leaning(lean) if lean else None, TONE_WEIGHT)} if use_cf else {}
        pop_weight = self.popularity_weight(flt, w.pop) if self.order is None else w.pop

        def top(iidx: np.ndarray, n: int) -> list[Candidate]:
            return fuse(iidx, self.index, n, cf_scores, text_scores,
                        self.popularity if self.order is None else self.order, cf_weight=w.cf,
                        text_weight=text_weight, pop_weight=pop_weight, priors=priors)

        if len(flt.genres_any) < 2:
            return Retrieval(candidates=top(allowed, self.n_candidates), available=len(allowed), evidence=evidence)
        every = self.index.to_iidx(self.catalog.filter(flt.model_copy(update={"genres_all": flt.genres_any})))
        first = top(every, self.n_candidates)
        rest = top(np.setdiff1d(allowed, every), self.n_candidates - len(first))
        return Retrieval(candidates=first + rest, available=len(allowed), blend=list(flt.genres_any),
                         blend_available=len(every), preferred=[c.item_id for c in first], evidence=evidence)

    def recommend(self, flt: ItemFilter, *, k: int | None = None, also: Sequence[ItemFilter] = (), also_k: int = ALSO_K,
                  liked: Sequence[int] = (), history: Sequence[int] = (), **signals) -> Retrieval:
        """Candidates, then the reranker's order, in one call: the ``k`` best candidates meeting
        ``flt`` (``candidates``), joined by the ``also_k`` best of each filter in ``also`` (a
        remembered genre the main pool may hold few of), reordered by the reranker over the
        history followed by the films liked now (``rerank``)."""
        found = self.candidates(flt, liked=liked, history=history, **signals)
        pool = {c.item_id: c for c in found.candidates[: self.n_candidates if k is None else k]}
        for f in also:
            for c in self.candidates(f, liked=liked, history=history, **signals).candidates[:also_k]:
                pool.setdefault(c.item_id, c)
        found.candidates = self.rerank(list(pool.values()), [*history, *liked], preferred=found.preferred,
                                       weight=self.rerank_shares.get(found.evidence.regime), genres=flt.genres_any)
        return found

    @cached_property
    def _genre_matrix(self) -> np.ndarray:
        """Items (iidx) x catalog genres, True where the item has the genre."""
        col = {g: n for n, g in enumerate(self.catalog.genres)}
        items = self.catalog.get(self.index.item_ids.tolist())
        pairs = [(it.item_id, col[g]) for it in items for g in it.genres if g in col]
        out = np.zeros((len(self.index.item_ids), len(col)), dtype=bool)
        if pairs:
            ids, cols = zip(*pairs, strict=True)
            out[self.index.to_iidx(ids), list(cols)] = True
        return out

    def specificity(self, said: Sequence[str]) -> np.ndarray | None:
        """Per item, log P(a person who wants it names the genres ``said``), a person naming
        as many of its genres as they name, each alike: -log C(its genres, those said it has).

        "A war movie" more likely means a film that is a war film and little else than one of
        five genres of which war is one; None when no genre was said."""
        cols = [n for n, g in enumerate(self.catalog.genres) if g.lower() in {x.lower() for x in said}]
        if not cols:
            return None
        m = self._genre_matrix
        has, total = m[:, cols].sum(axis=1), np.maximum(m.sum(axis=1), 1)
        return -np.log(comb(total, has))

    def leaning(self, lean: Mapping[str, float]) -> np.ndarray:
        """Per item, the mean lean of its genres (``lean``: genre -> -1..1; a genre not in it 0)."""
        weights = np.array([lean.get(g, 0.0) for g in self.catalog.genres])
        m = self._genre_matrix
        return (m @ weights) / np.maximum(m.sum(axis=1), 1)

    def search(self, flt: ItemFilter, query: str, k: int = 20) -> Retrieval:
        """The ``k`` items meeting ``flt`` whose text is closest in meaning to ``query``."""
        allowed = self.index.to_iidx(self.catalog.filter(flt))
        vec = self.semantic.query_vector(query) if self.semantic is not None else None
        if len(allowed) == 0 or vec is None:
            return Retrieval(candidates=[], available=len(allowed))
        return Retrieval(candidates=fuse(allowed, self.index, k, text_scores=self.semantic.scores(vec), pop_weight=0.0),
                         available=len(allowed))

    def _cf_scores(self, liked: Sequence[int], history: Sequence[int]) -> np.ndarray | None:
        assert self.cf is not None
        user_vec = self.cf.user_vector(list(liked), list(history))
        if user_vec is None:
            return None
        # in the factors' own dtype: a float64 vector would upcast the whole item matrix
        # on every call (12 ms instead of 1 ms for EASE's 1682 x 1682 on ml-100k)
        return self.cf.scores(np.asarray(user_vec, dtype=self.cf.model.item_factors_.dtype))

    def rerank(self, candidates: Sequence[Candidate], history: Sequence[int] = (), preferred: Sequence[int] = (),
               weight: float | None = None, genres: Sequence[str] = ()) -> list[Candidate]:
        """The candidates reordered by the reranker (when there is one) for a person who asked for
        ``genres``; ``preferred`` stay first.

        ``weight``: the generator's share of the reranker's fused score (None: the reranker's own,
        tuned on validation); 0 keeps the retrieval order.
        """
        candidates = list(candidates)
        if self.reranker is not None and len(candidates) > 1 and weight != 0:
            cand = self.index.to_iidx([c.item_id for c in candidates])
            ranked = self.reranker.rerank(self.index.to_iidx(history), cand, [c.score for c in candidates],
                                          k=len(candidates), genres=list(genres), weight=weight)
            by_iidx = dict(zip(cand.tolist(), candidates, strict=True))
            out, seen = [], set()
            for iidx, score in ranked:  # the contract is a subset of the candidates; enforce it here too
                if iidx in by_iidx and iidx not in seen:
                    seen.add(iidx)
                    out.append(by_iidx[iidx].model_copy(update={"score": float(score)}))
            candidates = out
        if preferred:
            keep = set(preferred)
            candidates = [c for c in candidates if c.item_id in keep] + [c for c in candidates if c.item_id not in keep]
        return candidates

    # ---- one item -------------------------------------------------------------------------------
    def similar(self, item_id: int, k: int = 3) -> list[int]:
        """Items most similar to ``item_id`` in the CF model (the model's own ``similar_items``)."""
        if self.cf is None:
            return []
        iidx = self.index.to_iidx([item_id])
        if len(iidx) == 0:
            return []
        top, _ = self.cf.model.similar_items(int(iidx[0]), k=k)
        return self.index.to_ids(top)

    def explain(self, candidates: Sequence[Candidate], *, anchors: Sequence[int] = (),
                asked: Constraints | None = None, vibe: str = "") -> list[str]:
        """One reason per candidate, each from a signal that really ranked it, never invented."""
        asked = asked or Constraints()
        items = {it.item_id: it for it in self.catalog.get([c.item_id for c in candidates])}
        return [self._reason(items[c.item_id], c, anchors, asked, vibe) for c in candidates if c.item_id in items]

    def _reason(self, item: Item, c: Candidate, anchors: Sequence[int], asked: Constraints, vibe: str) -> str:
        parts = []
        neighbours = self.cf.neighbours_of(item.item_id, list(anchors), k=2) if c.cf is not None and self.cf else []
        if neighbours:
            parts.append(f"people who liked {' and '.join(n.label for n in self.catalog.get(neighbours))} often watch this")
        if c.text is not None and c.text > TEXT_REASON_MIN:
            parts += self._text_reason(item, anchors, vibe)
        matched = [g for g in item.genres if g in asked.genres]
        if matched or asked.year_min or asked.year_max:
            parts.append(f"a {'/'.join(matched) or 'film'} from {item.year}, as asked")
        if not parts:
            parts.append(f"popular: {item.popularity} viewers in the data")
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def _text_reason(self, item: Item, anchors: Sequence[int], vibe: str) -> list[str]:
        """Why the text ranked ``item`` high, from evidence only: the words said that the catalog
        holds for it, else the genres it shares with a film liked; nothing when neither."""
        known = knowledge_words(item)
        said = [w for w in dict.fromkeys(WORD.findall(vibe.lower())) if w not in REASON_STOPWORDS and stem(w) in known]
        if said:
            return [f"close to \u201c{' '.join(said[:4])}\u201d, as you said"]
        for other in self.catalog.get(list(anchors)[:5]):
            shared = [g for g in item.genres if g in other.genres]
            if shared and other.item_id != item.item_id:
                return [f"{'/'.join(shared)}, like {other.label}"]
        return []


WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# words that say nothing of a film even when a title holds them ("the", "movie")
REASON_STOPWORDS = frozenset("""a an the and or of to in on at for with by from about as is it its this that be
    movie movies film films something some any one ones like more want watch see""".split())


def stem(word: str) -> str:
    """A word's crude stem, enough to match "dinosaurs" with "dinosaur" and "spies" with "spy"."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def knowledge_words(item: Item) -> set[str]:
    """The stems of every word the catalog holds about ``item``: its title, year and genres, and
    the film knowledge joined to it where there is some (director, rating, type, source)."""
    fields = [item.title, str(item.year or ""), *item.genres,
              *(str(getattr(item, f, None) or "") for f in ("director", "mpaa", "creative_type", "source"))]
    return {stem(w) for f in fields for w in WORD.findall(f.lower())}

