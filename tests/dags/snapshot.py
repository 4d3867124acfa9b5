"""Table snapshots for idempotency checks: every per-interval table, rows in a stable order."""

from __future__ import annotations

from typing import Any

import psycopg

# Tables whose content must be identical after a rerun or backfill of the same interval(s).
# (coord.runs records the latest execution and coord.audit_log is append-only by design.)
DATA_TABLES = {
    "staged_events": "interval_start, ref",
    "sessions": "interval_start, sensor, session_id",
    "quarantine": "interval_start, stage, ref",
    "dq_baselines": "interval_start",
    "dq_results": "interval_start, suite, expectation, column_name",
    "dq_reports": "interval_start",
    "analysis_results": "interval_start",
    "campaigns": "interval_start, campaign_id",
    "campaign_members": "interval_start, campaign_id, session_id",
    "evidence": "interval_start, evidence_id",
    "evidence_links": "interval_start, campaign_id, session_a, session_b",
    "campaign_features": "interval_start, campaign_id, feature",
    "campaign_identity": "interval_start, occurrence_id",
    "exports": "interval_start, target",
}


def snapshot(
    dsn: str, since: str | None = None, until: str | None = None
) -> dict[str, list[tuple[Any, ...]]]:
    """Rows of every data table, optionally only for intervals inside ``[since, until]``."""
    where = "WHERE interval_start >= %s AND interval_end <= %s" if since and until else ""
    args = (since, until) if since and until else ()
    with psycopg.connect(dsn) as conn:
        return {
            table: conn.execute(
                f"SELECT t::text FROM coord.{table} t {where} ORDER BY {order}", args
            ).fetchall()
            for table, order in DATA_TABLES.items()
        }


def count(dsn: str, sql: str, *args: Any) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql, args).fetchone()
        return int(row[0]) if row else 0
