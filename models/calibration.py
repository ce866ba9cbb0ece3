"""Calibration fitted on dev: temperature scaling and the opinion decision threshold."""

from __future__ import annotations

import torch


def macro_f1(predictions: torch.Tensor, labels: torch.Tensor, n_classes: int) -> float:
    """Unweighted mean of per-class F1 (a class absent from both gets F1 0)."""
    scores = []
    for c in range(n_classes):
        tp = int(((predictions == c) & (labels == c)).sum())
        fp = int(((predictions == c) & (labels != c)).sum())
        fn = int(((predictions != c) & (labels == c)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return sum(scores) / n_classes


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The temperature T minimising dev NLL of softmax(logits / T); searched in log space."""
    logits, labels = logits.detach().clone().float(), labels.detach().clone()
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.exp())


def best_threshold(probs: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """The P(opinion) cut between 0.2 and 0.8 that maximises binary macro-F1 on dev.

    The range is bounded so that a small dev set cannot push the cut to an extreme.
    """
    best = (0.5, macro_f1((probs >= 0.5).long(), labels, 2))
    for step in range(20, 81):
        threshold = step / 100
        f1 = macro_f1((probs >= threshold).long(), labels, 2)
        if f1 > best[1] + 1e-9:
            best = (threshold, f1)
    return best


def best_class_bias(logits: torch.Tensor, labels: torch.Tensor, span: float = 1.5, step: float = 0.1) -> tuple[list[float], float]:
    """Per-class logit offsets (first class fixed at 0) that maximise macro-F1 on dev.

    Training mixes tweets and reviews (few neutral sentences) with news (many), so the
    sentiment head's class priors are off for news; a dev-fitted offset moves them back.
    """
    n_classes = logits.shape[1]
    grid = [round(-span + i * step, 2) for i in range(int(2 * span / step) + 1)]
    best = ([0.0] * n_classes, macro_f1(logits.argmax(-1), labels, n_classes))
    for b1 in grid:
        for b2 in grid if n_classes > 2 else [0.0]:
            bias = torch.tensor([0.0, b1, b2][:n_classes])
            f1 = macro_f1((logits + bias).argmax(-1), labels, n_classes)
            if f1 > best[1] + 1e-9:
                best = (bias.tolist(), f1)
    return best
