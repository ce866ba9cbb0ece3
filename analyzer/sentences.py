"""Sentence splitting for scraped news text.

Scraped articles lose the space after a full stop ("allies.Xi wants"), so a split is made
there too, while abbreviations ("U.S.", "Mr."), initials and decimals ("$1.5") stay whole.
"""

from __future__ import annotations

import re

ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "gov", "sen", "rep", "col",
    "lt", "sgt", "capt", "rev", "hon", "inc", "corp", "co", "ltd", "vs", "etc", "approx",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
    "u.s", "u.k", "u.n", "e.g", "i.e", "a.m", "p.m",
}

# A boundary: closing punctuation, optional closing quotes/brackets, then either whitespace
# before a plausible sentence start, or no space at all before a capitalised word
# ("allies.Xi") -- the latter only after a lowercase letter or digit, so "U.S.Army" holds --
# or an opening curly quote glued on ("slow.“I spend", "met.”“There").
# A copyright sign after a full stop ("... impact. © 2024 Foo Media") starts a sentence too.
_BOUNDARY = re.compile(
    r"""(?<=[.!?])(?P<close>["'”’)\]]*)(?:\s+(?=["'“‘(\[]?[A-Z0-9]|©)|(?<=[a-z0-9][.!?])(?=[A-Z][a-z])|(?=[“‘][A-Z]))"""
)


_INITIALS = re.compile(r"[a-z](?:\.[a-z])*")  # an initial ("J.") or dotted initials ("U.S.", "e.g.")


def _ends_with_abbreviation(text: str) -> bool:
    text = text.rstrip("\"'”’)]")
    if not text.endswith(".") or len(text) < 2 or text[-2].isspace():
        return False
    token = text[:-1].rsplit(None, 1)[-1].lower().lstrip("(\"'“‘")  # the last word (rsplit: not the whole sentence)
    return token in ABBREVIATIONS or _INITIALS.fullmatch(token) is not None


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping every character but the separating spaces."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.start() + len(match.group("close"))
        candidate = text[start:end]
        if _ends_with_abbreviation(candidate):
            continue
        if candidate.strip():
            sentences.append(candidate.strip())
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of each sentence in `text`, so that text[start:end] is the sentence."""
    return locate(text, split_sentences(text))


def locate(text: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Where each of `text`'s sentences lies in it (split_sentences keeps every character but spaces)."""
    spans: list[tuple[int, int]] = []
    position = 0
    for sentence in sentences:
        start = text.index(sentence, position)
        position = start + len(sentence)
        spans.append((start, position))
    return spans
