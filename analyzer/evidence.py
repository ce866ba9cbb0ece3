"""Evidence: the sentence and the words that carry a paragraph's opinion and sentiment scores.

The method is a decomposition, not a second model. Both heads are linear on a mean of token
states, so a sentence's opinion log-odds is exactly the mean over its own tokens of each token
state's projection on the head's opinion direction (plus a bias), and the paragraph's valence
(positive minus negative logit) the mean over all its tokens on the valence direction. A token's
weight is its projection minus the mean projection of the unit, divided by the unit's token
count: how much that token lifts the score above an average token of the same unit. It costs one
matrix product on states the scoring pass already has. The README compares it with captum's
Layer Integrated Gradients and with gradient x input on deletion tests (`eval.explanations`).

Tokens are summed into whole words (word pieces and the apostrophes and hyphens inside a word),
adjacent words of the same sign and weight merge into phrases, and every span is an exact
character range of the paragraph text (`text[start:end] == span.text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from analyzer.prepare import PreparedText

TOP_SPANS = 5
PHRASE_SHARE = 0.2  # a neighbour joins a phrase when its weight is at least this share of the strongest word's
# A span made only of these is no evidence a reader can use ("it", "or", "with"): their weight
# stays in the phrases they join, but they are not listed on their own.
FUNCTION_WORDS = frozenset("""a an the and or but nor so yet if of in on at to for from by with as into onto than then that this
these those it its it's is are was were be been being am do does did has have had i you he she we they me him her us them my
your his our their there here not no what which who whom whose when where how why all any some each both such very just
""".split())
MAX_PHRASE_WORDS = 5
WORD = re.compile(r"\w(?:[\w'’-]*\w)?")  # a word: letters and digits, with apostrophes and hyphens inside


@dataclass
class EvidenceSpan:
    start: int
    end: int
    text: str
    weight: float

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text, "weight": self.weight}


@dataclass
class Evidence:
    """The spans behind a paragraph's opinion and sentiment, and the sentence that carries each."""

    opinion: list[EvidenceSpan]
    sentiment: list[EvidenceSpan]
    opinion_sentence: int | None
    sentiment_sentence: int | None

    def to_dict(self) -> dict:
        return {"opinion": [s.to_dict() for s in self.opinion], "sentiment": [s.to_dict() for s in self.sentiment],
                "opinion_sentence": self.opinion_sentence, "sentiment_sentence": self.sentiment_sentence}


def explain(text: str, prepared: PreparedText, token_scores: np.ndarray, sentence_opinion: np.ndarray,
            sentence_valence: np.ndarray, paragraph_valence: float, opinion_sentences: list[int]) -> Evidence:
    """Evidence of one paragraph from its per-token projections ([tokens, 2]: opinion, valence).

    Opinion spans come from the sentences labelled opinion (`opinion_sentences`; each sentence's
    words weighed within it, in its log-odds, times the sentence's weight in a soft maximum over
    those sentences), so a paragraph of plain reporting points at no
    words: pointing at its least neutral words would mislead a reader.
    """
    opinion_sentence = int(np.argmax(sentence_opinion)) if len(sentence_opinion) and np.isfinite(sentence_opinion).any() else None
    weights = np.zeros(prepared.n_tokens)
    strongest = max((float(sentence_opinion[n]) for n in opinion_sentences), default=0.0)
    for number in opinion_sentences:
        members = (prepared.sentence == number) & prepared.own
        # the paragraph reads its strongest sentence, so a weaker one's words count for less:
        # by how close the sentence comes to the strongest (its share in a soft maximum)
        weights += np.exp(float(sentence_opinion[number]) - strongest) * _centred(token_scores[:, 0], members)
    opinion_spans = [s for s in _spans(text, prepared, weights) if s.weight > 0][:TOP_SPANS]
    direction = 1.0 if paragraph_valence >= 0 else -1.0
    sentiment_sentence = int(np.argmax(direction * sentence_valence)) if len(sentence_valence) else None
    weights = _centred(token_scores[:, 1], np.ones(prepared.n_tokens, dtype=bool))
    sentiment_spans = sorted(_spans(text, prepared, weights), key=lambda s: -abs(s.weight))[:TOP_SPANS]
    return Evidence(opinion_spans, sentiment_spans, opinion_sentence, sentiment_sentence)


def opinion_carriers(sentence_is_opinion: list[bool], paragraph_is_opinion: bool, sentence_log_odds: np.ndarray) -> list[int]:
    """The sentences whose words are opinion evidence: those labelled opinion, in a paragraph
    labelled opinion; its strongest sentence when none is labelled on its own; none in reporting."""
    if not paragraph_is_opinion:
        return []
    carriers = [i for i, is_opinion in enumerate(sentence_is_opinion) if is_opinion]
    return carriers or ([int(np.argmax(sentence_log_odds))] if len(sentence_log_odds) else [])


def _centred(projection: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Each member token's lift over the unit's mean token, in the unit's mean (zero elsewhere)."""
    weights = np.zeros(len(projection))
    if members.any():
        values = projection[members]
        weights[members] = (values - values.mean()) / members.sum()
    return weights


def word_weights(text: str, prepared: PreparedText, token_weights: np.ndarray) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The text's words (character spans) and the sum of their tokens' weights; tokens outside
    every word (punctuation) count for none. `token_weights` may cover the first tokens only."""
    words = [m.span() for m in WORD.finditer(text)]
    weights = np.zeros(len(words))
    if not words:
        return words, weights
    token_starts = prepared.offsets[:len(token_weights), 0]
    owner = np.searchsorted(np.array([s for s, _ in words]), token_starts, side="right") - 1
    word_ends = np.array([e for _, e in words])
    valid = (owner >= 0) & (token_starts < word_ends[np.clip(owner, 0, None)])
    np.add.at(weights, owner[valid], token_weights[valid])
    return words, weights


def _spans(text: str, prepared: PreparedText, token_weights: np.ndarray) -> list[EvidenceSpan]:
    """Word weights merged into phrases, strongest first (by signed weight)."""
    words, word_weight = word_weights(text, prepared, token_weights)
    strongest = np.abs(word_weight).max() if len(words) else 0.0
    if strongest == 0:
        return []
    phrases: list[list[int]] = []
    for number, weight in enumerate(word_weight):
        joins = (phrases and phrases[-1][-1] == number - 1 and len(phrases[-1]) < MAX_PHRASE_WORDS
                 and abs(weight) >= PHRASE_SHARE * strongest and abs(word_weight[phrases[-1][-1]]) >= PHRASE_SHARE * strongest
                 and np.sign(weight) == np.sign(word_weight[phrases[-1][-1]])
                 and text[words[number - 1][1]:words[number][0]].strip() in ("", "-"))
        if joins:
            phrases[-1].append(number)
        elif weight != 0:
            phrases.append([number])
    spans = [EvidenceSpan(words[p[0]][0], words[p[-1]][1], text[words[p[0]][0]:words[p[-1]][1]],
                          round(float(word_weight[p].sum()), 4)) for p in phrases
             if any(text[words[i][0]:words[i][1]].lower() not in FUNCTION_WORDS for i in p)]
    return sorted(spans, key=lambda s: -s.weight)
