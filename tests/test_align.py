"""The pieces of analyzer.align that make long comparisons fast: batching of the encoder pass,
the background from each paragraph's nearest cosines, and candidate pruning and settling
clear lexical matches on their text, which together must pair exactly what scoring every
combination with every paragraph's embedding pairs."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.align import (
    CANDIDATES,
    DENSE_PAIRS,
    NEIGHBOURS,
    PRIOR_BACKGROUND,
    SETTLED_LEXICAL,
    SIMILARITY_THRESHOLD,
    TextFeatures,
    align,
    base_encoder_embeddings,
    candidate_pairs,
    length_batches,
    lexical_score,
    match,
    nearest,
    neighbour_mean,
    prepare_sides,
    settled_pairs,
    similarity_matrix,
)
from tests.test_compare import PARAPHRASES, REWORDED_REPORT, make_document
from tests.test_compare_scale import synthetic_pair


def test_length_batches_cover_every_position_within_the_budget() -> None:
    lengths = [int(x) for x in np.random.default_rng(3).integers(5, 300, size=500)]
    batches = list(length_batches(lengths, max_tokens=2048, max_rows=32))
    assert sorted(pos for batch in batches for pos in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= 32
        assert len(batch) * max(lengths[pos] for pos in batch) <= 2048
    longest = [max(lengths[pos] for pos in batch) for batch in batches]
    assert longest == sorted(longest)  # shortest first: rows of a batch are of similar length
    assert list(length_batches([5000], 2048, 32)) == [[0]]  # a row longer than the budget still runs, alone


@pytest.mark.parametrize("m", [1, 2, 4, 9])
def test_neighbour_mean_from_nearest_matches_the_full_rows(m: int) -> None:
    """Mean of each row's NEIGHBOURS highest cosines other than the pair's, computed from the
    row's few nearest cosines only, equals the one computed from the whole row."""
    rng = np.random.default_rng(m)
    ea, eb = rng.normal(size=(6, 8)), rng.normal(size=(m, 8))
    ea /= np.linalg.norm(ea, axis=1, keepdims=True)
    eb /= np.linalg.norm(eb, axis=1, keepdims=True)
    eb[m - 1] = eb[0]  # a tie
    cos = np.clip(ea @ eb.T, 0.0, 1.0)
    near = nearest(ea, eb, NEIGHBOURS + 1)
    assert np.allclose(near.cosine, -np.sort(-cos, axis=1)[:, : NEIGHBOURS + 1])
    rows, cols = np.indices(cos.shape).reshape(2, -1)
    got = neighbour_mean(cos[rows, cols], near.cosine[rows])
    for value, i, j in zip(got, rows, cols):
        others = np.sort(np.delete(cos[i], j))[::-1][:NEIGHBOURS]
        assert value == pytest.approx(others.mean() if len(others) else PRIOR_BACKGROUND)


@pytest.fixture(scope="module")
def long_pair():
    """110 BBC paragraphs against their changed version (see tests/test_compare_scale.py)."""
    pair = synthetic_pair(110)
    a = make_document("a", [(t, "body", 0.1, 0.0) for t in pair.text_a.split("\n\n")])
    b = make_document("b", [(t, "body", 0.1, 0.0) for t in pair.text_b.split("\n\n")])
    assert len(a.body) * len(b.body) > DENSE_PAIRS  # align prunes to candidates here
    return a, b


@pytest.mark.parametrize("with_embeddings", [True, False])
def test_candidates_pair_what_every_combination_pairs(long_pair, with_embeddings: bool) -> None:
    a, b = long_pair
    vectors = dict(zip([p.text for p in a.body + b.body], base_encoder_embeddings(a.body + b.body))) if with_embeddings else None
    embedded: list[int] = []

    def embed(paragraphs):  # the encoder's vectors, computed once for the calls below
        embedded.append(len(paragraphs))
        return np.array([vectors[p.text] for p in paragraphs]) if vectors else None

    pruned = [(p.a_index, p.b_index) for p in align(a.body, b.body, embed=embed)]
    assert embedded[0] < 0.5 * (len(a.body) + len(b.body))  # clear lexical matches were settled on their text
    full = match(similarity_matrix(a.body, b.body, embed).combined, SIMILARITY_THRESHOLD)
    assert pruned == full and len(pruned) > 0.8 * len(a.body)
    rows, _ = candidate_pairs(prepare_sides(a.body, b.body, embed))
    assert len(rows) <= 4 * CANDIDATES * len(a.body)  # O(n k), not n x m


def test_embeddings_do_not_depend_on_batching_or_order() -> None:
    texts = [a for a, _ in PARAPHRASES] + REWORDED_REPORT + ["Short.", PARAPHRASES[0][0]]  # one repeat
    paragraphs = make_document("d", [(t, "body", 0.1, 0.0) for t in texts]).body
    together = base_encoder_embeddings(paragraphs)
    alone = np.concatenate([base_encoder_embeddings([p]) for p in paragraphs])
    reversed_ = base_encoder_embeddings(paragraphs[::-1])[::-1]

    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    assert together.shape == (len(texts), 384)
    assert np.all((unit(together) * unit(alone)).sum(axis=1) > 0.999)
    assert np.all((unit(together) * unit(reversed_)).sum(axis=1) > 0.999)
    assert np.array_equal(together[0], together[-1])  # the repeated paragraph: encoded once
    assert base_encoder_embeddings([]) is None


def test_settled_pairs_are_one_to_one_mutual_best_clear_lexical_matches(long_pair) -> None:
    """Settling skips the embedding only for pairs no other paragraph competes for: each side's best
    lexical match of the other, at SETTLED_LEXICAL or more, one-to-one, a repeated paragraph settled once."""
    a, b = long_pair
    texts_a = [p.text for p in a.body]
    features_b = [TextFeatures.of(p.text) for p in b.body]
    first = int(settled_pairs([TextFeatures.of(t) for t in texts_a], features_b).a[0])
    doubled = make_document("a2", [(t, "body", 0.1, 0.0) for t in texts_a + [texts_a[first]]])  # one settled paragraph twice
    features_a = [TextFeatures.of(p.text) for p in doubled.body]
    settled = settled_pairs(features_a, features_b)
    assert len(settled.a) > 0.5 * len(a.body)
    assert len(set(settled.a.tolist())) == len(settled.a) and len(set(settled.b.tolist())) == len(settled.b)
    assert np.all(settled.lexical >= SETTLED_LEXICAL)
    for i, j, score in zip(settled.a.tolist(), settled.b.tolist(), settled.lexical.tolist()):
        assert score == max(lexical_score(features_a[i], f) for f in features_b)
        assert score == max(lexical_score(f, features_b[j]) for f in features_a)
    assert sum(i in (first, len(texts_a)) for i in settled.a.tolist()) == 1  # of the two copies, one is settled
    pairs = align(doubled.body, b.body, embed=lambda paragraphs: None)
    assert sum(p.a.text == texts_a[first] for p in pairs) == 1  # and one is paired: one-to-one
