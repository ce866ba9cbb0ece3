"""The model under test, reached only through the public `Analyzer` API (as users reach it)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from analyzer.records import Document
from eval.predictions import Predictions
from eval.tasks import EvalSet, SeedPair


def load_analyzer(model_dir: Path | None, device: str = "auto", precision: str = "auto") -> Any:
    """Load the analyzer once; imported here so that metric code and tests work without a model."""
    try:
        from analyzer import Analyzer
    except ImportError as error:
        raise RuntimeError(f"the analyzer API is not importable ({error}); use --baselines-only to run without it") from error
    return Analyzer(model_dir=model_dir, device=device, precision=precision)


def model_predictions(analyzer: Any, eval_set: EvalSet) -> Predictions:
    """Score each text as one unit and map the scores onto the data set's label indices.

    The labels are the analyzer's own decisions (for opinion: its tuned threshold); the
    probabilities feed the ECE and, for opinion, P(opinion) feeds the ROC AUC.
    """
    start = time.perf_counter()
    scores = analyzer.score_texts(list(eval_set.texts))
    labels = eval_set.labels
    if eval_set.task == "sentiment":
        probs = np.array([[s.sentiment.probs[name] for name in labels] for s in scores], dtype=float)
        predicted = [labels.index(s.sentiment.label) for s in scores]
        positive = None
    elif eval_set.task == "opinion":
        p_opinion = np.array([s.opinion.prob for s in scores], dtype=float)
        probs = np.stack([1.0 - p_opinion, p_opinion], axis=1)
        predicted = [labels.index(s.opinion.label) for s in scores]
        positive = p_opinion.tolist()
    else:
        raise ValueError(f"unknown task {eval_set.task!r}")
    return Predictions(predicted, probs, positive, time.perf_counter() - start)


def seed_pair_metrics(analyzer: Any, pair: SeedPair) -> tuple[dict[str, float], float]:
    """opinion_share of both versions and their gap (editorialized minus plain), with the seconds taken."""
    start = time.perf_counter()
    editorialized, plain = list(analyzer.score([pair.editorialized, pair.plain]))
    for record in (editorialized, plain):
        if not hasattr(record, "aggregates"):
            raise RuntimeError(f"seed document {record.doc_id} could not be scored: {getattr(record, 'error', record)}")
    metrics = {
        "opinion_share_editorialized": float(editorialized.aggregates["opinion_share"]),
        "opinion_share_plain": float(plain.aggregates["opinion_share"]),
        "mean_opinion_prob_editorialized": float(editorialized.aggregates["mean_opinion_prob"]),
        "mean_opinion_prob_plain": float(plain.aggregates["mean_opinion_prob"]),
    }
    metrics["opinion_share_gap"] = metrics["opinion_share_editorialized"] - metrics["opinion_share_plain"]
    return metrics, time.perf_counter() - start


def model_version(analyzer: Any) -> str:
    return str(getattr(analyzer, "model_version", "unknown"))


def sentence_predictions(analyzer: Any, paragraphs: list) -> tuple[list[int], Predictions]:
    """Opinion of every sentence, read in its paragraph (as the product scores it), with the gold labels."""
    start = time.perf_counter()
    scores = analyzer.score_texts([p.text for p in paragraphs])
    gold, predicted, p_opinion = [], [], []
    for paragraph, scored in zip(paragraphs, scores):
        if len(scored.sentences) != len(paragraph.sentence_opinion):
            raise RuntimeError(f"{paragraph.pid}: {len(scored.sentences)} sentences scored, {len(paragraph.sentence_opinion)} labelled")
        for label, sentence in zip(paragraph.sentence_opinion, scored.sentences):
            gold.append(int(label == "opinion"))
            predicted.append(int(sentence.opinion.label == "opinion"))
            p_opinion.append(sentence.opinion.prob)
    probs = np.stack([1.0 - np.array(p_opinion), np.array(p_opinion)], axis=1)
    return gold, Predictions(predicted, probs, p_opinion, time.perf_counter() - start)


def story_pair_metrics(analyzer: Any, pairs: list[tuple[Document, Document]]) -> tuple[dict[str, float], float]:
    """Framed vs plain versions of the same story: the share of pairs whose framed version has the higher opinion share."""
    start = time.perf_counter()
    documents = [doc for pair in pairs for doc in pair]
    shares = [record.aggregates["opinion_share"] for record in analyzer.score(documents)]
    gaps = [shares[i] - shares[i + 1] for i in range(0, len(shares), 2)]
    metrics = {"pairs": len(gaps), "framed_above_plain_share": sum(g > 0 for g in gaps) / len(gaps),
               "mean_gap": float(np.mean(gaps)), "smallest_gap": float(min(gaps))}
    return metrics, time.perf_counter() - start
