"""Run summaries (what the next runs compare against) and baselines computed from earlier summaries.

A summary is plain JSON stored in ``dq_reports.summary``; the integrator hands earlier ones back
as ``history`` (newest first, as ``ResultsStore.data_quality_history`` returns them). Rates are
per hour so hourly runs and daily backfills compare fairly; runs whose gate failed are not part
of a baseline, so one broken hour does not become the new normal.
"""

from __future__ import annotations

import logging
import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coord_core.contracts.events import KNOWN_EVENT_IDS, CowrieEvent, LoginAttempt, parse_timestamp
from coord_core.contracts.sessions import AttackSession
from coord_core.quality.frames import SensorRow, VolumeRow, hours_between

log = logging.getLogger(__name__)

SUMMARY_VERSION = 1
LOGIN_EVENT_IDS = frozenset(LoginAttempt.EVENT_IDS)


@dataclass(frozen=True)
class PastRun:
    """The part of an earlier run's summary that baselines use."""

    interval_start: datetime
    interval_end: datetime
    gate_passed: bool
    events: int
    sessions: int
    login_events: int
    quarantined: int
    sessions_by_sensor: dict[str, int]

    @property
    def hours(self) -> float:
        return hours_between(self.interval_start, self.interval_end)


def parse_history(history: Sequence[Mapping[str, Any]]) -> tuple[list[PastRun], list[str]]:
    """Readable earlier runs, newest first, and a note for each entry that could not be read."""
    runs: list[PastRun] = []
    notes: list[str] = []
    for position, entry in enumerate(history):
        try:
            quarantined = entry.get("quarantined", {})
            runs.append(
                PastRun(
                    interval_start=parse_timestamp(entry.get("interval_start", entry.get("window_start"))),
                    interval_end=parse_timestamp(entry.get("interval_end", entry.get("window_end"))),
                    gate_passed=bool(entry.get("gate_passed", True)),
                    events=int(entry["events"]),
                    sessions=int(entry["sessions"]),
                    login_events=int(entry.get("login_events", 0)),
                    quarantined=int(sum(int(v) for v in quarantined.values()))
                    if isinstance(quarantined, Mapping)
                    else 0,
                    sessions_by_sensor={
                        str(k): int(v) for k, v in dict(entry.get("sessions_by_sensor", {})).items()
                    },
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            note = f"history entry {position} ignored: not a run summary ({type(exc).__name__}: {exc})"
            log.warning(note)
            notes.append(note[:300])
    runs.sort(key=lambda r: (r.interval_start, r.interval_end), reverse=True)
    return runs, notes


def _median_rate(runs: Sequence[PastRun], count_of: Any) -> float | None:
    if not runs:
        return None
    return float(statistics.median(count_of(r) / r.hours for r in runs))


@dataclass(frozen=True)
class Baseline:
    runs: tuple[PastRun, ...]  # the gate-passed runs the baseline is made of
    enough: bool

    def rate(self, count_of: Any) -> float | None:
        return _median_rate(self.runs, count_of) if self.enough else None


def baseline_of(runs: Sequence[PastRun], min_runs: int) -> Baseline:
    usable = tuple(r for r in runs if r.gate_passed)
    return Baseline(usable, len(usable) >= min_runs)


@dataclass(frozen=True)
class IntervalCounts:
    """Counts of what arrived in the interval, the raw material of summaries and drift rows."""

    records_read: int
    parse_errors: int
    events: int
    sessions: int
    login_events: int
    login_success: int
    command_events: int
    download_events: int
    events_by_eventid: dict[str, int]
    events_by_sensor: dict[str, int]
    sessions_by_sensor: dict[str, int]
    distinct_src_ips: int


def count_interval(
    events: Sequence[CowrieEvent], sessions: Sequence[AttackSession], records_read: int, parse_errors: int
) -> IntervalCounts:
    by_id = Counter(e.eventid for e in events)
    return IntervalCounts(
        records_read=records_read,
        parse_errors=parse_errors,
        events=len(events),
        sessions=len(sessions),
        login_events=sum(by_id[i] for i in LOGIN_EVENT_IDS),
        login_success=by_id["cowrie.login.success"],
        command_events=by_id["cowrie.command.input"] + by_id["cowrie.command.failed"],
        download_events=by_id["cowrie.session.file_download"] + by_id["cowrie.session.file_download.failed"],
        events_by_eventid=dict(sorted(by_id.items())),
        events_by_sensor=dict(sorted(Counter(e.sensor for e in events).items())),
        sessions_by_sensor=dict(sorted(Counter(s.sensor for s in sessions).items())),
        distinct_src_ips=len({e.src_ip for e in events}),
    )


def volume_row(counts: IntervalCounts, hours: float, baseline: Baseline) -> VolumeRow:
    return VolumeRow(
        events_per_hour=counts.events / hours,
        events_baseline_per_hour=baseline.rate(lambda r: r.events),
        sessions_per_hour=counts.sessions / hours,
        sessions_baseline_per_hour=baseline.rate(lambda r: r.sessions),
        login_events_per_hour=counts.login_events / hours,
        login_events_baseline_per_hour=baseline.rate(lambda r: r.login_events),
        parse_error_fraction=(counts.parse_errors / counts.records_read) if counts.records_read else None,
        history_runs=len(baseline.runs),
    )


def sensor_rows(
    counts: IntervalCounts, hours: float, baseline: Baseline, min_baseline_per_hour: float
) -> list[SensorRow]:
    """One row per sensor seen now or in the baseline; a sensor absent from a run counts as 0 there."""
    names = sorted(set(counts.sessions_by_sensor) | {s for r in baseline.runs for s in r.sessions_by_sensor})
    rows = []
    for name in names:
        base = baseline.rate(lambda r, n=name: r.sessions_by_sensor.get(n, 0))
        rows.append(
            SensorRow(
                sensor=name,
                sessions_per_hour=counts.sessions_by_sensor.get(name, 0) / hours,
                baseline_sessions_per_hour=base,
                judged=base is not None and base >= min_baseline_per_hour,
            )
        )
    return rows


def build_summary(
    *,
    window_start: datetime,
    window_end: datetime,
    counts: IntervalCounts,
    gate_passed: bool,
    valid_events: int,
    quarantined_validate: int,
    sessions_quarantined: int,
    quarantine_by_reason: Mapping[str, int],
    critical_failures: Sequence[str],
    warnings: Sequence[str],
) -> dict[str, Any]:
    """The JSON stored in ``dq_reports.summary``: deterministic, and the history of later runs."""
    unknown = {k: v for k, v in counts.events_by_eventid.items() if k not in KNOWN_EVENT_IDS}
    return {
        "summary_version": SUMMARY_VERSION,
        "interval_start": window_start.isoformat(),
        "interval_end": window_end.isoformat(),
        "hours": round(hours_between(window_start, window_end), 6),
        "gate_passed": gate_passed,
        "records_read": counts.records_read,
        "events": counts.events,
        "events_valid": valid_events,
        "quarantined": {"parse": counts.parse_errors, "validate": quarantined_validate},
        "quarantine_by_reason": dict(sorted(quarantine_by_reason.items())),
        "events_by_eventid": counts.events_by_eventid,
        "unknown_event_ids": dict(sorted(unknown.items())),
        "events_by_sensor": counts.events_by_sensor,
        "sessions": counts.sessions,
        "sessions_quarantined": sessions_quarantined,
        "sessions_by_sensor": counts.sessions_by_sensor,
        "login_events": counts.login_events,
        "login_success": counts.login_success,
        "command_events": counts.command_events,
        "download_events": counts.download_events,
        "distinct_src_ips": counts.distinct_src_ips,
        "critical_failures": sorted(critical_failures),
        "warnings": sorted(warnings),
    }
