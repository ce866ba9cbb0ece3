"""The records that flow out of the analyzer: one dataclass per stable output shape (GUIDE §3)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PARAGRAPH_KINDS = ("headline", "heading", "body", "boilerplate")
SENTIMENT_LABELS = ("negative", "neutral", "positive")  # sentiment head order
OPINION_LABELS = ("reporting", "opinion")  # opinion head order: P(opinion) is the second


@dataclass
class Document:
    """One input text with the id it is reported under (the JSONL `id` or the file path).

    `encoding` names the codec its bytes were decoded with ("utf-8", "utf-16", "cp1252", ...), so
    that a guessed encoding can be reported; text that arrived as a string counts as "utf-8".
    """

    doc_id: str
    text: str
    encoding: str = "utf-8"


@dataclass
class Paragraph:
    """A paragraph of a document: `index` is its position in reading order (0, 1, 2, ... over all
    kinds); `block` is the source block it comes from (the document's blank-line, line or wrapped
    paragraphs, counted from 0), shared by the pieces cut from one block; `split` is "sentences"
    on the pieces segmentation made by grouping the sentences of an unbroken block."""

    index: int
    kind: str
    text: str
    split: str | None = None
    block: int | None = None


@dataclass
class SentimentScore:
    """The valence a reader perceives; `score` is P(positive) - P(negative)."""

    label: str
    probs: dict[str, float]
    score: float


@dataclass
class OpinionScore:
    """Does the paragraph carry the author's own judgement? `prob` is P(opinion)."""

    label: str
    prob: float


@dataclass
class SentenceScore:
    """One sentence of a paragraph: `start`/`end` are character offsets into the paragraph text."""

    start: int
    end: int
    text: str
    sentiment: SentimentScore
    opinion: OpinionScore
    tone: str
    attributed: bool  # holds reported speech, left out of its opinion score

    def to_dict(self, labelled: bool = True) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text,
                **_scores_dict(self.sentiment, self.opinion, self.tone, labelled), "attributed": self.attributed}


def _scores_dict(sentiment: SentimentScore, opinion: OpinionScore, tone: str, labelled: bool = True) -> dict[str, Any]:
    """`labelled=False` (a headline, heading or boilerplate): P(opinion) is kept, the opinion and tone labels are null."""
    # built by hand: dataclasses.asdict deep-copies and was a fifth of the per-paragraph cost
    return {"sentiment": {"label": sentiment.label, "probs": dict(sentiment.probs), "score": sentiment.score},
            "opinion": {"label": opinion.label if labelled else None, "prob": opinion.prob},
            "tone": {"label": tone if labelled else None}}


@dataclass
class ParagraphScore:
    """One scored paragraph; `tone` is the sentiment the author expresses (neutral when reporting)."""

    doc_id: str
    index: int
    kind: str
    text: str
    sentiment: SentimentScore
    opinion: OpinionScore
    tone: str
    model: str
    n_tokens: int = 0
    sentences: list[SentenceScore] = field(default_factory=list)
    evidence: Any = None  # analyzer.evidence.Evidence when scored with explain
    split: str | None = None  # "sentences": cut from an unbroken block (see analyzer.long_blocks)
    # Output labels opinion and tone only on body paragraphs (unless --score-headings): the model
    # reads a paragraph's voice, and a headline or a heading is not a paragraph of the story.
    labelled: bool = True

    def to_dict(self, with_sentences: bool = False) -> dict[str, Any]:
        record = {"doc_id": self.doc_id, "index": self.index, "kind": self.kind, "text": self.text,
                  **_scores_dict(self.sentiment, self.opinion, self.tone, self.labelled), "model": self.model}
        if self.split:
            record["split"] = self.split
        if with_sentences:
            record["sentences"] = [s.to_dict(self.labelled) for s in self.sentences]
        if self.evidence is not None:
            record["evidence"] = self.evidence.to_dict()
        return record

    def sentence_dicts(self) -> list[dict[str, Any]]:
        """`--level sentence`: one record per sentence, pointing back to its paragraph."""
        return [{"doc_id": self.doc_id, "paragraph_index": self.index, "kind": self.kind, **s.to_dict(self.labelled),
                 "model": self.model} for s in self.sentences]


@dataclass
class DocumentScore:
    """A document's paragraphs and the aggregates over its body paragraphs."""

    doc_id: str
    model: str
    paragraphs: list[ParagraphScore]
    aggregates: dict[str, Any]
    encoding: str = "utf-8"  # the input's text encoding (named in the output records when it is not UTF-8)
    note: str | None = None  # for the user, e.g. that an unbroken text was split into paragraphs

    error = None  # the same question as of an ErrorRecord: did this document fail?

    @property
    def n_paragraphs(self) -> int:
        return len(self.paragraphs)

    @property
    def body(self) -> list[ParagraphScore]:
        return [p for p in self.paragraphs if p.kind == "body"]

    def to_dict(self, with_paragraphs: bool = False) -> dict[str, Any]:
        record: dict[str, Any] = {"doc_id": self.doc_id, "model": self.model, **self.aggregates}
        if with_paragraphs:
            record["paragraphs"] = [p.to_dict(with_sentences=True) for p in self.paragraphs]
        return record


@dataclass
class ErrorRecord:
    """A document that could not be scored; it still gets a record so that nothing is dropped."""

    doc_id: str
    error: str
    n_paragraphs = 0
    note = None

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "error": self.error}
