"""What an export reads from the results database, and the record of each export.

``coord.exports`` holds one row per (interval, target): the state the interval's export left
(which campaign is which event, what was retired, which sightings were sent), so a rerun writes
the same row; counts of what each run created or updated go to the append-only audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow


@dataclass(frozen=True)
class RepeatActivity:
    """A source IP of an earlier exported campaign occurrence, seen again in this interval."""

    campaign_id: str
    src_ip: str
    first_seen: datetime
    sessions: int


def campaign_ids_of(conn: psycopg.Connection[Any], window: DataWindow) -> dict[str, str]:
    """Occurrence id -> cross-interval campaign id for the interval's occurrences."""
    rows = conn.execute(
        "SELECT occurrence_id, campaign_id FROM coord.campaign_identity "
        "WHERE interval_start = %s AND interval_end = %s",
        (window.start, window.end),
    ).fetchall()
    return {str(o): str(c) for o, c in rows}


def occurrences_of(conn: psycopg.Connection[Any], campaign_id: str) -> list[tuple[DataWindow, str]]:
    """Every stored occurrence of a cross-interval campaign, oldest interval first."""
    rows = conn.execute(
        "SELECT interval_start, interval_end, occurrence_id FROM coord.campaign_identity "
        "WHERE campaign_id = %s ORDER BY interval_start, interval_end, occurrence_id",
        (campaign_id,),
    ).fetchall()
    return [(DataWindow(start=s, end=e), str(o)) for s, e, o in rows]


def aliases_of(conn: psycopg.Connection[Any], campaign_ids: list[str]) -> dict[str, list[str]]:
    """Retired ids (from re-keying) that now resolve to each campaign id."""
    rows = conn.execute(
        "SELECT campaign_id, alias_id FROM coord.campaign_aliases WHERE campaign_id = ANY(%s) "
        "ORDER BY campaign_id, alias_id",
        (campaign_ids,),
    ).fetchall()
    out: dict[str, list[str]] = {}
    for campaign_id, alias in rows:
        out.setdefault(str(campaign_id), []).append(str(alias))
    return out


def member_sessions(
    conn: psycopg.Connection[Any], window: DataWindow, session_ids: list[str]
) -> list[AttackSession]:
    """The interval's stored (not quarantined) sessions with these Cowrie session ids."""
    rows = conn.execute(
        "SELECT doc::text FROM coord.sessions WHERE interval_start = %s AND interval_end = %s "
        "AND session_id = ANY(%s) AND NOT quarantined ORDER BY start_ts, sensor, session_id",
        (window.start, window.end, session_ids),
    ).fetchall()
    return [AttackSession.model_validate_json(doc) for (doc,) in rows]


def repeat_activity(
    conn: psycopg.Connection[Any], window: DataWindow, min_confidence: float
) -> list[RepeatActivity]:
    """Source IPs of exported occurrences in earlier intervals that attacked again in this one.

    "Exported" is the export rule of ``coord_core.intel.campaign_event.qualifies``, in SQL.
    """
    # Driven by the interval's sessions: each source looks up its own earlier memberships (index on
    # campaign_members.src_ip), so the cost follows the interval, not the stored history.
    rows = conn.execute(
        """
        SELECT e.campaign_id, host(s.src_ip), min(s.start_ts), count(*)
        FROM coord.sessions s
        CROSS JOIN LATERAL (
            SELECT DISTINCT i.campaign_id
            FROM coord.campaign_members m
            JOIN coord.campaigns c
              ON c.interval_start = m.interval_start AND c.interval_end = m.interval_end
             AND c.campaign_id = m.campaign_id
            JOIN coord.campaign_identity i
              ON i.interval_start = m.interval_start AND i.interval_end = m.interval_end
             AND i.occurrence_id = m.campaign_id
            WHERE m.src_ip = s.src_ip AND m.interval_end <= %(start)s
              AND c.verdict <> 'coincidental' AND c.confidence >= %(min_confidence)s
        ) e
        WHERE s.interval_start = %(start)s AND s.interval_end = %(end)s AND NOT s.quarantined
        GROUP BY e.campaign_id, host(s.src_ip)
        ORDER BY e.campaign_id, host(s.src_ip)
        """,
        {"start": window.start, "end": window.end, "min_confidence": min_confidence},
    ).fetchall()
    return [RepeatActivity(str(c), str(ip), first, int(n)) for c, ip, first, n in rows]


def record_export(
    conn: psycopg.Connection[Any], window: DataWindow, target: str, location: str, items: dict[str, Any]
) -> None:
    with conn.transaction():
        conn.execute(
            """INSERT INTO coord.exports (interval_start, interval_end, target, location, items)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (interval_start, interval_end, target) DO UPDATE SET
                   location = EXCLUDED.location, items = EXCLUDED.items""",
            (window.start, window.end, target, location, Jsonb(items)),
        )
