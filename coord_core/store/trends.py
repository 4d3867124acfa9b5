"""What the trend report reads (campaign activity per interval, signature features, runs) and its table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.types.json import Json


def activity_rows(conn: psycopg.Connection[Any], since: datetime, until: datetime) -> list[tuple[Any, ...]]:
    """Per campaign and interval starting in ``[since, until)``: sessions, sources, new sources, sensors.

    A source is new in the interval where it first appears in that campaign's whole history.
    Rows: (campaign_id, interval_start, interval_end, sessions, sources, new_sources, sensors,
    max_confidence, verdict of the most confident occurrence).
    """
    # Set-based over the window's members only: a source is new when no earlier member of the same
    # campaign had it, looked up by the source (OFFSET 0 keeps that lookup first, whatever the
    # planner's statistics say), so the cost follows the window, not the campaigns' history.
    return conn.execute(
        """SELECT g.campaign_id, g.interval_start, g.interval_end, g.sessions, g.sources, g.new_sources,
                  g.sensors, o.confidence, o.verdict
           FROM (
               SELECT w.campaign_id, w.interval_start, w.interval_end,
                      count(DISTINCT w.session_id) AS sessions,
                      count(DISTINCT w.src_ip) AS sources,
                      count(DISTINCT w.src_ip) FILTER (WHERE w.is_new) AS new_sources,
                      count(DISTINCT s.sensor) AS sensors
               FROM (
                   SELECT i.campaign_id, m.interval_start, m.interval_end, m.session_id, m.src_ip,
                          NOT EXISTS (
                              SELECT 1
                              FROM (SELECT e.interval_start, e.interval_end, e.campaign_id
                                    FROM coord.campaign_members e
                                    WHERE e.src_ip = m.src_ip AND e.interval_start < m.interval_start
                                    OFFSET 0) e
                              JOIN coord.campaign_identity ei
                                ON ei.interval_start = e.interval_start AND ei.interval_end = e.interval_end
                               AND ei.occurrence_id = e.campaign_id
                              WHERE ei.campaign_id = i.campaign_id
                          ) AS is_new
                   FROM coord.campaign_identity i JOIN coord.campaign_members m
                     ON m.interval_start = i.interval_start AND m.interval_end = i.interval_end
                    AND m.campaign_id = i.occurrence_id
                   WHERE i.interval_start >= %(since)s AND i.interval_start < %(until)s
               ) w
               LEFT JOIN coord.sessions s ON s.interval_start = w.interval_start
                AND s.interval_end = w.interval_end AND s.session_id = w.session_id
               GROUP BY w.campaign_id, w.interval_start, w.interval_end
           ) g
           CROSS JOIN LATERAL (
               SELECT max(c.confidence) AS confidence,
                      (array_agg(c.verdict ORDER BY c.confidence DESC, c.verdict))[1] AS verdict
               FROM coord.campaign_identity i JOIN coord.campaigns c
                 ON c.interval_start = i.interval_start AND c.interval_end = i.interval_end
                AND c.campaign_id = i.occurrence_id
               WHERE i.campaign_id = g.campaign_id AND i.interval_start = g.interval_start
                 AND i.interval_end = g.interval_end
           ) o
           WHERE o.confidence IS NOT NULL
           ORDER BY g.campaign_id, g.interval_start""",
        {"since": since, "until": until},
    ).fetchall()


def feature_rows(conn: psycopg.Connection[Any], since: datetime, until: datetime) -> list[tuple[Any, ...]]:
    """Per signature feature and UTC day in ``[since, until)``: how many campaigns held it."""
    return conn.execute(
        """SELECT f.feature, (f.interval_start AT TIME ZONE 'UTC')::date AS day,
                  count(DISTINCT i.campaign_id)
           FROM coord.campaign_features f JOIN coord.campaign_identity i
             ON i.interval_start = f.interval_start AND i.interval_end = f.interval_end
            AND i.occurrence_id = f.campaign_id
           WHERE f.interval_start >= %s AND f.interval_start < %s
           GROUP BY 1, 2 ORDER BY 1, 2""",
        (since, until),
    ).fetchall()


def runs_read(conn: psycopg.Connection[Any], since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The runs whose intervals the report read: its lineage."""
    return [
        {
            "dag_id": dag_id,
            "run_id": run_id,
            "interval_start": start.isoformat(),
            "interval_end": end.isoformat(),
            "status": status,
            "code_version": code_version,
            "result_sha256": result_sha256,
        }
        for dag_id, run_id, start, end, status, code_version, result_sha256 in conn.execute(
            """SELECT dag_id, run_id, interval_start, interval_end, status, code_version, result_sha256
               FROM coord.runs WHERE interval_start >= %s AND interval_start < %s
               ORDER BY interval_start, dag_id""",
            (since, until),
        )
    ]


def save_trend_report(
    conn: psycopg.Connection[Any],
    day: date,
    report: dict[str, Any],
    lineage: dict[str, Any],
) -> None:
    """Upsert the day's report: a rerun for the same day replaces it."""
    with conn.transaction():
        conn.execute(
            """INSERT INTO coord.trend_reports (day, report, lineage, updated_at)
               VALUES (%s, %s, %s, now())
               ON CONFLICT (day) DO UPDATE SET report = EXCLUDED.report, lineage = EXCLUDED.lineage,
                   updated_at = now()""",
            (day, Json(report), Json(lineage)),
        )


def load_trend_report(conn: psycopg.Connection[Any], day: date | None = None) -> dict[str, Any] | None:
    """The stored report of ``day``, or the newest one; with its lineage."""
    if day is None:
        row = conn.execute(
            "SELECT day, report, lineage FROM coord.trend_reports ORDER BY day DESC LIMIT 1"
        ).fetchone()
    else:
        row = conn.execute(
            "SELECT day, report, lineage FROM coord.trend_reports WHERE day = %s", (day,)
        ).fetchone()
    if row is None:
        return None
    return {"day": row[0].isoformat(), "report": row[1], "lineage": row[2]}


def campaign_member_sessions(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(campaign id across intervals, member session id) of every stored occurrence: what a scorer
    needs to tell which generated campaign a stored one is."""
    return [
        (str(campaign_id), str(session_id))
        for campaign_id, session_id in conn.execute(
            """SELECT i.campaign_id, m.session_id
               FROM coord.campaign_identity i JOIN coord.campaign_members m
                 ON m.interval_start = i.interval_start AND m.interval_end = i.interval_end
                AND m.campaign_id = i.occurrence_id
               ORDER BY 1, 2"""
        )
    ]


def recent_report_totals(conn: psycopg.Connection[Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """(day, the report's totals) of the newest ``limit`` stored reports, newest first."""
    return [
        (day.isoformat(), dict(totals or {}))
        for day, totals in conn.execute(
            "SELECT day, report -> 'totals' FROM coord.trend_reports ORDER BY day DESC LIMIT %s", (limit,)
        )
    ]


def campaign_feature_days(
    conn: psycopg.Connection[Any], since: datetime, until: datetime
) -> list[tuple[str, str, date]]:
    """(campaign id, signature feature, UTC day) held in ``[since, until)``: what correlation reads."""
    return [
        (str(campaign_id), str(feature), day)
        for campaign_id, feature, day in conn.execute(
            """SELECT DISTINCT i.campaign_id, f.feature, (f.interval_start AT TIME ZONE 'UTC')::date
               FROM coord.campaign_features f JOIN coord.campaign_identity i
                 ON i.interval_start = f.interval_start AND i.interval_end = f.interval_end
                AND i.occurrence_id = f.campaign_id
               WHERE f.interval_start >= %s AND f.interval_start < %s
               ORDER BY 1, 2, 3""",
            (since, until),
        )
    ]


def daily_reports_between(
    conn: psycopg.Connection[Any], first: date, last: date
) -> dict[date, dict[str, Any]]:
    """The stored daily reports of ``first`` to ``last`` (inclusive), by day, with their lineage."""
    return {
        day: {"report": report, "lineage": lineage}
        for day, report, lineage in conn.execute(
            "SELECT day, report, lineage FROM coord.trend_reports WHERE day BETWEEN %s AND %s ORDER BY day",
            (first, last),
        )
    }


def save_weekly_report(
    conn: psycopg.Connection[Any], week: str, first_day: date, report: dict[str, Any], lineage: dict[str, Any]
) -> None:
    """Upsert the ISO week's report: a rebuild of the same week replaces it."""
    with conn.transaction():
        conn.execute(
            """INSERT INTO coord.trend_weekly_reports (week, first_day, report, lineage, updated_at)
               VALUES (%s, %s, %s, %s, now())
               ON CONFLICT (week) DO UPDATE SET report = EXCLUDED.report, lineage = EXCLUDED.lineage,
                   first_day = EXCLUDED.first_day, updated_at = now()""",
            (week, first_day, Json(report), Json(lineage)),
        )


def load_weekly_report(conn: psycopg.Connection[Any], week: str) -> dict[str, Any] | None:
    """The stored report of ISO ``week`` (``YYYY-Www``) with its lineage, or None."""
    row = conn.execute(
        "SELECT week, report, lineage FROM coord.trend_weekly_reports WHERE week = %s", (week,)
    ).fetchone()
    return None if row is None else {"week": row[0], "report": row[1], "lineage": row[2]}


def recent_weekly_totals(conn: psycopg.Connection[Any], limit: int) -> list[tuple[str, dict[str, Any]]]:
    """(ISO week, the report's totals) of the newest ``limit`` stored weekly reports, newest first."""
    return [
        (str(week), dict(totals or {}))
        for week, totals in conn.execute(
            """SELECT week, report -> 'totals' FROM coord.trend_weekly_reports
               ORDER BY first_day DESC LIMIT %s""",
            (limit,),
        )
    ]
