"""The Recommender on a tiny real world (12 films, two taste groups, a real EASE model): no build.

Item ids are multiples of 10, so an index leaking out of the Recommender would be caught.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tools.catalog import Catalog
from tools.cf.ease import EASE
from tools.constraints import Constraints
from tools.recommend import WEIGHTS, Evidence, Recommender
from tools.retrievers import CFRetriever, ItemIndex, SemanticRetriever, fuse

# id: (title, year, genres). 30 and 60 are both Comedy and Horror.
FILMS = {
    10: ("Laugh One", 1990, ("Comedy",)), 20: ("Laugh Two", 1991, ("Comedy",)),
    30: ("Scary Laughs", 1992, ("Comedy", "Horror")), 40: ("Laugh Four", 1975, ("Comedy",)),
    50: ("Fright One", 1993, ("Horror",)), 60: ("Fright Laughs", 1994, ("Horror", "Comedy")),
    70: ("Fright Three", 1980, ("Horror",)), 80: ("Fright Four", 1996, ("Horror",)),
    90: ("Tears One", 1995, ("Drama",)), 100: ("Tears Two", 1960, ("Drama",)),
    110: ("Dust One", 1970, ("Western",)), 120: ("Dust Two", 1997, ("Western", "Drama")),
}  # fmt: skip
COMEDY_FANS = [10, 20, 30, 40]
HORROR_FANS = [50, 60, 70, 80]


def must(rec: Recommender, exclude=(), **asked):
    """The catalog's query for ``Constraints`` given as fields."""
    return Constraints(**asked).to_filter(rec, exclude)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    ids = np.array(sorted(FILMS))
    index = ItemIndex(ids)
    rows, cols = [], []
    rng = np.random.default_rng(0)
    for user in range(40):  # each user watches three films of one group and one film at random
        group = COMEDY_FANS if user % 2 else HORROR_FANS
        watched = set(rng.choice(group, 3, replace=False)) | {int(rng.choice(ids))}
        rows += [user] * len(watched)
        cols += list(index.to_iidx(sorted(watched)))
    X = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(40, len(ids)))
    popularity = np.asarray(X.sum(0)).ravel().astype(int)
    items = pd.DataFrame({
        "item_id": ids, "title": [FILMS[i][0] for i in ids], "year": [FILMS[i][1] for i in ids],
        "genres": [FILMS[i][2] for i in ids], "text": [FILMS[i][0] for i in ids],
    })  # fmt: skip
    catalog = Catalog.create(tmp_path_factory.mktemp("rec") / "catalog.sqlite", items, popularity)
    model = EASE(l2=1.0).fit(X)
    vectors = np.eye(len(ids), 8, dtype=np.float32)  # text vectors: only "like X" content uses them here
    rec = Recommender(catalog, index, CFRetriever(model, index), SemanticRetriever(vectors, index),
                      popularity, n_candidates=20)
    return rec, model, index


def test_candidates_are_catalog_ids_meeting_the_constraints(world):
    rec, _, _ = world
    flt = must(rec, genres=["Horror"], year_max=1995, exclude=[50])
    found = rec.candidates(flt, liked=[70])
    ids = [c.item_id for c in found.candidates]
    assert sorted(ids) == [30, 60, 70]  # 70 is liked, but only what the filter excludes is left out
    assert all(i in FILMS for i in ids) and found.available == len(ids)
    assert all("Horror" in FILMS[i][2] and FILMS[i][1] <= 1995 for i in ids)


def test_collaborative_signal_ranks_the_liked_group_first(world):
    rec, _, _ = world
    found = rec.candidates(must(rec, exclude=[10]), liked=[10], use_text=False)
    assert {c.item_id for c in found.candidates[:3]} == {20, 30, 40}  # the rest of the comedy group
    assert found.candidates[0].cf is not None and found.candidates[0].text is None


def test_without_any_signal_popularity_orders(world):
    rec, _, _ = world
    found = rec.candidates(must(rec), use_cf=False, use_text=False)
    scores = [c.score for c in found.candidates]
    assert scores == sorted(scores, reverse=True) and found.candidates[0].sources == ["popularity"]


def test_a_blend_prefers_items_with_every_genre_and_counts_them(world):
    rec, _, _ = world
    found = rec.candidates(must(rec, genres=["Comedy", "Horror"]), liked=[50])
    ids = [c.item_id for c in found.candidates]
    assert found.blend == ["Comedy", "Horror"] and found.blend_available == 2
    assert set(ids[:2]) == {30, 60} and set(found.preferred) == {30, 60}
    assert len(ids) == 8  # then the films that have only one of the two
    reranked = rec.rerank(list(reversed(found.candidates)), history=[50], preferred=found.preferred)
    assert {c.item_id for c in reranked[:2]} == {30, 60}


def test_exhausted_constraints_tell_what_matched_and_what_to_loosen(world):
    rec, _, _ = world
    asked = Constraints(genres=["Western"], year_min=1990)
    flt = asked.to_filter(rec, exclude=[120])
    assert rec.candidates(flt).candidates == [] and rec.candidates(flt).available == 0
    assert rec.count(asked.to_filter(rec)) == 1
    loosen = rec.loosest(asked, exclude=[120])
    assert loosen is not None and loosen.constraint == "genres" and loosen.available == 7  # every film from 1990 on but 120
    assert rec.loosest(Constraints(), exclude=list(FILMS)) is None  # nothing to loosen


def test_popularity_words_rule_out_only_the_plainly_other(world):
    """"Popular" allows films watched at least as much as the median film, "lesser-known" those below
    the hits (the 90th percentile); before, they were cut at the 90th and the 50th."""
    rec, _, _ = world
    pops = {it.item_id: it.popularity for it in rec.catalog.get(list(FILMS))}
    popular = rec.catalog.filter(must(rec, popularity="popular"))
    obscure = rec.catalog.filter(must(rec, popularity="obscure"))
    median = int(np.percentile(rec.popularity, 50))
    assert rec.popular_floor_ == median < rec.popular_min_
    assert rec.obscure_ceiling_ == int(np.percentile(rec.popularity, 90)) > median
    assert sorted(popular) == sorted(i for i, p in pops.items() if p >= rec.popular_floor_)
    assert sorted(obscure) == sorted(i for i, p in pops.items() if p <= rec.obscure_ceiling_)
    assert max(pops, key=pops.get) not in obscure and min(pops, key=pops.get) not in popular


def test_similar_goes_through_the_models_own_similar_items(world):
    rec, model, index = world
    top, _ = model.similar_items(int(index.to_iidx([30])[0]), k=3)
    assert rec.similar(30, k=3) == index.to_ids(top)
    assert 30 not in rec.similar(30, k=5) and rec.similar(999, k=3) == []


def test_explain_gives_only_true_reasons(world):
    rec, _, _ = world
    flt = must(rec, genres=["Comedy"])
    found = rec.candidates(flt, liked=[10, 20])
    reasons = rec.explain(found.candidates[:3], anchors=[10, 20], asked=Constraints(genres=["Comedy"]))
    assert len(reasons) == 3 and all("as asked" in r for r in reasons)
    assert any("people who liked laugh" in r.lower() for r in reasons)
    plain = rec.candidates(must(rec), use_cf=False, use_text=False)
    assert rec.explain(plain.candidates[:1])[0].startswith("Popular:")


def test_constraints_become_the_catalogs_query(world):
    rec, _, _ = world
    flt = Constraints(genres=["Comedy"], genres_none=["Comedy", "Drama"], year_max=1995, popularity="popular") \
        .to_filter(rec, exclude=[3, 1, 3])
    assert (flt.genres_any, flt.genres_none, flt.year_max, flt.exclude) == (["Comedy"], ["Drama"], 1995, [1, 3])
    assert flt.min_popularity == rec.popular_floor_ and flt.max_popularity is None


def test_popularity_words_rank_what_they_allow_up_or_down(world):
    """Inside what they allow, "popular" ranks by viewers, "lesser-known" against them."""
    rec, _, _ = world
    up = rec.popularity_weight(must(rec, popularity="popular"), 0.2)
    down = rec.popularity_weight(must(rec, popularity="obscure"), 0.2)
    assert up > 0 and down == -up
    assert rec.popularity_weight(must(rec, genres=["Comedy"]), 0.2) == 0.2
    pops = {it.item_id: it.popularity for it in rec.catalog.get(list(FILMS))}
    hits, gems = ([pops[c.item_id] for c in rec.candidates(must(rec, popularity=p), use_cf=False, use_text=False).candidates]
                  for p in ("popular", "obscure"))
    assert hits == sorted(hits, reverse=True) and gems == sorted(gems) and gems[0] < hits[0]


# ---- the evidence a turn holds decides the weights (issue 16) ------------------------------------

def test_the_evidence_picks_the_regime():
    assert Evidence(history=5, liked=2, words=True).regime == "known"  # a history always counts
    assert Evidence(remembered=3, words=True).regime == "remembered"  # likes from an earlier session only
    assert Evidence(remembered=3, liked=1).regime == "named"  # the session's own film outranks memory
    assert Evidence(liked=1, words=True).regime == "named"
    assert Evidence(liked=1, picked=2).regime == "named"  # a film named unprompted outranks one picked
    assert Evidence(picked=1, words=True).regime == "picked"
    assert Evidence(remembered=2, picked=1).regime == "picked"
    assert Evidence(words=True).regime == "words"
    assert Evidence(allowed=300, turn=1).regime == "constraints"
    assert set(WEIGHTS) == {"known", "remembered", "named", "picked", "words", "constraints"}


def test_a_film_picked_from_a_list_shown_is_its_own_regime(world):
    rec, _, _ = world
    flt = must(rec, exclude=[50, 60])
    assert rec.candidates(flt, liked=[50, 60], picked=[60]).evidence.model_dump(include={"liked", "picked"}) == \
        {"liked": 1, "picked": 1}
    assert rec.candidates(flt, liked=[60], picked=[60]).evidence.regime == "picked"
    assert rec.candidates(flt, liked=[60], picked=[]).evidence.regime == "named"
    assert rec.candidates(flt, picked=[60]).evidence.regime == "constraints"  # picked, then unliked: nothing


def test_specificity_is_how_likely_the_genres_said_name_the_item(world):
    rec, _, index = world
    assert rec.specificity([]) is None and rec.specificity(["Musical"]) is None  # nothing said the catalog has
    horror = rec.specificity(["horror"])  # the catalog's genre names, any case
    by_id = dict(zip(index.to_ids(range(len(FILMS))), horror, strict=True))
    assert by_id[50] == by_id[70] == 0.0  # horror and nothing else: "horror" names it surely
    assert by_id[60] == pytest.approx(-np.log(2))  # horror or comedy, each alike
    assert by_id[10] == 0.0  # no horror at all: the filter keeps it out, the prior does not care
    both = dict(zip(index.to_ids(range(len(FILMS))), rec.specificity(["Horror", "Comedy"]), strict=True))
    assert both[60] == 0.0 and both[50] == 0.0  # both said: a horror-comedy is named surely as well


def test_a_strangers_genre_request_puts_films_of_that_genre_alone_first(world, monkeypatch):
    rec, _, index = world
    flat = Recommender(rec.catalog, index, rec.cf, rec.semantic, np.full(len(FILMS), 5), n_candidates=20)
    flt = must(flat, genres=["Comedy"])
    monkeypatch.setitem(WEIGHTS, "constraints", WEIGHTS["constraints"].model_copy(update={"specific": 1.0}))
    ranked = [c.item_id for c in flat.candidates(flt).candidates]
    assert set(ranked[:3]) == {10, 20, 40} and set(ranked[3:]) == {30, 60}  # comedies alone, then horror-comedies
    assert "specific" in flat.candidates(flt).candidates[0].sources
    monkeypatch.setitem(WEIGHTS, "constraints", WEIGHTS["constraints"].model_copy(update={"specific": 0.0}))
    assert "specific" not in flat.candidates(flt).candidates[0].sources


def test_remembered_likes_are_not_counted_as_a_history(world):
    rec, _, _ = world
    flt = must(rec, exclude=HORROR_FANS[:3])
    assert rec.candidates(flt, history=HORROR_FANS[:3], remembered=HORROR_FANS[:3]).evidence.regime == "remembered"
    assert rec.candidates(flt, history=HORROR_FANS[:3]).evidence.regime == "known"
    mixed = rec.candidates(flt, liked=[HORROR_FANS[0]], history=HORROR_FANS[1:3], remembered=HORROR_FANS[1:3])
    assert mixed.evidence.regime == "named" and mixed.evidence.remembered == 2


def test_a_strangers_vague_genre_request_ranks_that_genres_well_known_films_first(world):
    rec, _, _ = world
    found = rec.candidates(must(rec, genres=["Comedy"]))
    assert found.evidence.regime == "constraints" and found.available == 5
    pops = {it.item_id: it.popularity for it in rec.catalog.get(list(FILMS))}
    comedies = sorted((i for i in FILMS if "Comedy" in FILMS[i][2]), key=lambda i: -pops[i])
    assert [c.item_id for c in found.candidates[:2]] == comedies[:2]
    assert all("Comedy" in FILMS[c.item_id][2] for c in found.candidates)


def test_recent_popularity_lifts_what_people_watch_lately_for_a_stranger_only(world, monkeypatch):
    rec, model, index = world
    pops = {it.item_id: it.popularity for it in rec.catalog.get(list(FILMS))}
    horror = sorted((i for i in FILMS if FILMS[i][2] == ("Horror",)), key=lambda i: -pops[i])
    recent = np.zeros(len(FILMS))
    recent[index.to_iidx([horror[-1]])] = 50  # the least-viewed horror film is what everyone watches now
    lately = Recommender(rec.catalog, index, rec.cf, rec.semantic, rec.popularity, n_candidates=20, recent=recent)
    monkeypatch.setitem(WEIGHTS, "constraints", WEIGHTS["constraints"].model_copy(update={"pop": 1.0, "recent": 2.0}))
    flt = must(lately, genres=["Horror"])
    top = lately.candidates(flt).candidates
    assert top[0].item_id == horror[-1] and "recent" in top[0].sources
    # a known user's ranking has no recent prior: what they watched decides
    known = lately.candidates(flt, history=COMEDY_FANS)
    assert known.evidence.regime == "known" and "recent" not in known.candidates[0].sources
    # a baseline without CF keeps the plain popularity floor
    assert lately.candidates(flt, use_cf=False, use_text=False).candidates[0].sources == ["popularity"]


def test_a_stranger_who_names_a_film_gets_its_cf_neighbours(world):
    rec, _, _ = world
    for named, group in ((50, HORROR_FANS), (20, COMEDY_FANS)):
        found = rec.candidates(must(rec, exclude=[named]), liked=[named], use_text=False)
        assert found.evidence.regime == "named"
        top3 = [c.item_id for c in found.candidates[:3]]
        assert top3[0] in group and len(set(top3) & set(group)) >= 2, top3  # one random film per user is noise


def test_a_known_users_history_still_dominates_a_vague_request(world):
    rec, _, _ = world
    for history, group in ((HORROR_FANS[:3], HORROR_FANS), (COMEDY_FANS[1:], COMEDY_FANS)):
        found = rec.candidates(must(rec, exclude=history), history=history, use_text=False)
        assert found.evidence.regime == "known"
        assert found.candidates[0].item_id in set(group) - set(history)


class _Reversing:
    """A reranker that puts the retrieval order upside down (to see how much of it is kept)."""

    def rerank(self, history_iidx, candidates_iidx, retrieval_scores, k, genres=(), weight=None):
        n = len(candidates_iidx)
        return [(int(c), float(n - i)) for i, c in enumerate(reversed(list(candidates_iidx)))][:k]


def test_the_rerank_weight_reaches_the_reranker_and_zero_keeps_the_retrieval_order(world):
    rec, _, index = world
    weights: list = []

    class Spy(_Reversing):
        def rerank(self, *args, weight=None, **kw):
            weights.append(weight)
            return super().rerank(*args, **kw)

    with_reranker = Recommender(rec.catalog, index, rec.cf, rec.semantic, rec.popularity, reranker=Spy())
    found = with_reranker.candidates(must(rec), liked=[10], use_text=False).candidates
    ids = [c.item_id for c in found]
    assert [c.item_id for c in with_reranker.rerank(found, [10], weight=0.3)] == ids[::-1]
    assert [c.item_id for c in with_reranker.rerank(found, [10])] == ids[::-1]
    assert weights == [0.3, None]  # the share is the reranker's to apply; None: its own
    assert [c.item_id for c in with_reranker.rerank(found, [10], weight=0.0)] == ids
    assert len(weights) == 2  # weight 0 never calls it
    with_reranker.recommend(must(rec), liked=[10], use_text=False)
    assert weights[-1] is None  # a conversation's list: the reranker's own weight, in every regime
    # unless a tuning run sets a regime's share (Config.rerank_shares)
    tuned = Recommender(rec.catalog, index, rec.cf, rec.semantic, rec.popularity, reranker=Spy(),
                        rerank_shares={"named": 0.6})
    tuned.recommend(must(rec), liked=[10], use_text=False)
    tuned.recommend(must(rec), history=[10, 20], use_text=False)
    assert weights[-2:] == [0.6, None]
    for bad in ({"nobody": 0.5}, {"named": 1.5}):
        with pytest.raises(ValueError, match="rerank_shares"):
            Recommender(rec.catalog, index, rec.cf, rec.semantic, rec.popularity, rerank_shares=bad)


def test_fuse_priors_add_named_signals_and_zero_weights_drop_out(world):
    _, _, index = world
    allowed = np.arange(len(FILMS))
    prior = np.arange(len(FILMS), dtype=float)  # the last item is the prior's favourite
    pop = np.ones(len(FILMS))
    top = fuse(allowed, index, 3, popularity=pop, priors={"lately": (prior, 1.0)})
    assert top[0].item_id == max(FILMS) and top[0].sources == ["lately"]
    plain = fuse(allowed, index, 3, popularity=pop, priors={"lately": (prior, 0.0), "none": (None, 1.0)})
    assert plain[0].sources == ["popularity"] and plain[0].item_id == min(FILMS)


def test_recommend_is_candidates_then_the_rerankers_order_in_one_call(world):
    """One call: the k best candidates, the best of each extra filter joined once, reordered by
    the reranker over the history then the films liked now; nothing from outside the pool."""
    rec, _, index = world
    seen: list = []

    said: list = []

    class Spy(_Reversing):
        def rerank(self, history_iidx, candidates_iidx, retrieval_scores, k, genres=(), weight=None):
            seen.append(index.to_ids(history_iidx))
            said.append(list(genres))
            return super().rerank(history_iidx, candidates_iidx, retrieval_scores, k)

    ranked = Recommender(rec.catalog, index, rec.cf, rec.semantic, rec.popularity, reranker=Spy(), n_candidates=20)
    flt, westerns = must(rec, genres=["Comedy"]), must(rec, genres=["Western"])
    plain = ranked.candidates(flt, liked=[50], history=[90], use_text=False).candidates[:3]
    extra = ranked.candidates(westerns, liked=[50], history=[90], use_text=False).candidates[:1]
    found = ranked.recommend(flt, k=3, also=[westerns, westerns], also_k=1, liked=[50], history=[90], use_text=False)
    pool = [c.item_id for c in plain + extra]
    assert [c.item_id for c in found.candidates] == pool[::-1]  # the reranker's order of the pool, each once
    assert seen == [[90, 50]]  # the history first, then what is liked now (the end weighs most)
    assert said == [["Comedy"]]  # the genres asked reach the reranker (not the extra filters')
    bare = Recommender(rec.catalog, index, rec.cf, rec.semantic, rec.popularity, n_candidates=20)
    assert [c.item_id for c in bare.recommend(flt, k=3, liked=[50], history=[90], use_text=False).candidates] == pool[:3]


@pytest.mark.parametrize("vibe,cites", [
    ("laughs for my son, he is 8", "\u201claugh\u201d"),  # only the word the catalog holds for the film
    ("something scary, not sappy, laughs", "\u201cscary laugh\u201d"),
    ("space while", None),  # words the film's knowledge lacks: no text reason at all
    ("", None),
])
def test_a_text_reason_cites_only_words_the_catalog_holds_for_the_film(world, vibe, cites):
    from tools.retrievers import Candidate

    rec, _, _ = world
    close = Candidate(item_id=30, score=1.0, text=2.0)  # "Scary Laughs" (1992), Comedy/Horror, ranked by text
    reason = rec.explain([close], vibe=vibe)[0]
    if cites is None:
        assert "close to" not in reason.lower()
    else:
        assert f"close to {cites}" in reason.lower() or f"close to {cites.replace('laugh', 'laughs')}" in reason.lower()
    assert "8" not in reason and "son" not in reason.split() and "while" not in reason


def test_without_words_a_text_reason_names_the_genres_shared_with_a_liked_film(world):
    from tools.retrievers import Candidate

    rec, _, _ = world
    reason = rec.explain([Candidate(item_id=30, score=1.0, text=2.0)], anchors=[50])[0]
    assert "Horror, like Fright One (1993)" in reason
    assert "close to" not in rec.explain([Candidate(item_id=30, score=1.0, text=2.0)], anchors=[90])[0].lower()
