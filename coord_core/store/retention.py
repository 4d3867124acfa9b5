"""Retention: drop an interval's rows from a table once the interval is older than its policy.

The policy lives in ``coord.retention_policy`` (table -> days), so operators change it with SQL
or the maintenance DAG's params, not code. Results (campaigns, evidence, lineage) are kept:
they are what researchers cite.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql

from coord_core.store import misp_event_state

log = logging.getLogger(__name__)

# Only staging and data-quality tables may be pruned; result tables are never in this set.
PRUNABLE = frozenset(
    {
        "staged_events",
        "quarantine",
        "sessions",
        "dq_results",
        "dq_reports",
        "dq_baselines",
        "feature_prevalence",
    }
)


def retention_policy(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute("SELECT table_name, keep_days FROM coord.retention_policy ORDER BY table_name")
    return {table: int(days) for table, days in rows}


def set_retention(conn: psycopg.Connection[Any], table: str, keep_days: int) -> None:
    if table not in PRUNABLE:
        raise ValueError(f"{table} is not prunable; allowed: {sorted(PRUNABLE)}")
    if keep_days <= 0:
        raise ValueError("keep_days must be positive")
    with conn.transaction():
        conn.execute(
            """INSERT INTO coord.retention_policy (table_name, keep_days) VALUES (%s, %s)
               ON CONFLICT (table_name) DO UPDATE SET keep_days = EXCLUDED.keep_days""",
            (table, keep_days),
        )


def apply_retention(conn: psycopg.Connection[Any], now: datetime) -> dict[str, int]:
    """Delete rows of intervals that ended before ``now - keep_days``; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    for table, keep_days in retention_policy(conn).items():
        if table not in PRUNABLE:
            log.warning("retention policy names %s, which is not prunable; ignoring it", table)
            continue
        cutoff = now - timedelta(days=keep_days)
        with conn.transaction():
            cur = conn.execute(
                sql.SQL("DELETE FROM coord.{} WHERE interval_end < %s").format(sql.Identifier(table)),
                (cutoff,),
            )
            deleted[table] = cur.rowcount
            if table == "sessions" and cur.rowcount:
                # An event built afresh no longer counts the pruned sessions: its kept sum is refolded.
                misp_event_state.drop_folds_with_intervals_before(conn, cutoff)
        log.info("retention: %s kept %d days, deleted %d rows ended before %s", table, keep_days,
                 deleted[table], cutoff.isoformat())  # fmt: skip
    return deleted
