"""Batching for inference: cut long paragraphs into windows, group windows by length, fill arrays.

Sorting by length and filling each batch up to a token budget (padded length x rows) keeps
padding small and memory bounded; a paragraph longer than the encoder's 512 positions is
scored over overlapping windows and the window outputs are combined, never truncated.

Everything works on the packed arrays of `analyzer.prepare.TokenArrays`, in a few numpy steps
per batch rather than a Python step per paragraph: on a GPU this is the main process's work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from analyzer.prepare import TokenArrays

MAX_POSITIONS = 512
WINDOW_STRIDE = 384  # tokens between window starts: 128 tokens of overlap


@dataclass
class Windows:
    """Pieces of texts that fit the encoder: each one's text, first token and token count
    ([CLS] and [SEP] not counted; the batches add them)."""

    owner: np.ndarray  # int64 [windows]
    start: np.ndarray  # int64 [windows]
    length: np.ndarray  # int64 [windows]


@dataclass
class Batch:
    """Padded encoder input and, for every position, where its state is pooled.

    `position`: the token's index in the flat TokenArrays; one past the last token at [CLS], [SEP] and padding.
    `sentence_row`/`own_row`: the sentence row a position is pooled into for sentiment / for
    opinion (author's own tokens only); `n_sentences` (one past the last row) for none.
    """

    owner: np.ndarray  # int64 [rows]: the text of each row
    input_ids: np.ndarray  # int64 [rows, width]
    attention_mask: np.ndarray  # int64 [rows, width]
    position: np.ndarray  # int64 [rows, width]
    sentence_row: np.ndarray  # int64 [rows, width]
    own_row: np.ndarray  # int64 [rows, width]


def make_windows(lengths: np.ndarray, max_length: int = MAX_POSITIONS) -> Windows:
    """One window per text; a text too long for one pass gets overlapping windows, the last flush with its end."""
    body = max_length - 2
    owners, starts, counts = [], [], []
    for owner in np.flatnonzero(lengths > body):
        n = int(lengths[owner])
        window_starts = list(range(0, n - body + 1, WINDOW_STRIDE))
        if window_starts[-1] + body < n:
            window_starts.append(n - body)
        owners += [owner] * len(window_starts)
        starts += window_starts
        counts += [body] * len(window_starts)
    owner = np.arange(len(lengths), dtype=np.int64)
    if not owners:
        return Windows(owner, np.zeros(len(lengths), np.int64), lengths.astype(np.int64))
    short = lengths <= body
    owner = np.concatenate([owner[short], np.array(owners, np.int64)])
    start = np.concatenate([np.zeros(int(short.sum()), np.int64), np.array(starts, np.int64)])
    length = np.concatenate([lengths[short].astype(np.int64), np.array(counts, np.int64)])
    order = np.argsort(owner, kind="stable")  # in text order, as the batches' stable sort expects
    return Windows(owner[order], start[order], length[order])


def batch_bounds(widths: np.ndarray, max_tokens: int, max_rows: int) -> list[tuple[int, int]]:
    """Greedy cuts of ascending widths into batches of at most max_rows rows and max_tokens padded tokens."""
    bounds, start, n = [], 0, len(widths)
    while start < n:
        # the largest end with (end - start) * widths[end - 1] <= max_tokens, at least one row
        ends = np.arange(start + 1, min(n, start + max_rows) + 1)
        fits = (ends - start) * widths[ends - 1] <= max_tokens
        end = int(ends[fits][-1]) if fits[0] else start + 1
        bounds.append((start, end))
        start = end
    return bounds


def make_batches(tokens: TokenArrays, max_tokens: int, max_rows: int, cls_id: int, sep_id: int,
                 max_length: int = MAX_POSITIONS, pad_id: int = 0) -> Iterator[Batch]:
    """Length-sorted batches whose padded size (rows x longest) stays within `max_tokens`.

    Every per-token column is laid out once, with one extra slot at the end (padding, no
    sentence); a batch is then one index matrix into them and three gathers.
    """
    windows = make_windows(tokens.lengths, max_length)
    n_tokens = len(tokens.ids)
    text_start = np.concatenate([[0], np.cumsum(tokens.lengths)])
    first_sentence = np.concatenate([[0], np.cumsum(tokens.n_sentences)])
    n_sentences = int(first_sentence[-1])
    token_text = np.repeat(np.arange(tokens.n_texts), tokens.lengths)
    sentence_global = np.where(tokens.sentence >= 0, tokens.sentence + first_sentence[token_text], n_sentences)
    ids = np.append(tokens.ids.astype(np.int64), pad_id)
    sentence_row = np.append(sentence_global, n_sentences)
    own_row = np.append(np.where(tokens.own, sentence_global, n_sentences), n_sentences)
    order = np.argsort(windows.length, kind="stable")
    widths = windows.length[order] + 2
    for start, end in batch_bounds(widths, max_tokens, max_rows):
        part = order[start:end]
        length, first = windows.length[part], text_start[windows.owner[part]] + windows.start[part]
        columns = np.arange(int(length.max()) + 2)
        body = (columns >= 1) & (columns <= length[:, None])
        position = np.where(body, first[:, None] + columns - 1, n_tokens)
        input_ids = ids[position]
        input_ids[:, 0] = cls_id
        input_ids[np.arange(len(part)), length + 1] = sep_id
        yield Batch(windows.owner[part], input_ids, (columns <= length[:, None] + 1).astype(np.int64), position,
                    sentence_row[position], own_row[position])
