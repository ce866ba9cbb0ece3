"""The prepare stage: a paragraph's text -> token ids, its sentences, and which tokens are the author's.

Pure CPU work with picklable output (numpy arrays), so it runs in worker processes. Each token
is tagged with the sentence it falls in (so that one forward pass over the paragraph also scores
every sentence, pooled over its own tokens in context) and with whether it lies in a span that
reports someone else's words (`analyzer.attribution`), which the opinion pooling leaves out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from analyzer.attribution import reported_spans
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
