"""What one interval left in the results database, counted and listed for ``coord summary``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from coord_core.contracts.window import DataWindow

_CAMPAIGNS = (
    "SELECT campaign_id, verdict, confidence, session_count, source_ip_count FROM coord.campaigns "
    "WHERE interval_start = %s AND interval_end = %s ORDER BY confidence DESC, campaign_id"
)
_MISP_EXPORTS = (
    "SELECT target, location, items FROM coord.exports WHERE interval_start = %s "
    "AND interval_end = %s AND target IN ('misp', 'misp_feed') ORDER BY target"
)
_RUNS = (
    "SELECT dag_id, run_id FROM coord.runs WHERE interval_start = %s AND interval_end = %s ORDER BY dag_id"
)


@dataclass(frozen=True)
class WindowSummary:
    """The interval's row counts, its campaigns (most confident first), MISP exports and runs."""

    staged_events: int
    sessions: int
    campaigns: list[tuple[str, str, float, int, int]]  # id, verdict, confidence, sessions, addresses
    misp_exports: list[tuple[str, str, dict[str, Any]]]  # target, location, items
    runs: list[tuple[str, str]]  # dag_id, run_id


def window_summary(conn: psycopg.Connection[Any], window: DataWindow) -> WindowSummary:
    """Read the interval's summary in one go."""
    return WindowSummary(
        staged_events=_count(conn, "staged_events", window),
        sessions=_count(conn, "sessions", window),
        campaigns=_rows(conn, _CAMPAIGNS, window),
        misp_exports=_rows(conn, _MISP_EXPORTS, window),
        runs=_rows(conn, _RUNS, window),
    )


def _rows(conn: psycopg.Connection[Any], query: str, window: DataWindow) -> list[Any]:
    return conn.execute(query, (window.start, window.end)).fetchall()


def _count(conn: psycopg.Connection[Any], table: str, window: DataWindow) -> int:
    row = conn.execute(
        f"SELECT count(*) FROM coord.{table} WHERE interval_start = %s AND interval_end = %s",
        (window.start, window.end),
    ).fetchone()
    return int(row[0]) if row else 0
