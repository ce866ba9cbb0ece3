"""Segmentation: a document's text -> its paragraphs in reading order, each with a kind (GUIDE §3).

Scraped news arrives in three layouts: paragraphs separated by blank lines, one paragraph per
line, and hard-wrapped paragraphs (one paragraph broken over several lines). The layout is
decided once per document from the lines that are followed by another line in the same block:
in hard-wrapped text they cluster near one width and rarely end a sentence; in one-per-line
text they end in sentence punctuation or are short headings. The paragraphs so found are the
document's *blocks*.

Each paragraph gets a kind: `headline` (the title), `heading`, `boilerplate` (page furniture:
ads, prompts, bylines, credits and captions, datelines and update stamps, copyright) or `body`.
A title is a one-sentence block: short, capitalised and without closing punctuation; or, when
more text follows, a question or exclamation as the first block ("Could Yukos be a blessing in
disguise?" is the headline), or a short plain question that a block of several sentences
answers ("Should scientists engage in activism?" is a heading). A one-sentence question inside
an article that is longer, has a comma, opens with a connective or is followed by a
one-sentence block stays body.

Boilerplate sentences glued onto the start or end of a real paragraph ("...where data meets
impact.Mark Carney met...") are split off into their own paragraph, so that only article text
is scored as body. A block far longer than a news paragraph (unbroken text: the rule is in
`analyzer.long_blocks`) is cut at sentence boundaries into paragraph-sized body paragraphs, and
every boilerplate sentence in it, wherever it is, becomes a boilerplate paragraph.

Indices: `Paragraph.index` is the position in the output (0, 1, 2, ... over every kind, so
indices stay contiguous); `Paragraph.block` is the block it comes from, so that pieces cut from
one block share it and every paragraph still points back into the source; `Paragraph.split` is
"sentences" on every piece cut from a long block (body and boilerplate), None otherwise.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterator
from itertools import groupby
from typing import NamedTuple

from analyzer.long_blocks import SPLIT_BY_SENTENCES, group_sentences, is_long
from analyzer.records import Paragraph
from analyzer.sentences import locate, split_sentences

HEADLINE_MAX_WORDS = 25
HEADING_MAX_WORDS = 15
# A question heading is shorter than a heading, one plain clause (no comma: "If they can fund
# football, why not fund music?" is an argument), and does not open with a connective ("So what
# is the gap between Labour and the Tories nowadays?" continues the text).
QUESTION_HEADING_MAX_WORDS = 10
CONNECTIVES = frozenset({"and", "but", "so", "or", "yet", "if", "then", "now", "well", "because"})

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
_HEADLINE_END = re.compile(rf"(?:[?!…]|\.\.\.){_CLOSE}$")  # "Could Yukos be a blessing in disguise?"
_QUESTION_END = re.compile(rf"(?<![?!])\?{_CLOSE}$")  # one "?": "...pie maker??" is a reader talking
_CLAUSE_PUNCT = re.compile(r"[,;]")
_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)(?:\s+#+)?$")
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)])\s")
# A line made only of rule characters: a separator, or a setext underline for the line above.
_RULE = re.compile(r"^(?:[-=*_~•·]\s*){3,}$")
_SETEXT_UNDERLINE = re.compile(r"^(?:={3,}|-{3,})$")
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")

LABEL_MAX_WORDS = 20  # words after a label or a credit ("Reporting by ...") in a boilerplate line
_NAME = r"[A-Z][\w'’.-]*(?:\s+(?:[A-Z][\w'’.-]*|de|da|di|van|von|der|la|le|al|bin))*"

# Boilerplate: page furniture rather than article text. Each pattern is searched in a single
# sentence (case-insensitively) and names the furniture generically, not one site's wording.
# Imperative prompts are anchored at the sentence start, where news prose rarely puts them;
# words that news prose also uses ("advertising", "subscribe", "sponsored by") only count in the
# phrasing of a prompt or a label. Each pattern comes with the words ([a-z]+ tokens of the
# lowercased sentence) of which every match holds at least one: a pattern is only searched in
# a sentence that has one of its words, so most sentences are searched by no pattern at all and
# the rest by one or two (the patterns are the slow part of segmentation).
_SHORT = rf"(?!(?:\W+\w+){{{LABEL_MAX_WORDS}}})"  # at most LABEL_MAX_WORDS - 1 more words
BOILERPLATE_PATTERNS: tuple[tuple[str, str], ...] = (
    # advertising, sponsorship and paid promotion
    ("advertisement advertising ad sponsored promoted paid",
     r"^\W*(?:advertisement|advertising|ad|sponsored(?: content)?|promoted(?: content)?"
     r"|paid (?:content|post|partnership))\W*$"),
    ("advertise partner", r"\b(?:advertise|partner) with us\b"),
    ("sponsored", r"^\W*sponsored by\b|\bthis (?:article|story|post|content|series|feature|page|report"
     r"|newsletter|podcast|episode|video|section) (?:is|was|has been) (?:\w+ )?sponsored by\b"),
    ("sponsored promoted paid", r"(?<![-\w])(?:sponsored|promoted|paid) (?:content|post|article|partnership)\b"),
    ("front", r"\byour (?:\w+ )?(?:project|brand|business|company|product|startup)\b.{0,40}\bin front of\b"),
    ("feature promote showcase advertise", r"\b(?:feature|promote|showcase|advertise) (?:it|them|your \w+) (?:in|on) our\b"),
    ("featured", r"\bget (?:it |your \w+ )?featured (?:in|on) our\b"),
    # subscribe, newsletter, share and follow prompts, link lists
    ("subscribe sign log follow click tap download skip listen find",
     r"^\W*(?:subscribe|sign up|sign in|log in|follow us|click here|tap here|download (?:our|the) app"
     r"|skip to (?:main )?content|listen to this article|find us on)\b"),
    # link labels: in scraped text a link's title has no full stop, so a long "sentence" after
    # the label is the link glued to article text ("READ MORE: Syria talks fail The envoy said
    # ..."), which stays body
    ("share read see also", rf"^\W*(?:share this|read more|read next|see also|also read)\b{_SHORT}"),
    ("related recommended more most trending",
     rf"^\W*(?:related|recommended|more from [\w ]{{1,30}}|most popular|trending)(?:\s*:|\W*$){_SHORT}"),
    ("subscribe", r"\bsubscribe (?:now|today|here|to (?:our|my|this))\b"),
    ("sign", r"\bsign up (?:for|to) (?:our|my|free|a free)\b"),
    ("newsletter newsletters",
     r"\bour (?:\w+ ){0,2}newsletters?\b|^\W*(?:get|join|try) (?:the|our) (?:\w+ ){0,2}newsletter"
     r"|\bnewsletters?\b.{0,60}\binbox\b"),
    ("click follow share", r"\bclick here\b|\bfollow us\b|\bshare this (?:article|story|post|page)\b"),
    ("follow", r"\bfollow (?:\w+ ){0,3}on (?:twitter|x|facebook|instagram|linkedin|tiktok|threads|bluesky"
     r"|youtube|telegram)\b"),
    ("playback", rf"^\W*media playback is (?:not supported|unsupported)\b{_SHORT}"),
    ("tip tips suggestion suggestions idea ideas",
     r"^\W*(?:if you have|got|have you got|do you have|send us|email us)\b.{0,20}\b(?:story|news) (?:tips?|suggestions?|ideas?)\b"),
    # cookie notices
    ("cookie cookies", r"\b(?:we|this (?:web)?site) uses? cookies\b|\baccept (?:all )?cookies\b"
     r"|\bcookie (?:policy|settings|preferences|consent)\b"),
    # reprint and disclaimer notes
    ("originally first version republished",
     r"^\W*this (?:article|story|post|piece|interview|column|essay)\b.{0,60}\b(?:originally|first)"
     r" (?:published|appeared|posted|ran)\b|^\W*a version of this (?:article|story)\b.{0,60}\b(?:published|appeared|ran)\b"
     r"|^\W*(?:originally|first) (?:published|appeared|posted) (?:on|in|at|by)\b"
     r"|\brepublished (?:here )?(?:with|under|by) (?:\w+ ){0,2}(?:permission|creative commons)\b"),
    ("views opinions", r"\bthe (?:views|opinions) expressed\b.{0,100}\b(?:own|necessarily)\b"
     r"|^\W*(?:the )?(?:views|opinions) (?:are|is) (?:the (?:author|writer)['’]s|(?:his|her|their|my) own)\b"),
    # bylines and credits (short lines: "Compiled by X and sponsored by Y, the survey found ..." is news)
    ("reporting writing editing edited written compiled photo photos photograph photographs illustration illustrations",
     r"^\W*(?:(?:additional )?reporting|writing|editing|edited|written|compiled"
     rf"|photo(?:graph)?s?|illustrations?) by\b{_SHORT}"),
    ("photo photos photograph photographs image images picture pictures illustration illustrations video videos"
     " graphic graphics credit credits pic pictured",
     r"^\W*(?:photo(?:graph)?|image|picture|illustration|video|graphic|credit)s?(?: credit| source)?\s*:"
     r"|^\W*image (?:source|caption)\s*,|^\W*(?:pic|pictured)\s*:"),
    ("caption credit credits courtesy", r"\bimage caption\b|\b(?:photo|image)s? (?:credits?|courtesy)\b"),
    # a caption ending in its credit: "Liam Fox (Photo: PA)", "Jane Doe (Getty Images)"
    ("photo photos photograph image images picture pictures pic credit",
     r"\((?:photo(?:graph)?|picture|pic|image|credit)s?(?: credit)?\s*:[^()]{1,60}\)\W*$"),
    ("getty pa ap afp reuters epa shutterstock alamy",
     r"^[^.!?()]{1,80}\((?:getty(?: images)?|pa(?: media| wire)?|ap|afp|reuters|epa|shutterstock|alamy)\)$"),
    ("getty reuters ap afp epa shutterstock alamy bloomberg",
     r"\S\s*/\s*(?:getty images|reuters|ap(?: photo)?|afp|epa(?:-efe)?|shutterstock|alamy"
     r"|bloomberg(?: via getty images)?)\W*$"),
    ("reuters ap afp bloomberg pa getty", r"^\W*\((?:reuters|ap|afp|bloomberg|pa|getty images)\)\W*$"),
    # copyright lines ("©" counts as a word): a "©" that starts a word, so that the "Ã©" of
    # mis-decoded text ("cafÃ©") does not make its sentence boilerplate
    ("© rights copyright c", r"(?:^|[\s(])©|\ball rights reserved\b|\bcopyright (?:©|\(c\)|\d{4})|\(c\) ?\d{4}"),
)
# A byline ("By Jane Doe", "By Jane Doe and John Roe, Reuters"): case-sensitive, so that
# "By the Numbers" stays a heading, and without closing punctuation, so that "By Friday, ..."
# stays a sentence.
_BYLINE = re.compile(rf"^By\s+{_NAME}(?:\s*(?:,|and|&)\s*{_NAME})*(?:\s*[,|–—-]\s*[^.!?]{{0,60}})?$")

# Datelines and update stamps: a sentence that is only a date or a time, or one after
# "Published", "Updated", "Last updated" ("Last updated: 17 January 2005", "Updated 2 hours ago",
# "Tuesday, 1 March", "2000 GMT"). Anchored at both ends, so it is cheap to try on every sentence.
_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_WEEKDAY = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ZONE = r"(?:\s*(?:gmt|bst|utc|cet|cest|et|est|edt|pt|pst|pdt|ct|cst|cdt|ist|jst|aest)(?:[+-]\d{1,2})?)"
_TIME = (rf"(?:(?:\d{{1,2}}[:.]\d{{2}}|\d{{1,2}})\s*[ap]\.?m\.?{_ZONE}?|\d{{1,2}}:\d{{2}}{_ZONE}?"
         rf"|(?:\d{{1,2}}\.\d{{2}}|\d{{4}}){_ZONE})")
_DATE = (rf"(?:(?:{_WEEKDAY},?\s+)?(?:{_DAY}\s+{_MONTH}(?:,?\s+\d{{4}})?|{_MONTH}\s+{_DAY}(?:,?\s+\d{{4}})?"
         rf"|{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})|{_WEEKDAY})")
_AGO = r"(?:\d+|an?|one|two|three|few) (?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?) ago|yesterday|today|just now"
STAMP_MAX_CHARS = 100  # longer sentences are not tried: the pattern is tried on every sentence
_STAMP = re.compile(
    rf"\W*(?:(?:(?:page )?(?:last |first )?(?:updated|published|posted|modified|created)(?: on| at)?\s*[:-]?\s*)"
    rf"(?:{_DATE}|{_TIME}|{_AGO})(?:\s*(?:,|at|-|–|\|)?\s*(?:{_TIME}|{_DATE}))*"
    rf"|{_DATE}(?:\s*(?:,|at|-|–|\|)?\s*{_TIME})?|{_TIME})[\s.)]*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]+|©")


def _patterns_by_word() -> dict[str, tuple[re.Pattern[str], ...]]:
    """Each boilerplate word -> the compiled patterns that a sentence with that word may match."""
    by_word: dict[str, list[re.Pattern[str]]] = {}
    for words, pattern in BOILERPLATE_PATTERNS:
        compiled = re.compile(pattern, re.IGNORECASE)
        for word in words.split():
            by_word.setdefault(word, []).append(compiled)
    return {word: tuple(patterns) for word, patterns in by_word.items()}


_PATTERNS_BY_WORD = _patterns_by_word()


class _Block(NamedTuple):
    """A paragraph's text before classification; `marked` when markup says it is a heading."""

    text: str
    marked: bool


class _Piece(NamedTuple):
    """A paragraph's kind and text; `split` when it was cut from a long block."""

    kind: str
    text: str
    split: str | None = None


def segment(text: str) -> list[Paragraph]:
    """Split a document into its paragraphs in reading order (see the module docstring)."""
    blocks = list(_blocks(text))
    paragraphs: list[Paragraph] = []
    titled = True  # no article text yet: a title here is the headline
    for number, block in enumerate(blocks):
        following = blocks[number + 1] if number + 1 < len(blocks) else None
        for piece in _classify(block, titled, following):
            paragraphs.append(Paragraph(len(paragraphs), piece.kind, piece.text, piece.split, number))
            titled = titled and piece.kind == "boilerplate"
    return paragraphs


def is_boilerplate(sentence: str) -> bool:
    """Whether one sentence is page furniture (an ad, a prompt, a byline, a credit or caption, a
    dateline or update stamp, a reprint note or disclaimer, a copyright)."""
    sentence = sentence.strip()
    if _BYLINE.match(sentence) or (len(sentence) <= STAMP_MAX_CHARS and _STAMP.fullmatch(sentence)):
        return True
    words = _PATTERNS_BY_WORD.keys() & _WORD.findall(sentence.lower())
    return any(pattern.search(sentence) for word in words for pattern in _PATTERNS_BY_WORD[word])


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
    """One paragraph per line, or, in hard-wrapped text, the lines joined up to each paragraph end.
    Either way a line that stops mid-sentence runs on into a next line that starts in lower case
    ("The mayor said on Monday" / "that the budget ..."): a break inside a sentence, not a heading."""
    current: list[str] = []
    for line, following in zip(lines, [*lines[1:], None]):
        current.append(line)
        if following is None or _MARKDOWN_HEADING.match(line) or _starts_block(following):
            breaks = True
        elif _runs_on(line, following):
            breaks = False
        else:
            breaks = width is None or _ends_wrapped(line, width)  # unwrapped text: a line is a paragraph
        if breaks:
            yield _join_wrapped(current)
            current = []


def _runs_on(line: str, following: str) -> bool:
    """A sentence broken across two lines: no sentence end, and the next line goes on in lower case."""
    return following[:1].islower() and not _SENTENCE_END.search(line)


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


def _classify(block: _Block, titled: bool, following: _Block | None) -> list[_Piece]:
    """The pieces of one paragraph; `titled` when no article text came before it."""
    sentences = split_sentences(block.text) or [block.text]
    lead = _boilerplate_run(sentences)
    if lead == len(sentences):
        return [_Piece("boilerplate", block.text)]
    if block.marked or (len(sentences) == 1 and _is_title_line(block.text, titled, following)):
        return [_Piece("headline" if titled else "heading", block.text)]
    if is_long(block.text, len(sentences)):
        return _split_long(block.text, sentences, lead)
    trail = _boilerplate_run(sentences[::-1])
    return _split_off_boilerplate(block.text, sentences, lead, len(sentences) - trail)


def _boilerplate_run(sentences: list[str]) -> int:
    """How many sentences from the start are boilerplate; only the ends of a news-sized paragraph
    are ever cut, so its middle is never searched (the patterns are the slow part of segmentation)."""
    count = 0
    while count < len(sentences) and is_boilerplate(sentences[count]):
        count += 1
    return count


def _is_title_line(text: str, titled: bool, following: _Block | None) -> bool:
    """A one-sentence paragraph that is a title: short, capitalised and unpunctuated, or, with
    more text after it, a question or exclamation headline, or a question heading that a
    paragraph of several sentences answers ("Should scientists engage in activism?")."""
    if _is_title(text, HEADLINE_MAX_WORDS if titled else HEADING_MAX_WORDS):
        return True
    words = text.split()
    if following is None or not _capitalised(words[0]):
        return False
    if titled:
        return len(words) <= HEADLINE_MAX_WORDS and bool(_HEADLINE_END.search(text))
    return (
        len(words) <= QUESTION_HEADING_MAX_WORDS
        and bool(_QUESTION_END.search(text))
        and not _CLAUSE_PUNCT.search(text)
        and words[0].lower() not in CONNECTIVES
        and len(split_sentences(following.text)) > 1
    )


def _is_title(text: str, max_words: int) -> bool:
    """A short line without closing punctuation whose first word is capitalised ("iPhone" too)."""
    words = text.split()
    return 0 < len(words) <= max_words and not _CLOSING_PUNCT.search(text) and _capitalised(words[0])


def _capitalised(word: str) -> bool:
    return any(char.isupper() or char.isdigit() for char in word)


def _split_long(text: str, sentences: list[str], lead: int) -> list[_Piece]:
    """A long block as runs of boilerplate sentences and paragraph-sized groups of the others.

    The first `lead` sentences are already known to be boilerplate.
    """
    spans = locate(text, sentences)
    flags = [True] * lead + [is_boilerplate(sentence) for sentence in sentences[lead:]]
    pieces: list[_Piece] = []
    first = 0
    for boilerplate, run in groupby(flags):
        stop = first + len(list(run))
        groups = [(first, stop)] if boilerplate else [(first + a, first + b) for a, b in group_sentences(spans[first:stop])]
        kind = "boilerplate" if boilerplate else "body"
        pieces.extend(_Piece(kind, text[spans[a][0] : spans[b - 1][1]], SPLIT_BY_SENTENCES) for a, b in groups)
        first = stop
    return pieces


def _split_off_boilerplate(text: str, sentences: list[str], first: int, last: int) -> list[_Piece]:
    """Cut boilerplate sentences off the start and end of a body paragraph, keeping its text exact.

    sentences[first:last] is the body (never empty); the sentences before and after it are boilerplate.
    """
    spans = locate(text, sentences)
    pieces = [
        ("boilerplate", text[: spans[first][0]]),
        ("body", text[spans[first][0] : spans[last - 1][1]]),
        ("boilerplate", text[spans[last - 1][1] :]),
    ]
    return [_Piece(kind, piece.strip()) for kind, piece in pieces if piece.strip()]
