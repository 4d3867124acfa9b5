"""Drift rows: this interval's hourly rates against the median hourly rates of its source profile.

The baseline is made of the profile's hours that held events (an hour without any is no data,
so a feed that was down does not become the new normal); it judges only with at least
``min_hours`` such hours. A sensor absent from an hour counts as 0 there. Sessions compared are
Cowrie sessions on both sides (firewall and web records are events, not sessions).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from coord_core.contracts.source_profile import ProfileHour, SourceProfile
from coord_core.quality.frames import SensorRow, VolumeRow
from coord_core.quality.history import IntervalCounts


@dataclass(frozen=True)
class Baseline:
    """The hours of the profile the baseline is made of, and whether there are enough to judge."""

    hours: tuple[ProfileHour, ...]
    enough: bool
    lookback_start: datetime | None = None
    lookback_end: datetime | None = None
    source_kind: str | None = None

    def rate(self, count_of: Callable[[ProfileHour], int]) -> float | None:
        """Median per-hour count, or ``None`` when there are too few hours to judge."""
        if not self.enough or not self.hours:
            return None
        return float(statistics.median(count_of(h) for h in self.hours))

    def sensor_rate(self, sensor: str) -> float | None:
        return self.rate(lambda h: s.sessions if (s := h.sensors.get(sensor)) else 0)

    @property
    def sensors(self) -> list[str]:
        return sorted({name for h in self.hours for name in h.sensors})


def baseline_of(profile: SourceProfile | None, min_hours: int) -> tuple[Baseline, list[str]]:
    """The baseline of a profile and notes on why drift checks cannot judge, if they cannot."""
    if profile is None:
        note = "drift checks not judged: no source profile for this interval (lookback off, or not extracted)"
        return Baseline((), False), [note]
    usable = tuple(sorted((h for h in profile.hours if h.events > 0), key=lambda h: h.start))
    baseline = Baseline(
        usable, len(usable) >= min_hours, profile.lookback_start, profile.lookback_end, profile.source_kind
    )
    notes = list(profile.notes)
    if not baseline.enough:
        notes.append(
            f"drift checks not judged: {len(usable)} hour(s) with events in the "
            f"{profile.lookback_hours} h before the interval, {min_hours} needed"
        )
    return baseline, notes


def volume_row(counts: IntervalCounts, hours: float, baseline: Baseline) -> VolumeRow:
    return VolumeRow(
        events_per_hour=counts.events / hours,
        events_baseline_per_hour=baseline.rate(lambda h: h.events),
        sessions_per_hour=counts.cowrie_sessions / hours,
        sessions_baseline_per_hour=baseline.rate(lambda h: h.sessions),
        login_events_per_hour=counts.login_events / hours,
        login_events_baseline_per_hour=baseline.rate(lambda h: h.login_events),
        parse_error_fraction=(counts.parse_errors / counts.records_read) if counts.records_read else None,
        baseline_hours=len(baseline.hours),
    )


def sensor_rows(
    counts: IntervalCounts, hours: float, baseline: Baseline, min_baseline_per_hour: float
) -> list[SensorRow]:
    """One row per sensor seen now or in the baseline."""
    now = counts.cowrie_sessions_by_sensor
    rows = []
    for name in sorted(set(now) | set(baseline.sensors)):
        base = baseline.sensor_rate(name)
        rows.append(
            SensorRow(
                sensor=name,
                sessions_per_hour=now.get(name, 0) / hours,
                baseline_sessions_per_hour=base,
                judged=base is not None and base >= min_baseline_per_hour,
            )
        )
    return rows
