"""Training targets: soft labels agree with the gold labels and sum to one; batches carry them."""

from __future__ import annotations

import random

import pytest

from models import data
from models.train import _batches


def test_soft_target_sums_to_one_and_splits_at_a_band_edge() -> None:
    for mean in (-3.0, -0.5, 0.0, 0.45, 2.0):
        assert sum(data.soft_sentiment_target(mean, 1.0)) == pytest.approx(1.0)
    assert data.soft_sentiment_target(2.0, 0.8)[2] > 0.99  # far inside "positive"
    edge = data.soft_sentiment_target(data.NEUTRAL_BAND, 0.8)
    assert edge[1] == pytest.approx(0.5, abs=1e-6) and edge[2] == pytest.approx(0.5, abs=1e-6)


def test_nyt_soft_targets_agree_with_the_gold_label() -> None:
    rows = data.nyt_sentences("dev")
    # The gold label is always the most likely class (a mean exactly on a band edge ties at 0.5/0.5).
    assert all(target[label] >= max(target) - 1e-9 for target, label in zip(rows["target"], rows["label"]))
    assert 0.1 < sum(max(t) < 0.9 for t in rows["target"]) / len(rows) < 0.6  # some, not all, are unsure


def test_checkthat_conflicts_get_two_thirds() -> None:
    rows = data.checkthat("train")
    unsure = [t for t in rows["target"] if max(t) < 1]
    assert len(unsure) == 69
    assert all(max(t) == pytest.approx(2 / 3) for t in unsure)


def test_batches_use_soft_targets_only_when_asked() -> None:
    from transformers import AutoTokenizer

    from analyzer.model import locate_base_model

    tokenizer = AutoTokenizer.from_pretrained(str(locate_base_model()))
    rows = [
        {"text": "Rates rose.", "task": "sentiment", "label": 1, "target": [0.1, 0.6, 0.3]},
        {"text": "A shameful decision.", "task": "opinion", "label": 1},
    ]
    for soft, expected in ((True, [0.1, 0.6, 0.3]), (False, [0.0, 1.0, 0.0])):
        _, _, sentiment, opinion = next(_batches(rows, tokenizer, 8, 32, False, random.Random(0), soft))
        assert sentiment[0].tolist() == pytest.approx(expected)
        assert sentiment[1].tolist() == [0.0, 0.0, 0.0] and opinion[0].tolist() == [0.0, 0.0]
        assert opinion[1].tolist() == [0.0, 1.0]
