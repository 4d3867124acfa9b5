"""Timing of a group of sources against a null model, and how its sources take turns.

Synchronisation: are the group's first-seen times closer together than the same number of
sources' first-seen times drawn at random from the window (a permutation of start times among
sources)? Two statistics — the spread (interquartile range) and the median gap between
neighbours (which also catches waves) — each with a Monte Carlo p-value, combined by Bonferroni.
Turn-taking: how much the sources' active spans overlap (an operator rotating addresses uses
one at a time; a botnet's members act in parallel), and pauses that split activity into waves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np

MIN_SOURCES_FOR_TEST = 3


class TemporalStatistic(TypedDict):
    """The timing test as evidence and the workflow state show it."""

    sources: int
    span_seconds: float
    p_value: float
    p_spread: float
    p_clumping: float
    overlap_fraction: float
    max_concurrency: int
    waves: int
    longest_pause_seconds: float
    sequential: bool


@dataclass(frozen=True)
class TemporalStats:
    sources: int
    span_seconds: float
    p_sync: float  # small: synchronised beyond chance
    p_spread: float
    p_clumping: float
    overlap_fraction: float  # share of source pairs whose active spans overlap
    max_concurrency: int
    waves: int  # activity bursts separated by pauses longer than the window's typical gap
    longest_pause_seconds: float
    sequential: bool

    def as_statistic(self) -> TemporalStatistic:
        return {
            "sources": self.sources,
            "span_seconds": round(self.span_seconds, 3),
            "p_value": round(self.p_sync, 6),
            "p_spread": round(self.p_spread, 6),
            "p_clumping": round(self.p_clumping, 6),
            "overlap_fraction": round(self.overlap_fraction, 4),
            "max_concurrency": self.max_concurrency,
            "waves": self.waves,
            "longest_pause_seconds": round(self.longest_pause_seconds, 3),
            "sequential": self.sequential,
        }


def _iqr(x: np.ndarray, axis: int = 0) -> np.ndarray:
    q75, q25 = np.percentile(x, [75, 25], axis=axis)
    return np.asarray(q75 - q25)


def _median_gap(sorted_x: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.asarray(np.median(np.diff(sorted_x, axis=axis), axis=axis))


def synchronisation(
    group_starts: np.ndarray, window_starts: np.ndarray, rng: np.random.Generator, permutations: int, cap: int
) -> tuple[float, float, float]:
    """(combined p, p of spread, p of clumping) of the group's start times against the window's."""
    k = len(group_starts)
    if k < MIN_SOURCES_FOR_TEST or len(window_starts) <= k:
        return 1.0, 1.0, 1.0
    if k > cap:
        group_starts = np.sort(rng.choice(group_starts, size=cap, replace=False))
        k = cap
    observed = np.sort(group_starts)
    obs_spread = float(_iqr(observed))
    obs_gap = float(_median_gap(observed))
    n = len(window_starts)
    if 5 * k > n:
        # A group that is a large share of the window: exact permutations (each column is k
        # start times drawn without replacement).
        picks = np.argsort(rng.random((n, permutations)), axis=0)[:k]
    else:
        # k << n: drawing with replacement differs negligibly from a permutation.
        picks = rng.integers(0, n, size=(k, permutations))
    draws = np.sort(window_starts[picks], axis=0)
    null_spread = _iqr(draws, axis=0)
    null_gap = _median_gap(draws, axis=0)
    p_spread = (1.0 + float(np.sum(null_spread <= obs_spread))) / (permutations + 1.0)
    p_gap = (1.0 + float(np.sum(null_gap <= obs_gap))) / (permutations + 1.0)
    return min(1.0, 2.0 * min(p_spread, p_gap)), p_spread, p_gap


def turn_taking(starts: np.ndarray, ends: np.ndarray) -> tuple[float, int]:
    """(share of source pairs with overlapping active spans, most sources active at once)."""
    k = len(starts)
    if k < 2:
        return 0.0, k
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    # pairs (i<j) with s_j <= e_i: for each i, count j>i with s_j <= e_i
    reach = np.searchsorted(s, e, side="right")
    overlapping = np.maximum(reach - np.arange(1, k + 1), 0).sum()
    events = np.concatenate([np.stack([s, np.ones(k)], 1), np.stack([e, -np.ones(k)], 1)])
    events = events[np.lexsort((-events[:, 1], events[:, 0]))]
    concurrency = int(np.max(np.cumsum(events[:, 1])))
    return float(overlapping) / (k * (k - 1) / 2), concurrency


def waves(starts: np.ndarray, ends: np.ndarray, window_span: float) -> tuple[int, float]:
    """Bursts of activity separated by pauses longer than a tenth of the window (at least 10 min)."""
    if len(starts) == 0:
        return 0, 0.0
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], ends[order]
    reach = np.maximum.accumulate(e)
    pauses = s[1:] - reach[:-1]
    if len(pauses) == 0:
        return 1, 0.0
    limit = max(600.0, window_span / 10.0)
    return 1 + int(np.sum(pauses > limit)), float(max(0.0, pauses.max()))


def temporal_stats(
    starts: np.ndarray,
    ends: np.ndarray,
    *,
    window_starts: np.ndarray,
    window_span: float,
    rng: np.random.Generator,
    permutations: int,
    cap: int,
) -> TemporalStats:
    p, p_spread, p_clump = synchronisation(starts, window_starts, rng, permutations, cap)
    overlap, concurrency = turn_taking(starts, ends)
    n_waves, pause = waves(starts, ends, window_span)
    return TemporalStats(
        sources=len(starts),
        span_seconds=float(ends.max() - starts.min()) if len(starts) else 0.0,
        p_sync=p,
        p_spread=p_spread,
        p_clumping=p_clump,
        overlap_fraction=overlap,
        max_concurrency=concurrency,
        waves=n_waves,
        longest_pause_seconds=pause,
        sequential=concurrency <= 1,
    )
