"""The one shape every system (the model or a baseline) hands to the metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Predictions:
    """A system's output on one data set.

    `labels` are class indices; `probs` ([n, n_classes] probabilities) are only given by systems
    that claim probabilities (they get an ECE); `positive_scores` is any score that grows with
    class 1 of a binary task (it gets a ROC AUC).
    """

    labels: list[int]
    probs: np.ndarray | None = None
    positive_scores: list[float] | None = None
    seconds: float = 0.0
