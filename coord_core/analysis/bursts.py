"""Sources of one client fingerprint that start together, far denser than that fingerprint's own rate.

One scan statistic, two detectors: low-and-slow guessers that each try a few uncommon credentials
(``credentials.guess_bursts``: a credential-stuffing wave) and sources that connect and never log
in (:func:`scan_bursts`: a scanning wave). Within a fingerprint's stratum, independent sources
start spread over the window; a run far denser than the stratum's own rate is one schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from coord_core.analysis import features as fk
from coord_core.analysis.frame import SessionFrame
from coord_core.analysis.parameters import AnalysisParameters
from coord_core.analysis.tails import p_value_weight, poisson_logsf

GAP_FRACTION = 10.0  # a run is cut where a gap exceeds the stratum's mean gap over this


@dataclass(frozen=True)
class Burst:
    """A run of one stratum's sources starting within ``span_seconds``, ``expected`` at its rate."""

    sources: np.ndarray
    profile: tuple[int, ...]  # the stratum's client and HASSH features
    span_seconds: float
    expected: float
    p_value: float

    @property
    def weight(self) -> float:
        return p_value_weight(self.p_value)


def fingerprint_bursts(
    frame: SessionFrame, eligible: np.ndarray, min_sources: int, *, fingerprinted_only: bool = False
) -> list[Burst]:
    """Runs of ``eligible`` sources of one (client, HASSH) stratum denser than its own rate.

    Per stratum of ``n`` sources, first-seen times are cut where a gap exceeds a tenth of the
    stratum's mean gap; a run of k sources spanning s seconds is tested with the scan statistic's
    Poisson approximation: p ~ (T / s) * P(Poisson(n s / T) >= k) over the window's T seconds.
    With ``fingerprinted_only``, sources without a client fingerprint form no stratum.
    """
    if frame.n_sessions == 0:
        return []
    span_total = max(float(frame.end.max() - frame.start.min()), 1.0)
    key_cols, keyed = frame.kind_columns(fk.CLIENT, fk.HASSH)
    by_key: dict[tuple[int, ...], list[int]] = {}
    for src in np.flatnonzero(eligible):
        key = tuple(int(key_cols[c]) for c in keyed.indices[keyed.indptr[src] : keyed.indptr[src + 1]])
        if key or not fingerprinted_only:
            by_key.setdefault(key, []).append(int(src))
    out: list[Burst] = []
    for key in sorted(by_key):
        members = np.asarray(by_key[key], dtype=np.int64)
        n = len(members)
        if n < min_sources:
            continue
        order = np.argsort(frame.source_start[members], kind="stable")
        members = members[order]
        times = frame.source_start[members]
        cut = span_total / n / GAP_FRACTION
        breaks = np.flatnonzero(np.diff(times) > cut) + 1
        for run in np.split(np.arange(n), breaks):
            k = len(run)
            if k < min_sources:
                continue
            span = float(times[run[-1]] - times[run[0]]) + cut
            expected = n * span / span_total
            log_p = float(poisson_logsf(k - 1, expected)) + float(np.log(max(span_total / span, 1.0)))
            out.append(
                Burst(
                    sources=np.sort(members[run]),
                    profile=key,
                    span_seconds=round(span, 3),
                    expected=round(expected, 4),
                    p_value=float(np.exp(min(0.0, max(log_p, -690.0)))),
                )
            )
    return out


def connect_only(frame: SessionFrame) -> np.ndarray:
    """Sources that connected and never logged in, ran a command or left an artefact (scanners)."""
    found: np.ndarray = (
        (frame.source_attempts == 0) & (frame.source_commands == 0) & ~frame.left_toolkit_artefact()
    )
    return found


def uncommon_elsewhere(frame: SessionFrame, burst: Burst) -> bool:
    """Whether the rest of the window hardly uses the burst's fingerprint: one of its values weighs
    the tooling cap in pair likeness (METHODOLOGY 2.4) counted over the sources outside the burst.

    A wave makes its own client common; independent users of the commonest build who happen to
    connect in one minute are a collision, not a wave (the commonest tooling never links)."""
    k = len(burst.sources)
    others = max(frame.n_sources - k, 1)
    for feature in burst.profile:
        spec = fk.KINDS[int(frame.feature_kind[feature])]
        share = max(float(frame.feature_sources[feature]) - k, 0.0) / others
        if spec.rarity_weight(share) >= spec.cap:
            return True
    return False


def scan_bursts(frame: SessionFrame, params: AnalysisParameters) -> list[Burst]:
    """Scanning waves: connect-only sources of one uncommon client fingerprint starting in one burst.

    A fingerprint is required: without one, a burst would rest on timing alone.
    """
    bursts = fingerprint_bursts(
        frame, connect_only(frame), params.dictionary_min_sources, fingerprinted_only=True
    )
    return [b for b in bursts if uncommon_elsewhere(frame, b)]
