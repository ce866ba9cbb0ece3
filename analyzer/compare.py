"""Contrast two versions of a story: align their body paragraphs, then compare the scores.

Alignment works on body paragraphs only; headlines, headings and boilerplate are reported with
their kind but are never paired or counted as content (GUIDE §3).

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
from itertools import zip_longest
from typing import Any, Callable, Iterable

import numpy as np

from analyzer.records import DocumentScore, ParagraphScore

SIMILARITY_THRESHOLD = 0.38
NEIGHBOURS = 3  # k of the background: mean cosine of a paragraph's k closest other candidates
PRIOR_BACKGROUND = 0.3  # background of a paragraph with no other candidate (one-paragraph side)
NEAR_IDENTICAL = 0.9  # lexical score from which a pair counts as (near-)identical text
CHAR_NGRAM = 4
EMBED_BATCH = 64
EMBED_MAX_TOKENS = 256
DELTA_DIRECTION = "b_minus_a"

# Contrast wording thresholds (on the 0..1 opinion scale and the -1..1 sentiment score).
ALIKE_OPINION = 0.2  # a shared pair "scores alike" when |opinion delta| is below this ...
ALIKE_SENTIMENT = 0.3  # ... and |sentiment delta| is below this
CLEAR_SHARE_GAP = 0.15  # opinion-share gap worth calling "clearly more opinionated"
SOME_SHARE_GAP = 0.05
SENTIMENT_GAP = 0.1

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
            "similarity": _round(self.similarity),
            "lexical": _round(self.lexical),
            "cosine": _round(self.cosine),
            "margin": _round(self.margin),
            "match": self.match,
            "moved": self.moved,
            "a_opinion": _round(self.a.opinion.prob),
            "b_opinion": _round(self.b.opinion.prob),
            "opinion_delta": _round(self.opinion_delta),
            "a_sentiment": _round(self.a.sentiment.score),
            "b_sentiment": _round(self.b.sentiment.score),
            "sentiment_delta": _round(self.sentiment_delta),
            "a_tone": self.a.tone,
            "b_tone": self.b.tone,
        }


def _round(value: float | None) -> float | None:
    """JSON-safe rounded float (scores may arrive as numpy scalars)."""
    return None if value is None else round(float(value), 4)


@dataclass
class Row:
    """One line of a side-by-side view: a pair, or one paragraph against an empty gap."""

    a: ParagraphScore | None
    b: ParagraphScore | None
    pair: AlignedPair | None = None

    @property
    def kind(self) -> str:
        """pair | only-a | only-b | other-a | other-b | other (other: heading, headline, boilerplate)."""
        if self.pair is not None:
            return "pair"
        if self.a is not None and self.b is not None:
            return "other"  # both sides' headings leading into the same shared paragraph
        side, paragraph = ("a", self.a) if self.a is not None else ("b", self.b)
        return f"only-{side}" if paragraph.kind == "body" else f"other-{side}"

    @property
    def moved(self) -> bool:
        return self.pair is not None and self.pair.moved


def paragraph_record(p: ParagraphScore) -> dict[str, Any]:
    """A paragraph with its scores, without the embedding (JSON output)."""
    return {
        "index": p.index,
        "kind": p.kind,
        "text": p.text,
        "opinion": {"label": p.opinion.label, "prob": _round(p.opinion.prob)},
        "sentiment": {
            "label": p.sentiment.label,
            "score": _round(p.sentiment.score),
            "probs": {label: _round(prob) for label, prob in p.sentiment.probs.items()},
        },
        "tone": p.tone,
    }


@dataclass
class Placement:
    """Where one side's added body paragraphs sit relative to the shared report (indices)."""

    before: list[int] = field(default_factory=list)
    within: list[int] = field(default_factory=list)
    after: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[int]]:
        return {"before": self.before, "within": self.within, "after": self.after}


def placement(only: list[ParagraphScore], shared: list[int]) -> Placement:
    """Before the first shared paragraph, after the last, or interleaved with them."""
    result = Placement()
    for p in only:
        if not shared or p.index < min(shared):
            result.before.append(p.index)
        elif p.index > max(shared):
            result.after.append(p.index)
        else:
            result.within.append(p.index)
    return result


@dataclass
class Comparison:
    """Two scored versions of a story, their aligned body paragraphs and the contrast in words."""

    a: DocumentScore = field(repr=False)
    b: DocumentScore = field(repr=False)
    pairs: list[AlignedPair]
    only_a: list[ParagraphScore]
    only_b: list[ParagraphScore]
    threshold: float = SIMILARITY_THRESHOLD
    summary: list[str] = field(default_factory=list)

    @property
    def placement_a(self) -> Placement:
        return placement(self.only_a, [p.a_index for p in self.pairs])

    @property
    def placement_b(self) -> Placement:
        return placement(self.only_b, [p.b_index for p in self.pairs])

    @property
    def moved(self) -> list[AlignedPair]:
        return [p for p in self.pairs if p.moved]

    def not_content(self, side: str) -> list[ParagraphScore]:
        """Headline, headings and boilerplate of one side ("a" or "b")."""
        return [p for p in getattr(self, side).paragraphs if p.kind != "body"]

    def rows(self) -> list[Row]:
        return aligned_rows(self)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "threshold": self.threshold,
            "delta_direction": DELTA_DIRECTION,
            "pairs": [p.to_dict() for p in self.pairs],
            "only_a": [paragraph_record(p) for p in self.only_a],
            "only_b": [paragraph_record(p) for p in self.only_b],
            "placement": {"a": self.placement_a.to_dict(), "b": self.placement_b.to_dict()},
            "not_content": {
                side: [{"index": p.index, "kind": p.kind, "text": p.text} for p in self.not_content(side)]
                for side in ("a", "b")
            },
            "summary": self.summary,
        }


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


def compare_documents(
    a: DocumentScore,
    b: DocumentScore,
    threshold: float = SIMILARITY_THRESHOLD,
    embed: Embedder = base_encoder_embeddings,
) -> Comparison:
    """Align A's and B's body paragraphs and describe how the two versions differ.

    `embed` gives the vectors for the semantic signal: by default the pretrained encoder's
    (see `base_encoder_embeddings`); `stored_embeddings` uses the scorer's own.
    """
    pairs = align(a.body, b.body, threshold, embed)
    paired_a = {p.a_index for p in pairs}
    paired_b = {p.b_index for p in pairs}
    comparison = Comparison(
        a=a,
        b=b,
        pairs=pairs,
        only_a=[p for p in a.body if p.index not in paired_a],
        only_b=[p for p in b.body if p.index not in paired_b],
        threshold=threshold,
    )
    comparison.summary = summarise(comparison)
    return comparison


# --------------------------------------------------------------------------- side-by-side rows


def _gaps(paragraphs: list[ParagraphScore], anchors: set[int]) -> list[list[ParagraphScore]]:
    """Split a document at its in-order shared paragraphs: one gap before each, one at the end."""
    gaps: list[list[ParagraphScore]] = [[]]
    for p in paragraphs:
        if p.index in anchors:
            gaps.append([])
        else:
            gaps[-1].append(p)
    return gaps


def _split_gap(paragraphs: list[ParagraphScore]) -> tuple[list[ParagraphScore], ...]:
    """(leading headlines, the rest, trailing headings/boilerplate) of one side's gap."""
    start = 0
    while start < len(paragraphs) and paragraphs[start].kind == "headline":
        start += 1
    end = len(paragraphs)
    while end > start and paragraphs[end - 1].kind != "body":
        end -= 1
    return paragraphs[:start], paragraphs[start:end], paragraphs[end:]


def _gap_rows(gap_a: list[ParagraphScore], gap_b: list[ParagraphScore], by_a: dict[int, AlignedPair]) -> list[Row]:
    """Headlines side by side, A's extra paragraphs, B's, then both sides' lead-in headings."""
    head_a, middle_a, tail_a = _split_gap(gap_a)
    head_b, middle_b, tail_b = _split_gap(gap_b)
    rows = [Row(pa, pb) for pa, pb in zip_longest(head_a, head_b)]
    rows += [Row(p, by_a[p.index].b, by_a[p.index]) if p.index in by_a else Row(p, None) for p in middle_a]
    rows += [Row(None, p) for p in middle_b]
    return rows + [Row(pa, pb) for pa, pb in zip_longest(tail_a, tail_b)]


def aligned_rows(comparison: Comparison) -> list[Row]:
    """Merge both documents into rows so that each side reads in its own order.

    Between two in-order shared paragraphs come A's extra paragraphs, then B's, then the
    headings that lead into the next shared paragraph (headlines stay on top, side by side).
    Moved pairs sit at A's position.
    """
    anchors = [p for p in comparison.pairs if not p.moved]
    by_a = {p.a_index: p for p in comparison.moved}
    moved_b = {p.b_index for p in comparison.moved}
    gaps_a = _gaps(comparison.a.paragraphs, {p.a_index for p in anchors})
    gaps_b = _gaps([p for p in comparison.b.paragraphs if p.index not in moved_b], {p.b_index for p in anchors})
    rows: list[Row] = []
    for k, (gap_a, gap_b) in enumerate(zip(gaps_a, gaps_b)):
        rows += _gap_rows(gap_a, gap_b, by_a)
        if k < len(anchors):
            rows.append(Row(anchors[k].a, anchors[k].b, anchors[k]))
    return rows


def _distribution(shares: dict[str, float] | None) -> str:
    if not shares:
        return "-"
    ranked = sorted(((label, share) for label, share in shares.items() if share), key=lambda kv: -kv[1])
    return ", ".join(f"{label} {share:.2f}" for label, share in ranked) or "-"


def aggregates_side_by_side(comparison: Comparison) -> list[tuple[str, str, str]]:
    """(metric, A value, B value) rows of the headline aggregates, formatted for display."""
    docs = (comparison.a, comparison.b)

    def row(label: str, value) -> tuple[str, str, str]:
        return (label, *(value(doc) for doc in docs))

    return [
        row("document", lambda d: d.doc_id),
        row("body paragraphs", lambda d: str(len(d.body))),
        row("opinion share", lambda d: _fmt_float(opinion_share(d))),
        row("mean opinion prob.", lambda d: _fmt_float(d.aggregates.get("mean_opinion_prob"))),
        row("mean sentiment score", lambda d: _fmt_float(mean_sentiment(d), "+.2f")),
        row("tone", lambda d: _distribution(d.aggregates.get("tone_distribution"))),
        row("sentiment", lambda d: _distribution(d.aggregates.get("sentiment_distribution"))),
    ]


def _fmt_float(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


# --------------------------------------------------------------------------- summary


def paragraph_list(indices: Iterable[int]) -> str:
    """'paragraph 3' / 'paragraphs 1, 3 and 4' (document indices, 0-based as everywhere)."""
    items = [str(i) for i in indices]
    if len(items) == 1:
        return f"paragraph {items[0]}"
    return "paragraphs " + (", ".join(items[:-1]) + " and " + items[-1] if items else "")


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _body_mean(doc: DocumentScore, key: str, value: Callable[[ParagraphScore], float]) -> float | None:
    """The aggregate when present, else recomputed from the body; None without body paragraphs."""
    if doc.aggregates.get(key) is not None:
        return float(doc.aggregates[key])
    body = doc.body
    return sum(value(p) for p in body) / len(body) if body else None


def opinion_share(doc: DocumentScore) -> float | None:
    return _body_mean(doc, "opinion_share", lambda p: float(p.opinion.label == "opinion"))


def mean_sentiment(doc: DocumentScore) -> float | None:
    return _body_mean(doc, "mean_sentiment_score", lambda p: p.sentiment.score)


def _added_sentence(side: str, only: list[ParagraphScore], where: Placement, shared: bool) -> str | None:
    """'A adds 4 paragraphs (3 opinion, 1 reporting): 3 before the shared report (...) and 1 after it (...).'"""
    if not only:
        return None
    n_opinion = sum(p.opinion.label == "opinion" for p in only)
    labels = f"{n_opinion} opinion, {len(only) - n_opinion} reporting"
    if not shared:
        return f"{side} has {plural(len(only), 'body paragraph')} ({labels}), none shared with the other version."
    groups = [(where.before, "before"), (where.within, "interleaved with"), (where.after, "after")]
    present = [(idx, relation) for idx, relation in groups if idx]
    parts = [
        f"{len(idx)} {relation} {'the shared report' if k == 0 else 'it'} ({paragraph_list(idx)})"
        for k, (idx, relation) in enumerate(present)
    ]
    return f"{side} adds {plural(len(only), 'paragraph')} ({labels}): " + " and ".join(parts) + "."


def _framing_sentence(side: str, only: list[ParagraphScore]) -> str | None:
    """Name the added paragraphs that carry the framing, grouped by the tone they express."""
    opinion = [p for p in only if p.opinion.label == "opinion"]
    if not only:
        return None
    if not opinion:
        return f"{side}'s added paragraphs read as reporting."
    by_tone: dict[str, list[int]] = {}
    for p in opinion:
        by_tone.setdefault(p.tone, []).append(p.index)
    order = sorted(by_tone, key=lambda tone: (-len(by_tone[tone]), tone))
    tones = " and ".join(f"{tone} in tone ({paragraph_list(by_tone[tone])})" for tone in order)
    return f"{side}'s added framing is {tones}."


def _shared_sentence(pairs: list[AlignedPair]) -> str:
    if not pairs:
        return "The two versions share no paragraphs."
    verbatim = sum(p.match != "reworded" for p in pairs)
    kinds = f"{verbatim} identical or near-identical, {len(pairs) - verbatim} reworded"
    differ = [p for p in pairs if not p.alike]
    shared = f"{plural(len(pairs), 'paragraph')} {'is' if len(pairs) == 1 else 'are'} shared ({kinds})"
    if not differ:
        return f"{shared} and score alike."
    details = ", ".join(
        f"A {p.a_index}/B {p.b_index} (opinion {p.a.opinion.prob:.2f} vs {p.b.opinion.prob:.2f})" for p in differ
    )
    return f"{shared}; {len(differ)} of them score differently: {details}."


def _moved_sentence(moved: list[AlignedPair]) -> str | None:
    if not moved:
        return None
    where = ", ".join(f"B {p.b_index} (A {p.a_index})" for p in moved)
    verb = "comes" if len(moved) == 1 else "come"
    return f"{plural(len(moved), 'shared paragraph')} {verb} in a different order in B: {where}."


def _share_sentence(a: DocumentScore, b: DocumentScore) -> str:
    share_a, share_b = opinion_share(a), opinion_share(b)
    if share_a is None or share_b is None:
        return f"{'A' if share_a is None else 'B'} has no body paragraphs to compare."
    gap = share_a - share_b
    numbers = f"A's opinion share is {share_a:.2f} vs B's {share_b:.2f}"
    if abs(gap) >= CLEAR_SHARE_GAP:
        return f"{numbers}: {'A' if gap > 0 else 'B'} is clearly more opinionated."
    if abs(gap) >= SOME_SHARE_GAP:
        return f"{numbers}: {'A' if gap > 0 else 'B'} is somewhat more opinionated."
    return f"{numbers}: both are about equally opinionated."


def _sentiment_sentence(a: DocumentScore, b: DocumentScore) -> str | None:
    sa, sb = mean_sentiment(a), mean_sentiment(b)
    if sa is None or sb is None:
        return None
    numbers = f"mean sentiment score {sa:+.2f} vs {sb:+.2f}"
    if abs(sa - sb) < SENTIMENT_GAP:
        return f"Both read about the same in sentiment ({numbers})."
    return f"{'A' if sa < sb else 'B'} reads more negative ({numbers})."


def _not_content_sentence(comparison: Comparison) -> str | None:
    parts = []
    for side in ("a", "b"):
        counts: dict[str, int] = {}
        for p in comparison.not_content(side):
            counts[p.kind] = counts.get(p.kind, 0) + 1
        if counts:
            listed = ", ".join(plural(n, kind) for kind, n in sorted(counts.items()))
            parts.append(f"{side.upper()} has {listed}")
    return f"Not counted as content: {'; '.join(parts)}." if parts else None


def summarise(comparison: Comparison) -> list[str]:
    """Short plain-words sentences, each built from the numbers of the comparison."""
    c = comparison
    sentences = [
        _added_sentence("A", c.only_a, c.placement_a, bool(c.pairs)),
        _added_sentence("B", c.only_b, c.placement_b, bool(c.pairs)),
        _shared_sentence(c.pairs),
        _moved_sentence(c.moved),
        _framing_sentence("A", c.only_a),
        _framing_sentence("B", c.only_b),
        _share_sentence(c.a, c.b),
        _sentiment_sentence(c.a, c.b),
        _not_content_sentence(c),
    ]
    return [s for s in sentences if s]
