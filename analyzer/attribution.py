"""Attribution: which characters of a paragraph report someone else's words rather than the author's.

The product's rule is that quoting or reporting an opinion is reporting, however emotional the
quoted words. A model trained on sentences learns "disgrace" as opinion wherever it stands, so
the rule is applied explicitly: the spans found here are left out of the pooling that feeds the
opinion head (the encoder still reads them as context). Sentiment is pooled over every token,
because a reader perceives the valence of a quote too.

What counts as reported, in order of how safe the cue is:
* a quotation of eight or more words (news quotes speech at that length, naming the speaker
  in this paragraph or the one before), and one of four or more words when the paragraph
  attributes speech outside quotes (a speech verb, "according to") or introduces the quote
  with a colon; short quotations are often the author's scare quotes ("the 'reform' package"),
  which stay; a quotation opened and not closed runs to the end of the paragraph;
* a short quotation right after a naming verb ("called it 'a giveaway'", "dubbed", "described as");
* the reported clause of "According to X, ...", "..., according to X", "..., the union said." and
  "Critics said (that) ..." / "Critics called the plan ...", with a short subject before the verb,
  so that the author's own words around it ("Critics, rightly, called it ...") are kept.
"""

from __future__ import annotations

import re

Span = tuple[int, int]

SPEECH_VERBS = (
    "said|says|say|told|tells|asked|asks|added|adds|stated|states|wrote|writes|argued|argues|claimed|claims"
    "|insisted|insists|warned|warns|called|calls|described|describes|tweeted|posted|replied|replies|explained"
    "|explains|noted|notes|urged|urges|accused|accuses|admitted|admits|announced|announces|declared|declares"
    "|vowed|vows|suggested|suggests|acknowledged|acknowledges|alleged|alleges|complained|complains|conceded"
    "|concedes|contended|contends|countered|counters|maintained|maintains|recalled|remarked|responded"
    "|responds|predicted|predicts|believes|believed|thinks|thought|fears|feared|hopes|hoped|denied|denies"
    "|dismissed|dismisses|blamed|blames|criticised|criticized|criticises|criticizes|praised|praises"
    "|condemned|condemns|branded|brands|labelled|labeled|dubbed|insist|warn|argue|claim|believe|allege"
    "|fear|hope|think|expect|expects|expected|predict|suggest|accuse|deny|complain|urge|admit|concede"
)
# The verbs that close a sentence as its attribution ("..., the union said."): speech only, since
# "..., but who believes that?" ends in a verb of belief that is the author's own question.
TAIL_VERBS = "said|says|added|adds|told|warned|argued|claimed|insisted|noted|wrote|explained|stated|countered|replied|responded"
MIN_QUOTE_WORDS = 4
LONG_QUOTE_WORDS = 8  # a quotation this long is someone's speech even when its speaker is named in another paragraph
MAX_SUBJECT_WORDS = 7

_QUOTE = re.compile(r"“[^“”]+”|\"[^\"]+\"|(?<![\w’'])‘[^‘’]+’(?![\w])")
# News prints a quotation that runs on into the next paragraph with an opening mark and no
# closing one: from an unmatched opening mark to the end of the paragraph is quoted.
_OPENING = re.compile(r"(?:(?<=^)|(?<=[\s(:]))[“\"]")
_SPEECH = re.compile(rf"\b(?:{SPEECH_VERBS})\b|\baccording to\b|\bin a statement\b|\bquoted\b", re.IGNORECASE)
_NAMING = re.compile(r"(?<!so-)\b(?:called|calls|dubbed|dubs|described as|describes as|labelled|labeled|branded|termed)\s*$", re.IGNORECASE)
_ACCORDING_FIRST = re.compile(r"^\W*according to\b[^,]{1,80},\s*", re.IGNORECASE)
_ACCORDING_LAST = re.compile(r",\s*according to\b[^,]{1,80}[.!?]?[\"'”’]*$", re.IGNORECASE)
_SAID_LAST = re.compile(rf",\s*(?:[\w’'.-]+\s+){{1,{MAX_SUBJECT_WORDS}}}(?:{TAIL_VERBS})\b[^,]{{0,60}}[.!?]?[\"'”’]*$", re.IGNORECASE)
_SAID_FIRST = re.compile(rf"^(?P<subject>(?:[\w’'.-]+\s+){{1,{MAX_SUBJECT_WORDS}}}?)(?:{SPEECH_VERBS})\b(?:\s+that\b)?\s*", re.IGNORECASE)

# Where a reported clause hands back to the author: "X says it will act, but who believes that?"
_TURN = re.compile(r",\s+(?:but|yet|although|though|while)\b|;|\s[—–]\s")


def reported_spans(text: str, sentences: list[Span]) -> list[Span]:
    """Character spans of `text` that report someone else's words (sorted, distinct, may overlap)."""
    quotes = [m.span() for m in _QUOTE.finditer(text)]
    after_last = quotes[-1][1] if quotes else 0
    if opening := _OPENING.search(text, after_last):
        if not any(s <= opening.start() < e for s, e in quotes):
            quotes.append((opening.start(), len(text)))
    outside = _outside(text, quotes)
    speech_outside = bool(_SPEECH.search(outside))
    spans: list[Span] = []
    for start, end in quotes:
        words = len(text[start:end].split())
        before = text[max(0, start - 40):start]
        if words >= LONG_QUOTE_WORDS or (words >= MIN_QUOTE_WORDS and (speech_outside or before.rstrip().endswith(":"))):
            spans.append((start, end))
        elif _NAMING.search(before):
            spans.append((start, end))
    for start, end in sentences:
        spans.extend(_reported_clause(text[start:end], start))
        spans.extend(_opening_quote(text, start, end))
    return sorted(set(spans))


def _opening_quote(text: str, start: int, end: int) -> list[Span]:
    """A sentence that opens with a quotation of four or more words is speech up to its closing
    mark (or to its end: news runs a quotation on over sentences and closes it only once), even
    where the marks of the paragraph pair up wrongly; a short opening quote ("'Reform' is the
    wrong word") stays the author's."""
    if text[start] not in "\"“":
        return []
    closing = min((i for i in (text.find("\"", start + 1, end), text.find("”", start + 1, end)) if i >= 0), default=end - 1)
    if len(text[start + 1:closing].split()) < MIN_QUOTE_WORDS:
        return []
    return [(start, closing + 1)]


def _outside(text: str, quotes: list[Span]) -> str:
    pieces, cursor = [], 0
    for start, end in quotes:
        pieces.append(text[cursor:start])
        cursor = end
    pieces.append(text[cursor:])
    return " ".join(pieces)


def _reported_clause(sentence: str, offset: int) -> list[Span]:
    """The clause an attribution frame reports, as spans of the paragraph."""
    if match := _ACCORDING_FIRST.match(sentence):
        return [(offset + match.end(), offset + len(sentence))]
    if match := _ACCORDING_LAST.search(sentence):
        return [(offset, offset + match.start())]
    if (match := _SAID_LAST.search(sentence)) and match.start() > 0:
        return [(offset, offset + match.start())]
    if (match := _SAID_FIRST.match(sentence)) and "," not in match.group("subject"):
        turn = _TURN.search(sentence, match.end())
        return [(offset + match.end(), offset + (turn.start() if turn else len(sentence)))]
    return []

