"""The postprocess stage: raw logits -> calibrated probabilities, labels and paragraph records.

Everything read from the model's config.json is applied here and nowhere else: sentiment class
offsets and temperature, the opinion temperatures and thresholds, and how a paragraph's
P(opinion) is made from its sentences.

Why sentences decide a paragraph's opinion: the label rule is that one clause in the author's
own voice makes the paragraph opinion, and a mean over the whole paragraph's tokens dilutes that
clause (tone-v1 gave such paragraphs 0.2-0.4). tone-v2 therefore reads P(opinion) per sentence
and combines the most opinionated sentence with the paragraph's own reading in a logistic
model fitted on paragraph-level dev data (`paragraph_opinion` in config.json):
    logit P(paragraph is opinion) = a * max_sentence_log_odds + b * paragraph_log_odds + c
A model without that entry (tone-v1) keeps its paragraph head alone.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from analyzer.aggregate import aggregate
from analyzer.evidence import explain, opinion_carriers
from analyzer.inference import LogitArrays, Logits
from analyzer.long_blocks import split_note
from analyzer.model import ModelConfig
from analyzer.prepare import PreparedText, PreparedWindow
from analyzer.records import DocumentScore, ErrorRecord, OpinionScore, Paragraph, ParagraphScore, SentenceScore, SentimentScore

LOG_ODDS_LIMIT = 30.0  # a sentence that is all reported speech reads as this far towards reporting


def _sigmoid(value: float) -> float:
    """Log-odds -> probability; -inf (all reported speech) is reporting, NaN is the model failing."""
    if math.isnan(value):
        raise ValueError("the model produced a non-finite opinion score")
    return 1.0 / (1.0 + math.exp(-max(-LOG_ODDS_LIMIT, min(LOG_ODDS_LIMIT, value))))


class Postprocessor:
    """Turns one text's logits into its scored record, with the calibration of one model."""

    def __init__(self, config: ModelConfig):
        self.config = config
        self.labels = config.sentiment_labels
        self._bias = np.asarray(config.sentiment_bias)
        self._positive = self.labels.index("positive")
        self._negative = self.labels.index("negative")

    def sentiment_probs(self, logits: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities, unrounded."""
        scaled = (logits + self._bias) / self.config.sentiment_temperature
        if not np.isfinite(scaled).all():
            raise ValueError("the model produced a non-finite sentiment score")
        exp = np.exp(scaled - scaled.max())
        return exp / exp.sum()

    def sentiment(self, logits: np.ndarray) -> SentimentScore:
        return self._sentiment_score(self.sentiment_probs(logits))

    def _sentiment_score(self, probs: np.ndarray) -> SentimentScore:
        rounded = {label: round(p, 4) for label, p in zip(self.labels, probs.tolist())}
        label = max(rounded, key=rounded.get)
        return SentimentScore(label, rounded, round(rounded["positive"] - rounded["negative"], 4))

    def paragraph_opinion_prob(self, logits: Logits) -> float:
        """P(opinion) of the paragraph: its head alone (tone-v1) or the sentence combination (tone-v2)."""
        combination = self.config.paragraph_opinion
        if combination is None or len(logits.sentence_opinion) == 0:
            return _sigmoid(logits.opinion / self.config.opinion_temperature)
        weights = combination["weights"]
        strongest = float(np.max(logits.sentence_opinion))  # NaN stays NaN here, and _sigmoid refuses it
        strongest = strongest if math.isnan(strongest) else max(-LOG_ODDS_LIMIT, strongest)
        return _sigmoid(weights["sentence_max"] * strongest + weights["paragraph"] * logits.opinion + weights["bias"])

    def sentence_opinion_prob(self, log_odds: float) -> float:
        return _sigmoid(log_odds / self.config.sentence_opinion_temperature)

    def paragraph(self, doc_id: str, paragraph: Paragraph, prepared: PreparedText, logits: Logits,
                  score_headings: bool = False) -> ParagraphScore:
        sentiment_probs = self.sentiment_probs(logits.sentiment)
        sentiment = self._sentiment_score(sentiment_probs)
        opinion = _opinion(self.paragraph_opinion_prob(logits), self.config.opinion_threshold)
        sentences = [self._sentence(paragraph.text, span, prepared, logits.sentence_sentiment[i], logits.sentence_opinion[i])
                     for i, span in enumerate(prepared.sentences)]
        evidence = None
        if logits.token_scores is not None:
            carriers = opinion_carriers([s.opinion.label == "opinion" for s in sentences], opinion.label == "opinion", logits.sentence_opinion)
            evidence = explain(paragraph.text, prepared, logits.token_scores, logits.sentence_opinion,
                               self._valence(logits.sentence_sentiment),
                               (float(sentiment_probs[self._positive]), float(sentiment_probs[self._negative])), carriers,
                               self.config.paragraph_opinion)
        return ParagraphScore(
            doc_id=doc_id, index=paragraph.index, kind=paragraph.kind, text=paragraph.text,
            sentiment=sentiment, opinion=opinion, tone=_tone(sentiment, opinion), model=self.config.model_version,
            n_tokens=logits.n_tokens, sentences=sentences, evidence=evidence, split=paragraph.split,
            labelled=is_labelled(paragraph, score_headings),
        )

    def documents(self, window: PreparedWindow, logits: LogitArrays, score_headings: bool = False) -> list[DocumentScore | ErrorRecord]:
        """A window's records, in input order: its documents' scored paragraphs and aggregates, its error records as they are."""
        distinct = list(zip(window.distinct, logits.per_text()))
        rows = iter(window.row)
        done: dict[int, ParagraphScore] = {}  # a recurring text's scores, sentences and evidence are computed once
        records: list[DocumentScore | ErrorRecord] = []

        def scored(doc_id: str, p: Paragraph) -> ParagraphScore:
            row = next(rows)
            if row not in done:
                done[row] = self.paragraph(doc_id, p, *distinct[row], score_headings)
                return done[row]
            return replace(done[row], doc_id=doc_id, index=p.index, kind=p.kind, split=p.split,
                           labelled=is_labelled(p, score_headings))

        for document, paragraphs in window.items:
            if isinstance(document, ErrorRecord):
                records.append(document)
                continue
            paragraph_scores = [scored(document.doc_id, p) for p in paragraphs]
            records.append(DocumentScore(document.doc_id, self.config.model_version, paragraph_scores, aggregate(paragraph_scores),
                                         document.encoding, split_note(paragraphs)))
        return records

    def _valence(self, sentiment_logits: np.ndarray) -> np.ndarray:
        """Positive minus negative logit of each sentence: which one carries the paragraph's sentiment most."""
        return sentiment_logits[:, self._positive] - sentiment_logits[:, self._negative]

    def _sentence(self, text: str, span: tuple[int, int], prepared: PreparedText, sentiment_logits, opinion_log_odds) -> SentenceScore:
        start, end = span
        sentiment = self.sentiment(sentiment_logits)
        opinion = _opinion(self.sentence_opinion_prob(float(opinion_log_odds)), self.config.sentence_opinion_threshold)
        attributed = any(s < end and start < e for s, e in prepared.reported)
        return SentenceScore(start, end, text[start:end], sentiment, opinion, _tone(sentiment, opinion), attributed)


def is_labelled(paragraph: Paragraph, score_headings: bool) -> bool:
    """Output labels opinion and tone on body paragraphs only, unless --score-headings asks for all."""
    return score_headings or paragraph.kind == "body"


def _opinion(prob: float, threshold: float) -> OpinionScore:
    if not math.isfinite(prob):
        raise ValueError("the model produced a non-finite opinion probability")
    return OpinionScore("opinion" if prob >= threshold else "reporting", round(prob, 4))


def _tone(sentiment: SentimentScore, opinion: OpinionScore) -> str:
    """The sentiment the author expresses: the sentiment when opinion, neutral when reporting."""
    return sentiment.label if opinion.label == "opinion" else "neutral"
