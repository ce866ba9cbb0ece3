"""Contrast two versions of a story: align their body paragraphs (analyzer.align), then say
how the versions differ: aggregates side by side, the pairs with their deltas (B minus A), the
paragraphs only one version has, side-by-side rows for the renderers, and a plain-words summary.

Alignment works on body paragraphs only; headlines, headings and boilerplate are reported with
their kind but are never paired or counted as content (GUIDE §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any, Iterable

from analyzer.align import (SIMILARITY_THRESHOLD, AlignedPair, Embedder, TextFeatures, align, base_encoder_embeddings,
                            containment)
from analyzer.records import DocumentScore, ParagraphScore

DELTA_DIRECTION = "b_minus_a"
TONE_MARK = {"negative": "▼", "neutral": "●", "positive": "▲"}  # shared by the table and the HTML report

# Contrast wording thresholds (on the 0..1 opinion scale and the -1..1 sentiment score).
CLEAR_SHARE_GAP = 0.15  # opinion-share gap worth calling "clearly more opinionated"
SOME_SHARE_GAP = 0.05
SENTIMENT_GAP = 0.1
# The summary names a paragraph's tone only when its sentiment label leads the runner-up class by
# this much; below, it says "mixed" (a paragraph at 0.375 / 0.313 / 0.312 is not "negative in tone").
TONE_MARGIN = 0.1
EVIDENCE_NAMED = 4  # evidence phrases the summary names
# An unpaired paragraph with this share of its character 4-grams inside the other version's
# counterpart of its neighbour is part of that paragraph (merged or split there), not an addition.
CONTAINED = 0.9


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
    """A paragraph as `analyzer score` writes it (one schema everywhere), with sentences and evidence."""
    return p.to_dict(with_sentences=True)


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
    if not shared:
        return Placement(before=[p.index for p in only])
    result, first, last = Placement(), min(shared), max(shared)
    for p in only:
        if p.index < first:
            result.before.append(p.index)
        elif p.index > last:
            result.after.append(p.index)
        else:
            result.within.append(p.index)
    return result


@dataclass(frozen=True)
class Part:
    """An unpaired body paragraph of one side ("a" or "b") whose text the other side's paragraph
    `within` holds: that version joined it with a neighbour (or the other split it off)."""

    side: str
    index: int
    within: int

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "index": self.index, "within": self.within}


def merged_parts(side: str, body: list[ParagraphScore], unpaired: list[ParagraphScore], pairs: list[AlignedPair]) -> list[Part]:
    """The unpaired paragraphs of `side` contained (CONTAINED) in the counterpart of their previous
    or next body paragraph: one-to-one alignment pairs a merged paragraph with one of its parts only."""
    counterpart = {p.a_index: p.b for p in pairs} if side == "a" else {p.b_index: p.a for p in pairs}
    position = {p.index: k for k, p in enumerate(body)}
    parts = []
    for paragraph in unpaired:
        k = position[paragraph.index]
        for neighbour in body[max(k - 1, 0):k] + body[k + 1:k + 2]:
            whole = counterpart.get(neighbour.index)
            if whole is not None and containment(TextFeatures.of(paragraph.text), TextFeatures.of(whole.text)) >= CONTAINED:
                parts.append(Part(side, paragraph.index, whole.index))
                break
    return parts


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
    parts: list[Part] = field(default_factory=list)  # unpaired paragraphs that are text of the other side's

    def added(self, side: str) -> list[ParagraphScore]:
        """A side's unpaired body paragraphs less those that are part of the other side's (`parts`)."""
        inside = {p.index for p in self.parts if p.side == side}
        return [p for p in (self.only_a if side == "a" else self.only_b) if p.index not in inside]

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
            "a": self.a.to_dict(with_paragraphs=True),  # every paragraph as `score --format json` writes it
            "b": self.b.to_dict(with_paragraphs=True),
            "threshold": self.threshold,
            "delta_direction": DELTA_DIRECTION,
            "pairs": [p.to_dict() for p in self.pairs],
            "only_a": [paragraph_record(p) for p in self.only_a],
            "only_b": [paragraph_record(p) for p in self.only_b],
            "parts": [p.to_dict() for p in self.parts],
            "placement": {"a": self.placement_a.to_dict(), "b": self.placement_b.to_dict()},
            "not_content": {
                side: [{"index": p.index, "kind": p.kind, "text": p.text} for p in self.not_content(side)]
                for side in ("a", "b")
            },
            "summary": self.summary,
        }


def compare_documents(
    a: DocumentScore,
    b: DocumentScore,
    threshold: float = SIMILARITY_THRESHOLD,
    embed: Embedder = base_encoder_embeddings,
) -> Comparison:
    """Align A's and B's body paragraphs and describe how the two versions differ.

    `embed` gives the vectors for the semantic signal: by default the pretrained encoder's
    (see `base_encoder_embeddings`); any `Embedder` (paragraphs -> vectors, or None) can stand in.
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
    comparison.parts = (merged_parts("a", a.body, comparison.only_a, pairs)
                        + merged_parts("b", b.body, comparison.only_b, pairs))
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


def aggregates_side_by_side(comparison: Comparison, names: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """(metric, A value, B value) rows of the headline aggregates, formatted for display; `names`
    maps a doc_id to the name to show (the table's shortened ones), else the doc_id is shown."""
    docs = (comparison.a, comparison.b)

    def row(label: str, value) -> tuple[str, str, str]:
        return (label, *(value(doc) for doc in docs))

    return [
        row("document", lambda d: (names or {}).get(d.doc_id, d.doc_id)),
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


def opinion_share(doc: DocumentScore) -> float | None:
    """From the document's aggregates (analyzer.aggregate); None without body paragraphs."""
    return doc.aggregates["opinion_share"]


def mean_sentiment(doc: DocumentScore) -> float | None:
    return doc.aggregates["mean_sentiment_score"]


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
        by_tone.setdefault(_summary_tone(p), []).append(p.index)
    order = sorted(by_tone, key=lambda tone: (tone == "mixed", -len(by_tone[tone]), tone))
    named = [f"{tone} in tone ({paragraph_list(by_tone[tone])})" for tone in order]
    tones = " and ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
    words = evidence_phrases(opinion)
    resting = f", resting on {', '.join(words)}" if words else ""
    return f"{side}'s added framing is {tones}{resting}."


def _summary_tone(paragraph: ParagraphScore) -> str:
    """The paragraph's tone, or "mixed" when its sentiment label barely leads the other classes."""
    first, second = sorted(paragraph.sentiment.probs.values(), reverse=True)[:2]
    return paragraph.tone if first - second >= TONE_MARGIN else "mixed"


def evidence_phrases(paragraphs: list[ParagraphScore], limit: int = EVIDENCE_NAMED) -> list[str]:
    """The strongest opinion evidence phrases of some paragraphs, quoted, strongest first, no repeats."""
    spans = sorted((s for p in paragraphs if p.evidence for s in p.evidence.opinion), key=lambda s: -s.weight)
    named: list[str] = []
    for span in spans:
        quoted = f"'{span.text}'"
        if quoted not in named:
            named.append(quoted)
    return named[:limit]


def _shared_sentence(pairs: list[AlignedPair]) -> str:
    if not pairs:
        return "The two versions share no paragraphs."
    verbatim = sum(p.match != "reworded" for p in pairs)
    kinds = f"{verbatim} identical or near-identical, {len(pairs) - verbatim} reworded"
    differ = [p for p in pairs if not p.alike]
    shared = f"{plural(len(pairs), 'paragraph')} {'is' if len(pairs) == 1 else 'are'} shared ({kinds})"
    if not differ:
        return f"{shared} and score alike."
    details = ", ".join(f"A {p.a_index}/B {p.b_index} ({_difference(p)})" for p in differ)
    return f"{shared}; {len(differ)} of them {'scores' if len(differ) == 1 else 'score'} differently: {details}."


def _difference(pair: AlignedPair) -> str:
    """The scores that make a shared pair differ (opinion, sentiment or both), A's first."""
    parts = []
    if pair.opinion_differs:
        parts.append(f"opinion {pair.a.opinion.prob:.2f} vs {pair.b.opinion.prob:.2f}")
    if pair.sentiment_differs:
        parts.append(f"sentiment {pair.a.sentiment.score:+.2f} vs {pair.b.sentiment.score:+.2f}")
    return "; ".join(parts)


def _parts_sentence(parts: list[Part]) -> str | None:
    """'B 3 is text of A 2 (one version joins paragraphs the other keeps apart), not an addition.'"""
    if not parts:
        return None
    named = ", ".join(f"{p.side.upper()} {p.index} is text of {'B' if p.side == 'a' else 'A'} {p.within}" for p in parts)
    return f"{named} (one version joins paragraphs the other keeps apart), not {'an addition' if len(parts) == 1 else 'additions'}."


def _moved_sentence(moved: list[AlignedPair]) -> str | None:
    if not moved:
        return None
    where = ", ".join(f"B {p.b_index} (A {p.a_index})" for p in moved)
    verb = "comes" if len(moved) == 1 else "come"
    return f"{plural(len(moved), 'shared paragraph')} {verb} in a different order in B: {where}."


def _share_sentence(a: DocumentScore, b: DocumentScore) -> str:
    share_a, share_b = opinion_share(a), opinion_share(b)
    if share_a is None and share_b is None:
        return "Neither version has body paragraphs to compare."
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
    numbers = f"A's mean sentiment score is {sa:+.2f} vs B's {sb:+.2f}"
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
    added_a, added_b = c.added("a"), c.added("b")
    sentences = [
        _added_sentence("A", added_a, placement(added_a, [p.a_index for p in c.pairs]), bool(c.pairs)),
        _added_sentence("B", added_b, placement(added_b, [p.b_index for p in c.pairs]), bool(c.pairs)),
        _parts_sentence(c.parts),
        _shared_sentence(c.pairs),
        _moved_sentence(c.moved),
        _framing_sentence("A", added_a),
        _framing_sentence("B", added_b),
        _share_sentence(c.a, c.b),
        _sentiment_sentence(c.a, c.b),
        _not_content_sentence(c),
    ]
    return [s for s in sentences if s]
