"""Clustering and calibration metrics over per-session label arrays (scikit-learn style).

Every function takes aligned 1-D arrays, one entry per session: cluster labels (any integers;
equal label = same cluster), source codes (equal code = same source IP), masks. A ratio whose
denominator is empty is ``nan`` ("not applicable"), never a made-up 0 or 1.

Definitions (DESIGN.md "Ground truth and metrics"):

* **B-cubed** precision of session *i* is |C(i) ∩ L(i)| / |C(i)| and recall |C(i) ∩ L(i)| / |L(i)|,
  with C the predicted and L the true cluster; both are averaged over sessions, F1 is their
  harmonic mean.
* **Cross-source pair** precision/recall count only pairs of sessions from *different* source
  IPs: a predicted positive is such a pair in one predicted cluster, a true positive one that is
  also in one true cluster. Same-source pairs are excluded: they are trivially linkable.
* **False-merge rate**: of the truly independent sessions, the fraction whose predicted cluster
  also holds a session from another source IP.
* **Verdict accuracy**: over the sessions that are in a true multi-source campaign *or* in a
  predicted (non-coincidental) campaign, the fraction whose predicted verdict equals the true one.
  Restricting to that union keeps the mass of correctly ignored background from inflating it,
  while wrong campaigns built from background still count against it.
* **Expected calibration error**: predictions are binned by confidence into ``n_bins`` equal-width
  bins on [0, 1]; ECE = sum over bins of (bin size / total) x |accuracy in bin - mean confidence in
  bin|. What a prediction's "correct" means is decided by the caller (see
  :mod:`coord_core.evaluation.labels`). No predictions means nothing was claimed: ECE 0.
* **B-cubed over a subset** (``mask``): per-session B-cubed averaged over some sessions only,
  clusters kept whole. Over the sessions of the distributed-brute-force actor its recall is the
  stealthy brute-force recall; over the verdict-accuracy union (true or predicted campaign
  sessions) it is B-cubed without the mass of correctly ignored background, which otherwise
  lifts B-cubed F1 close to 1 whatever happens to the campaigns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

NAN = float("nan")


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _as_labels(values: ArrayLike) -> NDArray[np.int64]:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError("labels must be one-dimensional")
    _, dense = np.unique(array, return_inverse=True)
    return np.asarray(dense, dtype=np.int64).reshape(-1)


def _joint(*columns: NDArray[np.int64]) -> NDArray[np.int64]:
    """Dense codes of the tuple of labels per session (sessions equal in every column share one)."""
    code = columns[0]
    for column in columns[1:]:
        combined = code * (int(column.max(initial=0)) + 1) + column
        code = _as_labels(combined)
    return code


def _pair_count(codes: NDArray[np.int64]) -> int:
    sizes = np.bincount(codes).astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else NAN


def _f1(precision: float, recall: float) -> float:
    if np.isnan(precision) or np.isnan(recall):
        return NAN
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _check_aligned(*arrays: NDArray[np.generic]) -> int:
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"arrays are not aligned: lengths {sorted(lengths)}")
    return lengths.pop()


def bcubed(labels_true: ArrayLike, labels_pred: ArrayLike, mask: ArrayLike | None = None) -> PRF:
    """B-cubed over all sessions, or averaged over the ``mask``-ed ones only (clusters stay whole)."""
    true = _as_labels(labels_true)
    pred = _as_labels(labels_pred)
    n = _check_aligned(true, pred)
    subset = np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    _check_aligned(true, subset)
    if not subset.any():
        return PRF(NAN, NAN, NAN)
    cell = _joint(true, pred)
    overlap = np.bincount(cell)[cell]
    precision = float(np.mean((overlap / np.bincount(pred)[pred])[subset]))
    recall = float(np.mean((overlap / np.bincount(true)[true])[subset]))
    return PRF(precision, recall, _f1(precision, recall))


def cross_source_pairs(labels_true: ArrayLike, labels_pred: ArrayLike, sources: ArrayLike) -> PRF:
    true = _as_labels(labels_true)
    pred = _as_labels(labels_pred)
    source = _as_labels(sources)
    _check_aligned(true, pred, source)
    if len(true) == 0:
        return PRF(NAN, NAN, NAN)

    def cross(*grouping: NDArray[np.int64]) -> int:
        return _pair_count(_joint(*grouping)) - _pair_count(_joint(*grouping, source))

    predicted = cross(pred)
    actual = cross(true)
    hits = cross(true, pred)
    precision = _ratio(hits, predicted)
    recall = _ratio(hits, actual)
    return PRF(precision, recall, _f1(precision, recall))


def false_merge_rate(truly_independent: ArrayLike, labels_pred: ArrayLike, sources: ArrayLike) -> float:
    independent = np.asarray(truly_independent, dtype=bool)
    pred = _as_labels(labels_pred)
    source = _as_labels(sources)
    _check_aligned(independent, pred, source)
    if not independent.any():
        return NAN
    pred_source = _joint(pred, source)
    first = np.unique(pred_source, return_index=True)[1]
    distinct_sources = np.bincount(pred[first], minlength=int(pred.max(initial=0)) + 1)
    merged = distinct_sources[pred] >= 2
    return float(merged[independent].mean())


def verdict_accuracy(verdict_true: ArrayLike, verdict_pred: ArrayLike, considered: ArrayLike) -> float:
    truth = np.asarray(verdict_true)
    predicted = np.asarray(verdict_pred)
    mask = np.asarray(considered, dtype=bool)
    _check_aligned(truth, predicted, mask)
    if not mask.any():
        return NAN
    return float((truth[mask] == predicted[mask]).mean())


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


def reliability_bins(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> list[ReliabilityBin]:
    """The non-empty bins behind :func:`expected_calibration_error` (a reliability diagram)."""
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=bool)
    _check_aligned(conf, hit)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    return [
        ReliabilityBin(
            low=b / n_bins,
            high=(b + 1) / n_bins,
            count=int((bins == b).sum()),
            mean_confidence=float(conf[bins == b].mean()),
            accuracy=float(hit[bins == b].mean()),
        )
        for b in np.unique(bins)
    ]


def expected_calibration_error(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> float:
    conf = np.asarray(confidence, dtype=float)
    hit = np.asarray(correct, dtype=bool)
    _check_aligned(conf, hit)
    if n_bins < 1:
        raise ValueError("n_bins must be at least 1")
    if np.any((conf < 0) | (conf > 1)):
        raise ValueError("confidence values must lie in [0, 1]")
    if len(conf) == 0:
        return 0.0
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    total = 0.0
    for b in np.unique(bins):
        members = bins == b
        total += members.sum() / len(conf) * abs(hit[members].mean() - conf[members].mean())
    return float(total)
