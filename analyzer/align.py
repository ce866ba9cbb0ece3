"""Alignment of two versions' body paragraphs: candidates, their similarity, then a one-to-one assignment.

Similarity of two paragraphs combines two signals, because each fails where the other works:

* lexical: the mean of content-word-set Jaccard and character 4-gram Jaccard on normalised
  text (case, curly quotes, dashes, missing spaces after full stops). It is ~1 for verbatim
  and near-verbatim copies ("TRUMP" vs "Trump"), but low for paraphrases.
* semantic margin: the cosine of paragraph embeddings minus its background, the mean cosine
  of each paragraph's k closest *other* candidates on the opposite side (CSLS-style, as in
  bilingual lexicon and bitext mining). Raw cosine cannot tell a reworded paragraph from a
  different paragraph about the same story (the two seed leads have cosine ~0.8, a reworded
  pair ~0.6); how far a pair stands out from its neighbours can. The embeddings come from the
  *pretrained* MiniLM (`base_encoder_embeddings`), not the tone model's own: its adapter-tuned
  space groups paragraphs by tone, so unrelated reporting paragraphs reach cosine 0.8-0.9.

``similarity = min(1, lexical + max(0, cosine - background))``; without embeddings it is the
lexical score alone.

Candidates: two 1,000-paragraph versions have a million combinations, so on long inputs (more
than DENSE_PAIRS combinations) only each paragraph's candidates on the other side are scored
(`candidate_pairs`): its CANDIDATES closest by cosine and its CANDIDATES sharing the most rare
words (IDF-weighted). Pruning loses no pair that the embedding margin would pair: a margin is
positive only when the cosine is among the NEIGHBOURS highest of its A paragraph or of its B
paragraph (otherwise it is at most its background), and CANDIDATES > NEIGHBOURS. A pair kept
above the threshold by the lexical score alone shares most of its words, rare ones included.

On long inputs a clear lexical match is settled on its text before any embedding (`settled_pairs`):
a pair that is each paragraph's best lexical match among the other's rare-word candidates, with a
lexical score of SETTLED_LEXICAL or more (0.6: almost twice the strongest false pair of the
threshold calibration below, 0.32, lexical and margin together). Its two paragraphs are taken,
so only the other paragraphs are embedded and aligned, with their backgrounds among the
paragraphs still free. In the 1,000-paragraph benchmark pair (tests/test_compare_scale.py,
segmented as `analyzer compare` does) this settles 1,022 of the 1,044 pairs, embeds 339 of the
1,637 distinct body paragraphs and pairs exactly what embedding all of them pairs; so do bars of
0.5, 0.7 and 0.9 there, and 0.6 on its 110- and 300-paragraph versions against scoring every
combination. Short inputs keep every paragraph in the embedding: there the settled paragraphs are
most of the neighbours a background is taken from, and without them the seed pair's lead
paragraph paired wrongly.

Pairs are one-to-one, chosen by an optimal assignment that maximises the summed similarity
over candidates at or above ``SIMILARITY_THRESHOLD`` (a candidate below it is never paired),
solved per connected component of the candidate graph (`assign`, scipy's linear_sum_assignment;
most components are one pair).

How the threshold was chosen: ``examples/calibrate_alignment.py`` scores every body-paragraph
combination of labelled document pairs (the seed pair, the example story, the paraphrase and
reworded/reordered pairs of ``tests/test_compare.py``; 27 true, 381 false combinations) and
prints the weakest true pair and the strongest false one: true pairs scored >= 0.43 (a
heavily reworded paragraph), false ones <= 0.32 (the two seed leads, same topic, different
content). 0.38 sits in the middle of that gap. With the tone model's own embeddings no
threshold separated them (true >= 0.15, false <= 0.18).

Deltas are B minus A (``opinion_delta = b.opinion.prob - a.opinion.prob``; likewise the signed
sentiment score), so a negative opinion delta means B states the paragraph more plainly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from analyzer.records import ParagraphScore

SIMILARITY_THRESHOLD = 0.38
NEIGHBOURS = 3  # k of the background: mean cosine of a paragraph's k closest other candidates
PRIOR_BACKGROUND = 0.3  # background of a paragraph with no other candidate (one-paragraph side)
NEAR_IDENTICAL = 0.9  # lexical score from which a pair counts as (near-)identical text
SETTLED_LEXICAL = 0.6  # on long inputs, a mutual best lexical match from here is paired without embeddings
CHAR_NGRAM = 4
CANDIDATES = 5  # per paragraph and signal: how many of the other side's paragraphs are scored with it
RARE_WORD_PARAGRAPHS = 20  # a word in more paragraphs of a side is too common to point at a counterpart
DENSE_PAIRS = 10_000  # inputs with at most this many combinations have every pair scored
COSINE_BLOCK = 1024  # A paragraphs per block of the cosine matrix: memory O(block x B paragraphs)
TIE_TOLERANCE = 1e-9  # a pair's cosine and the same cosine in a matrix product may differ in the last bits
EMBED_MAX_TOKENS = 256
# Padded tokens per encoder batch (rows x longest), by the encoder's dtype: fastest of 2k-16k
# measured in bf16 on a CPU with AMX; in fp32 (no AMX) 2,048 ran 600 BBC paragraphs in 9.8-10.4 s
# against 11.7-12.6 s with 8,192 (the FFN's matrix products slow down past a few thousand rows).
EMBED_BATCH_TOKENS = {"bfloat16": 8192, "float32": 2048}
EMBED_BATCH_ROWS = 64

# When a shared pair "scores alike" (the 0..1 opinion scale and the -1..1 sentiment score).
ALIKE_OPINION = 0.2  # a shared pair "scores alike" when |opinion delta| is below this ...
ALIKE_SENTIMENT = 0.3  # ... and |sentiment delta| is below this

STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from as is are was were be been being it its "
    "this that these those he she they we you i his her their our your them him us not no so than "
    "then there here has have had do does did will would can could should may might must also just "
    "about into over after before while which who whom what when where why how all any each more most "
    "s t".split()
)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": " - "})


# --------------------------------------------------------------------------- lexical similarity


def normalise(text: str) -> str:
    """Fold the scraping noise that should not make two copies of a paragraph differ."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = re.sub(r"([.!?])(?=[a-z])", r"\1 ", text)  # "allies.xi" -> "allies. xi"
    return re.sub(r"\s+", " ", text).strip()


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Set overlap in 0..1; two empty sets count as unrelated, not identical."""
    shared = len(a & b)
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


@dataclass(frozen=True)
class TextFeatures:
    """A paragraph's content words and character n-grams, built once however many pairs it is in."""

    words: frozenset[str]
    ngrams: frozenset[str]

    @classmethod
    def of(cls, text: str) -> TextFeatures:
        text = normalise(text)
        words = frozenset(w for w in re.findall(r"\w+", text) if w not in STOPWORDS)
        # zip of shifted copies: every n-gram in one C-level pass; a text shorter than n is its own n-gram
        ngrams = frozenset(map("".join, zip(*(text[k:] for k in range(CHAR_NGRAM))))) or frozenset([text])
        return cls(words, ngrams)


def lexical_score(a: TextFeatures, b: TextFeatures) -> float:
    """Mean of word-set and character n-gram Jaccard."""
    return 0.5 * (jaccard(a.words, b.words) + jaccard(a.ngrams, b.ngrams))


def containment(part: TextFeatures, whole: TextFeatures) -> float:
    """Share of `part`'s character n-grams found in `whole`: ~1 when its text is inside the other's."""
    return len(part.ngrams & whole.ngrams) / len(part.ngrams) if part.ngrams else 0.0


def lexical_similarity(a: str, b: str) -> float:
    """`lexical_score` of two texts, normalised."""
    return lexical_score(TextFeatures.of(a), TextFeatures.of(b))


# --------------------------------------------------------------------------- embeddings


Embedder = Callable[[list[ParagraphScore]], "np.ndarray | None"]


@lru_cache(maxsize=1)
def _base_encoder():
    """The plain pretrained MiniLM (no adapter) and its tokenizer, loaded once per process.

    Its weights are bf16 where the CPU multiplies bf16 in hardware, as the scorer's are: with AMX
    the pass runs ~3x faster than in fp32 (2,000 BBC paragraphs: 8.5 s vs 25.6 s), and alignment only
    compares cosines, which bf16 embeddings keep within 1e-4 of the fp32 ones.
    """
    import torch
    from transformers import AutoTokenizer

    from analyzer.inference import cpu_has_fast_bf16
    from analyzer.model import load_encoder, locate_base_model

    dtype = torch.bfloat16 if cpu_has_fast_bf16() else torch.float32
    return AutoTokenizer.from_pretrained(str(locate_base_model())), load_encoder(dtype=dtype).eval()


def length_batches(lengths: Sequence[int], max_tokens: int, max_rows: int) -> Iterator[list[int]]:
    """Positions grouped by length, shortest first; each group's padded size (rows x longest)
    stays within `max_tokens`, so short paragraphs are not padded to a long one's length."""
    batch: list[int] = []
    for pos in sorted(range(len(lengths)), key=lengths.__getitem__):
        if batch and (len(batch) == max_rows or (len(batch) + 1) * lengths[pos] > max_tokens):
            yield batch
            batch = []
        batch.append(pos)
    if batch:
        yield batch


def base_encoder_embeddings(paragraphs: list[ParagraphScore]) -> np.ndarray | None:
    """Mean-pooled embeddings of the *pretrained* encoder, trained for semantic similarity.

    The tone model's own embedding (the adapter-tuned encoder) is shaped by its training
    task: there, two unrelated reporting paragraphs score cosine ~0.8-0.9 and a paraphrase
    pair can score less, so it cannot align reworded paragraphs.
    """
    if not paragraphs:
        return None
    import torch

    from analyzer.model import mean_pool

    tokenizer, encoder = _base_encoder()
    texts = list(dict.fromkeys(p.text for p in paragraphs))  # a paragraph both versions share is encoded once
    ids = tokenizer(texts, truncation=True, max_length=EMBED_MAX_TOKENS)["input_ids"]
    vectors = np.empty((len(texts), encoder.config.hidden_size))
    budget = EMBED_BATCH_TOKENS[str(encoder.dtype).removeprefix("torch.")]
    for rows in length_batches([len(row) for row in ids], budget, EMBED_BATCH_ROWS):
        batch = tokenizer.pad({"input_ids": [ids[r] for r in rows]}, return_tensors="pt")
        with torch.inference_mode():
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        vectors[rows] = mean_pool(hidden.float(), batch["attention_mask"]).double().numpy()
    position = {text: k for k, text in enumerate(texts)}
    return vectors[[position[p.text] for p in paragraphs]]


# --------------------------------------------------------------------------- pairs and their similarity


@dataclass
class Nearest:
    """Per paragraph of one side: the other side's paragraphs of highest cosine, highest first."""

    index: np.ndarray  # int [paragraphs, k]
    cosine: np.ndarray  # [paragraphs, k], clipped to 0..1


def nearest(ea: np.ndarray, eb: np.ndarray, k: int) -> Nearest:
    """Each unit vector of `ea`'s k highest cosines with `eb`, one block of rows at a time."""
    k = min(k, len(eb))
    index = np.empty((len(ea), k), dtype=np.int64)
    cosine = np.empty((len(ea), k))
    for start in range(0, len(ea), COSINE_BLOCK):
        cos = np.clip(ea[start : start + COSINE_BLOCK] @ eb.T, 0.0, 1.0)
        top = np.argpartition(-cos, k - 1, axis=1)[:, :k]
        values = np.take_along_axis(cos, top, axis=1)
        order = np.argsort(-values, axis=1, kind="stable")
        index[start : start + len(cos)] = np.take_along_axis(top, order, axis=1)
        cosine[start : start + len(cos)] = np.take_along_axis(values, order, axis=1)
    return Nearest(index, cosine)


def neighbour_mean(cos: np.ndarray, top: np.ndarray, k: int = NEIGHBOURS, prior: float = PRIOR_BACKGROUND) -> np.ndarray:
    """For pairs of cosine `cos` whose paragraph's highest cosines are the rows of `top` (highest
    first; at least min(k + 1, other side's size) of them): the mean of that paragraph's (up to)
    k highest cosines other than this pair's. A paragraph alone on the other side gets `prior`.
    """
    avail = min(k, top.shape[1] - 1)
    if avail == 0:
        return np.full(cos.shape, prior)
    in_top = cos >= top[:, avail - 1] - TIE_TOLERANCE
    with_next = top[:, : avail + 1].sum(axis=1) - cos
    without = top[:, :avail].sum(axis=1)
    return np.where(in_top, with_next, without) / avail


@dataclass
class Sides:
    """Both versions' paragraphs ready for scoring pairs: text features, unit embeddings and each
    paragraph's nearest paragraphs on the other side (the background of its pairs)."""

    features_a: list[TextFeatures]
    features_b: list[TextFeatures]
    unit_a: np.ndarray | None = None
    unit_b: np.ndarray | None = None
    near_a: Nearest | None = None
    near_b: Nearest | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.features_a), len(self.features_b)


def prepare_sides(a: list[ParagraphScore], b: list[ParagraphScore], embed: Embedder,
                  features: tuple[list[TextFeatures], list[TextFeatures]] | None = None) -> Sides:
    """Everything pair scores are computed from, in O(n) passes (and one blockwise cosine product);
    `features`: the paragraphs' text features when the caller has them already."""
    sides = Sides(*(features or ([TextFeatures.of(p.text) for p in a], [TextFeatures.of(p.text) for p in b])))
    vectors = embed(a + b) if a and b else None
    if vectors is not None:
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)
        sides.unit_a, sides.unit_b = unit[: len(a)], unit[len(a) :]
        k = max(CANDIDATES, NEIGHBOURS + 1)
        sides.near_a, sides.near_b = nearest(sides.unit_a, sides.unit_b, k), nearest(sides.unit_b, sides.unit_a, k)
    return sides


def all_pairs(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (A, B) combination, row-major."""
    rows, cols = np.indices((n, m)).reshape(2, -1)
    return rows, cols


def top_per_row(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k highest-valued entries of each row of a sparse matrix given as (rows, cols, values)."""
    order = np.lexsort((-values, rows))
    rows, cols = rows[order], cols[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    return rows[rank < k], cols[rank < k]


def rare_word_overlap(features_a: list[TextFeatures], features_b: list[TextFeatures]) -> sparse.coo_matrix:
    """[A, B]: the summed IDF of the content words a pair shares, counting only words in at most
    RARE_WORD_PARAGRAPHS paragraphs of each side (so the product stays O(n) entries)."""
    vocabulary: dict[str, int] = {}
    incidence = []
    for features in (features_a, features_b):
        rows = [r for r, f in enumerate(features) for _ in f.words]
        cols = [vocabulary.setdefault(w, len(vocabulary)) for f in features for w in f.words]
        incidence.append((rows, cols))
    ia, ib = (
        sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(features), len(vocabulary)))
        for (rows, cols), features in zip(incidence, (features_a, features_b))
    )
    df_a, df_b = np.asarray(ia.sum(axis=0)).ravel(), np.asarray(ib.sum(axis=0)).ravel()
    rare = np.flatnonzero((df_a > 0) & (df_b > 0) & (df_a <= RARE_WORD_PARAGRAPHS) & (df_b <= RARE_WORD_PARAGRAPHS))
    idf = np.log((len(features_a) + len(features_b)) / (df_a[rare] + df_b[rare]))
    overlap = (ia[:, rare].multiply(idf).tocsr() @ ib[:, rare].T).tocoo()
    overlap.eliminate_zeros()
    return overlap


def unique_pairs(rows: list[np.ndarray], cols: list[np.ndarray], m: int) -> tuple[np.ndarray, np.ndarray]:
    """The (row, col) pairs of some arrays of them, each once, row-major (m: the number of columns)."""
    keys = np.unique(np.concatenate(rows).astype(np.int64) * m + np.concatenate(cols).astype(np.int64))
    return keys // m, keys % m


def rare_word_candidates(features_a: list[TextFeatures], features_b: list[TextFeatures],
                         k: int = CANDIDATES) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each paragraph's k of the other side sharing the most rare words, from both sides (rows, cols)."""
    overlap = rare_word_overlap(features_a, features_b)
    by_a = top_per_row(overlap.row, overlap.col, overlap.data, k)
    by_b = top_per_row(overlap.col, overlap.row, overlap.data, k)
    return [by_a[0], by_b[1]], [by_a[1], by_b[0]]


def candidate_pairs(sides: Sides, k: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """The pairs worth scoring: each paragraph's k closest by cosine and its k sharing the most
    rare words, from both sides; O(n k) of them, each once, row-major."""
    n, m = sides.shape
    rows, cols = rare_word_candidates(sides.features_a, sides.features_b, k)
    if sides.near_a is not None and sides.near_b is not None:
        rows += [np.repeat(np.arange(n), sides.near_a.index[:, :k].shape[1]), sides.near_b.index[:, :k].ravel()]
        cols += [sides.near_a.index[:, :k].ravel(), np.repeat(np.arange(m), sides.near_b.index[:, :k].shape[1])]
    return unique_pairs(rows, cols, m)


@dataclass
class PairSimilarity:
    """Similarity of some (A position, B position) pairs, with its parts kept for reporting."""

    a: np.ndarray
    b: np.ndarray
    lexical: np.ndarray
    cosine: np.ndarray | None
    margin: np.ndarray | None
    combined: np.ndarray


def score_pairs(sides: Sides, rows: np.ndarray, cols: np.ndarray) -> PairSimilarity:
    """similarity = min(1, lexical + max(0, cosine - background)); lexical alone without embeddings."""
    fa, fb = sides.features_a, sides.features_b
    lexical = np.array([lexical_score(fa[i], fb[j]) for i, j in zip(rows.tolist(), cols.tolist())], dtype=np.float64)
    if sides.unit_a is None or sides.near_a is None or sides.near_b is None:
        return PairSimilarity(rows, cols, lexical, None, None, lexical.copy())
    cosine = np.clip(np.einsum("ij,ij->i", sides.unit_a[rows], sides.unit_b[cols]), 0.0, 1.0)
    background = 0.5 * (neighbour_mean(cosine, sides.near_a.cosine[rows]) + neighbour_mean(cosine, sides.near_b.cosine[cols]))
    margin = np.clip(cosine - background, 0.0, 1.0)
    return PairSimilarity(rows, cols, lexical, cosine, margin, np.clip(lexical + margin, 0.0, 1.0))


def best_in_group(groups: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Mask of each group's highest-valued entry (the first of a tie)."""
    order = np.lexsort((-values, groups))
    best = np.zeros(len(groups), dtype=bool)
    best[order[np.r_[True, groups[order][1:] != groups[order][:-1]]] if len(order) else order] = True
    return best


def settled_pairs(features_a: list[TextFeatures], features_b: list[TextFeatures]) -> PairSimilarity:
    """Clear lexical matches, settled on their text alone: each paragraph the other's best lexical
    match among the rare-word candidates, scoring SETTLED_LEXICAL or more."""
    rows, cols = unique_pairs(*rare_word_candidates(features_a, features_b), len(features_b))
    lexical = np.array([lexical_score(features_a[i], features_b[j]) for i, j in zip(rows.tolist(), cols.tolist())])
    keep = best_in_group(rows, lexical) & best_in_group(cols, lexical) & (lexical >= SETTLED_LEXICAL)
    return PairSimilarity(rows[keep], cols[keep], lexical[keep], None, None, lexical[keep])


@dataclass
class SimilarityMatrix:
    """Every pair's similarity of A's and B's body paragraphs, with its parts kept for reporting."""

    lexical: np.ndarray
    cosine: np.ndarray | None
    margin: np.ndarray | None
    combined: np.ndarray


def similarity_matrix(
    a: list[ParagraphScore], b: list[ParagraphScore], embed: Embedder = base_encoder_embeddings
) -> SimilarityMatrix:
    """All combinations scored (for calibration and checks; `align` scores only candidates on long inputs)."""
    sides = prepare_sides(a, b, embed)
    sim = score_pairs(sides, *all_pairs(*sides.shape))

    def dense(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values.reshape(sides.shape)

    return SimilarityMatrix(dense(sim.lexical), dense(sim.cosine), dense(sim.margin), dense(sim.combined))


# --------------------------------------------------------------------------- assignment


def assign(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Positions of the edges of a maximum-weight one-to-one matching of a bipartite graph
    given as edges (rows[e], cols[e], weights[e] >= 0), each (row, col) at most once.

    Solved per connected component (scipy's linear_sum_assignment on the component's dense
    matrix, 0 where it has no edge), so the work grows with the components, not with n x m.
    """
    if len(rows) == 0:
        return np.empty(0, dtype=np.int64)
    _, r = np.unique(rows, return_inverse=True)
    _, c = np.unique(cols, return_inverse=True)
    n_rows = int(r.max()) + 1
    nodes = n_rows + int(c.max()) + 1
    graph = sparse.coo_matrix((np.ones(len(r)), (r, n_rows + c)), shape=(nodes, nodes))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label[r], kind="stable")
    chosen: list[int] = []
    for group in np.split(order, np.flatnonzero(np.diff(label[r][order])) + 1):
        if len(group) == 1:
            chosen.append(int(group[0]))
            continue
        _, gi = np.unique(r[group], return_inverse=True)
        _, gj = np.unique(c[group], return_inverse=True)
        weight = np.zeros((gi.max() + 1, gj.max() + 1))
        edge = np.full(weight.shape, -1, dtype=np.int64)
        weight[gi, gj], edge[gi, gj] = weights[group], group
        i, j = linear_sum_assignment(weight, maximize=True)
        chosen += [int(e) for e in edge[i, j] if e >= 0]
    return np.array(sorted(chosen), dtype=np.int64)


def match(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Best one-to-one pairs of a dense similarity matrix at or above the threshold, sorted by A position."""
    rows, cols = np.nonzero(similarity >= threshold)
    chosen = assign(rows, cols, similarity[rows, cols])
    return sorted(zip(rows[chosen].tolist(), cols[chosen].tolist()))


def longest_increasing(values: list[int]) -> set[int]:
    """Positions of one longest strictly increasing subsequence (patience sorting)."""
    tails: list[int] = []  # position in `values` of the smallest tail for each length
    parent = [-1] * len(values)
    for pos, value in enumerate(values):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if values[tails[mid]] < value:
                lo = mid + 1
            else:
                hi = mid
        parent[pos] = tails[lo - 1] if lo else -1
        tails[lo:lo + 1] = [pos]
    keep, pos = set(), tails[-1] if tails else -1
    while pos >= 0:
        keep.add(pos)
        pos = parent[pos]
    return keep


# --------------------------------------------------------------------------- records


@dataclass
class AlignedPair:
    """A body paragraph of A and its counterpart in B; `moved` when B has it out of A's order."""

    a: ParagraphScore = field(repr=False)
    b: ParagraphScore = field(repr=False)
    similarity: float
    lexical: float
    cosine: float | None = None
    margin: float | None = None
    moved: bool = False

    @property
    def a_index(self) -> int:
        return self.a.index

    @property
    def b_index(self) -> int:
        return self.b.index

    @property
    def opinion_delta(self) -> float:
        return self.b.opinion.prob - self.a.opinion.prob

    @property
    def sentiment_delta(self) -> float:
        return self.b.sentiment.score - self.a.sentiment.score

    @property
    def match(self) -> str:
        """identical / near-identical (same words) / reworded (same meaning, other words)."""
        if " ".join(self.a.text.split()) == " ".join(self.b.text.split()):
            return "identical"
        return "near-identical" if self.lexical >= NEAR_IDENTICAL else "reworded"

    @property
    def opinion_differs(self) -> bool:
        """The two versions' opinion scores differ: by ALIKE_OPINION or more, or across the label threshold."""
        return abs(self.opinion_delta) >= ALIKE_OPINION or self.a.opinion.label != self.b.opinion.label

    @property
    def sentiment_differs(self) -> bool:
        return abs(self.sentiment_delta) >= ALIKE_SENTIMENT

    @property
    def alike(self) -> bool:
        """Do both versions score this paragraph about the same?"""
        return not (self.opinion_differs or self.sentiment_differs)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a_index": self.a_index,
            "b_index": self.b_index,
            "similarity": rounded(self.similarity),
            "lexical": rounded(self.lexical),
            "cosine": rounded(self.cosine),
            "margin": rounded(self.margin),
            "match": self.match,
            "moved": self.moved,
            "a_opinion": rounded(self.a.opinion.prob),
            "b_opinion": rounded(self.b.opinion.prob),
            "opinion_delta": rounded(self.opinion_delta),
            "a_sentiment": rounded(self.a.sentiment.score),
            "b_sentiment": rounded(self.b.sentiment.score),
            "sentiment_delta": rounded(self.sentiment_delta),
            "a_tone": self.a.tone,
            "b_tone": self.b.tone,
        }


def rounded(value: float | None) -> float | None:
    """JSON-safe rounded float (scores may arrive as numpy scalars)."""
    return None if value is None else round(float(value), 4)


# --------------------------------------------------------------------------- alignment


def align(
    a: list[ParagraphScore],
    b: list[ParagraphScore],
    threshold: float = SIMILARITY_THRESHOLD,
    embed: Embedder = base_encoder_embeddings,
) -> list[AlignedPair]:
    """One-to-one pairs of body paragraphs, in A's order, with B-side reorders marked `moved`."""
    if not a or not b:
        return []
    features_a, features_b = [TextFeatures.of(p.text) for p in a], [TextFeatures.of(p.text) for p in b]
    free_a, free_b = np.arange(len(a)), np.arange(len(b))
    pairs: list[tuple[int, int, float, float, float | None, float | None]] = []  # (a, b, similarity, lexical, cosine, margin)
    if len(a) * len(b) > DENSE_PAIRS:
        settled = settled_pairs(features_a, features_b)
        pairs += [(int(i), int(j), float(x), float(x), None, None) for i, j, x in zip(settled.a, settled.b, settled.lexical)]
        free_a, free_b = np.setdiff1d(free_a, settled.a), np.setdiff1d(free_b, settled.b)
    if len(free_a) and len(free_b):
        sides = prepare_sides([a[i] for i in free_a], [b[j] for j in free_b], embed,
                              ([features_a[i] for i in free_a], [features_b[j] for j in free_b]))
        dense = len(free_a) * len(free_b) <= DENSE_PAIRS
        sim = score_pairs(sides, *(all_pairs(*sides.shape) if dense else candidate_pairs(sides)))
        kept = np.flatnonzero(sim.combined >= threshold)
        pairs += [(int(free_a[sim.a[e]]), int(free_b[sim.b[e]]), float(sim.combined[e]), float(sim.lexical[e]),
                   None if sim.cosine is None else float(sim.cosine[e]), None if sim.margin is None else float(sim.margin[e]))
                  for e in kept[assign(sim.a[kept], sim.b[kept], sim.combined[kept])]]
    pairs.sort()
    in_order = longest_increasing([j for _, j, *_ in pairs])
    return [
        AlignedPair(a=a[i], b=b[j], similarity=similarity, lexical=lexical, cosine=cosine, margin=margin, moved=k not in in_order)
        for k, (i, j, similarity, lexical, cosine, margin) in enumerate(pairs)
    ]
