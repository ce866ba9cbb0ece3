"""Reference systems scored on the same data as the model, so its numbers have something to beat.

* majority: always the most frequent class of the *training* split; its probabilities are the
  training class shares, so it also gets an ECE (and a ROC AUC of 0.5, all scores tied).
* VADER (sentiment): compound >= 0.05 positive, <= -0.05 negative, else neutral (VADER's own rule).
* TextBlob (opinion): subjectivity >= 0.5 is opinion. 0.5 is the midpoint of TextBlob's 0..1
  subjectivity scale, fixed in advance rather than tuned on evaluation data; GUIDE §4 quotes a
  0.2 variant (0.51 macro-F1 on CheckThat dev). The ROC AUC uses the raw subjectivity, so it
  does not depend on the threshold.
"""

from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from eval.predictions import Predictions

VADER_POSITIVE = 0.05
VADER_NEGATIVE = -0.05
TEXTBLOB_THRESHOLD = 0.5


def majority(train_labels: Sequence[int], n: int, n_classes: int) -> Predictions:
    """The training split's most frequent class for every example, with the training priors as probabilities."""
    start = time.perf_counter()
    counts = np.bincount(np.asarray(train_labels, dtype=np.int64), minlength=n_classes)
    if counts.sum() == 0:
        raise ValueError("majority baseline needs training labels")
    prior = counts / counts.sum()
    label = int(np.argmax(counts))
    probs = np.tile(prior, (n, 1))
    scores = [float(prior[1])] * n if n_classes == 2 else None
    return Predictions([label] * n, probs, scores, time.perf_counter() - start)


def vader_label(compound: float) -> int:
    """0 negative, 1 neutral, 2 positive by VADER's recommended compound thresholds."""
    if compound >= VADER_POSITIVE:
        return 2
    if compound <= VADER_NEGATIVE:
        return 0
    return 1


def vader_sentiment(texts: Sequence[str]) -> Predictions:
    """3-class sentiment from VADER's compound score (no probabilities: no ECE)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    start = time.perf_counter()
    analyzer = SentimentIntensityAnalyzer()
    labels = [vader_label(analyzer.polarity_scores(text)["compound"]) for text in texts]
    return Predictions(labels, seconds=time.perf_counter() - start)


def textblob_opinion(texts: Sequence[str], threshold: float = TEXTBLOB_THRESHOLD) -> Predictions:
    """Opinion when TextBlob's subjectivity >= threshold; the subjectivity is the AUC score."""
    from textblob import TextBlob

    start = time.perf_counter()
    subjectivity = [float(TextBlob(text).sentiment.subjectivity) for text in texts]
    labels = [int(s >= threshold) for s in subjectivity]
    return Predictions(labels, positive_scores=subjectivity, seconds=time.perf_counter() - start)
