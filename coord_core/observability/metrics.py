"""The project's Prometheus metrics as pure functions of the rows ``metric_rows`` reads.

Naming follows Prometheus conventions: a ``coord_`` prefix, base units in the name (``_seconds``,
timestamps as ``_timestamp_seconds`` so that PromQL computes ages with ``time() - x``), ``_total``
only on counters that never decrease (counts of the append-only audit log). Labels take values
from small fixed sets (DAG ids, source kinds, verdicts, stages, suites, targets, statuses): never
an IP, a session, a campaign id or a run id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from coord_core.observability.metric_rows import (
    PUBLISH_FAILED_ACTIONS,
    PUBLISH_OK_ACTIONS,
    IntervalRows,
    MetricRows,
)

VERDICTS = ("coordinated_campaign", "single_actor_multi_source", "coincidental")
RUN_STATUSES = ("running", "success")
LLM_STATUSES = ("ok", "degraded", "unavailable", "off", "no_campaigns")
# Where a failure entry of the audit log names no target, the action says which one it was.
_ACTION_TARGET = {
    "redis_unavailable": "redis",
    "export_failed": "elasticsearch",
    "misp_export_failed": "misp",
}


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment is not None else None


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def _row_counts(
    name: str, doc: str, labels: list[str], count: str, rows: Iterable[Mapping[str, Any]]
) -> GaugeMetricFamily:
    """A gauge of counts the database grouped: a sample per row, labelled by its ``labels`` columns."""
    gauge = _gauge(name, doc, labels)
    for row in rows:
        gauge.add_metric([row[label] for label in labels], float(row[count]))
    return gauge


def run_metrics(rows: MetricRows) -> list[Metric]:
    """The newest run of each DAG, the stored intervals by status, and run starts and finishes."""
    status = _gauge(
        "coord_run_last_status",
        "1 for the status of the DAG's most recently updated run",
        ["dag_id", "status"],
    )
    updated = _gauge(
        "coord_run_last_updated_timestamp_seconds", "When the newest run last recorded progress", ["dag_id"]
    )
    interval_end = _gauge(
        "coord_run_last_interval_end_timestamp_seconds",
        "End of the interval the newest run processes",
        ["dag_id"],
    )
    for run in rows.latest_runs:
        dag = run["dag_id"]
        for known in sorted(set(RUN_STATUSES) | {run["status"]}):
            status.add_metric([dag, known], 1.0 if known == run["status"] else 0.0)
        updated.add_metric([dag], run["updated_at"].timestamp())
        interval_end.add_metric([dag], run["interval_end"].timestamp())
    success = _gauge(
        "coord_run_last_success_interval_end_timestamp_seconds",
        "End of the newest interval whose run finished successfully",
        ["dag_id"],
    )
    for row in rows.last_success:
        success.add_metric([row["dag_id"]], row["interval_end"].timestamp())
    duration = _gauge(
        "coord_run_last_duration_seconds",
        "Wall time of the newest finished run, first start to finish",
        ["dag_id"],
    )
    finished = _gauge(
        "coord_run_last_finished_timestamp_seconds", "When the newest finished run finished", ["dag_id"]
    )
    for row in rows.last_durations:
        finished.add_metric([row["dag_id"]], row["finished_at"].timestamp())
        if row["started_at"] is not None:
            duration.add_metric([row["dag_id"]], (row["finished_at"] - row["started_at"]).total_seconds())
    intervals = _row_counts(
        "coord_intervals",
        "Stored intervals by the status of their latest run",
        ["dag_id", "status"],
        "intervals",
        rows.runs_by_status,
    )
    started = CounterMetricFamily(
        "coord_runs_started", "Run starts (every try) in the audit log", labels=["dag_id"]
    )
    ended = CounterMetricFamily(
        "coord_runs_finished", "Successful run finishes in the audit log", labels=["dag_id"]
    )
    for row in rows.audit_counts:
        if row["dag_id"] is None:
            continue
        if row["action"] == "run_started":
            started.add_metric([row["dag_id"]], float(row["entries"]))
        elif row["action"] == "run_finished":
            ended.add_metric([row["dag_id"]], float(row["entries"]))
    return [status, updated, interval_end, success, duration, finished, intervals, started, ended]


def interval_metrics(rows: MetricRows) -> list[Metric]:
    """What the newest interval of each DAG read, quarantined, validated and found."""
    events = _gauge(
        "coord_interval_events",
        "Events of the newest interval: read, valid (read and never quarantined), quarantined",
        ["dag_id", "source_kind", "outcome"],
    )
    by_stage = _gauge(
        "coord_interval_quarantined_records",
        "Quarantine entries of the newest interval by stage",
        ["dag_id", "stage"],
    )
    sessions = _gauge(
        "coord_interval_sessions", "Sessions built from the newest interval", ["dag_id", "source_kind"]
    )
    campaigns = _gauge(
        "coord_interval_campaigns", "Campaigns found in the newest interval", ["dag_id", "verdict"]
    )
    gate = _gauge(
        "coord_interval_dq_gate_passed", "1 if the newest interval passed the data-quality gate", ["dag_id"]
    )
    expectations = _gauge(
        "coord_interval_dq_expectations",
        "Data-quality expectations of the newest interval by suite, criticality and result",
        ["dag_id", "suite", "critical", "result"],
    )
    cache_hit = _gauge(
        "coord_interval_analysis_cache_hit",
        "1 if the newest interval's analysis came from the cache",
        ["dag_id"],
    )
    rejected = _gauge(
        "coord_interval_cache_rejected_entries",
        "Cache entries (analysis results, threat-intel answers) the newest interval's analysis "
        "rejected on verification (corrupted, forged, unsigned) and recomputed",
        ["dag_id"],
    )
    for run in rows.latest_runs:
        dag, kind = run["dag_id"], run["source_kind"]
        detail = rows.latest_intervals.get(dag)
        if run["event_count"] is not None:
            read = float(run["event_count"])
            quarantined = float(detail.quarantined_refs) if detail else 0.0
            events.add_metric([dag, kind, "read"], read)
            events.add_metric([dag, kind, "valid"], max(read - quarantined, 0.0))
            events.add_metric([dag, kind, "quarantined"], quarantined)
        if run["session_count"] is not None:
            sessions.add_metric([dag, kind], float(run["session_count"]))
        if run["analysis_cache_hit"] is not None:
            cache_hit.add_metric([dag], 1.0 if run["analysis_cache_hit"] else 0.0)
        if run.get("cache_rejected_count") is not None:
            rejected.add_metric([dag], float(run["cache_rejected_count"]))
        if detail is not None:
            _add_interval_detail(
                dag, detail, run, by_stage=by_stage, campaigns=campaigns, gate=gate, expectations=expectations
            )
    return [events, by_stage, sessions, campaigns, gate, expectations, cache_hit, rejected]


def _add_interval_detail(
    dag: str,
    detail: IntervalRows,
    run: dict[str, Any],
    *,
    by_stage: GaugeMetricFamily,
    campaigns: GaugeMetricFamily,
    gate: GaugeMetricFamily,
    expectations: GaugeMetricFamily,
) -> None:
    for row in detail.quarantine:
        by_stage.add_metric([dag, row["stage"]], float(row["records"]))
    if run["campaign_count"] is not None:  # the interval was analysed: every verdict has a count
        found = {row["verdict"]: float(row["campaigns"]) for row in detail.campaigns}
        for verdict in VERDICTS:
            campaigns.add_metric([dag, verdict], found.get(verdict, 0.0))
    if detail.dq_gate_passed is not None:
        gate.add_metric([dag], 1.0 if detail.dq_gate_passed else 0.0)
    for row in detail.dq_expectations:
        result = "passed" if row["success"] else "failed"
        critical = "true" if row["critical"] else "false"
        expectations.add_metric([dag, row["suite"], critical, result], float(row["expectations"]))


def stored_metrics(rows: MetricRows) -> list[Metric]:
    """Totals over everything stored: gate decisions, campaigns, cache use, narratives."""
    gate = _gauge("coord_dq_gate_intervals", "Stored data-quality reports by gate decision", ["outcome"])
    counts = {bool(r["gate_passed"]): float(r["intervals"]) for r in rows.dq_gate_counts}
    gate.add_metric(["passed"], counts.get(True, 0.0))
    gate.add_metric(["failed"], counts.get(False, 0.0))
    campaigns = _gauge(
        "coord_campaigns", "Campaigns tracked across intervals, by the verdict of any occurrence", ["verdict"]
    )
    high = _gauge(
        "coord_campaigns_high_confidence",
        "Tracked campaigns with an occurrence at or above the alert confidence, by verdict",
        ["verdict"],
    )
    found = {r["verdict"]: r for r in rows.campaign_identities}
    for verdict in VERDICTS:
        row = found.get(verdict)
        campaigns.add_metric([verdict], float(row["campaigns"]) if row else 0.0)
        high.add_metric([verdict], float(row["high_confidence"]) if row else 0.0)
    cache = _gauge(
        "coord_analysis_cache_intervals",
        "Intervals whose analysis was (not) a cache hit",
        ["dag_id", "outcome"],
    )
    for row in rows.cache_counts:
        cache.add_metric([row["dag_id"], "hit" if row["hit"] else "miss"], float(row["intervals"]))
    rejected = _row_counts(
        "coord_cache_rejected_entries",
        "Cache entries rejected on verification by the stored intervals' latest analyses",
        ["dag_id"],
        "entries",
        rows.cache_rejected,
    )
    fresh_event = _gauge(
        "coord_newest_analysed_event_timestamp_seconds",
        "Time of the newest event of an analysed interval",
        [],
    )
    fresh_interval = _gauge(
        "coord_newest_analysed_interval_end_timestamp_seconds", "End of the newest analysed interval", []
    )
    if rows.newest_analysed_event is not None:
        fresh_event.add_metric([], rows.newest_analysed_event.timestamp())
    if rows.newest_analysed_interval_end is not None:
        fresh_interval.add_metric([], rows.newest_analysed_interval_end.timestamp())
    return [gate, campaigns, high, cache, rejected, fresh_event, fresh_interval]


def publish_metrics(rows: MetricRows) -> list[Metric]:
    """Exports to MISP and Elasticsearch and Redis outages, counted from the append-only audit log."""
    ok = CounterMetricFamily("coord_publish", "Completed exports by target", labels=["target"])
    failed = CounterMetricFamily(
        "coord_publish_failures",
        "Failed exports (and Redis outages during publish) by target",
        labels=["target"],
    )
    partial = CounterMetricFamily(
        "coord_publish_partial_errors",
        "Errors reported inside completed exports by target",
        labels=["target"],
    )
    last = _gauge(
        "coord_publish_last_timestamp_seconds",
        "Newest export attempt by target and outcome",
        ["target", "outcome"],
    )
    totals: dict[tuple[str, str], list[float]] = {}
    for row in rows.audit_counts:
        action = row["action"]
        if action not in PUBLISH_OK_ACTIONS and action not in PUBLISH_FAILED_ACTIONS:
            continue
        target = row["target"] or _ACTION_TARGET.get(action, action)
        outcome = "success" if action in PUBLISH_OK_ACTIONS else "failure"
        entry = totals.setdefault((target, outcome), [0.0, 0.0, 0.0])
        entry[0] += float(row["entries"])
        entry[1] += float(row["partial_errors"])
        entry[2] = max(entry[2], row["last_at"].timestamp())
    for (target, outcome), (entries, errors, at) in sorted(totals.items()):
        (ok if outcome == "success" else failed).add_metric([target], entries)
        if outcome == "success":
            partial.add_metric([target], errors)
        last.add_metric([target, outcome], at)
    return [ok, failed, partial, last]


def llm_metrics(rows: MetricRows) -> list[Metric]:
    """The narrative step: its newest run per DAG and how many narratives fell back from the LLM."""
    status = _gauge(
        "coord_llm_last_run_status", "1 for the status of the newest narrative run", ["dag_id", "status"]
    )
    generation = _gauge(
        "coord_llm_last_generation_seconds", "LLM generation time of the newest narrative run", ["dag_id"]
    )
    calls = _gauge("coord_llm_last_calls", "LLM calls of the newest narrative run", ["dag_id"])
    updated = _gauge(
        "coord_llm_last_run_timestamp_seconds", "When the newest narrative run was recorded", ["dag_id"]
    )
    for run in rows.latest_llm_runs:
        dag = run["dag_id"]
        for known in sorted(set(LLM_STATUSES) | {run["status"]}):
            status.add_metric([dag, known], 1.0 if known == run["status"] else 0.0)
        usage = run["usage"] or {}
        generation.add_metric([dag], float(usage.get("generation_ms", 0)) / 1000.0)
        calls.add_metric([dag], float(usage.get("calls", 0)))
        updated.add_metric([dag], run["updated_at"].timestamp())
    intervals = _row_counts(
        "coord_llm_intervals",
        "Stored narrative runs by status",
        ["dag_id", "status"],
        "intervals",
        rows.llm_runs_by_status,
    )
    narratives = _row_counts(
        "coord_narratives",
        "Stored narratives by LLM status (unavailable and rejected are fallbacks)",
        ["llm_status"],
        "narratives",
        rows.narratives_by_status,
    )
    return [status, generation, calls, updated, intervals, narratives]


def project_metrics(rows: MetricRows) -> Iterable[Metric]:
    """Every project metric family for one scrape (families without samples are still described)."""
    yield from run_metrics(rows)
    yield from interval_metrics(rows)
    yield from stored_metrics(rows)
    yield from publish_metrics(rows)
    yield from llm_metrics(rows)
