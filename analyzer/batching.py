"""Batching for inference: tokenise once, cut long paragraphs into windows, group by length.

Sorting by length and filling each batch up to a token budget (padded length x rows) keeps
padding small and memory bounded; a paragraph longer than the encoder's 512 positions is
scored over overlapping windows and the window outputs are combined, never truncated.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Iterator, Sequence

import numpy as np
import torch

MAX_POSITIONS = 512
WINDOW_STRIDE = 384  # tokens between window starts: 128 tokens of overlap


@dataclass
class Window:
    """A piece of one paragraph that fits the encoder: the paragraph's position, its token ids
    ([CLS] and [SEP] included) and where they start among the paragraph's tokens."""

    owner: int
    ids: list[int]
    start: int = 0


@dataclass
class Batch:
    windows: list[Window]
    input_ids: torch.Tensor
    attention_mask: torch.Tensor


def make_windows(token_ids: Sequence[Sequence[int]], cls_id: int, sep_id: int, max_length: int = MAX_POSITIONS) -> list[Window]:
    """Wrap each paragraph's ids in [CLS] ... [SEP]; paragraphs too long for one pass become windows."""
    body = max_length - 2
    windows = []
    for owner, ids in enumerate(token_ids):
        starts = range(0, max(len(ids) - body, 0) + 1, WINDOW_STRIDE) if len(ids) > body else [0]
        starts = list(starts)
        if starts[-1] + body < len(ids):
            starts.append(len(ids) - body)
        for start in starts:
            windows.append(Window(owner, [cls_id, *ids[start:start + body], sep_id], start))
    return windows


def make_batches(windows: list[Window], max_tokens: int, max_rows: int, pad_id: int = 0) -> Iterator[Batch]:
    """Length-sorted batches whose padded size (rows x longest) stays within `max_tokens`."""
    order = sorted(windows, key=lambda w: len(w.ids))
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < max_rows and (end + 1 - start) * len(order[end].ids) <= max_tokens:
            end += 1
        part = order[start:end]
        lengths = np.array([len(w.ids) for w in part])
        # Filled in one step (row-major, left-aligned): a per-row copy costs more than the rest of batching.
        mask = np.arange(lengths[-1]) < lengths[:, None]
        input_ids = np.full(mask.shape, pad_id, dtype=np.int64)
        input_ids[mask] = np.fromiter(chain.from_iterable(w.ids for w in part), dtype=np.int64, count=int(lengths.sum()))
        yield Batch(part, torch.from_numpy(input_ids), torch.from_numpy(mask.astype(np.int64)))
        start = end
