"""Reads what the project's metrics are computed from out of ``coord.*`` (read-only, a few small queries).

Every query is bounded by an index or a small table (runs, reports, audit entries), so a scrape
costs milliseconds however many sessions are stored. Nothing here knows about Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

# Audit actions that the metrics count (coord.audit_log is append-only: counts only grow).
RUN_ACTIONS = ("run_started", "run_finished")
PUBLISH_OK_ACTIONS = ("misp_export", "exported")
PUBLISH_FAILED_ACTIONS = ("misp_export_failed", "export_failed", "redis_unavailable")
# How many of the newest analysed intervals are searched for the newest analysed event.
FRESHNESS_INTERVALS = 48


@dataclass(frozen=True)
class IntervalRows:
    """What one DAG's most recently processed interval holds besides its ``coord.runs`` row."""

    quarantined_refs: int  # distinct records quarantined at any stage
    quarantine: list[dict[str, Any]]  # stage, records
    dq_expectations: list[dict[str, Any]]  # suite, critical, success, expectations
    dq_gate_passed: bool | None  # the stored report's decision (None: not validated)
    campaigns: list[dict[str, Any]]  # verdict, campaigns, max_confidence


@dataclass(frozen=True)
class MetricRows:
    """Everything one scrape needs, as plain rows (dicts) keyed by what they describe."""

    latest_runs: list[dict[str, Any]] = field(default_factory=list)
    runs_by_status: list[dict[str, Any]] = field(default_factory=list)
    last_success: list[dict[str, Any]] = field(default_factory=list)
    last_durations: list[dict[str, Any]] = field(default_factory=list)
    latest_intervals: dict[str, IntervalRows] = field(default_factory=dict)  # by dag_id
    dq_gate_counts: list[dict[str, Any]] = field(default_factory=list)
    campaign_identities: list[dict[str, Any]] = field(default_factory=list)
    audit_counts: list[dict[str, Any]] = field(default_factory=list)
    latest_llm_runs: list[dict[str, Any]] = field(default_factory=list)
    llm_runs_by_status: list[dict[str, Any]] = field(default_factory=list)
    narratives_by_status: list[dict[str, Any]] = field(default_factory=list)
    cache_counts: list[dict[str, Any]] = field(default_factory=list)
    cache_rejected: list[dict[str, Any]] = field(default_factory=list)  # dag_id, entries
    newest_analysed_event: datetime | None = None
    newest_analysed_interval_end: datetime | None = None


_LATEST_RUNS = """
SELECT DISTINCT ON (dag_id) dag_id, interval_start, interval_end, run_id, status,
       COALESCE(source_kind, 'unknown') AS source_kind, event_count, session_count,
       quarantined_count, campaign_count, dq_gate_passed, analysis_cache_hit, cache_rejected_count,
       updated_at
FROM coord.runs ORDER BY dag_id, updated_at DESC, interval_end DESC
"""
_RUNS_BY_STATUS = "SELECT dag_id, status, count(*) AS intervals FROM coord.runs GROUP BY dag_id, status"
_LAST_SUCCESS = """
SELECT dag_id, max(interval_end) AS interval_end FROM coord.runs WHERE status = 'success' GROUP BY dag_id
"""
# The newest finished run per DAG and how long it took: from the first start after the run's
# previous finish (a cleared and rerun run is timed anew; retries inside one execution count).
_LAST_DURATIONS = """
WITH finished AS (
    SELECT DISTINCT ON (dag_id) dag_id, run_id, at FROM coord.audit_log
    WHERE action = 'run_finished' AND dag_id IS NOT NULL ORDER BY dag_id, at DESC, id DESC
)
SELECT f.dag_id, f.run_id, f.at AS finished_at,
       (SELECT min(s.at) FROM coord.audit_log s
         WHERE s.action = 'run_started' AND s.dag_id = f.dag_id AND s.run_id = f.run_id AND s.at <= f.at
           AND s.at > COALESCE((SELECT max(p.at) FROM coord.audit_log p
                                 WHERE p.action = 'run_finished' AND p.dag_id = f.dag_id
                                   AND p.run_id = f.run_id AND p.at < f.at), '-infinity')
       ) AS started_at
FROM finished f
"""
_QUARANTINE = """
SELECT stage, count(*) AS records FROM coord.quarantine
WHERE interval_start = %s AND interval_end = %s GROUP BY stage
"""
_QUARANTINE_DISTINCT = """
SELECT count(DISTINCT ref) FROM coord.quarantine WHERE interval_start = %s AND interval_end = %s
"""
_DQ_EXPECTATIONS = """
SELECT suite, critical, success, count(*) AS expectations FROM coord.dq_results
WHERE interval_start = %s AND interval_end = %s GROUP BY suite, critical, success
"""
_DQ_GATE = "SELECT gate_passed FROM coord.dq_reports WHERE interval_start = %s AND interval_end = %s"
_DQ_GATE_COUNTS = "SELECT gate_passed, count(*) AS intervals FROM coord.dq_reports GROUP BY gate_passed"
_LATEST_CAMPAIGNS = """
SELECT verdict, count(*) AS campaigns, max(confidence) AS max_confidence FROM coord.campaigns
WHERE interval_start = %s AND interval_end = %s GROUP BY verdict
"""
_CAMPAIGN_IDENTITIES = """
SELECT c.verdict, count(DISTINCT i.campaign_id) AS campaigns,
       count(DISTINCT i.campaign_id) FILTER (WHERE c.confidence >= %s) AS high_confidence
FROM coord.campaign_identity i
JOIN coord.campaigns c ON c.interval_start = i.interval_start AND c.interval_end = i.interval_end
                      AND c.campaign_id = i.occurrence_id
GROUP BY c.verdict
"""
_AUDIT_COUNTS = """
SELECT action, dag_id, COALESCE(details->>'target', '') AS target, count(*) AS entries, max(at) AS last_at,
       COALESCE(sum(CASE WHEN jsonb_typeof(details->'errors') = 'array'
                         THEN jsonb_array_length(details->'errors') ELSE 0 END), 0) AS partial_errors
FROM coord.audit_log WHERE action = ANY(%s)
GROUP BY action, dag_id, COALESCE(details->>'target', '')
"""
_LATEST_LLM_RUNS = """
SELECT DISTINCT ON (dag_id) dag_id, status, narratives, counts, usage, updated_at FROM coord.llm_runs
ORDER BY dag_id, updated_at DESC
"""
_LLM_RUNS_BY_STATUS = (
    "SELECT dag_id, status, count(*) AS intervals FROM coord.llm_runs GROUP BY dag_id, status"
)
_NARRATIVES_BY_STATUS = "SELECT llm_status, count(*) AS narratives FROM coord.narratives GROUP BY llm_status"
_CACHE_COUNTS = """
SELECT dag_id, analysis_cache_hit AS hit, count(*) AS intervals FROM coord.runs
WHERE analysis_cache_hit IS NOT NULL GROUP BY dag_id, analysis_cache_hit
"""
_CACHE_REJECTED = """
SELECT dag_id, sum(cache_rejected_count) AS entries FROM coord.runs
WHERE cache_rejected_count IS NOT NULL GROUP BY dag_id
"""
_FRESHNESS = """
SELECT max(a.interval_end) AS interval_end,
       max((SELECT max(s.end_ts) FROM coord.sessions s
             WHERE s.interval_start = a.interval_start AND s.interval_end = a.interval_end
               AND NOT s.quarantined)) AS newest_event
FROM (SELECT interval_start, interval_end FROM coord.analysis_results
      ORDER BY interval_end DESC LIMIT %s) a
"""


def read_metric_rows(conn: psycopg.Connection[Any], *, high_confidence: float) -> MetricRows:
    """One consistent read (a read-only REPEATABLE READ transaction) of every metric's source rows."""
    previous = conn.isolation_level, conn.read_only
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    try:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            latest_runs = cur.execute(_LATEST_RUNS).fetchall()
            intervals = {run["dag_id"]: _interval_rows(cur, run) for run in latest_runs}
            fresh = cur.execute(_FRESHNESS, (FRESHNESS_INTERVALS,)).fetchone() or {}
            return MetricRows(
                latest_runs=latest_runs,
                runs_by_status=cur.execute(_RUNS_BY_STATUS).fetchall(),
                last_success=cur.execute(_LAST_SUCCESS).fetchall(),
                last_durations=cur.execute(_LAST_DURATIONS).fetchall(),
                latest_intervals=intervals,
                dq_gate_counts=cur.execute(_DQ_GATE_COUNTS).fetchall(),
                campaign_identities=cur.execute(_CAMPAIGN_IDENTITIES, (high_confidence,)).fetchall(),
                audit_counts=cur.execute(
                    _AUDIT_COUNTS, (list(RUN_ACTIONS + PUBLISH_OK_ACTIONS + PUBLISH_FAILED_ACTIONS),)
                ).fetchall(),
                latest_llm_runs=cur.execute(_LATEST_LLM_RUNS).fetchall(),
                llm_runs_by_status=cur.execute(_LLM_RUNS_BY_STATUS).fetchall(),
                narratives_by_status=cur.execute(_NARRATIVES_BY_STATUS).fetchall(),
                cache_counts=cur.execute(_CACHE_COUNTS).fetchall(),
                cache_rejected=cur.execute(_CACHE_REJECTED).fetchall(),
                newest_analysed_event=fresh.get("newest_event"),
                newest_analysed_interval_end=fresh.get("interval_end"),
            )
    finally:
        conn.isolation_level, conn.read_only = previous


def _interval_rows(cur: psycopg.Cursor[dict[str, Any]], run: dict[str, Any]) -> IntervalRows:
    key = (run["interval_start"], run["interval_end"])
    distinct = cur.execute(_QUARANTINE_DISTINCT, key).fetchone()
    gate = cur.execute(_DQ_GATE, key).fetchone()
    return IntervalRows(
        quarantined_refs=int(distinct["count"]) if distinct else 0,
        quarantine=cur.execute(_QUARANTINE, key).fetchall(),
        dq_expectations=cur.execute(_DQ_EXPECTATIONS, key).fetchall(),
        dq_gate_passed=gate["gate_passed"] if gate else None,
        campaigns=cur.execute(_LATEST_CAMPAIGNS, key).fetchall(),
    )
