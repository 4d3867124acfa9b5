"""Glue between Airflow task context and the ``coord_core.pipeline`` stages.

Each function takes the task context, opens its clients from Airflow connections, runs one
stage for the run's data window and returns a small JSON-able summary for XCom.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coord_airflow import connections, lineage

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_SAMPLE = REPO_ROOT / "include" / "sample_data"
INPUT_PATHS_VARIABLE = "coord_input_paths"


def executed_by() -> str:
    """Which worker ran the task: the worker's configured name, else its host (seen in XCom)."""
    import socket

    return os.environ.get("COORD_WORKER_NAME") or socket.gethostname()


def _params(context: Any) -> Any:
    from coord_core.pipeline.params import PipelineParams

    raw = {k: v for k, v in dict(context["params"]).items() if v is not None}
    return PipelineParams.model_validate(raw)


def _window(context: Any) -> Any:
    return _params(context).window(context.get("data_interval_start"), context.get("data_interval_end"))


@contextmanager
def _store() -> Iterator[Any]:
    from coord_core.store.results import ResultsStore

    conn = connections.results_db()
    try:
        yield ResultsStore(conn)
    finally:
        conn.close()


def _input_paths(params: Any) -> list[str]:
    if params.input_paths:
        return list(params.input_paths)
    from airflow.sdk import Variable

    configured = Variable.get(INPUT_PATHS_VARIABLE, default=None)
    if configured:
        return [p.strip() for p in str(configured).split(",") if p.strip()]
    log.warning("no input_paths param or %r Variable: using the bundled sample", INPUT_PATHS_VARIABLE)
    return [str(BUNDLED_SAMPLE)]


def migrate_schema() -> dict[str, Any]:
    from coord_core.store.migrations import migrate

    conn = connections.results_db()
    try:
        applied = migrate(conn)
    finally:
        conn.close()
    log.info("migrations applied: %s", applied or "none (up to date)")
    return {"worker": executed_by(), "applied": applied}


def extract(context: Any) -> dict[str, Any]:
    from coord_core.ingest.cowrie_files import read_paths
    from coord_core.pipeline.extract import extract_interval
    from coord_core.store.results import RunRecord
    from coord_core.version import code_version

    params = _params(context)
    window = _window(context)
    dag_run = context["dag_run"]
    if params.source != "files":
        raise NotImplementedError(f"source {params.source!r} is not wired in this DAG version")
    paths = _input_paths(params)
    with _store() as store:
        store.start_run(
            window,
            RunRecord(
                dag_id=dag_run.dag_id,
                run_id=dag_run.run_id,
                try_number=context["ti"].try_number,
                source_kind=params.source,
                source_locations=paths,
                source_query=None,
                code_version=code_version(),
                parameters=params.model_dump(mode="json"),
            ),
        )
        starter = getattr(dag_run, "triggering_user_name", None) or "scheduler"
        run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type))
        store.audit(
            actor=f"airflow:{run_type}:{starter}",
            action="run_started",
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
            window=window,
            details={"conf": dict(dag_run.conf or {}), "try_number": context["ti"].try_number},
        )
        outcome = extract_interval(store, window, read_paths(paths), slack=params.session_slack)
        store.update_run(
            dag_run.dag_id,
            window,
            run_type=run_type,
            triggered_by=starter,
            event_count=outcome.read,
            quarantined_count=outcome.quarantined,
            session_count=outcome.sessions,
            input_fingerprint=outcome.input_fingerprint,
        )
    _report_lineage(
        context,
        inputs=lineage.files(paths),
        outputs=_results_tables("staged_events", "sessions", "quarantine"),
    )
    return {"worker": executed_by(), "window": window.label, **outcome.as_dict()}


PUBLISHED_REDIS_KEYS = ("coord:run:*", "coord:campaigns:active", "coord:campaign:*", "coord:alerts")
LOAD_TABLES = ("campaigns", "campaign_members", "evidence", "evidence_links", "campaign_features")


def _results_tables(*tables: str) -> list[str]:
    return lineage.postgres_tables(connections.POSTGRES_CONN_ID, tables)


def _redis_keys(redis: Any, *patterns: str) -> list[str]:
    if redis.client is None:
        return []
    return lineage.redis_keys(connections.REDIS_CONN_ID, patterns)


def _report_lineage(context: Any, *, inputs: list[str], outputs: list[str]) -> None:
    """Hand the task's real inputs/outputs to Airflow's lineage collector (OpenLineage)."""
    lineage.report(context["ti"], inputs=inputs, outputs=outputs)


def _best_effort_redis() -> Any:
    """Redis as a cache: not configured or unreachable means a warning, never a failed run."""
    from coord_core.store.redis_resilience import BestEffortRedis

    if not connections.connection_is_defined(connections.REDIS_CONN_ID):
        log.warning("no %s connection: Redis cache and tracking are off", connections.REDIS_CONN_ID)
        return BestEffortRedis(client=None)
    return BestEffortRedis(client=connections.redis_client())


def validate(context: Any) -> dict[str, Any]:
    """Great Expectations gate: quarantine bad rows, store results and report, stop on critical."""
    from airflow.sdk.exceptions import AirflowFailException

    from coord_core.quality.config import QualityConfig
    from coord_core.quality.stage import validate_stage

    params = _params(context)
    window = _window(context)
    config = QualityConfig(
        critical_threshold=params.critical_failure_threshold, timestamp_slack=params.session_slack
    )
    with _store() as store:
        outcome = validate_stage(store, window, config)
        store.update_run(context["dag_run"].dag_id, window, dq_gate_passed=outcome.gate.passed)
    _report_lineage(
        context,
        inputs=_results_tables("staged_events", "sessions"),
        outputs=_results_tables("quarantine", "sessions", "dq_results", "dq_reports"),
    )
    if not outcome.gate.passed:
        # A retry would reach the same verdict on the same data: fail without retrying.
        raise AirflowFailException(f"data-quality gate failed for {window.label}: {outcome.gate.reason}")
    counts = outcome.counts
    return {
        "worker": executed_by(),
        "window": window.label,
        "read": counts.read,
        "valid": counts.valid,
        "quarantined_parse": counts.quarantined_parse,
        "quarantined_validate": counts.quarantined_validate,
        "gate": outcome.gate.reason[:500],
    }


def analyze(context: Any) -> dict[str, Any]:
    """Run the analysis workflow; its checkpoints (PostgreSQL) let a retried try resume."""
    from coord_core.pipeline.analyze import analyze_interval
    from coord_core.store.result_cache import AnalysisResultCache
    from coord_core.workflow.checkpoint import open_checkpointer

    params = _params(context)
    window = _window(context)
    redis = _best_effort_redis()
    checkpoint_conn = connections.results_db()
    try:
        checkpointer = open_checkpointer(checkpoint_conn)
        with _store() as store:
            summary = analyze_interval(
                store,
                window,
                params.analysis,
                cache=AnalysisResultCache(redis),
                checkpointer=checkpointer,
                dag_id=context["dag_run"].dag_id,
                redis=redis,
            )
            store.update_run(
                context["dag_run"].dag_id,
                window,
                analysis_input_fingerprint=summary["input_fingerprint"],
                parameters_hash=summary["parameters_hash"],
                result_sha256=summary["result_sha256"],
                analysis_cache_hit=summary["cache_hit"],
            )
    finally:
        checkpoint_conn.close()
    if summary["workflow_resumed"]:
        log.info("analysis workflow resumed from its checkpoint: nodes %s", summary["workflow_nodes"])
    _report_lineage(
        context,
        inputs=_results_tables("sessions"),
        outputs=_results_tables("analysis_results") + _redis_keys(redis, "coord:result:*"),
    )
    return {"worker": executed_by(), "window": window.label, **summary, "redis_failures": redis.failures}


def load(context: Any) -> dict[str, Any]:
    from datetime import timedelta

    from coord_core.pipeline.load import load_interval

    params = _params(context)
    window = _window(context)
    with _store() as store:
        summary = load_interval(
            store, window, identity_max_gap=timedelta(hours=params.identity_max_gap_hours)
        )
        store.update_run(context["dag_run"].dag_id, window, campaign_count=summary["campaigns"])
    _report_lineage(
        context,
        inputs=_results_tables("analysis_results", "sessions"),
        outputs=_results_tables(*LOAD_TABLES),
    )
    return {"worker": executed_by(), "window": window.label, **summary}


def publish_redis(context: Any) -> dict[str, Any]:
    from coord_core.pipeline.publish import publish_interval

    params = _params(context)
    window = _window(context)
    redis = _best_effort_redis()
    with _store() as store:
        outcome = publish_interval(
            redis, store, context["dag_run"].dag_id, window, alert_confidence=params.alert_confidence
        )
        if redis.failures:
            store.audit(
                actor="airflow:pipeline",
                action="redis_unavailable",
                dag_id=context["dag_run"].dag_id,
                run_id=context["dag_run"].run_id,
                window=window,
                details={"failures": redis.failures},
            )
    _report_lineage(
        context,
        inputs=_results_tables("analysis_results", "campaign_identity"),
        outputs=_redis_keys(redis, *PUBLISHED_REDIS_KEYS),
    )
    return {"worker": executed_by(), "window": window.label, **outcome}


def finish(context: Any) -> dict[str, Any]:
    window = _window(context)
    dag_run = context["dag_run"]
    with _store() as store:
        store.update_run(dag_run.dag_id, window, status="success")
        store.audit(
            actor="airflow:pipeline",
            action="run_finished",
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
            window=window,
        )
    return {"worker": executed_by(), "window": window.label, "status": "success"}
