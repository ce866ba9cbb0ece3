"""Reported speech is found explicitly, and the author's own words around it are kept."""

from __future__ import annotations

import pytest

from analyzer.attribution import reported_spans
from analyzer.sentences import sentence_spans


def reported(text: str) -> list[str]:
    return [text[start:end] for start, end in reported_spans(text, sentence_spans(text))]


@pytest.mark.parametrize("text, expected", [
    ("“This is a disgrace and a betrayal,” the senator said.", ["“This is a disgrace and a betrayal,”"]),
    ('"They are liars and thieves," the union leader said.', ['"They are liars and thieves,"']),
    ("The mayor was blunt: “We were lied to by everyone.”", ["“We were lied to by everyone.”"]),
    ("He called it “a shameful stunt”.", ["it “a shameful stunt”."]),
    ("According to the union, the cuts are reckless.", ["the cuts are reckless."]),
    ("The cuts are reckless, the union leader said on Monday.", ["The cuts are reckless"]),
    ("Critics said the plan was a giveaway to developers.", ["the plan was a giveaway to developers."]),
])
def test_reported_speech_is_found(text, expected):
    assert reported(text) == expected


@pytest.mark.parametrize("text", [
    "The so-called “reform” package is a reckless gamble.",  # scare quotes are the author's
    "The hapless regulator did nothing. This will end badly.",
    "Critics, rightly, called it a giveaway.",  # "rightly" is the author's own word
    "Forty-one people died when the ferry capsized on Tuesday.",
])
def test_the_authors_own_words_are_not_reported(text):
    assert reported(text) == []


def test_a_rhetorical_question_after_an_attribution_stays_the_authors():
    text = "The government says it will act, but who believes that?"
    assert reported(text) == ["it will act"]


def test_a_quotation_run_on_over_sentences_is_speech_though_its_marks_pair_wrongly():
    text = ('He said Mr Clarke had a "real opportunity". "If you were running a family would you stop? '
            '"That is the sensible way to go about it but this government is not behaving sensibly at all."')
    spans = reported(text)
    assert any(s.startswith('"That is the sensible way') for s in spans)
    assert any(s.startswith('"If you were running') for s in spans)


def test_a_short_quote_opening_a_sentence_stays_the_authors():
    assert reported('"Reform" is the wrong word for this mess.') == []
