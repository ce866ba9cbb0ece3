"""The prepare stage: documents -> paragraphs -> token ids, their sentences, and which tokens are the author's.

Pure CPU work with picklable output (numpy arrays), so it runs in worker processes. Each token
is tagged with the sentence it falls in (so that one forward pass over the paragraph also scores
every sentence, pooled over its own tokens in context) and with whether it lies in a span that
reports someone else's words (`analyzer.attribution`), which the opinion pooling leaves out.

A window of documents becomes a `PreparedWindow`: what the postprocess stage needs (documents,
paragraphs, each paragraph's `PreparedText`) plus `TokenArrays`, the same tokens packed into a
few flat arrays, which is all the forward stage reads and all that crosses to the main process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from analyzer.attribution import reported_spans
from analyzer.records import Document, ErrorRecord, Paragraph
from analyzer.segment import segment as split_paragraphs
from analyzer.sentences import sentence_spans

Span = tuple[int, int]


@dataclass
class PreparedText:
    """One text ready for the encoder (token ids without [CLS]/[SEP]; the windows add them)."""

    ids: np.ndarray  # int64 [tokens]
    sentence: np.ndarray  # int32 [tokens]: the sentence a token falls in, -1 for none
    own: np.ndarray  # bool [tokens]: False inside a span that reports someone else's words
    offsets: np.ndarray  # int32 [tokens, 2]: each token's character span in the text (evidence spans)
    sentences: list[Span]  # character spans of the sentences
    reported: list[Span]  # character spans attributed to someone else

    @property
    def n_tokens(self) -> int:
        return len(self.ids)


def prepare_texts(tokenizer, texts: Sequence[str]) -> list[PreparedText]:
    """Tokenize texts once (one fast-tokenizer call for all) and tag each token."""
    if not texts:
        return []
    encoded = tokenizer(list(texts), add_special_tokens=False, return_offsets_mapping=True,
                        return_attention_mask=False, return_token_type_ids=False)
    return [_tagged(text, ids, offsets) for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"])]


def _tagged(text: str, ids: list[int], offsets: list[tuple[int, int]]) -> PreparedText:
    spans = sentence_spans(text)
    reported = reported_spans(text, spans)
    spans_of_tokens = np.asarray(offsets, dtype=np.int32).reshape(-1, 2)
    starts = spans_of_tokens[:, 0].astype(np.int64)
    sentence = np.full(len(ids), -1, dtype=np.int32)
    if spans:
        span_starts = np.array([s for s, _ in spans])
        span_ends = np.array([e for _, e in spans])
        candidate = np.searchsorted(span_starts, starts, side="right") - 1
        inside = (candidate >= 0) & (starts < span_ends[np.clip(candidate, 0, None)])
        sentence[inside] = candidate[inside]
    own = np.ones(len(ids), dtype=bool)
    for start, end in reported:
        own &= ~((starts >= start) & (starts < end))
    return PreparedText(np.asarray(ids, dtype=np.int64), sentence, own, spans_of_tokens, spans, reported)


@dataclass
class TokenArrays:
    """Many prepared texts packed into flat arrays, one text after another: the forward stage's input.

    A handful of numpy arrays pickle in microseconds, where a list of per-paragraph objects costs
    the main process tens of microseconds a paragraph.
    """

    ids: np.ndarray  # int32 [tokens]
    sentence: np.ndarray  # int32 [tokens]: sentence within its text, -1 for none
    own: np.ndarray  # bool [tokens]
    lengths: np.ndarray  # int64 [texts]: tokens per text
    n_sentences: np.ndarray  # int64 [texts]

    @classmethod
    def of(cls, prepared: Sequence[PreparedText]) -> "TokenArrays":
        if not prepared:
            return cls(np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, bool), np.zeros(0, np.int64), np.zeros(0, np.int64))
        return cls(np.concatenate([p.ids for p in prepared]).astype(np.int32), np.concatenate([p.sentence for p in prepared]),
                   np.concatenate([p.own for p in prepared]), np.array([p.n_tokens for p in prepared], dtype=np.int64),
                   np.array([len(p.sentences) for p in prepared], dtype=np.int64))

    @classmethod
    def concat(cls, parts: Sequence["TokenArrays"]) -> "TokenArrays":
        if len(parts) == 1:
            return parts[0]
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("ids", "sentence", "own", "lengths", "n_sentences")))

    @property
    def n_texts(self) -> int:
        return len(self.lengths)


Item = tuple[Document | ErrorRecord, list[Paragraph]]


@dataclass
class PreparedWindow:
    """Consecutive documents with their paragraphs (none for an error record) and the paragraphs' tokens.

    A paragraph text that recurs in the window (the paragraphs two versions of a story share in
    `compare`, a wire story's standard lines) is tokenized and scored once: `distinct` holds each
    text once, `row` says which of them each paragraph is. A score depends on the text alone.
    """

    items: list[Item]
    distinct: list[PreparedText]  # each distinct paragraph text of the window, in first-seen order
    row: list[int]  # per paragraph of every document, in order: its entry in `distinct`

    @property
    def n_paragraphs(self) -> int:
        return len(self.row)

    def tokens(self) -> TokenArrays:
        """What the forward stage reads: the distinct texts' tokens."""
        return TokenArrays.of(self.distinct)


def paragraphs_of(document: Document | ErrorRecord, segment: bool = True) -> Item:
    """A document's paragraphs (one body unit when not segmenting); an empty one becomes an error record."""
    if isinstance(document, ErrorRecord):
        return document, []
    if segment:
        paragraphs = split_paragraphs(document.text)
    else:
        paragraphs = [Paragraph(0, "body", document.text.strip())] if document.text.strip() else []
    if not paragraphs:
        return ErrorRecord(document.doc_id, "empty document"), []
    return document, paragraphs


def prepare_window(tokenizer, documents: Sequence[Document | ErrorRecord], segment: bool = True) -> PreparedWindow:
    """Segment the documents and tokenize all their distinct paragraphs in one tokenizer call."""
    items = [paragraphs_of(document, segment) for document in documents]
    first: dict[str, int] = {}
    row = [first.setdefault(p.text, len(first)) for _, paragraphs in items for p in paragraphs]
    return PreparedWindow(items, prepare_texts(tokenizer, list(first)), row)
