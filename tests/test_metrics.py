"""The metric functions against hand-computed values, including the edge cases they define."""

from __future__ import annotations

import math

import numpy as np
import pytest

from eval import baselines
from eval.metrics import (
    accuracy,
    average_ranks,
    classification_metrics,
    confusion_matrix,
    expected_calibration_error,
    macro_f1,
    per_class_metrics,
    reliability_bins,
    roc_auc,
)
from eval.tasks import subsample

# Gold and predictions over 3 classes; class 2 is never predicted.
GOLD = [0, 0, 1, 1, 2]
PRED = [0, 1, 1, 1, 0]


def test_confusion_matrix_rows_are_gold_columns_are_predicted() -> None:
    assert confusion_matrix(GOLD, PRED, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]


def test_per_class_precision_recall_f1_by_hand() -> None:
    rows = per_class_metrics(confusion_matrix(GOLD, PRED, 3))
    # class 0: tp 1 of 2 predicted, 2 gold -> P = R = F1 = 0.5
    assert (rows[0].precision, rows[0].recall, rows[0].f1) == pytest.approx((0.5, 0.5, 0.5))
    # class 1: tp 2 of 3 predicted, 2 gold -> P 2/3, R 1, F1 0.8
    assert (rows[1].precision, rows[1].recall, rows[1].f1) == pytest.approx((2 / 3, 1.0, 0.8))
    # class 2: gold once, never predicted -> precision 0 (zero-division convention), F1 0
    assert (rows[2].precision, rows[2].recall, rows[2].f1) == (0.0, 0.0, 0.0)
    assert (rows[2].support, rows[2].predicted) == (1, 0)


def test_macro_f1_and_accuracy_by_hand() -> None:
    # the missed class 2 has support, so its F1 of 0 counts
    assert macro_f1(GOLD, PRED, 3) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert accuracy(GOLD, PRED) == pytest.approx(3 / 5)


def test_macro_f1_leaves_out_a_class_with_no_support_and_no_predictions() -> None:
    gold, pred = [0, 1, 0, 1], [0, 1, 1, 1]
    # class 0: P 1, R 0.5, F1 2/3; class 1: P 2/3, R 1, F1 0.8; class 2 absent on both sides
    assert macro_f1(gold, pred, 3) == pytest.approx((2 / 3 + 0.8) / 2)


def test_single_class_sample() -> None:
    assert macro_f1([1, 1, 1], [1, 1, 1], 2) == 1.0
    assert accuracy([1, 1, 1], [1, 1, 1]) == 1.0
    # predicting the other class makes both classes present, each with F1 0
    assert macro_f1([1, 1, 1], [0, 0, 0], 2) == 0.0
    assert math.isnan(roc_auc([1, 1, 1], [0.2, 0.5, 0.9]))


@pytest.mark.parametrize(
    "call",
    [
        lambda: confusion_matrix([], [], 2),
        lambda: accuracy([], []),
        lambda: macro_f1([], [], 2),
        lambda: expected_calibration_error([], np.zeros((0, 2))),
        lambda: roc_auc([], []),
        lambda: classification_metrics([], [], ("a", "b")),
    ],
)
def test_empty_input_raises(call) -> None:
    with pytest.raises(ValueError):
        call()


def test_mismatched_lengths_and_out_of_range_labels_raise() -> None:
    with pytest.raises(ValueError):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError):
        confusion_matrix([0, 3], [0, 1], 3)


def test_ece_each_example_in_its_own_bin() -> None:
    probs = [[0.95, 0.05], [0.75, 0.25], [0.38, 0.62], [0.29, 0.71]]
    gold = [0, 1, 1, 0]  # correct, wrong, correct, wrong
    expected = (abs(1 - 0.95) + abs(0 - 0.75) + abs(1 - 0.62) + abs(0 - 0.71)) / 4
    assert expected_calibration_error(gold, probs) == pytest.approx(expected)


def test_ece_averages_within_a_bin_before_taking_the_gap() -> None:
    # 0.70 and 0.72 share the bin (0.667, 0.733]: accuracy 0.5, confidence 0.71
    probs = [[0.70, 0.30], [0.72, 0.28]]
    assert expected_calibration_error([0, 1], probs) == pytest.approx(0.21)


def test_ece_is_zero_when_confidence_matches_accuracy() -> None:
    probs = [[0.75, 0.25]] * 4
    assert expected_calibration_error([0, 0, 0, 1], probs) == pytest.approx(0.0)


def test_reliability_bins_are_15_equal_width_bins() -> None:
    bins = reliability_bins([0, 1, 1], [[1.0, 0.0], [0.5, 0.5], [0.4, 0.6]])
    assert len(bins) == 15
    assert bins[0].lower == 0.0 and bins[-1].upper == 1.0
    assert bins[-1].count == 1 and bins[-1].accuracy == 1.0  # confidence 1.0 falls in the last bin
    assert bins[7].count == 1 and bins[7].accuracy == 0.0  # 0.5 in (0.467, 0.533]; argmax picks class 0
    assert bins[8].count == 1 and bins[8].confidence == pytest.approx(0.6)
    assert sum(b.count for b in bins) == 3


def test_average_ranks_share_ties() -> None:
    assert average_ranks([10, 20, 20, 30]).tolist() == [1.0, 2.5, 2.5, 4.0]
    assert average_ranks([3, 1, 2]).tolist() == [3.0, 1.0, 2.0]


def test_roc_auc_by_hand() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1], [0.1, 0.9]) == 1.0
    assert roc_auc([0, 1], [0.9, 0.1]) == 0.0


def test_roc_auc_counts_ties_as_one_half() -> None:
    # positives 0.5, 0.9 against negatives 0.2, 0.5: pairs 1 + 0.5 + 1 + 1 out of 4
    assert roc_auc([0, 1, 0, 1], [0.2, 0.5, 0.5, 0.9]) == pytest.approx(0.875)
    assert roc_auc([0, 1, 0, 1], [0.5] * 4) == pytest.approx(0.5)


def test_classification_metrics_record_and_json_form() -> None:
    result = classification_metrics([1, 1], [1, 1], ("reporting", "opinion"), [[0.2, 0.8], [0.1, 0.9]], [0.8, 0.9])
    assert result.accuracy == 1.0 and result.macro_f1 == 1.0
    assert result.ece == pytest.approx(1 - 0.85)
    record = result.to_dict()
    assert record["roc_auc"] is None  # undefined with one gold class: nan becomes JSON null
    assert record["per_class"]["opinion"]["support"] == 2
    assert record["confusion_matrix"] == [[0, 0], [0, 2]]


def test_classification_metrics_without_probabilities_has_no_ece_or_auc() -> None:
    result = classification_metrics([0, 1], [0, 0], ("a", "b"))
    assert result.ece is None and result.roc_auc is None and result.reliability == []


def test_majority_baseline_uses_training_priors() -> None:
    predictions = baselines.majority([0, 1, 1, 1], n=3, n_classes=2)
    assert predictions.labels == [1, 1, 1]
    assert predictions.probs.tolist() == [[0.25, 0.75]] * 3
    assert predictions.positive_scores == [0.75] * 3


def test_vader_thresholds() -> None:
    assert [baselines.vader_label(c) for c in (0.05, 0.0499, 0.0, -0.0499, -0.05)] == [2, 1, 1, 1, 0]


def test_textblob_threshold_and_scores() -> None:
    predictions = baselines.textblob_opinion(["This is a wonderful, beautiful idea.", "The meeting is on 5 May."])
    assert predictions.labels == [1, 0]
    assert predictions.positive_scores[0] >= baselines.TEXTBLOB_THRESHOLD > predictions.positive_scores[1]


def test_subsample_is_seeded_sorted_and_bounded() -> None:
    first = subsample(1000, 50, seed=0)
    assert first == subsample(1000, 50, seed=0) and first == sorted(first) and len(set(first)) == 50
    assert first != subsample(1000, 50, seed=1)
    assert subsample(10, None) == list(range(10)) == subsample(10, 20)
