"""Segmentation: a document's text -> its paragraphs in reading order, each with a kind (GUIDE §3).

Scraped news arrives in three layouts: paragraphs separated by blank lines, one paragraph per
line, and hard-wrapped paragraphs (one paragraph broken over several lines). The layout is
decided once per document from the lines that are followed by another line in the same block:
in hard-wrapped text they cluster near one width and rarely end a sentence; in one-per-line
text they end in sentence punctuation or are short headings.

Each paragraph gets a kind: `headline` (the title), `heading`, `boilerplate` (page furniture:
ads, prompts, bylines, credits, copyright) or `body`. Boilerplate sentences glued onto the start
or end of a real paragraph ("...where data meets impact.Mark Carney met...") are split off into
their own paragraph, so that only article text is scored as body.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from typing import NamedTuple

from analyzer.records import Paragraph
from analyzer.sentences import locate, split_sentences

HEADLINE_MAX_WORDS = 25
HEADING_MAX_WORDS = 15

# Hard-wrap detection: the typical width of wrapped lines, the share of them that must lie
# within WRAP_TOLERANCE of it, and the most that may end a sentence (by chance, at a wrap).
MIN_WRAP_WIDTH, MAX_WRAP_WIDTH = 30, 160
WRAP_TOLERANCE = 0.25
WRAP_CLUSTER_SHARE = 0.75
WRAP_MAX_SENTENCE_END_SHARE = 0.5
# In hard-wrapped text a line this much shorter than the width was not broken by the wrapper:
# it ends its paragraph (a short line always; a sentence end already at a moderate length).
SHORT_LINE, SENTENCE_END_LINE = 0.5, 0.8

_CLOSE = r"[\"'”’)\]]*"
_SENTENCE_END = re.compile(rf"[.!?…]{_CLOSE}$")
_CLOSING_PUNCT = re.compile(rf"[.!?…:;,]{_CLOSE}$")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)(?:\s+#+)?$")
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s")
# A line made only of rule characters: a separator, or a setext underline for the line above.
_RULE = re.compile(r"^(?:[-=*_~•·]\s*){3,}$")
_SETEXT_UNDERLINE = re.compile(r"^(?:={3,}|-{3,})$")
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")

_NAME = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|da|di|van|von|der|la|le|al|bin))*"

# Boilerplate: page furniture rather than article text. Each pattern is searched in a single
# sentence (case-insensitively unless noted) and names the furniture generically, not one
# site's wording. Imperative prompts are anchored at the sentence start, where news prose
# rarely puts them; words that news prose also uses ("advertising", "subscribe") only count
# in the phrasing of a prompt or a label.
BOILERPLATE_PATTERNS: tuple[str, ...] = (
    # advertising, sponsorship and paid promotion
    r"^\W*(?:advertisement|advertising|ad|sponsored(?: content)?|promoted(?: content)?"
    r"|paid (?:content|post|partnership))\W*$",
    r"\b(?:advertise|partner) with us\b",
    r"(?<![-\w])sponsored by\b|(?<![-\w])(?:sponsored|promoted|paid) (?:content|post|article|partnership)\b",
    r"\byour (?:\w+ )?(?:project|brand|business|company|product|startup)\b.{0,40}\bin front of\b",
    r"\b(?:feature|promote|showcase|advertise) (?:it|them|your \w+) (?:in|on) our\b",
    r"\bget (?:it |your \w+ )?featured (?:in|on) our\b",
    # subscribe, newsletter, share and follow prompts, link lists
    r"^\W*(?:subscribe|sign up|sign in|log in|follow us|share this|click here|tap here"
    r"|read more|read next|see also|also read|download (?:our|the) app|skip to (?:main )?content"
    r"|listen to this article)\b",
    r"^\W*(?:related|recommended|more from [\w ]{1,30}|most popular|trending)(?:\s*:|\W*$)",
    r"\bsubscribe (?:now|today|here|to (?:our|my|this))\b",
    r"\bsign up (?:for|to) (?:our|my|free|a free)\b",
    r"\bour (?:\w+ ){0,2}newsletters?\b|^\W*(?:get|join|try) (?:the|our) (?:\w+ ){0,2}newsletter"
    r"|\bnewsletters?\b.{0,60}\binbox\b",
    r"\bclick here\b|\bfollow us\b|\bshare this (?:article|story|post|page)\b",
    r"\bfollow (?:\w+ ){0,3}on (?:twitter|x|facebook|instagram|linkedin|tiktok|threads|bluesky"
    r"|youtube|telegram)\b",
    # cookie notices
    r"\b(?:we|this (?:web)?site) uses? cookies\b|\baccept (?:all )?cookies\b"
    r"|\bcookie (?:policy|settings|preferences|consent)\b",
    # bylines and credits
    r"^\W*(?:(?:additional )?reporting|writing|editing|edited|written|compiled"
    r"|photo(?:graph)?s?|illustrations?) by\b",
    r"^\W*(?:photo(?:graph)?|image|picture|illustration|video|graphic|credit)s?(?: credit| source)?\s*:"
    r"|^\W*image (?:source|caption)\s*,",
    r"\bimage caption\b|\b(?:photo|image) (?:credit|courtesy)\b",
    r"\S\s*/\s*(?:getty images|reuters|ap(?: photo)?|afp|epa(?:-efe)?|shutterstock|alamy"
    r"|bloomberg(?: via getty images)?)\W*$",
    r"^\W*\((?:reuters|ap|afp|bloomberg)\)\W*$",
    # copyright lines
    r"©|\ball rights reserved\b|\bcopyright (?:©|\(c\)|\d{4})|\(c\) ?\d{4}",
)
# A byline ("By Jane Doe", "By Jane Doe and John Roe, Reuters"): case-sensitive, so that
# "By the Numbers" stays a heading, and without closing punctuation, so that "By Friday, ..."
# stays a sentence.
_BYLINE = re.compile(rf"^By\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*(?:\s*[,|–—-]\s*[^.!?]{{0,60}})?$")
_BOILERPLATE = re.compile("|".join(f"(?:{pattern})" for pattern in BOILERPLATE_PATTERNS), re.IGNORECASE)
# Every pattern above needs one of these words (or "©") to match. The patterns are the slow part
# of segmentation (about 200 us a sentence), so a sentence without any of the words is not
# searched: about 1 news sentence in 6 is. Add the word here when adding a pattern.
BOILERPLATE_WORDS = frozenset("""
    ad advertisement advertising advertise sponsored promoted paid partner front feature promote showcase featured
    subscribe sign log follow share click tap read see also download skip listen related recommended more most
    trending newsletter newsletters inbox cookie cookies reporting writing editing edited written compiled
    photo photos photograph photographs illustration illustrations image images picture pictures video videos
    graphic graphics credit credits caption courtesy getty reuters ap afp epa shutterstock alamy bloomberg
    rights copyright c
""".split())
_WORD = re.compile(r"[a-z]+")


class _Block(NamedTuple):
    """A paragraph's text before classification; `marked` when markup says it is a heading."""

    text: str
    marked: bool


def segment(text: str) -> list[Paragraph]:
    """Split a document into its paragraphs in reading order; `index` counts every block."""
    pieces: list[tuple[str, str]] = []
    for block in _blocks(text):
        titled = all(kind == "boilerplate" for kind, _ in pieces)
        pieces.extend(_classify(block, titled))
    return [Paragraph(index, kind, piece) for index, (kind, piece) in enumerate(pieces)]


def is_boilerplate(sentence: str) -> bool:
    """Whether one sentence is page furniture (an ad, a prompt, a byline, a credit, a copyright)."""
    sentence = sentence.strip()
    if _BYLINE.match(sentence):
        return True
    if "©" not in sentence and BOILERPLATE_WORDS.isdisjoint(_WORD.findall(sentence.lower())):
        return False
    return bool(_BOILERPLATE.search(sentence))


def _blocks(text: str) -> Iterator[_Block]:
    """The paragraphs of a document, its layout decided once from all its lines."""
    groups = _line_groups(_clean_lines(text))
    width = _wrap_width(groups)
    for lines in groups:
        for paragraph in _split_group(lines, width):
            yield _unmark(paragraph)


def _clean_lines(text: str) -> list[str]:
    """Lines with BOM, CR and invisible characters gone and whitespace collapsed to single spaces."""
    text = _INVISIBLE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")  # (str.translate is 10x slower)
    return [" ".join(line.split()) for line in text.split("\n")]


def _line_groups(lines: list[str]) -> list[list[str]]:
    """Runs of non-blank lines; rule lines separate runs, setext underlines mark the line above."""
    groups: list[list[str]] = [[]]
    for line in lines:
        if _SETEXT_UNDERLINE.match(line) and groups[-1] and _is_title(groups[-1][-1], HEADING_MAX_WORDS):
            groups[-1][-1] = f"# {groups[-1][-1]}"
            groups.append([])
        elif not line or _RULE.match(line):
            groups.append([])
        else:
            groups[-1].append(line)
    return [group for group in groups if group]


def _wrap_width(groups: list[list[str]]) -> float | None:
    """The wrap width when the document is hard-wrapped, else None (one paragraph per line)."""
    inner = [  # lines followed by another in their block, where no heading or list item forces a break
        line
        for lines in groups
        for line, following in zip(lines, lines[1:])
        if not (_MARKDOWN_HEADING.match(line) or _starts_block(following))
    ]
    if not inner:
        return None
    width = statistics.median(len(line) for line in inner)
    clustered = sum(abs(len(line) - width) <= WRAP_TOLERANCE * width for line in inner) / len(inner)
    sentence_ends = sum(bool(_SENTENCE_END.search(line)) for line in inner) / len(inner)
    wrapped = (
        MIN_WRAP_WIDTH <= width <= MAX_WRAP_WIDTH
        and clustered >= WRAP_CLUSTER_SHARE
        and sentence_ends <= WRAP_MAX_SENTENCE_END_SHARE
    )
    return width if wrapped else None


def _split_group(lines: list[str], width: float | None) -> Iterator[str]:
    """One paragraph per line, or, in hard-wrapped text, the lines joined up to each paragraph end."""
    if width is None:
        yield from lines
        return
    current: list[str] = []
    for line, following in zip(lines, [*lines[1:], None]):
        current.append(line)
        if following is None or _MARKDOWN_HEADING.match(line) or _starts_block(following) or _ends_wrapped(line, width):
            yield _join_wrapped(current)
            current = []


def _starts_block(line: str) -> bool:
    """Markdown headings and list items start a paragraph even inside wrapped text."""
    return bool(_MARKDOWN_HEADING.match(line) or _LIST_ITEM.match(line))


def _ends_wrapped(line: str, width: float) -> bool:
    """A line the wrapper did not break: it stops well short of the width."""
    short = len(line) < SHORT_LINE * width
    return short or (len(line) < SENTENCE_END_LINE * width and bool(_SENTENCE_END.search(line)))


def _join_wrapped(lines: list[str]) -> str:
    """Join wrapped lines with spaces, but keep words broken at a hyphen whole ("High-" "Stakes")."""
    text = lines[0]
    for line in lines[1:]:
        glue = "" if re.search(r"[^\W\d_]-$", text) and line[:1].isalpha() else " "
        text = f"{text}{glue}{line}"
    return text


def _unmark(paragraph: str) -> _Block:
    """Strip markdown heading markers, remembering that the paragraph was marked as a heading."""
    match = _MARKDOWN_HEADING.match(paragraph)
    return _Block(match.group("text"), True) if match else _Block(paragraph, False)


def _classify(block: _Block, titled: bool) -> list[tuple[str, str]]:
    """(kind, text) pieces of one paragraph; `titled` when no article text came before it."""
    sentences = split_sentences(block.text) or [block.text]
    lead = _boilerplate_run(sentences)
    if lead == len(sentences):
        return [("boilerplate", block.text)]
    max_words = HEADLINE_MAX_WORDS if titled else HEADING_MAX_WORDS
    if block.marked or (len(sentences) == 1 and _is_title(block.text, max_words)):
        return [("headline" if titled else "heading", block.text)]
    trail = _boilerplate_run(sentences[::-1])
    return _split_off_boilerplate(block.text, sentences, lead, len(sentences) - trail)


def _boilerplate_run(sentences: list[str]) -> int:
    """How many sentences from the start are boilerplate; only the ends are ever cut, so the
    middle of a paragraph is never searched (the patterns are the slow part of segmentation)."""
    count = 0
    while count < len(sentences) and is_boilerplate(sentences[count]):
        count += 1
    return count


def _is_title(text: str, max_words: int) -> bool:
    """A short line without closing punctuation whose first word is capitalised ("iPhone" too)."""
    words = text.split()
    return (
        0 < len(words) <= max_words
        and not _CLOSING_PUNCT.search(text)
        and any(char.isupper() or char.isdigit() for char in words[0])
    )


def _split_off_boilerplate(text: str, sentences: list[str], first: int, last: int) -> list[tuple[str, str]]:
    """Cut boilerplate sentences off the start and end of a body paragraph, keeping its text exact.

    sentences[first:last] is the body (never empty); the sentences before and after it are boilerplate.
    """
    spans = locate(text, sentences)
    pieces = [
        ("boilerplate", text[: spans[first][0]]),
        ("body", text[spans[first][0] : spans[last - 1][1]]),
        ("boilerplate", text[spans[last - 1][1] :]),
    ]
    return [(kind, piece.strip()) for kind, piece in pieces if piece.strip()]


