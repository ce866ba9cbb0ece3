"""Evidence: the sentence and the words that carry a paragraph's opinion and sentiment scores.

The method is a first-order decomposition, not a second model. The heads are linear on means of
token states, so each log-odds is exactly the mean over its tokens of each token state's
projection on the head's direction (plus a bias). A token's lift in one such mean is its
projection minus the mean projection, divided by the token count: what deleting it would take
away if the other states stayed put. The paragraph's opinion logit is a * (its strongest
sentence's log-odds, over that sentence's own tokens) + b * (the paragraph head's log-odds, over
all tokens) + c (`analyzer.postprocess`), so a token's opinion weight is a times its lift in the
strongest sentence plus b times its lift on the paragraph head. Sentiment is read on all tokens
in the direction the paragraph's score P(positive) - P(negative) moves most (`sentiment_mix`: a
positive paragraph mostly loses its score to neutral, not to negative), and its lifts are carried
back through the last layers' token mixing to the words they came from (`analyzer.mixing`: in
the last layers a charged word's meaning sits on its neighbours). It costs a few matrix products
on states the scoring pass already has. The README compares it with captum's Layer Integrated
Gradients on deletion tests (`eval.explanations`).

Tokens are summed into whole words (word pieces and the apostrophes and hyphens inside a word),
adjacent words of the same sign and weight merge into phrases for display, and every span is an
exact character range of the paragraph text (`text[start:end] == span.text`). Each task also
ranks the single words of its listed phrases by their own weight (`Evidence.opinion_words`,
`sentiment_words`): a phrase's weight can come from one of its words, and those words are what
the deletion test removes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from analyzer.prepare import PreparedText

TOP_SPANS = 5
PHRASE_SHARE = 0.2  # a neighbour joins a phrase when its weight is at least this share of the strongest word's
# A span made only of these is no evidence a reader can use ("it", "or", "with"): their weight
# stays in the phrases they join, but they are not listed on their own.
# Negations ("not", "no", "nor") are not among them: they turn a sentence's tone.
FUNCTION_WORDS = frozenset("""a an the and or but so yet if of in on at to for from by with as into onto than then that this
these those it its it's is are was were be been being am do does did has have had i you he she we they me him her us them my
your his our their there here what which who whom whose when where how why all any some each both such very just
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
    """The spans behind a paragraph's opinion and sentiment, and the sentence that carries each.

    `opinion_words` and `sentiment_words` are the words of the listed spans that push the score
    its way, each by its own weight, strongest first, function words after the content words:
    the product's ranking of single words, which `eval.explanations` deletes. They
    are not written out (`to_dict`): a reader sees the phrases.
    """

    opinion: list[EvidenceSpan]
    sentiment: list[EvidenceSpan]
    opinion_sentence: int | None
    sentiment_sentence: int | None
    opinion_words: list[EvidenceSpan] = field(default_factory=list)
    sentiment_words: list[EvidenceSpan] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"opinion": [s.to_dict() for s in self.opinion], "sentiment": [s.to_dict() for s in self.sentiment],
                "opinion_sentence": self.opinion_sentence, "sentiment_sentence": self.sentiment_sentence}


def sentiment_mix(p_positive: float, p_negative: float) -> tuple[float, float]:
    """The weights of the positive-minus-neutral and the negative-minus-neutral logit in the
    direction the sentiment score S = P(positive) - P(negative) moves most: its gradient over the
    three logits is P_c (s_c - S) (s = +1, 0, -1), which sums to zero, i.e. P+ (1 - S) on the
    first difference and P- (-1 - S) on the second; scaled so that the two add up to one in
    absolute value, which keeps the weights in log-odds units (a paragraph between positive and
    negative only gets (positive - negative) / 2). Chosen on the 279 NYT dev sentences (rollout
    as shipped before, residual 2): deleting the top-3 words beat deleting 3 random ones on 86.3%
    (mean of 10 random draws) against 85.2% for the fixed positive-minus-negative direction and
    84.3% for the toward-neutral row alone."""
    score = p_positive - p_negative
    toward_positive, toward_negative = p_positive * (1 - score), p_negative * (-1 - score)
    total = toward_positive - toward_negative
    if total <= 0:  # saturated: all mass on one class
        return (1.0, 0.0) if score >= 0 else (0.0, -1.0)
    return toward_positive / total, toward_negative / total


def explain(text: str, prepared: PreparedText, token_scores: np.ndarray, sentence_opinion: np.ndarray,
            sentence_valence: np.ndarray, sentiment_probs: tuple[float, float], opinion_sentences: list[int],
            paragraph_opinion: dict | None = None) -> Evidence:
    """Evidence of one paragraph from its per-token projections ([tokens, 4]: sentence opinion,
    positive-minus-neutral, paragraph opinion, negative-minus-neutral; `ToneScorer._directions`).
    `sentiment_probs` are the paragraph's calibrated P(positive) and P(negative).

    Opinion words are weighed only in a paragraph labelled opinion (`opinion_sentences` not
    empty, see `opinion_carriers`), so a paragraph of plain reporting points at no words:
    pointing at its least neutral words would mislead a reader. `paragraph_opinion` is the model's combination
    of the strongest sentence with the paragraph head (config.json); without it the paragraph
    head alone makes the score (tone-v1). Sentiment spans that push the score its way come
    first, then counter-evidence: the reader's question is which words made it negative.
    """
    opinion_sentence = int(np.argmax(sentence_opinion)) if len(sentence_opinion) and np.isfinite(sentence_opinion).any() else None
    weights = np.zeros(prepared.n_tokens)
    if opinion_sentences:
        sentence_weight, paragraph_weight = _opinion_mix(paragraph_opinion)
        # the score reads the strongest sentence only (a maximum), so only its words count, as the max's slope says
        strongest = max(opinion_sentences, key=lambda n: float(sentence_opinion[n]))
        weights = (sentence_weight * _centred(token_scores[:, 0], (prepared.sentence == strongest) & prepared.own)
                   + paragraph_weight * _centred(token_scores[:, 2], np.ones(prepared.n_tokens, dtype=bool)))
    words, word_weight = word_weights(text, prepared, weights)
    opinion_spans = [s for s in _spans(text, words, word_weight) if s.weight > 0][:TOP_SPANS]
    opinion_words = _ranked_words(text, words, word_weight, opinion_spans, 1.0)
    direction = 1.0 if sentiment_probs[0] >= sentiment_probs[1] else -1.0
    sentiment_sentence = int(np.argmax(direction * sentence_valence)) if len(sentence_valence) else None
    # already centred (per window) and rolled back in the forward stage (analyzer.mixing): a lift in the mean
    toward_positive, toward_negative = sentiment_mix(*sentiment_probs)
    valence = toward_positive * token_scores[:, 1] + toward_negative * token_scores[:, 3]
    words, word_weight = word_weights(text, prepared, valence / max(prepared.n_tokens, 1))
    sentiment_spans = sorted(_spans(text, words, word_weight), key=lambda s: (s.weight * direction <= 0, -abs(s.weight)))[:TOP_SPANS]
    sentiment_words = _ranked_words(text, words, word_weight, sentiment_spans, direction)
    return Evidence(opinion_spans, sentiment_spans, opinion_sentence, sentiment_sentence, opinion_words, sentiment_words)


def _opinion_mix(paragraph_opinion: dict | None) -> tuple[float, float]:
    """The weights of the strongest sentence's and of the paragraph head's log-odds in the paragraph's opinion logit."""
    if paragraph_opinion is None:
        return 0.0, 1.0
    weights = paragraph_opinion["weights"]
    return float(weights["sentence_max"]), float(weights["paragraph"])


def opinion_carriers(sentence_is_opinion: list[bool], paragraph_is_opinion: bool, sentence_log_odds: np.ndarray) -> list[int]:
    """The sentences that make a paragraph's opinion evidence (`explain` weighs the strongest of
    them): those labelled opinion, in a paragraph labelled opinion; its strongest sentence when
    none is labelled on its own; none in reporting."""
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


def _ranked_words(text: str, words: list[tuple[int, int]], word_weight: np.ndarray, spans: list[EvidenceSpan],
                  direction: float) -> list[EvidenceSpan]:
    """The words inside `spans` that push the score in `direction`, by their own weight, strongest
    first; function words after every content word (their weight is mostly context the words
    around them carry, but in a short sentence with few content words they still move the score)."""
    inside = [i for i, (start, end) in enumerate(words) if direction * word_weight[i] > 0
              and any(s.start <= start and end <= s.end for s in spans)]
    inside.sort(key=lambda i: (text[words[i][0]:words[i][1]].lower() in FUNCTION_WORDS, -direction * word_weight[i]))
    return [EvidenceSpan(words[i][0], words[i][1], text[words[i][0]:words[i][1]], round(float(word_weight[i]), 4)) for i in inside]


def _spans(text: str, words: list[tuple[int, int]], word_weight: np.ndarray) -> list[EvidenceSpan]:
    """Word weights (`word_weights`) merged into phrases, strongest first (by signed weight)."""
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
