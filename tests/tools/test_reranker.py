"""The generative reranker on a small real slice: the first 150 ml-100k users, 2 training epochs."""

import copy
import itertools
import json
import re
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.cf.ease import EASE
from tools.reranker import FILES, GenerativeReranker
from tools.reranker.decode import PrefixTrie, beam_search
from tools.reranker.evaluate import evaluate_cold, evaluate_rerank
from tools.reranker.model import (
    CodeScorer,
    CodeTransformer,
    CodeTransformerConfig,
    _genre_tries,
    _said_genres,
    catalog_trie,
)
from tools.reranker.semantic_ids import SemanticIDs
from tools.split import leave_last_out

FAST = CodeTransformerConfig(epochs=2)
N_COLD = 20


def bag_of_words(texts, dim=256):
    """Hashed bag of words of the real item texts: text features without loading MiniLM, which
    alone would take most of this file's time budget (the build uses TextEncoder)."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in re.findall(r"[a-z0-9']+", text.lower()):
            out[i, zlib.crc32(word.encode()) % dim] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture(scope="module")
def item_vectors(small_dataset):
    return bag_of_words(list(small_dataset.items.text))  # the slice keeps every item


@pytest.fixture(scope="module")
def split(small_dataset):
    return leave_last_out(small_dataset, cold_items=N_COLD, seed=0)


@pytest.fixture(scope="module")
def cf(split):
    return EASE(l2=100.0).fit(split.train_matrix())


@pytest.fixture(scope="module")
def reranker(split, item_vectors, cf):
    return GenerativeReranker(config=FAST).fit(split, item_vectors, cf_model=cf, progress=False)


@pytest.fixture(scope="module")
def genres(small_dataset):
    return list(small_dataset.items.genres)  # by iidx: the split keeps the dataset's item order


@pytest.fixture(scope="module")
def conversational(split, item_vectors, cf, genres):
    """The conversation-aware generator: CF vectors beside the codes, the asked genre as input."""
    return GenerativeReranker(config=FAST).fit(split, item_vectors, cf_model=cf, progress=False, genres=genres)


# ---- semantic IDs -------------------------------------------------------------------------------

def test_semantic_ids_unique_and_encode_new(item_vectors):
    sid = SemanticIDs(n_codes=16, seed=0).fit(item_vectors[:300])
    assert sid.codes_.shape == (300, 4)
    assert len(np.unique(sid.codes_, axis=0)) == 300
    assert sid.codes_.min() >= 0 and sid.codes_.max() < 16
    # new items get codes that collide with neither the fitted ones nor each other, even duplicates
    new = sid.encode(np.vstack([item_vectors[300:340], item_vectors[:5]]))
    assert len(np.unique(np.vstack([sid.codes_, new]), axis=0)) == 345
    back = SemanticIDs.from_arrays(sid.to_arrays())
    np.testing.assert_array_equal(back.encode(item_vectors[300:340]), new[:40])


# ---- trie and beam search -----------------------------------------------------------------------

def _random_codes(rng, n, vocab):
    # few distinct values per level, so prefixes are shared
    codes = np.unique(np.column_stack([rng.integers(0, min(v, 3), 4 * n) for v in vocab]), axis=0)
    return codes[rng.permutation(len(codes))[:n]]


def test_trie_children_and_items():
    rng = np.random.default_rng(0)
    vocab = (4, 4, 4, 4)
    codes = _random_codes(rng, 30, vocab)
    items = rng.permutation(1000)[: len(codes)]
    trie = PrefixTrie(codes, items, vocab)
    for level in range(5):
        for prefix in {tuple(c[:level]) for c in codes}:
            below = [c for c in codes if tuple(c[:level]) == prefix]
            expected = sorted({int(c[level]) for c in below}) if level < 4 else []
            assert trie.children(prefix) == expected
    for code, item in zip(codes, items, strict=True):
        assert trie.item(code) == item
    absent = next(c for c in itertools.product(range(3), repeat=4) if not (codes == c).all(1).any())
    assert trie.item(absent) is None
    assert trie.children((3,)) == [] and trie.children((3, 0, 0)) == []
    with pytest.raises(ValueError, match="share a code"):
        PrefixTrie(np.vstack([codes[:3], codes[:1]]), [1, 2, 3, 4], vocab)


def _toy_step(vocab, seed=0):
    """A fixed log-probability for every (prefix, token), as a model would give."""
    table = {}

    def logp(prefix):
        if prefix not in table:
            r = np.random.default_rng(abs(hash((seed, prefix))) % 2**32)
            z = r.normal(size=vocab[len(prefix)]) * 2
            table[prefix] = z - np.log(np.exp(z).sum())
        return table[prefix]

    def step(level, prefixes):
        return np.stack([logp(tuple(int(x) for x in p)) for p in prefixes])

    return step, logp


def test_beam_search_is_exact_when_the_beam_covers_the_candidates():
    rng = np.random.default_rng(1)
    vocab = (4, 4, 4, 4)
    codes = _random_codes(rng, 25, vocab)
    items = np.arange(len(codes)) + 100
    trie = PrefixTrie(codes, items, vocab)
    step, logp = _toy_step(vocab)
    got, scores = beam_search(step, trie, beam_size=len(items))

    def brute(code):  # log-probability renormalised over the children each prefix has
        total = 0.0
        for level in range(4):
            prefix = tuple(int(x) for x in code[:level])
            allowed = trie.children(prefix)
            lp = logp(prefix)
            total += lp[code[level]] - np.log(np.exp(lp[allowed]).sum())
        return total

    expected = {int(i): brute(c) for i, c in zip(items, codes, strict=True)}
    assert sorted(got.tolist()) == sorted(expected)
    np.testing.assert_allclose(scores, [expected[int(i)] for i in got], rtol=1e-9)
    assert np.all(np.diff(scores) <= 0)
    assert np.isclose(np.exp(scores).sum(), 1.0)  # a distribution over the candidates
    small, small_scores = beam_search(step, trie, beam_size=3)
    assert len(small) == 3 and set(small) <= set(items) and np.all(np.diff(small_scores) <= 0)


def test_beam_search_edge_cases():
    vocab = (4, 4, 4, 4)
    step, _ = _toy_step(vocab)
    empty = PrefixTrie(np.zeros((0, 4), np.int64), [], vocab)
    items, scores = beam_search(step, empty, beam_size=5)
    assert len(items) == 0 and len(scores) == 0
    one = PrefixTrie(np.array([[1, 2, 3, 0]]), [7], vocab)
    items, scores = beam_search(step, one, beam_size=5)
    assert items.tolist() == [7] and np.allclose(scores, 0.0)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(step, one, beam_size=0)


# ---- the model ----------------------------------------------------------------------------------

def test_numpy_inference_matches_torch():
    torch.manual_seed(0)
    model = CodeTransformer(CodeTransformerConfig()).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    scorer = CodeScorer(model)
    for T in (1, 9, 50):
        codes = torch.randint(0, 66, (1, T, 4))
        prefixes = torch.randint(0, 64, (6, 3))
        with torch.no_grad():
            h = model.hidden(codes)[0, -1]
            h_np = scorer.hidden(codes[0].numpy())
            np.testing.assert_allclose(h_np, h.numpy(), atol=1e-5)
            for level in range(4):
                lt = torch.log_softmax(model.level_logits(h.expand(6, -1), prefixes, level), -1)
                np.testing.assert_allclose(scorer.level_log_probs(h_np, prefixes.numpy(), level), lt.numpy(), atol=1e-4)


def test_numpy_inference_matches_torch_with_cf_vectors_and_a_genre():
    torch.manual_seed(1)
    cfg = CodeTransformerConfig(cf_dim=8, n_items=70, n_genres=5)
    model = CodeTransformer(cfg).eval()
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    model.item_cf[:70] = torch.randn(70, 8)
    scorer = CodeScorer(model)
    for T in (2, 12):
        items = torch.randint(0, 70, (1, T))
        items[0, 0] = -2  # BOS: no CF vector
        other = items.clone()
        other[0, -1] = (items[0, -1] + 1) % 70
        codes = torch.randint(0, 64, (1, T, 4))
        with torch.no_grad():
            h = model.hidden(codes, items=items)[0, -1]
            h_np = scorer.hidden(codes[0].numpy(), items[0].numpy())
            np.testing.assert_allclose(h_np, h.numpy(), atol=1e-5)
            # the CF vectors are read: other items with the same codes give another state
            assert not np.allclose(scorer.hidden(codes[0].numpy(), other[0].numpy()), h_np)
            said = model.genre_in(torch.tensor([2, 4])).mean(0)
            np.testing.assert_allclose(scorer.with_genres(h_np, np.array([2, 4])), (h + said).numpy(), atol=1e-5)
            none = model.genre_in(torch.tensor(5))
            np.testing.assert_allclose(scorer.with_genres(h_np, np.array([], dtype=np.int64)), (h + none).numpy(),
                                       atol=1e-5)
    with pytest.raises(ValueError, match="items"):
        scorer.hidden(codes[0].numpy())
    with pytest.raises(ValueError, match="items"):
        model.hidden(codes)
    # the start token is -2 in training windows and -1 (the last row) at inference: both read no CF vector
    start = torch.tensor([[-1, 5, 9]])
    np.testing.assert_array_equal(scorer.hidden(codes[0, :3].numpy(), start[0].numpy()),
                                  scorer.hidden(codes[0, :3].numpy(), np.array([-2, 5, 9])))


def test_a_genre_trie_allows_exactly_its_seen_items():
    """One trie per genre and per pair of genres an item has together (a blend: the items of
    either); each allows exactly its seen items' codes."""
    rng = np.random.default_rng(3)
    vocab = (4, 4, 4, 2)
    codes = np.unique(np.column_stack([rng.integers(0, v, 200) for v in vocab]), axis=0)[:60]
    seen = np.arange(0, 60, 2)  # half the items were seen in training
    genres = rng.random((60, 3)) < 0.4
    nodes, masks = catalog_trie(codes[seen], vocab)
    table = np.zeros((62, 4), dtype=np.int64)
    table[seen] = nodes
    node_table, stacked, genre_mat, trie_row = _genre_tries(codes, seen, torch.from_numpy(table), masks, genres, vocab)
    pairs = {(a, b) for i in seen for a in range(3) for b in range(a + 1, 3) if genres[i, a] and genres[i, b]}
    assert len(pairs) == 3 and node_table.shape == (1 + 3 + len(pairs), 62, 4)
    assert genre_mat.shape == (62, 3) and not genre_mat[60:].any()
    said = [((3, 3), seen)] + [((g, 3), seen[genres[seen, g]]) for g in range(3)]
    said += [((a, b), seen[genres[seen, a] | genres[seen, b]]) for a, b in pairs]
    assert len({int(trie_row[k]) for k, _ in said}) == len(said)  # each said set has its own trie
    # no genre and one genre keep the rows they had before blends: 0, then 1 + the genre
    assert int(trie_row[3, 3]) == 0 and [int(trie_row[g, 3]) for g in range(3)] == [1, 2, 3]
    for (a, b), members in said:
        row = int(trie_row[a, b])
        assert b == 3 or row == int(trie_row[b, a])  # a pair's trie, whichever genre came first
        for level in range(4):
            allowed = stacked[level][node_table[row, members, level], codes[members, level]]
            assert allowed.all(), (a, b, level)  # every item said can be generated
        # and nothing else: under each trie the codes allowed are exactly its items' codes
        for level in range(4):
            nodes_here = np.unique(node_table[row, members, level].numpy())
            allowed = {(int(n), int(t)) for n in nodes_here for t in np.flatnonzero(stacked[level][n].numpy())}
            wanted = {(int(node_table[row, i, level]), int(codes[i, level])) for i in members}
            assert allowed == wanted, (a, b, level)
    # without blends: the genres' tries alone, the same nodes
    singles, stacked1, _, row1 = _genre_tries(codes, seen, torch.from_numpy(table), masks, genres, vocab, pairs=False)
    assert singles.shape[0] == 4 and torch.equal(singles, node_table[:4]) and torch.equal(row1[:, 3], trie_row[:, 3])


def test_the_genres_said_are_the_targets_own_at_their_shares():
    off = CodeTransformerConfig(n_genres=5, ask_share=0.5)
    cfg = CodeTransformerConfig(n_genres=5, ask_share=0.5, blend_share=0.4)
    has = torch.zeros(200, 50, 5)
    has[:, :, [1, 3]] = 1.0  # every target is genres 1 and 3
    has[:100, :, 3] = 0.0  # the first half only 1
    first, second = _said_genres(has, cfg, torch.Generator().manual_seed(0))
    said = first < 5
    assert set(first[said].tolist()) <= {1, 3} and set(second[second < 5].tolist()) <= {1, 3}
    assert abs(said.float().mean().item() - 0.5) < 0.02
    assert ((second < 5) <= said).all() and (second[second < 5] != first[second < 5]).all()
    assert not (second[:100] < 5).any()  # a target of one genre is never said as a blend
    assert abs((second[100:] < 5).float().sum().item() / said[100:].sum().item() - 0.4) < 0.03
    again = _said_genres(has, cfg, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], first) and torch.equal(again[1], second)
    # blends off (the default): the same first genres, never a second one
    alone, none = _said_genres(has, off, torch.Generator().manual_seed(0))
    assert torch.equal(alone, first) and (none == 5).all()


# ---- the reranker -------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(
    candidates=st.lists(st.integers(0, 1681), max_size=150),
    history=st.lists(st.integers(0, 1681), max_size=80),
    beam_size=st.integers(1, 200),
    k=st.integers(0, 200),
    with_scores=st.booleans(),
)
def test_output_is_a_duplicate_free_subset_of_the_candidates(reranker, candidates, history, beam_size, k, with_scores):
    rr = copy.copy(reranker)
    rr.beam_size = beam_size
    scores = np.linspace(1.0, 0.0, len(candidates)) if with_scores else None
    out = rr.rerank(history, candidates, scores, k=k)
    items = [i for i, _ in out]
    assert set(items) <= set(candidates)
    assert len(items) == len(set(items)) == min(k, len(set(candidates)))
    values = [s for _, s in out]
    assert all(np.isfinite(values)) and values == sorted(values, reverse=True)


def test_rerank_validates_its_input(reranker):
    with pytest.raises(ValueError, match="outside"):
        reranker.rerank([0, 1], [5, 99999])
    with pytest.raises(ValueError, match="retrieval_scores"):
        reranker.rerank([0, 1], [5, 6, 7], [1.0, 2.0])
    with pytest.raises(ValueError, match="not fitted"):
        GenerativeReranker().rerank([0], [1, 2])
    # filtered-out candidates may arrive with -inf or NaN scores
    assert len(reranker.rerank([0, 1], [5, 6, 7], [1.0, -np.inf, np.nan], k=3)) == 3


def test_a_callers_generator_share_sets_the_fusion(reranker, split):
    """``weight`` replaces the tuned fusion weight for one call: 0 is the retrieval order, 1 the
    generator's own, in between a blend of both; outside [0, 1] is refused."""
    hist, cands = split.sequences()[5], np.arange(300, 360)
    scores = np.linspace(1.0, 0.0, len(cands))  # retrieval order = candidate order
    order = lambda w: [i for i, _ in reranker.rerank(hist, cands, scores, k=len(cands), weight=w)]  # noqa: E731
    assert order(0.0) == cands.tolist()
    generator = [i for i, _ in reranker.rerank(hist, cands, None, k=len(cands))]
    assert order(1.0) == generator != cands.tolist()
    half = order(0.5)
    assert half not in (cands.tolist(), generator) and sorted(half) == cands.tolist()
    assert order(None) == order(reranker.fusion_weight_)
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="share"):
            reranker.rerank(hist, cands, scores, weight=bad)


def test_fit_is_deterministic_under_a_seed(split, item_vectors, reranker, cf):
    again = GenerativeReranker(config=FAST).fit(split, item_vectors, cf_model=cf, progress=False)
    np.testing.assert_array_equal(again.codes_, reranker.codes_)
    for (name, a), b in zip(reranker.model_.state_dict().items(), again.model_.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    assert again.fusion_weight_ == reranker.fusion_weight_
    hist, cands = split.sequences()[3], np.arange(200, 300)
    assert again.rerank(hist, cands, k=20) == reranker.rerank(hist, cands, k=20)


def test_save_load_round_trip(reranker, split, tmp_path):
    reranker.save(tmp_path)
    loaded = GenerativeReranker.load(tmp_path)
    np.testing.assert_array_equal(loaded.codes_, reranker.codes_)
    assert loaded.fusion_weight_ == reranker.fusion_weight_
    hist, cands = split.sequences()[7], np.arange(0, 100)
    scores = np.linspace(1, 0, 100)
    assert loaded.rerank(hist, cands, scores, k=10) == reranker.rerank(hist, cands, scores, k=10)


@pytest.mark.parametrize("damage", ["missing", "truncated_model", "bad_codes", "bad_json"])
def test_corrupt_folder_raises_value_error(reranker, tmp_path, damage):
    reranker.save(tmp_path)
    if damage == "missing":
        (tmp_path / FILES[2]).unlink()
    elif damage == "truncated_model":
        data = (tmp_path / FILES[2]).read_bytes()
        (tmp_path / FILES[2]).write_bytes(data[: len(data) // 2])
    elif damage == "bad_codes":
        arrays = dict(np.load(tmp_path / FILES[1]))
        arrays["item_codes"] = arrays["item_codes"][:-3]
        np.savez(tmp_path / FILES[1], **arrays)
    else:
        (tmp_path / FILES[0]).write_text("{not json")
    with pytest.raises(ValueError, match="reranker"):
        GenerativeReranker.load(tmp_path)


def test_the_asked_genre_is_an_input_the_generator_learns(conversational, genres, split, tmp_path):
    rr = conversational
    assert rr.genres_ == sorted({g for gs in genres for g in gs}) and rr.config_.n_genres == len(rr.genres_)
    assert rr.config_.cf_dim == rr.cf_dim and rr.model_.item_cf[: split.n_items].abs().sum() > 0
    # trained from zero: the rows of genres said moved, and apart from each other
    emb = rr.model_.genre_in.weight.detach()
    assert emb.abs().sum() > 0 and not torch.allclose(emb[0], emb[1])
    hist, cands = split.sequences()[5], np.arange(0, 120)
    none = rr.log_probs(hist, cands)
    comedy = rr.log_probs(hist, cands, ["comedy"])  # names are matched case-insensitively
    assert not np.allclose(comedy, none)
    np.testing.assert_array_equal(rr.log_probs(hist, cands, ["Comedy"]), comedy)
    np.testing.assert_array_equal(rr.log_probs(hist, cands, ["no such genre"]), none)
    out = rr.rerank(hist, cands, np.linspace(1, 0, 120), k=30, genres=["Drama", "Comedy"])
    assert len({i for i, _ in out}) == 30 and {i for i, _ in out} <= set(cands.tolist())
    rr.save(tmp_path)
    loaded = GenerativeReranker.load(tmp_path)
    assert loaded.genres_ == rr.genres_
    np.testing.assert_array_equal(loaded.log_probs(hist, cands, ["Comedy"]), comedy)
    meta = json.loads((tmp_path / FILES[0]).read_text())
    meta["genres_"] = meta["genres_"][:-1]
    (tmp_path / FILES[0]).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="genre names"):
        GenerativeReranker.load(tmp_path)


def test_blends_train_the_two_genres_mean_and_change_nothing_when_off(conversational, split, item_vectors, cf, genres):
    """With ``blend_share`` a second genre is said with the first (the input their mean, as at
    inference): another model than without; off is the default. (That off draws what was drawn before
    blends existed is checked by test_the_genres_said_are_the_targets_own_at_their_shares, and that
    the one-genre tries keep their rows by test_a_genre_trie_allows_exactly_its_seen_items.)"""
    assert conversational.config_.blend_share == 0.0
    blended = GenerativeReranker(config=CodeTransformerConfig(epochs=2, blend_share=0.5)).fit(
        split, item_vectors, cf_model=cf, progress=False, genres=genres)
    hist, cands = split.sequences()[5], np.arange(0, 120)
    two = blended.log_probs(hist, cands, ["Drama", "Comedy"])
    assert np.isfinite(two).all() and not np.allclose(two, conversational.log_probs(hist, cands, ["Drama", "Comedy"]))
    assert not np.allclose(two, blended.log_probs(hist, cands, ["Drama"]))


def test_without_item_genres_the_generator_reads_none(split, item_vectors):
    rr = GenerativeReranker(config=CodeTransformerConfig(epochs=1)).fit(split, item_vectors, progress=False)
    assert rr.config_.n_genres == 0 and rr.genres_ == []
    hist, cands = split.sequences()[2], np.arange(0, 50)
    np.testing.assert_array_equal(rr.log_probs(hist, cands, ["Comedy"]), rr.log_probs(hist, cands))


def test_cold_items_get_codes_from_text_and_can_be_ranked(reranker, split, item_vectors):
    cold = split.cold_items
    assert len(cold) == N_COLD and not np.isin(split.train.iidx, cold).any()
    codes = reranker.codes_
    assert len(np.unique(codes, axis=0)) == len(codes)  # every item, cold ones too, has its own code
    # a cold item's code follows its text: give the cold items other texts and their codes change
    moved = item_vectors.copy()
    moved[cold] = item_vectors[np.arange(len(cold))]
    other = GenerativeReranker(config=CodeTransformerConfig(epochs=1)).fit(split, moved, progress=False)
    warm = split.item_popularity() > 0
    np.testing.assert_array_equal(other.codes_[warm], codes[warm])
    assert (other.codes_[cold] != codes[cold]).any(1).mean() > 0.5
    ranked = reranker.rerank(split.sequences()[0], cold, None, k=len(cold))
    assert sorted(i for i, _ in ranked) == sorted(cold.tolist())
    assert len({round(s, 9) for _, s in ranked}) > 1  # the generator tells cold items apart


def test_evaluation_reports_cf_and_rerank_on_the_same_users(reranker, split, cf, item_vectors):
    res = evaluate_rerank(split, cf, reranker, "valid", n_candidates=50)
    assert res["users"] == len(split.valid)
    for key in ("cf", "rerank", "generator_only"):
        assert set(res[key]) == {"recall@10", "ndcg@10"}
        assert 0.0 <= res[key]["recall@10"] <= 1.0
    cold = evaluate_cold(split, cf, reranker, "test", n_candidates=50, item_vectors=item_vectors)
    assert cold["users"] == int(np.isin(split.test.iidx, split.cold_items).sum())
    assert {"random", "cf", "rerank", "text"} <= set(cold["mixed"]) and "rerank" in cold["cold_only"]
