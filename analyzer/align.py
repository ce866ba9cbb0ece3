"""Alignment of two versions' body paragraphs: similarity, then a one-to-one assignment.

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
lexical score alone. Pairs are one-to-one, chosen by an optimal assignment (Hungarian method)
that maximises the summed similarity over candidates at or above ``SIMILARITY_THRESHOLD``; a
candidate below the threshold is never paired.

How the threshold was chosen: ``examples/calibrate_alignment.py`` scores every body-paragraph
combination of labelled document pairs (the seed pair, the example story, the paraphrase and
reworded/reordered pairs of ``tests/test_compare.py``; 27 true, 381 false combinations) and
prints the weakest true pair and the strongest false one: true pairs scored >= 0.43 (a
heavily reworded paragraph), false ones <= 0.32 (the two seed leads, same topic, different
content). 0.38 sits in the middle of that gap. With the tone model's own embeddings
(``--stored``) no threshold separates them (true >= 0.15, false <= 0.18).

Deltas are B minus A (``opinion_delta = b.opinion.prob - a.opinion.prob``; likewise the signed
sentiment score), so a negative opinion delta means B states the paragraph more plainly.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import numpy as np

from analyzer.records import ParagraphScore

SIMILARITY_THRESHOLD = 0.38
NEIGHBOURS = 3  # k of the background: mean cosine of a paragraph's k closest other candidates
PRIOR_BACKGROUND = 0.3  # background of a paragraph with no other candidate (one-paragraph side)
NEAR_IDENTICAL = 0.9  # lexical score from which a pair counts as (near-)identical text
CHAR_NGRAM = 4
EMBED_BATCH = 64
EMBED_MAX_TOKENS = 256

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


# --------------------------------------------------------------------------- similarity


def normalise(text: str) -> str:
    """Fold the scraping noise that should not make two copies of a paragraph differ."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    text = re.sub(r"([.!?])(?=[a-z])", r"\1 ", text)  # "allies.xi" -> "allies. xi"
    return re.sub(r"\s+", " ", text).strip()


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text) if w not in STOPWORDS}


def _char_ngrams(text: str, n: int = CHAR_NGRAM) -> set[str]:
    return {text[i : i + n] for i in range(max(len(text) - n + 1, 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    """Set overlap in 0..1; two empty sets count as unrelated, not identical."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def lexical_similarity(a: str, b: str) -> float:
    """Mean of word-set and character n-gram Jaccard on normalised text."""
    na, nb = normalise(a), normalise(b)
    return 0.5 * (jaccard(_content_words(na), _content_words(nb)) + jaccard(_char_ngrams(na), _char_ngrams(nb)))


Embedder = Callable[[list[ParagraphScore]], "np.ndarray | None"]


def stored_embeddings(paragraphs: list[ParagraphScore]) -> np.ndarray | None:
    """The embeddings the scorer attached to the paragraphs; None when any is missing."""
    if any(p.embedding is None for p in paragraphs):
        return None
    return np.stack([np.asarray(p.embedding, dtype=np.float64) for p in paragraphs])


@lru_cache(maxsize=1)
def _base_encoder():
    """The plain pretrained MiniLM (no adapter) and its tokenizer, loaded once per process."""
    from transformers import AutoTokenizer

    from analyzer.model import load_encoder, locate_base_model

    return AutoTokenizer.from_pretrained(str(locate_base_model())), load_encoder().eval()


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
    vectors = []
    for start in range(0, len(paragraphs), EMBED_BATCH):
        batch = tokenizer([p.text for p in paragraphs[start : start + EMBED_BATCH]], padding=True, truncation=True,
                          max_length=EMBED_MAX_TOKENS, return_tensors="pt")
        with torch.inference_mode():
            hidden = encoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        vectors.append(mean_pool(hidden, batch["attention_mask"]).double().numpy())
    return np.concatenate(vectors)


def cosine_matrix(ea: np.ndarray, eb: np.ndarray) -> np.ndarray:
    """Cosine of every A vector with every B vector, clipped to 0..1."""
    ea = ea / np.linalg.norm(ea, axis=1, keepdims=True).clip(min=1e-12)
    eb = eb / np.linalg.norm(eb, axis=1, keepdims=True).clip(min=1e-12)
    return np.clip(ea @ eb.T, 0.0, 1.0)


def neighbour_mean(cos: np.ndarray, k: int = NEIGHBOURS, prior: float = PRIOR_BACKGROUND) -> np.ndarray:
    """For each (i, j): mean of row i's (up to) k highest cosines other than column j.

    A row with no other column (a one-paragraph side) gets `prior` as its background.
    """
    n, m = cos.shape
    avail = min(k, m - 1)
    if avail == 0:
        return np.full(cos.shape, prior)
    if avail == m - 1:
        return (cos.sum(axis=1, keepdims=True) - cos) / avail
    top = -np.sort(-cos, axis=1)
    in_top = cos >= top[:, avail - 1 : avail]
    with_next = top[:, : avail + 1].sum(axis=1, keepdims=True) - cos
    without = top[:, :avail].sum(axis=1, keepdims=True)
    return np.where(in_top, with_next, without) / avail


def background(cos: np.ndarray) -> np.ndarray:
    """How similar each pair's two paragraphs are to their other close candidates (CSLS-style)."""
    return 0.5 * (neighbour_mean(cos) + neighbour_mean(cos.T).T)


@dataclass
class SimilarityMatrix:
    """Pairwise similarity of A's and B's body paragraphs, with its parts kept for reporting."""

    lexical: np.ndarray
    cosine: np.ndarray | None
    margin: np.ndarray | None
    combined: np.ndarray


def similarity_matrix(
    a: list[ParagraphScore], b: list[ParagraphScore], embed: Embedder = base_encoder_embeddings
) -> SimilarityMatrix:
    """similarity = min(1, lexical + max(0, cosine - background)); lexical alone without embeddings."""
    lexical = np.array([[lexical_similarity(pa.text, pb.text) for pb in b] for pa in a], dtype=np.float64)
    lexical = lexical.reshape(len(a), len(b))
    vectors = embed(a + b) if a and b else None
    if vectors is None:
        return SimilarityMatrix(lexical, None, None, lexical.copy())
    cosine = cosine_matrix(vectors[: len(a)], vectors[len(a) :])
    margin = np.clip(cosine - background(cosine), 0.0, 1.0)
    return SimilarityMatrix(lexical, cosine, margin, np.clip(lexical + margin, 0.0, 1.0))


# --------------------------------------------------------------------------- assignment


def hungarian(cost: np.ndarray) -> list[tuple[int, int]]:
    """Minimum-cost one-to-one assignment (rows <= columns after an internal transpose).

    The classic O(n^2 m) potentials method; scipy is not a dependency and paragraph counts
    are small, so a compact version with a vectorised inner loop is enough.
    """
    if cost.size == 0:
        return []
    transposed = cost.shape[0] > cost.shape[1]
    c = cost.T if transposed else cost
    n, m = c.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=int)  # owner[j]: row (1-based) assigned to column j
    way = np.zeros(m + 1, dtype=int)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used[1:]
            reduced = c[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            candidates = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            u[owner[used]] += delta
            v[used] -= delta
            minv[~used] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    pairs = [(int(owner[j]) - 1, j - 1) for j in range(1, m + 1) if owner[j]]
    return [(col, row) for row, col in pairs] if transposed else pairs


def match(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Best one-to-one pairs at or above the threshold, sorted by A position."""
    gated = np.where(similarity >= threshold, similarity, 0.0)
    chosen = hungarian(-gated)
    return sorted((i, j) for i, j in chosen if similarity[i, j] >= threshold)


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
    def alike(self) -> bool:
        """Do both versions score this paragraph about the same?"""
        return (
            abs(self.opinion_delta) < ALIKE_OPINION
            and abs(self.sentiment_delta) < ALIKE_SENTIMENT
            and self.a.opinion.label == self.b.opinion.label
        )

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
    sim = similarity_matrix(a, b, embed)
    chosen = match(sim.combined, threshold)
    in_order = longest_increasing([j for _, j in chosen])
    return [
        AlignedPair(
            a=a[i],
            b=b[j],
            similarity=float(sim.combined[i, j]),
            lexical=float(sim.lexical[i, j]),
            cosine=None if sim.cosine is None else float(sim.cosine[i, j]),
            margin=None if sim.margin is None else float(sim.margin[i, j]),
            moved=k not in in_order,
        )
        for k, (i, j) in enumerate(chosen)
    ]
