"""Document aggregates over body paragraphs; headings and boilerplate are only counted."""

from __future__ import annotations

from collections import Counter
from typing import Any

from analyzer.records import PARAGRAPH_KINDS, SENTIMENT_LABELS, ParagraphScore

TOP_OPINION = 3


def _distribution(labels: list[str]) -> dict[str, float]:
    counts = Counter(labels)
    return {label: round(counts[label] / len(labels), 4) if labels else 0.0 for label in SENTIMENT_LABELS}


def aggregate(paragraphs: list[ParagraphScore]) -> dict[str, Any]:
    """Opinion share, length-weighted mean P(opinion), mean sentiment score, label shares, top paragraphs.

    Length weighting uses characters, so a one-line aside weighs less than a long argument.
    With no body paragraph the means are None rather than a misleading zero.
    """
    body = [p for p in paragraphs if p.kind == "body"]
    kinds = Counter(p.kind for p in paragraphs)
    weights = [max(len(p.text), 1) for p in body]
    total = sum(weights)
    top = sorted(body, key=lambda p: p.opinion.prob, reverse=True)[:TOP_OPINION]
    return {
        "n_paragraphs": len(paragraphs),
        "kinds": {kind: kinds[kind] for kind in PARAGRAPH_KINDS},
        "n_body": len(body),
        "opinion_share": round(sum(p.opinion.label == "opinion" for p in body) / len(body), 4) if body else None,
        "mean_opinion_prob": round(sum(w * p.opinion.prob for w, p in zip(weights, body)) / total, 4) if body else None,
        "mean_sentiment_score": round(sum(p.sentiment.score for p in body) / len(body), 4) if body else None,
        "sentiment_distribution": _distribution([p.sentiment.label for p in body]),
        "tone_distribution": _distribution([p.tone for p in body]),
        "top_opinion": [{"index": p.index, "prob": p.opinion.prob, "text": p.text} for p in top],
    }
