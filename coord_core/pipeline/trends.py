"""The trend stage: read campaign activity around a day, build the daily report, store it with
lineage, and alert on the day's spikes (once each, to the Redis alert channel and stream)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import psycopg

from coord_core.contracts.alerts import spike_alert
from coord_core.store import redis_keys
from coord_core.store import trends as trend_store
from coord_core.store.alert_stream import publish_once
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.trends.indicators import DEFAULT_RULES, IndicatorRules
from coord_core.trends.report import build_daily_report, lookback_days
from coord_core.trends.series import ActivityPoint
from coord_core.trends.spikes import DEFAULT_SPIKES, SpikeParameters
from coord_core.trends.weekly import build_weekly_report, iso_week, week_days
from coord_core.version import code_version

__all__ = [
    "build_and_store_report",
    "build_and_store_weekly_report",
    "iso_week",
    "publish_spike_alerts",
    "report_days_for",
    "trend_store",
]


def report_days_for(until: datetime, days: int = 1) -> list[date]:
    """The UTC days a run ending at ``until`` reports: the day of ``until`` and ``days - 1`` before."""
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    return [last - timedelta(days=i) for i in reversed(range(days))]


def build_and_store_report(
    conn: psycopg.Connection[Any],
    report_day: date,
    *,
    dag_id: str,
    run_id: str,
    spikes: SpikeParameters = DEFAULT_SPIKES,
    rules: IndicatorRules = DEFAULT_RULES,
    alerts: BestEffortRedis | None = None,
) -> dict[str, Any]:
    """Compute the day's report from the stored campaigns and upsert it; return its totals and,
    with ``alerts``, the ids of the spike alerts this call was the first to publish."""
    since = datetime.combine(report_day - timedelta(days=lookback_days(spikes, rules)), time(), UTC)
    until = datetime.combine(report_day + timedelta(days=1), time(), UTC)
    points = [_point(row) for row in trend_store.activity_rows(conn, since, until)]
    features = trend_store.feature_rows(conn, since, until)
    report = build_daily_report(
        report_day,
        points,
        features,
        spikes=spikes,
        rules=rules,
        campaign_features=trend_store.campaign_feature_days(conn, since, until),
    )
    lineage = {
        "dag_id": dag_id,
        "run_id": run_id,
        "code_version": code_version(),
        "read": {"since": since.isoformat(), "until": until.isoformat()},
        "runs_read": trend_store.runs_read(conn, since, until),
    }
    trend_store.save_trend_report(conn, report_day, report, lineage)
    outcome = {"day": report_day.isoformat(), **report["totals"], "runs_read": len(lineage["runs_read"])}
    if alerts is not None:
        outcome["spike_alerts"] = publish_spike_alerts(alerts, report_day, report["spikes"])
    return outcome


def publish_spike_alerts(redis: BestEffortRedis, report_day: date, spikes: list[dict[str, Any]]) -> list[str]:
    """Publish each spike of the day's report that was never alerted (the report is rebuilt after
    every load of the day: a spike is alerted the first time it is found); their alert ids. With
    Redis unavailable none are (the failure is in ``redis.failures``)."""
    sent = []
    now = datetime.now(UTC)
    for row in spikes:
        alert = spike_alert(report_day, row, emitted_at=now)
        if publish_once(redis, alert, redis_keys.alert_sent(alert.alert_id)) is not None:
            sent.append(alert.alert_id)
    return sent


def build_and_store_weekly_report(
    conn: psycopg.Connection[Any], week: str, *, dag_id: str, run_id: str
) -> dict[str, Any]:
    """Aggregate the stored daily reports of ISO ``week`` (and the week before, for its growth) and
    upsert the weekly report, with lineage to the daily reports and the runs they read; its totals."""
    days = week_days(week)
    stored = trend_store.daily_reports_between(conn, days[0] - timedelta(days=7), days[-1])
    this_week = {d: r["report"] for d, r in stored.items() if d >= days[0]}
    before = {d: r["report"] for d, r in stored.items() if d < days[0]}
    report = build_weekly_report(week, this_week, before)
    runs: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in sorted(this_week):
        for run in stored[d]["lineage"].get("runs_read", []):
            runs[(run["dag_id"], run["run_id"], run["interval_start"])] = run
    lineage = {
        "dag_id": dag_id,
        "run_id": run_id,
        "code_version": code_version(),
        "daily_reports": [
            {"day": d.isoformat(), "run_id": stored[d]["lineage"].get("run_id")} for d in sorted(stored)
        ],
        "runs_read": [runs[k] for k in sorted(runs, key=lambda k: (k[2], k[0], k[1]))],
    }
    trend_store.save_weekly_report(conn, week, days[0], report, lineage)
    return {"week": week, **report["totals"], "days_reported": len(report["days_reported"])}


def stored_weekly_report(conn: psycopg.Connection[Any], week: str) -> dict[str, Any] | None:
    """The stored weekly report of ISO ``week``, for the report pages."""
    return trend_store.load_weekly_report(conn, week)


def stored_weekly_totals(conn: psycopg.Connection[Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The newest ``limit`` stored weekly reports' weeks and totals, for the report index."""
    return trend_store.recent_weekly_totals(conn, limit)


def _point(row: tuple[Any, ...]) -> ActivityPoint:
    cid, start, end, sessions, sources, new_sources, sensors, confidence, verdict = row
    return ActivityPoint(
        cid,
        start,
        end,
        int(sessions),
        int(sources),
        int(new_sources),
        int(sensors),
        float(confidence),
        verdict,
    )


def stored_trend_report(conn: psycopg.Connection[Any], day: date | None = None) -> dict[str, Any] | None:
    """The stored daily trend report of ``day`` (the newest without one), for the report pages."""
    return trend_store.load_trend_report(conn, day)


def stored_report_totals(conn: psycopg.Connection[Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """The newest ``limit`` stored reports' days and totals, for the report index."""
    return trend_store.recent_report_totals(conn, limit)
