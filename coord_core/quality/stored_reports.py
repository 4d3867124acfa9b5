"""Read stored data-quality reports back (for the Airflow UI page and anyone with a psycopg connection)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg


def _outcome(stored: object, gate_passed: bool) -> str:
    """The stored gate outcome (``no data``, ``passed``, ``failed``); reports from before it was
    stored are ``passed`` or ``failed``."""
    if isinstance(stored, str) and stored:
        return stored
    return "passed" if gate_passed else "failed"


@dataclass(frozen=True)
class StoredReport:
    interval_start: datetime
    interval_end: datetime
    gate_passed: bool
    gate_reason: str
    summary: dict[str, Any]
    html: str
    latest_runs: tuple[tuple[str, str], ...]  # (dag_id, run_id) of the interval's latest runs

    @property
    def gate_outcome(self) -> str:
        return _outcome(self.summary.get("gate_outcome"), self.gate_passed)

    def summary_document(self) -> dict[str, Any]:
        """The report's gate and summary without its page: what the DQ summary endpoint and the
        assistant's tool answer."""
        return {
            "interval_start": self.interval_start.isoformat(),
            "interval_end": self.interval_end.isoformat(),
            "gate_passed": self.gate_passed,
            "gate_outcome": self.gate_outcome,
            "gate_reason": self.gate_reason,
            "summary": self.summary,
            "runs": [{"dag_id": d, "run_id": r} for d, r in self.latest_runs],
        }


@dataclass(frozen=True)
class ReportListing:
    interval_start: datetime
    interval_end: datetime
    gate_passed: bool
    gate_reason: str
    dag_id: str | None
    run_id: str | None
    gate_outcome: str = ""


class StoredReportReader:
    """Read-only queries on ``coord.dq_reports``; every value is passed as a parameter."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def interval_of_run(self, dag_id: str, run_id: str) -> tuple[datetime, datetime] | None:
        """The interval a DAG run validated: from ``coord.runs``, else from the audit log.

        ``coord.runs`` keeps the latest run per interval; the audit log remembers earlier runs.
        """
        row = self.conn.execute(
            """
            SELECT interval_start, interval_end FROM (
                SELECT interval_start, interval_end, 0 AS pref, updated_at AS at FROM coord.runs
                WHERE dag_id = %(d)s AND run_id = %(r)s
                UNION ALL
                SELECT interval_start, interval_end, 1 AS pref, at FROM coord.audit_log
                WHERE dag_id = %(d)s AND run_id = %(r)s
                  AND interval_start IS NOT NULL AND interval_end IS NOT NULL
            ) found
            ORDER BY pref, at DESC
            LIMIT 1
            """,
            {"d": dag_id, "r": run_id},
        ).fetchone()
        return (row[0], row[1]) if row else None

    def for_interval(self, start: datetime, end: datetime) -> StoredReport | None:
        row = self.conn.execute(
            "SELECT gate_passed, gate_reason, summary, html FROM coord.dq_reports "
            "WHERE interval_start = %s AND interval_end = %s",
            (start, end),
        ).fetchone()
        if row is None:
            return None
        runs = self.conn.execute(
            "SELECT dag_id, run_id FROM coord.runs WHERE interval_start = %s AND interval_end = %s "
            "ORDER BY dag_id",
            (start, end),
        ).fetchall()
        return StoredReport(
            interval_start=start,
            interval_end=end,
            gate_passed=bool(row[0]),
            gate_reason=str(row[1]),
            summary=dict(row[2] or {}),
            html=str(row[3]),
            latest_runs=tuple((str(d), str(r)) for d, r in runs),
        )

    def summaries_before(self, start: datetime, limit: int = 11) -> list[dict[str, Any]]:
        """Summaries of the intervals that ended by ``start``, newest first (for the view-time trend)."""
        rows = self.conn.execute(
            "SELECT interval_start, interval_end, summary FROM coord.dq_reports "
            "WHERE interval_end <= %s ORDER BY interval_start DESC, interval_end DESC LIMIT %s",
            (start, limit),
        ).fetchall()
        return [
            {**dict(summary or {}), "interval_start": s.isoformat(), "interval_end": e.isoformat()}
            for s, e, summary in rows
        ]

    def page_with_trend(self, report: StoredReport) -> str:
        """The stored page with the trend against earlier runs as stored now (view time)."""
        from coord_core.quality.report import TREND_RUNS, render_trend, with_trend

        earlier = self.summaries_before(report.interval_start, TREND_RUNS - 1)
        current = {
            **report.summary,
            "interval_start": report.interval_start.isoformat(),
            "interval_end": report.interval_end.isoformat(),
        }
        return with_trend(report.html, render_trend(current, earlier))

    def for_run(self, dag_id: str, run_id: str) -> StoredReport | None:
        interval = self.interval_of_run(dag_id, run_id)
        return self.for_interval(*interval) if interval else None

    def recent(self, limit: int = 50) -> list[ReportListing]:
        rows = self.conn.execute(
            """
            SELECT q.interval_start, q.interval_end, q.gate_passed, q.gate_reason, r.dag_id, r.run_id,
                   q.summary->>'gate_outcome'
            FROM coord.dq_reports q
            LEFT JOIN coord.runs r
              ON r.interval_start = q.interval_start AND r.interval_end = q.interval_end
            ORDER BY q.interval_start DESC, q.interval_end DESC, r.dag_id
            LIMIT %s
            """,
            (limit,),
        ).fetchall()
        return [
            ReportListing(
                interval_start=row[0],
                interval_end=row[1],
                gate_passed=bool(row[2]),
                gate_reason=str(row[3]),
                dag_id=row[4],
                run_id=row[5],
                gate_outcome=_outcome(row[6], bool(row[2])),
            )
            for row in rows
        ]
