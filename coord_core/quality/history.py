"""Run summaries: the counts of one validated interval, and reading earlier ones back for trends.

A summary is plain JSON stored in ``dq_reports.summary``; it depends only on the interval's own
input (baselines come from the source profile, see ``drift``), so storing it is order-free.
Earlier summaries are read back only for presentation (the report's trend, rendered when a
report is viewed), never for a verdict.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coord_core.contracts.events import KNOWN_EVENT_IDS, LoginAttempt, parse_timestamp
from coord_core.contracts.sessions import AttackSession
from coord_core.quality.frames import hours_between
from coord_core.store.staged_validation import SessionRow

log = logging.getLogger(__name__)

SUMMARY_VERSION = 1
LOGIN_EVENT_IDS = frozenset(LoginAttempt.EVENT_IDS)


@dataclass(frozen=True)
class PastRun:
    """The part of an earlier run's summary that the report's trend shows."""

    interval_start: datetime
    interval_end: datetime
    gate_passed: bool
    events: int
    sessions: int
    login_events: int
    quarantined: int
    sessions_by_sensor: dict[str, int]
    gate_outcome: str = ""

    @property
    def hours(self) -> float:
        return hours_between(self.interval_start, self.interval_end)

    @property
    def label(self) -> str:
        return f"{self.interval_start.isoformat()} – {self.interval_end.isoformat()}"

    @property
    def events_per_hour(self) -> float:
        return self.events / self.hours

    @property
    def sessions_per_hour(self) -> float:
        return self.sessions / self.hours


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
                    gate_outcome=str(
                        entry.get("gate_outcome")
                        or ("passed" if entry.get("gate_passed", True) else "failed")
                    ),
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
    cowrie_sessions: int
    cowrie_sessions_by_sensor: dict[str, int]
    distinct_src_ips: int


class IntervalTally:
    """The interval's counts taken as events and sessions stream by: counters, not the rows."""

    def __init__(self) -> None:
        self.events = 0
        self.sessions = 0
        self.by_id: Counter[str] = Counter()
        self.events_by_sensor: Counter[str] = Counter()
        self.sessions_by_sensor: Counter[str] = Counter()
        self.cowrie: Counter[str] = Counter()
        self.src_ips: set[str] = set()

    def add_event(self, eventid: str, sensor: str, src_ip: str) -> None:
        self.events += 1
        self.by_id[eventid] += 1
        self.events_by_sensor[sensor] += 1
        self.src_ips.add(src_ip)

    def add_session(self, session: AttackSession | SessionRow) -> None:
        self.sessions += 1
        self.sessions_by_sensor[session.sensor] += 1
        if session.kind == "cowrie":
            self.cowrie[session.sensor] += 1

    def counts(self, records_read: int, parse_errors: int) -> IntervalCounts:
        by_id = self.by_id
        return IntervalCounts(
            records_read=records_read,
            parse_errors=parse_errors,
            events=self.events,
            sessions=self.sessions,
            login_events=sum(by_id[i] for i in LOGIN_EVENT_IDS),
            login_success=by_id["cowrie.login.success"],
            command_events=by_id["cowrie.command.input"] + by_id["cowrie.command.failed"],
            download_events=by_id["cowrie.session.file_download"]
            + by_id["cowrie.session.file_download.failed"],
            events_by_eventid=dict(sorted(by_id.items())),
            events_by_sensor=dict(sorted(self.events_by_sensor.items())),
            sessions_by_sensor=dict(sorted(self.sessions_by_sensor.items())),
            cowrie_sessions=sum(self.cowrie.values()),
            cowrie_sessions_by_sensor=dict(sorted(self.cowrie.items())),
            distinct_src_ips=len(self.src_ips),
        )


def build_summary(
    *,
    window_start: datetime,
    window_end: datetime,
    counts: IntervalCounts,
    gate_passed: bool,
    valid_events: int,
    gate_outcome: str | None = None,
    quarantined_validate: int,
    sessions_quarantined: int,
    quarantine_by_reason: Mapping[str, int],
    critical_failures: Sequence[str],
    warnings: Sequence[str],
    baseline: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON stored in ``dq_reports.summary``: deterministic, and the history of later runs."""
    unknown = {k: v for k, v in counts.events_by_eventid.items() if k not in KNOWN_EVENT_IDS}
    return {
        "summary_version": SUMMARY_VERSION,
        "interval_start": window_start.isoformat(),
        "interval_end": window_end.isoformat(),
        "hours": round(hours_between(window_start, window_end), 6),
        "gate_passed": gate_passed,
        "gate_outcome": gate_outcome or ("passed" if gate_passed else "failed"),
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
        "cowrie_sessions": counts.cowrie_sessions,
        "cowrie_sessions_by_sensor": counts.cowrie_sessions_by_sensor,
        "login_events": counts.login_events,
        "login_success": counts.login_success,
        "command_events": counts.command_events,
        "download_events": counts.download_events,
        "distinct_src_ips": counts.distinct_src_ips,
        "critical_failures": sorted(critical_failures),
        "warnings": sorted(warnings),
        "baseline": dict(baseline or {}),
    }
