"""pandas frames the suites validate: one row per event, per session, per interval, per sensor.

Frames carry derived columns (string lengths, address scope, copy ordinals) rather than
attacker strings, so validating them never evaluates or copies a large value; row ``i`` of the
events frame is ``records[i]``, which is how failing rows find their way back to quarantine.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import pandas as pd

from coord_core.contracts import events as ev
from coord_core.contracts.sessions import AttackSession
from coord_core.ingest.records import ReadRecord
from coord_core.store.staged_validation import EventChecks, EventRow, SessionRow

EVENTS = "events"
SESSIONS = "sessions"
VOLUME = "volume"
SENSORS = "sensors"

# Frames that arrive in parts (validated part by part) and the columns each row is unique by: the
# staging tables' primary keys, so a uniqueness check on them cannot miss a copy in another part.
PART_KEYS: dict[str, tuple[str, ...]] = {EVENTS: ("ref",), SESSIONS: ("sensor", "session_id")}

# Event fields whose length the suites bound, by the event models that carry them.
LENGTH_FIELDS: dict[str, tuple[type[ev.CowrieEvent], ...]] = {
    "username": (ev.LoginAttempt,),
    "password": (ev.LoginAttempt,),
    "input": (ev.CommandInput,),
    "url": (ev.FileDownload, ev.FileDownloadFailed, ev.WebRequest),
    "user_agent": (ev.WebRequest,),
}
_PORT_FIELDS: dict[str, tuple[type[ev.CowrieEvent], ...]] = {
    "src_port": (ev.SessionConnect,),
    "dst_port": (ev.SessionConnect, ev.WebRequest, ev.FirewallHit),
}


@dataclass(frozen=True)
class Frame:
    """A frame plus how to describe one of its rows to a person (label and context columns)."""

    name: str
    data: pd.DataFrame
    label_column: str
    context_columns: tuple[str, ...] = ()


@lru_cache(maxsize=65_536)
def ip_scope(text: str) -> str:
    """Where an address can come from: ``global``, ``private``, ``loopback``, ... or ``invalid``."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified:
        return "unspecified"
    if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address("255.255.255.255"):
        return "broadcast"
    for scope, test in (
        ("multicast", ip.is_multicast),
        ("loopback", ip.is_loopback),
        ("link_local", ip.is_link_local),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("global", ip.is_global),
    ):
        if test:
            return scope
    return "non_global"  # e.g. carrier-grade NAT space


def _length(event: ev.CowrieEvent, field: str) -> int | None:
    if not isinstance(event, LENGTH_FIELDS[field]):
        return None
    value = getattr(event, field, None)
    return len(value) if isinstance(value, str) else None


def _port(event: ev.CowrieEvent, field: str) -> int | None:
    if not isinstance(event, _PORT_FIELDS[field]):
        return None
    value = getattr(event, field, None)
    return int(value) if isinstance(value, int) else None


def event_checks(event: ev.CowrieEvent) -> EventChecks:
    """What the event checks read of an event beyond its staged columns (staged by extract)."""
    return EventChecks(
        event.src_ip,
        *(_port(event, field) for field in _PORT_FIELDS),
        *(_length(event, field) for field in LENGTH_FIELDS),
    )


# Per event model, the check fields it carries: (port fields, length fields) as in _port/_length.
_CHECKED_MODELS: tuple[type[ev.CowrieEvent], ...] = (*ev.EVENT_MODELS.values(), ev.UnknownEvent)
_CHECKED_FIELDS: dict[type[ev.CowrieEvent], tuple[tuple[str, ...], tuple[str, ...]]] = {
    model: (
        tuple(f for f, kinds in _PORT_FIELDS.items() if issubclass(model, kinds)),
        tuple(f for f, kinds in LENGTH_FIELDS.items() if issubclass(model, kinds)),
    )
    for model in _CHECKED_MODELS
}
_UNKNOWN_FIELDS = _CHECKED_FIELDS[ev.UnknownEvent]


def record_checks(event: ev.EventRecord) -> EventChecks:
    """:func:`event_checks` of a plain record (its ``values`` are the model's own fields): the same
    checks as of the event's model, without one."""
    ports, lengths = _CHECKED_FIELDS.get(ev.EVENT_MODELS.get(event.eventid, ev.UnknownEvent), _UNKNOWN_FIELDS)
    values = event.values
    found: dict[str, int | None] = {}
    for name in ports:
        value = values.get(name)
        found[name] = int(value) if isinstance(value, int) else None
    for name in lengths:
        value = values.get(name)
        found[name] = len(value) if isinstance(value, str) else None
    return EventChecks(
        event.src_ip,
        found.get("src_port"),
        found.get("dst_port"),
        *(found.get(name) for name in LENGTH_FIELDS),
    )


def staged_checks(event: ev.CowrieEvent | ev.EventRecord) -> EventChecks:
    """What extract stages for the checks of an event read as its model or as a plain record."""
    return record_checks(event) if type(event) is ev.EventRecord else event_checks(event)  # type: ignore[arg-type]


def event_rows(records: Sequence[ReadRecord]) -> list[EventRow]:
    """Parsed records in memory as event rows: their checks, copies and sessions' sources computed
    here (from staging, extract computed the checks and PostgreSQL counts the rest:
    ``coord_core.store.staged_validation``)."""
    ref_seen: Counter[str] = Counter()
    key_seen: Counter[str] = Counter()
    sources: dict[tuple[str, str], set[str]] = defaultdict(set)
    seen: list[tuple[ReadRecord, ev.CowrieEvent, int, int]] = []
    for record in records:
        event = record.event
        if event is None:
            raise ValueError(f"{record.ref}: only parsed records belong in the events frame")
        ref_seen[record.ref] += 1
        key_seen[record.record_key] += 1
        sources[(event.sensor, event.session)].add(event.src_ip)
        seen.append((record, event, ref_seen[record.ref], key_seen[record.record_key]))
    return [
        EventRow(
            record.ref,
            record.record_key,
            record.raw,
            event.timestamp,
            event.eventid,
            event.sensor,
            event.session,
            event_checks(event),
            ref_copy,
            record_copy,
            len(sources[(event.sensor, event.session)]),
            event,
        )
        for record, event, ref_copy, record_copy in seen
    ]


def events_frame(rows: Sequence[EventRow]) -> Frame:
    """One row per event row, in their order (row ``i`` is ``rows[i]``)."""
    columns: dict[str, list[object]] = defaultdict(list)
    for row in rows:
        checks = row.checks if row.checks is not None else event_checks(row.parsed_event())
        columns["ref"].append(row.ref)
        columns["record_key"].append(row.record_key)
        columns["eventid"].append(row.eventid)
        columns["ts"].append(row.ts)
        columns["sensor"].append(row.sensor or None)
        columns["session"].append(row.session or None)
        columns["src_ip"].append(checks.src_ip or None)
        columns["src_ip_scope"].append(ip_scope(checks.src_ip))
        columns["src_port"].append(checks.src_port)
        columns["dst_port"].append(checks.dst_port)
        columns["username_len"].append(checks.username_len)
        columns["password_len"].append(checks.password_len)
        columns["input_len"].append(checks.input_len)
        columns["url_len"].append(checks.url_len)
        columns["user_agent_len"].append(checks.user_agent_len)
        columns["ref_copy"].append(row.ref_copy)
        columns["record_copy"].append(row.record_copy)
        columns["session_src_ips"].append(row.session_src_ips)
    data = pd.DataFrame(
        {
            "ref": pd.Series(columns["ref"], dtype="str"),
            "record_key": pd.Series(columns["record_key"], dtype="str"),
            "eventid": pd.Series(columns["eventid"], dtype="str"),
            "ts": pd.to_datetime(pd.Series(columns["ts"], dtype="object"), utc=True).astype(
                "datetime64[us, UTC]"
            ),
            "sensor": pd.Series(columns["sensor"], dtype="str"),
            "session": pd.Series(columns["session"], dtype="str"),
            "src_ip": pd.Series(columns["src_ip"], dtype="str"),
            "src_ip_scope": pd.Series(columns["src_ip_scope"], dtype="str"),
            **{f: pd.Series(columns[f], dtype="Int64") for f in _PORT_FIELDS},
            **{f"{f}_len": pd.Series(columns[f"{f}_len"], dtype="Int64") for f in LENGTH_FIELDS},
            "ref_copy": pd.Series(columns["ref_copy"], dtype="int64"),
            "record_copy": pd.Series(columns["record_copy"], dtype="int64"),
            "session_src_ips": pd.Series(columns["session_src_ips"], dtype="int64"),
        }
    )
    return Frame(EVENTS, data, "ref", ("eventid", "sensor", "session"))


def session_label(sensor: str, session_id: str) -> str:
    return f"{sensor}/{session_id}"


def sessions_frame(sessions: Sequence[AttackSession | SessionRow]) -> Frame:
    """One row per session; ``connect_seen`` is null for kinds that have no connect event."""
    data = pd.DataFrame(
        {
            "label": pd.Series([session_label(s.sensor, s.session_id) for s in sessions], dtype="str"),
            "sensor": pd.Series([s.sensor for s in sessions], dtype="str"),
            "session_id": pd.Series([s.session_id for s in sessions], dtype="str"),
            "src_ip": pd.Series([s.src_ip for s in sessions], dtype="str"),
            "kind": pd.Series([s.kind for s in sessions], dtype="str"),
            "start": pd.to_datetime(pd.Series([s.start for s in sessions], dtype="object"), utc=True).astype(
                "datetime64[us, UTC]"
            ),
            "end": pd.to_datetime(pd.Series([s.end for s in sessions], dtype="object"), utc=True).astype(
                "datetime64[us, UTC]"
            ),
            "duration": pd.Series([s.duration for s in sessions], dtype="Float64"),
            "event_count": pd.Series([s.event_count for s in sessions], dtype="int64"),
            "connect_seen": pd.Series(
                [s.has_connect if s.kind == "cowrie" else None for s in sessions], dtype="boolean"
            ),
        }
    )
    return Frame(SESSIONS, data, "label", ("src_ip", "start"))


@dataclass(frozen=True)
class VolumeRow:
    """This interval's rates against the source-profile baseline (ratios are null without one)."""

    events_per_hour: float
    events_baseline_per_hour: float | None
    sessions_per_hour: float
    sessions_baseline_per_hour: float | None
    login_events_per_hour: float
    login_events_baseline_per_hour: float | None
    parse_error_fraction: float | None
    baseline_hours: int


def _ratio(now: float, baseline: float | None) -> float | None:
    if baseline is None or baseline <= 0:
        return None
    return now / baseline


def volume_frame(row: VolumeRow) -> Frame:
    data = pd.DataFrame(
        {
            "label": pd.Series(["interval"], dtype="str"),
            "events_per_hour": pd.Series([row.events_per_hour], dtype="Float64"),
            "events_baseline_per_hour": pd.Series([row.events_baseline_per_hour], dtype="Float64"),
            "events_ratio": pd.Series(
                [_ratio(row.events_per_hour, row.events_baseline_per_hour)], dtype="Float64"
            ),
            "sessions_per_hour": pd.Series([row.sessions_per_hour], dtype="Float64"),
            "sessions_baseline_per_hour": pd.Series([row.sessions_baseline_per_hour], dtype="Float64"),
            "sessions_ratio": pd.Series(
                [_ratio(row.sessions_per_hour, row.sessions_baseline_per_hour)], dtype="Float64"
            ),
            "login_events_per_hour": pd.Series([row.login_events_per_hour], dtype="Float64"),
            "login_events_baseline_per_hour": pd.Series(
                [row.login_events_baseline_per_hour], dtype="Float64"
            ),
            "login_events_ratio": pd.Series(
                [_ratio(row.login_events_per_hour, row.login_events_baseline_per_hour)], dtype="Float64"
            ),
            "parse_error_fraction": pd.Series([row.parse_error_fraction], dtype="Float64"),
            "baseline_hours": pd.Series([row.baseline_hours], dtype="int64"),
        }
    )
    context = (
        "events_per_hour",
        "events_baseline_per_hour",
        "sessions_per_hour",
        "sessions_baseline_per_hour",
        "login_events_per_hour",
        "login_events_baseline_per_hour",
        "baseline_hours",
    )
    return Frame(VOLUME, data, "label", context)


@dataclass(frozen=True)
class SensorRow:
    sensor: str
    sessions_per_hour: float
    baseline_sessions_per_hour: float | None
    judged: bool  # baseline large enough to call a drop


def sensors_frame(rows: Sequence[SensorRow]) -> Frame:
    data = pd.DataFrame(
        {
            "label": pd.Series([r.sensor or "(no sensor name)" for r in rows], dtype="str"),
            "sessions_per_hour": pd.Series([r.sessions_per_hour for r in rows], dtype="Float64"),
            "baseline_sessions_per_hour": pd.Series(
                [r.baseline_sessions_per_hour for r in rows], dtype="Float64"
            ),
            "sessions_ratio": pd.Series(
                [
                    _ratio(r.sessions_per_hour, r.baseline_sessions_per_hour) if r.judged else None
                    for r in rows
                ],
                dtype="Float64",
            ),
        }
    )
    return Frame(SENSORS, data, "label", ("sessions_per_hour", "baseline_sessions_per_hour"))


def hours_between(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds() / 3600.0, 1e-9)
