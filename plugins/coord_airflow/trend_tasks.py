"""Glue for the trend DAG: which days to report, the results connection and Redis (the spike
alerts), then the trend stage: each day's report, then its ISO week's."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from coord_airflow import connections

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from airflow.sdk import Context


def report_days(context: Context) -> list[date]:
    """The ``day`` param; else the UTC days of the intervals whose load triggered this run; else today's."""
    wanted = (context["params"] or {}).get("day")
    if wanted:
        return [date.fromisoformat(str(wanted))]
    from coord_core.pipeline.trends import report_days_for

    days: set[date] = set()
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            source = getattr(event, "source_dag_run", None)
            interval_end = getattr(source, "data_interval_end", None) if source is not None else None
            if isinstance(interval_end, datetime):
                days.update(report_days_for(interval_end))
    if days:
        return sorted(days)
    run_after = getattr(context["dag_run"], "run_after", None) or datetime.now(UTC)
    return report_days_for(run_after)


def build_reports(context: Context) -> list[dict[str, Any]]:
    from coord_core.pipeline.stores import migrate
    from coord_core.pipeline.trends import build_and_store_report, build_and_store_weekly_report, iso_week

    dag_run = context["dag_run"]
    alerts = connections.best_effort_redis()
    conn = connections.results_db()
    # Autocommit: each report is saved in its own transaction block; an implicit transaction left
    # open by the reads would turn that block into a savepoint that close() rolls back.
    conn.autocommit = True
    try:
        migrate(conn)
        days = report_days(context)
        built = [
            build_and_store_report(conn, day, dag_id=dag_run.dag_id, run_id=dag_run.run_id, alerts=alerts)
            for day in days
        ]
        # Then each ISO week a rebuilt day lies in, from the stored daily reports.
        weekly = {
            week: build_and_store_weekly_report(conn, week, dag_id=dag_run.dag_id, run_id=dag_run.run_id)
            for week in sorted({iso_week(day) for day in days})
        }
        for day, outcome in zip(days, built, strict=True):
            outcome["weekly"] = weekly[iso_week(day)]
    finally:
        conn.close()
    if alerts.failures:  # the reports are stored; only their live alerts are missing
        log.warning("spike alerts not published (Redis unavailable): %s", alerts.failures)
    return built
