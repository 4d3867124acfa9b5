"""Shared inputs for the data-quality tests: the real sample, the corpus, the interval they cover."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from coord_core.contracts.events import parse_event
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.source_profile import ProfileHour, SensorHour, SourceProfile
from coord_core.ingest.cowrie_files import read_file
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.sessionize import in_window, sessionize
from coord_core.quality.outcome import QualityOutcome
from coord_core.store.results import RunRecord

REPO = Path(__file__).resolve().parents[2]
REAL_SAMPLE = REPO / "include" / "sample_data" / "tpot-cowrie-2025-10-24.json"
CORPUS = Path(__file__).resolve().parent / "corpus"
START = datetime(2025, 10, 24, tzinfo=UTC)
END = START + timedelta(days=1)


def sample_run(dag_id: str, run_id: str) -> RunRecord:
    """The run record of a first try over the bundled real sample file."""
    return RunRecord(
        dag_id=dag_id,
        run_id=run_id,
        try_number=1,
        source_kind="files",
        source_locations=[str(REAL_SAMPLE)],
        source_query=None,
        code_version="test",
        parameters={},
    )


def expected_corpus() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
    return data


def read(path: Path) -> list[ReadRecord]:
    return list(read_file(path))


def sessions_of(records: Sequence[ReadRecord]) -> list[AttackSession]:
    return sessionize([r.event for r in records if r.event is not None])


def valid_records(records: Sequence[ReadRecord], outcome: QualityOutcome) -> list[ReadRecord]:
    """The parsed records an in-memory validation left valid (its outcome lists only the quarantine)."""
    quarantined = {e.ref for e in outcome.quarantine}
    return [r for r in records if r.event is not None and r.ref not in quarantined]


def owned_sessions(records: Sequence[ReadRecord], start: datetime, end: datetime) -> list[AttackSession]:
    return [s for s in sessions_of(records) if in_window(s, start, end)]


def summary_entry(
    start: datetime,
    hours: float,
    *,
    events: int,
    sessions_by_sensor: dict[str, int],
    login_events: int,
    gate_passed: bool = True,
) -> dict[str, Any]:
    """An earlier run's summary as the store hands it back (only the fields baselines read)."""
    end = start + timedelta(hours=hours)
    return {
        "interval_start": start.isoformat(),
        "interval_end": end.isoformat(),
        "gate_passed": gate_passed,
        "events": events,
        "sessions": sum(sessions_by_sensor.values()),
        "sessions_by_sensor": sessions_by_sensor,
        "login_events": login_events,
        "quarantined": {"parse": 0, "validate": 0},
    }


def steady_profile(
    interval_start: datetime,
    hours: int,
    *,
    events: int,
    sessions_by_sensor: dict[str, int],
    login_events: int,
    lookback_hours: int = 24,
) -> SourceProfile:
    """A source profile whose last ``hours`` hours before the interval each held these counts
    (per hour); the hours before them held nothing (no data)."""
    start = interval_start - timedelta(hours=lookback_hours)
    sensors = sorted(sessions_by_sensor)
    total = sum(sessions_by_sensor.values()) or 1
    per_hour = [
        ProfileHour(
            start=interval_start - timedelta(hours=h + 1),
            sensors={
                name: SensorHour(
                    events=round(events * sessions_by_sensor[name] / total),
                    sessions=sessions_by_sensor[name],
                    login_events=round(login_events * sessions_by_sensor[name] / total),
                )
                for name in sensors
            },
            parse_errors=0,
        )
        for h in range(hours)
    ]
    return SourceProfile("files", start, interval_start, tuple(sorted(per_hour, key=lambda h: h.start)))


# Markup, terminal escapes and a bidi override: what the report must show escaped.
HOSTILE = "<img src=x onerror=alert(1)>\x1b[2J\u202e"


def hostile_records() -> list[ReadRecord]:
    base = {
        "timestamp": "2025-10-24T05:00:00Z",
        "session": "h0stile00001",
        "src_ip": "45.155.205.99",
        "sensor": f"s<{HOSTILE}>",
    }
    docs = [
        {**base, "eventid": "cowrie.session.connect", "src_port": 0, "dst_ip": "10.0.0.1", "dst_port": 22},
        {**base, "eventid": "cowrie.login.failed", "username": HOSTILE * 40, "password": HOSTILE},
        {**base, "eventid": f"cowrie.{HOSTILE}"},
    ]
    records = []
    for i, doc in enumerate(docs):
        raw = json.dumps(doc)
        event = parse_event(doc)
        records.append(ReadRecord(ref=f"{HOSTILE}:{i}", raw=raw, time=event.timestamp, event=event))
    return records
