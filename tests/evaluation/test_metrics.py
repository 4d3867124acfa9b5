"""Metric functions on small cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from coord_core.evaluation import metrics


def test_bcubed_hand_example() -> None:
    # true {a,b} {c,d}; predicted {a,b,c} {d}
    result = metrics.bcubed([0, 0, 1, 1], [5, 5, 5, 7])
    assert result.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert result.recall == pytest.approx((1 + 1 + 1 / 2 + 1 / 2) / 4)
    assert result.f1 == pytest.approx(12 / 17)


def test_bcubed_edges() -> None:
    perfect = metrics.bcubed(["x", "x", "y"], [1, 1, 2])
    assert (perfect.precision, perfect.recall, perfect.f1) == (1.0, 1.0, 1.0)
    singletons = metrics.bcubed([0, 0, 0, 0], [0, 1, 2, 3])  # nothing merged
    assert (singletons.precision, singletons.recall) == (1.0, 0.25)
    lumped = metrics.bcubed([0, 0, 1, 2], [9, 9, 9, 9])  # everything one cluster
    assert lumped.precision == pytest.approx((2 * 2 / 4 + 1 / 4 + 1 / 4) / 4)
    assert lumped.recall == 1.0
    empty = metrics.bcubed([], [])
    assert math.isnan(empty.f1)
    with pytest.raises(ValueError, match="aligned"):
        metrics.bcubed([0, 1], [0])


def test_cross_source_pairs_ignore_same_source_pairs() -> None:
    # sessions: a(ip1) b(ip1) c(ip2) d(ip3); true {a,b,c} {d}; predicted {a,b,c,d}
    true = [0, 0, 0, 1]
    pred = [0, 0, 0, 0]
    sources = ["ip1", "ip1", "ip2", "ip3"]
    result = metrics.cross_source_pairs(true, pred, sources)
    # cross-source predicted pairs: ac bc ad bd cd = 5; true cross pairs: ac bc = 2; both: ac bc
    assert result.precision == pytest.approx(2 / 5)
    assert result.recall == 1.0


def test_cross_source_pairs_edges() -> None:
    nothing_predicted = metrics.cross_source_pairs([0, 0], [0, 1], ["a", "b"])
    assert math.isnan(nothing_predicted.precision) and nothing_predicted.recall == 0.0
    nothing_to_find = metrics.cross_source_pairs([0, 1], [0, 0], ["a", "b"])
    assert nothing_to_find.precision == 0.0 and math.isnan(nothing_to_find.recall)
    same_ip_only = metrics.cross_source_pairs([0, 0], [0, 0], ["a", "a"])
    assert math.isnan(same_ip_only.precision) and math.isnan(same_ip_only.recall)


def test_false_merge_rate() -> None:
    # independent sessions 0..3; 0 merged with a session of another IP, 1 only with its own IP
    independent = [True, True, True, True, False]
    pred = [7, 8, 8, 9, 7]
    sources = ["a", "b", "b", "c", "d"]
    assert metrics.false_merge_rate(independent, pred, sources) == pytest.approx(1 / 4)
    assert metrics.false_merge_rate([True, True], [0, 1], ["a", "b"]) == 0.0
    assert math.isnan(metrics.false_merge_rate([False], [0], ["a"]))
    assert metrics.false_merge_rate([True, True, True], [0, 0, 0], ["a", "b", "c"]) == 1.0


def test_verdict_accuracy_counts_only_considered_sessions() -> None:
    truth = [0, 0, 2, 2, 2]
    predicted = [0, 1, 2, 0, 2]
    considered = [True, True, False, True, False]
    assert metrics.verdict_accuracy(truth, predicted, considered) == pytest.approx(1 / 3)
    assert math.isnan(metrics.verdict_accuracy([0], [0], [False]))


def test_expected_calibration_error_hand_example() -> None:
    confidence = [0.95, 0.95, 0.15, 0.15, 0.55]
    correct = [True, False, False, False, True]
    # bin 9: acc 0.5 conf 0.95 -> 2/5*0.45; bin 1: acc 0 conf 0.15 -> 2/5*0.15; bin 5: 1/5*0.45
    expected = 2 / 5 * 0.45 + 2 / 5 * 0.15 + 1 / 5 * 0.45
    assert metrics.expected_calibration_error(confidence, correct) == pytest.approx(expected)
    assert metrics.expected_calibration_error([1.0, 1.0], [True, True]) == 0.0  # 1.0 falls in the last bin
    assert metrics.expected_calibration_error([], []) == 0.0  # no campaigns: nothing claimed
    bins = metrics.reliability_bins(confidence, correct)
    assert [(b.low, b.count, b.accuracy) for b in bins] == [(0.1, 2, 0.0), (0.5, 1, 1.0), (0.9, 2, 0.5)]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        metrics.expected_calibration_error([1.2], [True])


def test_bcubed_over_a_subset_keeps_clusters_whole() -> None:
    true = [0, 0, 0, 0, 1]
    pred = [3, 3, 4, 5, 3]
    mask = np.array([True, True, True, True, False])
    subset = metrics.bcubed(true, pred, mask)
    assert subset.recall == pytest.approx((2 / 4 + 2 / 4 + 1 / 4 + 1 / 4) / 4)
    assert subset.precision == pytest.approx((2 / 3 + 2 / 3 + 1 + 1) / 4)  # session 4 still dilutes cluster 3
    assert math.isnan(metrics.bcubed(true, pred, [False] * 5).recall)
