"""What the validate step reads from staging: the interval's events as its row checks see them
(staged columns, the values extract computed for the checks, and the counts across the interval
that PostgreSQL takes), streamed in order, and the events of the few sessions it rebuilds. Nothing
here holds the interval in memory or parses it again.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from datetime import datetime
from typing import Any, NamedTuple

import orjson
import psycopg

from coord_core.contracts.event_lines import decode_line, line_record
from coord_core.contracts.events import (
    CowrieEvent,
    EventParseError,
    EventRecord,
    event_record,
    parse_event,
    parse_timestamp,
)
from coord_core.contracts.window import DataWindow
from coord_core.ingest.records import ReadRecord
from coord_core.store.staging_sql import CHECK_COLUMNS, EVENT_ROWS, SESSIONS_EVENTS, STAGED_RAW_TEXT


class EventChecks(NamedTuple):
    """What the event checks read of an event beyond its staged columns: computed once, where the
    event is parsed (``coord_core.quality.frames.event_checks``), and staged with it."""

    src_ip: str
    src_port: int | None
    dst_port: int | None
    username_len: int | None
    password_len: int | None
    input_len: int | None
    url_len: int | None
    user_agent_len: int | None


class EventRow(NamedTuple):
    """One event as the row checks see it. ``raw`` is ``None`` until read (``staged_raw_text``: only
    the rows quarantined or shown need it). ``checks`` is ``None`` for a row staged before extract
    computed them (its raw text is then read with it, to compute them from); ``ref_copy`` /
    ``record_copy`` number the copies of its ref / record key in row order (1 = the first);
    ``session_src_ips`` counts the distinct source addresses of its (sensor, session)."""

    ref: str
    record_key: str
    raw: str | None
    ts: datetime
    eventid: str
    sensor: str
    session: str
    checks: EventChecks | None
    ref_copy: int
    record_copy: int
    session_src_ips: int
    event: CowrieEvent | None = None  # when already parsed (records validated in memory)

    def parsed_event(self) -> CowrieEvent:
        """The event (parsed from its staged text when not at hand: only for the rare row shown)."""
        if self.event is not None:
            return self.event
        if self.raw is None:
            raise ValueError(f"{self.ref}: read its raw text first (staged_raw_text)")
        return _parse(self.ref, self.raw)

    def record(self) -> ReadRecord:
        """The row as the record it was read as (what a quarantine entry is made from)."""
        if self.raw is None:
            raise ValueError(f"{self.ref}: read its raw text first (staged_raw_text)")
        return ReadRecord(ref=self.ref, raw=self.raw, time=self.ts, event=self.event)


class SessionRow(NamedTuple):
    """A staged session as the session checks read it: the values of its stored document (the
    ``AttackSession`` it was written from) that the checks and counts use, without its model."""

    sensor: str
    session_id: str
    src_ip: str
    kind: str
    start: datetime
    end: datetime
    duration: float | None
    event_count: int
    has_connect: bool

    @property
    def key(self) -> tuple[str, str]:
        return (self.sensor, self.session_id)


_from_iso = datetime.fromisoformat


def session_row(doc: str | bytes) -> SessionRow:
    """The row of a stored session document (``AttackSession``'s JSON: times in UTC as ``...Z``)."""
    d = orjson.loads(doc)
    return SessionRow(
        d["sensor"],
        d["session_id"],
        d["src_ip"],
        d["kind"],
        _from_iso(d["start"]),
        _from_iso(d["end"]),
        d["duration"],
        d["event_count"],
        d["has_connect"],
    )


def _parse(ref: str, raw: str) -> CowrieEvent:
    try:
        return parse_event(json.loads(raw))
    except (EventParseError, json.JSONDecodeError) as exc:
        # Staged rows parsed once already; a failure now means the code changed.
        raise RuntimeError(f"staged record {ref} no longer parses: {exc}") from exc


def staged_record(ref: str, raw: str, ts: Any) -> ReadRecord:
    """A staged row as the record it was read as, parsed again from its original text."""
    return ReadRecord(ref=ref, raw=raw, time=ts, event=_parse(ref, raw))


def staged_event_record(ref: str, raw: str) -> EventRecord:
    """A staged row's event as a plain record: what ``staged_record(...).event`` holds, without its
    model where the compiled schema takes the line (``contracts.event_lines``: the same values the
    model holds, as the CLI's read makes them); the rest is parsed as :func:`staged_record` parses it."""
    line = decode_line(raw)  # type: ignore[arg-type]  # msgspec reads text as its UTF-8
    if line is not None:
        try:
            record = line_record(line, parse_timestamp(line.timestamp), raw)
        except ValueError:
            record = None  # a timestamp the model words the error for
        if record is not None:
            return record
    return event_record(_parse(ref, raw))


def iter_event_rows(
    conn: psycopg.Connection[Any], window: DataWindow, *, batch_size: int = 5000
) -> Iterator[EventRow]:
    """The interval's staged events in (ts, ref) order with their checks and counts, through a
    server-side cursor (flat memory); their raw text only where the checks were not staged."""
    width = len(CHECK_COLUMNS)
    with conn.transaction(), conn.cursor(name="staged_event_rows") as cur:
        cur.itersize = batch_size
        cur.execute(EVENT_ROWS, {"s": window.start, "e": window.end})
        for row in cur:
            ref, record_key, raw, ts, eventid, sensor, session = row[:7]
            checks = row[7 : 7 + width]
            record_copy, src_ips = row[7 + width :]
            yield EventRow(
                ref,
                record_key,
                raw,
                ts,
                eventid,
                sensor,
                session,
                EventChecks(*checks) if checks[0] is not None else None,
                1,
                int(record_copy),
                int(src_ips),
            )


def staged_raw_text(
    conn: psycopg.Connection[Any], window: DataWindow, refs: Collection[str]
) -> dict[str, str]:
    """The raw text of these staged events, by ref (one read for the few rows a part quarantines)."""
    rows = conn.execute(STAGED_RAW_TEXT, {"s": window.start, "e": window.end, "refs": list(refs)}).fetchall()
    return {str(ref): str(raw) for ref, raw in rows}


def staged_records_of_sessions(
    conn: psycopg.Connection[Any],
    window: DataWindow,
    keys: Collection[tuple[str, str]],
    *,
    except_stage: str,
) -> Iterator[ReadRecord]:
    """The staged events of the ``(sensor, session)`` pairs in ``keys``, less those quarantined in
    ``except_stage``, by (sensor, session, ts, ref): what a session is rebuilt from."""
    if not keys:
        return
    sensors, sessions = zip(*sorted(keys), strict=True)
    with conn.transaction(), conn.cursor(name="staged_session_events") as cur:
        cur.itersize = 5000
        cur.execute(
            SESSIONS_EVENTS,
            {
                "s": window.start,
                "e": window.end,
                "sensors": list(sensors),
                "sessions": list(sessions),
                "stage": except_stage,
            },
        )
        for ref, raw, ts in cur:
            yield staged_record(ref, raw, ts)
