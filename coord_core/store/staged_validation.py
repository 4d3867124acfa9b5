"""What the validate step reads from staging: the interval's events with the counts across the
interval that its row checks need, streamed in order, and the events of the few sessions it
rebuilds. The counts come from PostgreSQL so validation never holds the interval in memory.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from typing import Any, NamedTuple

import psycopg

from coord_core.contracts.events import EventParseError, parse_event
from coord_core.contracts.window import DataWindow
from coord_core.ingest.records import ReadRecord


class EventRow(NamedTuple):
    """A parsed event and how often the interval holds it: ``ref_copy`` / ``record_copy`` number the
    copies of its ref / record key in row order (1 = the first), ``session_src_ips`` counts the
    distinct source addresses of its (sensor, session)."""

    record: ReadRecord
    ref_copy: int
    record_copy: int
    session_src_ips: int


# Row order is (ts, ref), as ``ResultsStore.iter_staged_records`` reads the interval. The primary key
# (interval, ref) makes every staged ref unique: ref_copy is 1 for every staged row.
_EVENT_ROWS = """
SELECT e.ref, e.raw, e.ts, 1 AS ref_copy,
       row_number() OVER (PARTITION BY e.record_key ORDER BY e.ts, e.ref) AS record_copy,
       s.src_ips
FROM coord.staged_events e
JOIN (
    SELECT sensor, session, count(DISTINCT src_ip) AS src_ips
    FROM coord.staged_events
    WHERE interval_start = %(s)s AND interval_end = %(e)s
    GROUP BY sensor, session
) s ON s.sensor = e.sensor AND s.session = e.session
WHERE e.interval_start = %(s)s AND e.interval_end = %(e)s
ORDER BY e.ts, e.ref
"""


def staged_record(ref: str, raw: str, ts: Any) -> ReadRecord:
    """A staged row as the record it was read as, parsed again from its original text."""
    try:
        event = parse_event(json.loads(raw))
    except (EventParseError, json.JSONDecodeError) as exc:
        # Staged rows parsed once already; a failure now means the code changed.
        raise RuntimeError(f"staged record {ref} no longer parses: {exc}") from exc
    return ReadRecord(ref=ref, raw=raw, time=ts, event=event)


def iter_event_rows(
    conn: psycopg.Connection[Any], window: DataWindow, *, batch_size: int = 5000
) -> Iterator[EventRow]:
    """The interval's staged events in (ts, ref) order with their copy and source counts, through a
    server-side cursor (flat memory)."""
    with conn.transaction(), conn.cursor(name="staged_event_rows") as cur:
        cur.itersize = batch_size
        cur.execute(_EVENT_ROWS, {"s": window.start, "e": window.end})
        for ref, raw, ts, ref_copy, record_copy, src_ips in cur:
            yield EventRow(staged_record(ref, raw, ts), int(ref_copy), int(record_copy), int(src_ips))


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
            """
            SELECT e.ref, e.raw, e.ts
            FROM coord.staged_events e
            JOIN unnest(%(sensors)s::text[], %(sessions)s::text[]) AS k(sensor, session)
              ON k.sensor = e.sensor AND k.session = e.session
            WHERE e.interval_start = %(s)s AND e.interval_end = %(e)s
              AND NOT EXISTS (
                  SELECT 1 FROM coord.quarantine q
                  WHERE q.interval_start = %(s)s AND q.interval_end = %(e)s
                    AND q.stage = %(stage)s AND q.ref = e.ref)
            ORDER BY e.sensor, e.session, e.ts, e.ref
            """,
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
