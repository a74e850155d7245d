"""Unit tests of the pure-numpy metrics: thresholds, P/R/F1, confusion matrix, IoU matching, AP."""

from __future__ import annotations

import numpy as np
import pytest

from openrek.training.metrics import (
    ImageDetections,
    LabelMetrics,
    aggregate,
    average_precision,
    best_threshold_ranked,
    box_iou,
    confusion_matrix,
    detection_metrics,
    image_level_metrics,
    match_detections,
    metrics_at,
)


def test_best_threshold_picks_best_f1_cut() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2])
    truth = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    t, p, r, f = best_threshold_ranked(scores, truth, int(truth.sum()))
    assert t == pytest.approx(0.6)
    assert (p, r) == (pytest.approx(0.75), pytest.approx(1.0))
    assert f == pytest.approx(2 * 0.75 / 1.75)
    assert metrics_at(scores, truth, t) == (pytest.approx(p), pytest.approx(r), pytest.approx(f))


def test_best_threshold_perfect_separation_and_ties() -> None:
    scores = np.array([0.95, 0.9, 0.4, 0.4, 0.1])
    truth = np.array([1, 1, 0, 0, 0], dtype=bool)
    assert best_threshold_ranked(scores, truth, 2) == (pytest.approx(0.9), 1.0, 1.0, 1.0)
    # Tied scores cannot be split: both or neither pass.
    t, p, r, f = best_threshold_ranked(np.array([0.5, 0.5]), np.array([True, False]), 1)
    assert (t, p, r) == (0.5, 0.5, 1.0)


def test_best_threshold_without_positives_predicts_nothing() -> None:
    t, p, r, f = best_threshold_ranked(np.array([0.3, 0.7]), np.array([False, False]), 0)
    assert t > 0.7 and (p, r, f) == (0.0, 0.0, 0.0)


def test_image_level_metrics_and_aggregate() -> None:
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    truth = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=bool)
    lm = image_level_metrics(scores, truth, ["a", "b"])
    assert [m.f1 for m in lm] == [1.0, 1.0]
    assert [m.testing_images for m in lm] == [2, 2]
    agg = aggregate(lm)
    assert agg["F1Score"] == 1.0 and agg["Precision"] == 1.0
    # Labels absent from the test set do not drag the macro average down.
    agg2 = aggregate([*lm, LabelMetrics("c", 1.0, 0.0, 0.0, 0.0, 0, 0)])
    assert agg2["F1Score"] == 1.0


def test_confusion_matrix_rows_are_fractions() -> None:
    cm = confusion_matrix([0, 0, 1, 1], [0, 1, 1, 1], ["cat", "dog"])
    values = {(c["GroundTruthLabel"], c["PredictedLabel"]): c["Value"] for c in cm}
    assert values == {("cat", "cat"): 0.5, ("cat", "dog"): 0.5, ("dog", "cat"): 0.0, ("dog", "dog"): 1.0}


def test_box_iou() -> None:
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]])
    np.testing.assert_allclose(box_iou(a, b), [[1.0, 50 / 150, 0.0]])


def test_match_detections_greedy_by_score() -> None:
    gt = np.array([[0, 0, 10, 10]])
    preds = np.array([[0, 0, 10, 9], [0, 0, 10, 10]])
    is_tp, matched = match_detections(preds, np.array([0.5, 0.9]), gt)
    # The higher-scoring box takes the ground truth; the other is a false positive (duplicate).
    assert is_tp.tolist() == [False, True] and matched.tolist() == [1]


def test_average_precision() -> None:
    assert average_precision(np.array([0.9, 0.8]), np.array([True, True]), 2) == pytest.approx(1.0)
    assert average_precision(np.array([0.9]), np.array([True]), 2) == pytest.approx(51 / 101)
    assert average_precision(np.array([]), np.array([]), 3) == 0.0


def test_detection_metrics_per_label() -> None:
    ims = [
        ImageDetections(
            np.array([[0, 0, 10, 10], [20, 20, 30, 30]]),
            np.array([0.9, 0.3]),
            np.array([0, 0]),
            np.array([[0, 0, 10, 10]]),
            np.array([0]),
        ),
        ImageDetections(
            np.array([[0, 0, 5, 5]]),
            np.array([0.8]),
            np.array([1]),
            np.array([[0, 0, 5, 5], [10, 10, 20, 20]]),
            np.array([1, 0]),
        ),
    ]
    lm = {m.label: m for m in detection_metrics(ims, ["a", "b"])}
    assert lm["a"].support == 2 and lm["a"].testing_images == 2
    assert lm["a"].threshold == pytest.approx(0.9)
    assert (lm["a"].precision, lm["a"].recall) == (1.0, 0.5)
    assert lm["b"].f1 == 1.0 and lm["b"].average_precision == pytest.approx(1.0)
    assert lm["b"].average_precision_5095 == pytest.approx(1.0)
    assert 0 < lm["a"].average_precision < 1
