"""Spike detection on a daily count series with two stated baselines over the previous days.

- ``median_iqr``: the day is above median + k·IQR of the previous ``window_days`` days (k = 2).
- ``mean_sigma``: the day is above mean + k·sigma (population standard deviation) of the previous
  ``window_days`` days (k = 2).

A day is judged only when at least ``min_history_days`` earlier days exist (a new campaign has no
baseline) and its count is at least ``min_count`` (a jump from 0 to 1 is not a spike).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MEDIAN_IQR = "median_iqr"
MEAN_SIGMA = "mean_sigma"
METHODS = (MEDIAN_IQR, MEAN_SIGMA)


@dataclass(frozen=True)
class SpikeParameters:
    window_days: int = 28
    iqr_k: float = 2.0
    sigma_k: float = 2.0
    min_history_days: int = 7
    min_count: float = 3.0


DEFAULT_SPIKES = SpikeParameters()


@dataclass(frozen=True)
class Spike:
    index: int
    method: str
    value: float
    baseline: float
    threshold: float


def median_iqr_threshold(history: Sequence[float], k: float) -> tuple[float, float]:
    """(median, median + k·IQR) of ``history``: the robust baseline both spike detectors use."""
    q1, median, q3 = np.percentile(np.asarray(history, dtype=float), [25, 50, 75])
    return float(median), float(median + k * (q3 - q1))


def baseline(history: Sequence[float], method: str, params: SpikeParameters) -> tuple[float, float]:
    """(centre, threshold) of the method over ``history`` (the previous days, oldest first)."""
    if method == MEDIAN_IQR:
        return median_iqr_threshold(history, params.iqr_k)
    values = np.asarray(history, dtype=float)
    if method == MEAN_SIGMA:
        mean = float(values.mean())
        return mean, float(mean + params.sigma_k * values.std())
    raise ValueError(f"unknown spike method {method!r}; known: {', '.join(METHODS)}")


def spikes_at(series: Sequence[float], index: int, params: SpikeParameters) -> list[Spike]:
    """The methods that call day ``index`` of ``series`` a spike (none without enough history)."""
    history = series[max(0, index - params.window_days) : index]
    value = float(series[index])
    if len(history) < params.min_history_days or value < params.min_count:
        return []
    found = []
    for method in METHODS:
        centre, threshold = baseline(history, method, params)
        if value > threshold:
            found.append(Spike(index, method, value, round(centre, 6), round(threshold, 6)))
    return found


def detect_spikes(series: Sequence[float], params: SpikeParameters) -> list[Spike]:
    """Every spike in the series, day by day, each day judged against only the days before it."""
    return [spike for index in range(len(series)) for spike in spikes_at(series, index, params)]
