"""Classification metrics in plain numpy (scikit-learn is not a dependency).

Conventions, chosen once and tested in tests/test_metrics.py:

* Empty input raises ``ValueError``: an evaluation over nothing is a bug upstream, never a score.
* Per-class precision (recall) is 0.0 when the class was never predicted (has no support), the
  ``zero_division=0`` convention.
* Macro-F1 averages over the classes that occur in the gold labels *or* the predictions. A class
  with neither support nor predictions says nothing about the system and is left out, so a
  perfect prediction on a single-class sample scores 1.0, not 0.5.
* ROC AUC of a sample holding only one gold class is undefined and returned as ``nan``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

ECE_BINS = 15


@dataclass
class ClassMetrics:
    """Precision, recall and F1 of one class, with how often it was gold and predicted."""

    precision: float
    recall: float
    f1: float
    support: int
    predicted: int


@dataclass
class ReliabilityBin:
    """One confidence bin of a reliability diagram: (lower, upper], its size, accuracy and confidence."""

    lower: float
    upper: float
    count: int
    accuracy: float | None
    confidence: float | None


@dataclass
class ClassificationMetrics:
    """Everything reported for one system on one data set; probability metrics are None without probabilities."""

    n: int
    accuracy: float
    macro_f1: float
    per_class: dict[str, ClassMetrics]
    confusion_matrix: list[list[int]]
    ece: float | None = None
    roc_auc: float | None = None
    # binary tasks: the share of class-0 items predicted as class 1 (for opinion: reporting called opinion)
    false_positive_rate: float | None = None
    reliability: list[ReliabilityBin] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        for key in ("ece", "roc_auc"):
            value = record[key]
            record[key] = None if value is None or math.isnan(value) else value
        return record


def _as_labels(values: Sequence[int] | np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=np.int64).reshape(-1)
    if array.size == 0:
        raise ValueError(f"{name} is empty: nothing to evaluate")
    return array


def _check_same_length(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"length mismatch: {a.shape[0]} gold labels, {b.shape[0]} predictions")


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Counts with gold classes as rows and predicted classes as columns."""
    truth, pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    _check_same_length(truth, pred)
    if truth.min() < 0 or pred.min() < 0 or max(truth.max(), pred.max()) >= n_classes:
        raise ValueError(f"labels must lie in 0..{n_classes - 1}")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (truth, pred), 1)
    return matrix


def accuracy(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Share of exact matches."""
    truth, pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    _check_same_length(truth, pred)
    return float(np.mean(truth == pred))


def per_class_metrics(matrix: np.ndarray) -> list[ClassMetrics]:
    """Precision, recall and F1 of each class from a confusion matrix (0.0 where a denominator is 0)."""
    true_pos = np.diag(matrix).astype(float)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    rows = []
    for k in range(matrix.shape[0]):
        precision = true_pos[k] / predicted[k] if predicted[k] else 0.0
        recall = true_pos[k] / support[k] if support[k] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append(ClassMetrics(float(precision), float(recall), float(f1), int(support[k]), int(predicted[k])))
    return rows


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> float:
    """Unweighted mean F1 over the classes present in gold or predictions (see module docstring)."""
    return _macro_f1(per_class_metrics(confusion_matrix(y_true, y_pred, n_classes)))


def _macro_f1(rows: list[ClassMetrics]) -> float:
    present = [row.f1 for row in rows if row.support or row.predicted]
    return float(np.mean(present))


def _as_probs(probs: Sequence[Sequence[float]] | np.ndarray, n: int) -> np.ndarray:
    array = np.asarray(probs, dtype=float)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError("probs must be a non-empty [n_examples, n_classes] array")
    if array.shape[0] != n:
        raise ValueError(f"length mismatch: {n} gold labels, {array.shape[0]} probability rows")
    return array


def reliability_bins(y_true: Sequence[int], probs: Sequence[Sequence[float]] | np.ndarray, n_bins: int = ECE_BINS) -> list[ReliabilityBin]:
    """Equal-width bins over the top-label confidence max_k p_k; bin b holds (b/n_bins, (b+1)/n_bins].

    A bin's accuracy is the share of its examples whose argmax class is the gold class. The
    first bin also takes a confidence of exactly 0.
    """
    truth = _as_labels(y_true, "y_true")
    array = _as_probs(probs, truth.shape[0])
    confidence = array.max(axis=1)
    correct = array.argmax(axis=1) == truth
    index = np.clip(np.ceil(confidence * n_bins).astype(int) - 1, 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = index == b
        count = int(mask.sum())
        bins.append(
            ReliabilityBin(
                lower=b / n_bins,
                upper=(b + 1) / n_bins,
                count=count,
                accuracy=float(correct[mask].mean()) if count else None,
                confidence=float(confidence[mask].mean()) if count else None,
            )
        )
    return bins


def expected_calibration_error(y_true: Sequence[int], probs: Sequence[Sequence[float]] | np.ndarray, n_bins: int = ECE_BINS) -> float:
    """Expected calibration error of the top-label confidence.

    ECE = sum over bins b of (n_b / N) * |acc_b - conf_b|, with 15 equal-width bins over the
    confidence max_k p_k (bin b = (b/15, (b+1)/15]), acc_b the share of examples in the bin whose
    argmax class is correct and conf_b their mean confidence. 0 is perfectly calibrated; the
    argmax (not a tuned decision threshold) is the prediction, as in Guo et al. (2017).
    """
    bins = reliability_bins(y_true, probs, n_bins)
    total = sum(b.count for b in bins)
    return float(sum(b.count / total * abs(b.accuracy - b.confidence) for b in bins if b.count))


def average_ranks(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing the mean of their ranks."""
    array = np.asarray(values, dtype=float)
    order = np.argsort(array, kind="mergesort")
    sorted_values = array[order]
    ranks = np.empty(array.shape[0], dtype=float)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    ends = np.r_[starts[1:], array.shape[0]]
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + 1 + end) / 2.0
    return ranks


def roc_auc(y_true: Sequence[int], scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve from ranks (Mann-Whitney U); ties count one half; nan with one class.

    It is the probability that a random positive (label 1) scores above a random negative.
    """
    truth = _as_labels(y_true, "y_true")
    values = np.asarray(scores, dtype=float).reshape(-1)
    _check_same_length(truth, values)
    positive = truth == 1
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    rank_sum = average_ranks(values)[positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def classification_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    labels: Sequence[str],
    probs: Sequence[Sequence[float]] | np.ndarray | None = None,
    positive_scores: Sequence[float] | np.ndarray | None = None,
) -> ClassificationMetrics:
    """All metrics of one system on one data set.

    `probs` (rows of class probabilities) gives the ECE and reliability bins; `positive_scores`
    (any score that grows with class 1, e.g. P(opinion)) gives the ROC AUC of binary tasks.
    """
    matrix = confusion_matrix(y_true, y_pred, len(labels))
    rows = per_class_metrics(matrix)
    result = ClassificationMetrics(
        n=int(matrix.sum()),
        accuracy=accuracy(y_true, y_pred),
        macro_f1=_macro_f1(rows),
        per_class=dict(zip(labels, rows)),
        confusion_matrix=matrix.tolist(),
    )
    if len(labels) == 2 and matrix[0].sum():
        result.false_positive_rate = float(matrix[0, 1] / matrix[0].sum())
    if probs is not None:
        result.ece = expected_calibration_error(y_true, probs)
        result.reliability = reliability_bins(y_true, probs)
    if positive_scores is not None:
        result.roc_auc = roc_auc(y_true, positive_scores)
    return result
