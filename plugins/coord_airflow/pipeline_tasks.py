"""Glue between Airflow task context and the ``coord_core.pipeline`` stages.

Each function takes the task context, opens its clients from Airflow connections, runs one
stage for the run's data window and returns a small JSON-able summary for XCom.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from coord_airflow import connections, lineage

if TYPE_CHECKING:
    from airflow.sdk import Context
    from elasticsearch import Elasticsearch

    from coord_core.contracts.source_profile import SourceProfile
    from coord_core.contracts.window import DataWindow
    from coord_core.pipeline.misp import FeedPublisher, LiveMispPublisher, MispExportSettings
    from coord_core.pipeline.params import PipelineParams
    from coord_core.pipeline.sources import ReadRecord
    from coord_core.pipeline.stores import BestEffortRedis, ResultsStore

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
BUNDLED_SAMPLE = REPO_ROOT / "include" / "sample_data"
INPUT_PATHS_VARIABLE = "coord_input_paths"
MISP_FEED_DIR_VARIABLE = "coord_misp_feed_dir"
MISP_EXPORT_VARIABLE = "coord_misp_export"
PIPELINE_ACTOR = "airflow:pipeline"


class DataQualityGateFailed(AirflowFailException):
    """The data-quality gate stopped the run (no retry: the same data gets the same verdict); its own
    type so the gate's webhook fires for this and not for any other failure of the task."""

    def __init__(self, window_label: str, reason: str) -> None:
        super().__init__(f"data-quality gate failed for {window_label}: {reason}")
        self.reason = reason


def executed_by() -> str:
    """Which worker ran the task: the worker's configured name, else its host (seen in XCom)."""
    import socket

    return os.environ.get("COORD_WORKER_NAME") or socket.gethostname()


def _params(context: Context) -> PipelineParams:
    """The run's parameters; a conf that cannot succeed fails the task without retries."""
    from coord_core.pipeline.params import ConfRefused, check_conf

    try:
        return check_conf(dict(context["params"]))
    except ConfRefused as exc:
        raise AirflowFailException(str(exc)) from None


def _window(context: Context) -> DataWindow:
    try:
        return _params(context).window(context.get("data_interval_start"), context.get("data_interval_end"))
    except ValueError as exc:  # no data interval and no window in the conf: the same on every try
        raise AirflowFailException(str(exc)) from None


@contextmanager
def _store() -> Iterator[ResultsStore]:
    from coord_core.pipeline.stores import ResultsStore, liveness

    conn = connections.results_db()
    try:
        with liveness.explained(conn):  # a frozen server's abort names itself, not "closed unexpectedly"
            yield ResultsStore(conn)
    finally:
        conn.close()


@contextmanager
def _interval_store(context: Context, window: DataWindow) -> Iterator[ResultsStore]:
    """The store, holding the interval: a concurrent run of the same interval waits for this task."""
    with _store() as store, store.interval_lock(context["dag_run"].dag_id, window):
        yield store


# How long a failure callback keeps trying to record the failed try when the results database does
# not answer (the try typically failed because of it): it outlasts a restart or a short freeze, and
# Airflow schedules the retry meanwhile (the task's state is reported before its callbacks run).
FAILURE_RECORD_WAIT_S = 180.0
_FAILURE_RECORD_PAUSE_S = 5.0


def _failure_reason(context: Context) -> str:
    task_id = context["ti"].task_id
    error = context.get("exception")
    return f"{task_id}: {type(error).__name__}: {error}" if error else f"{task_id} failed"


def _record_failure(context: Context, *, final: bool) -> None:
    """Write the failed try (and, when ``final``, the run's failure) to the interval's run row,
    waiting up to ``FAILURE_RECORD_WAIT_S`` for the results database to answer."""
    import time

    import psycopg

    dag_run, ti = context["dag_run"], context["ti"]
    reason = _failure_reason(context)
    window = _window(context)
    deadline = time.monotonic() + FAILURE_RECORD_WAIT_S
    while True:
        try:
            with _store() as store:
                own = store.record_failed_try(
                    dag_run.dag_id,
                    window,
                    dag_run.run_id,
                    task=ti.task_id,
                    try_number=ti.try_number,
                    reason=reason,
                )
                if final:
                    own = store.mark_run_failed(dag_run.dag_id, window, dag_run.run_id, reason)
            break
        except psycopg.OperationalError as exc:
            if time.monotonic() + _FAILURE_RECORD_PAUSE_S > deadline:
                log.error(
                    "could not record the failed try %s of %s in coord.runs: the results database "
                    "did not answer for %.0f s (%s)",
                    ti.try_number,
                    ti.task_id,
                    FAILURE_RECORD_WAIT_S,
                    exc,
                )
                return
            log.warning("results database unreachable (%s): recording the failed try again shortly", exc)
            time.sleep(_FAILURE_RECORD_PAUSE_S)
    if not own:
        log.warning(
            "run %s of %s failed (%s) but the interval's run row is not its own: left as it is",
            dag_run.run_id,
            window.label,
            reason,
        )
    elif final:
        log.info("run %s of %s marked failed: %s", dag_run.run_id, window.label, reason)
    else:
        log.info(
            "try %s of %s recorded as failed in run %s: %s", ti.try_number, ti.task_id, dag_run.run_id, reason
        )


def mark_run_failed(context: Context) -> None:
    """Failure callback of every task: the interval's run row says ``failed`` and why, with the
    failed try in ``failed_tries``."""
    _record_failure(context, final=True)


def record_failed_try(context: Context) -> None:
    """Retry callback of every task: the failed try and why, in the run row's ``failed_tries``
    (the run itself goes on: its status stays ``running``)."""
    _record_failure(context, final=False)


def _audit(
    store: ResultsStore,
    context: Context,
    window: DataWindow,
    action: str,
    details: dict[str, Any] | None = None,
    *,
    actor: str = PIPELINE_ACTOR,
) -> None:
    """One ``coord.audit_log`` row for this DAG run and interval."""
    dag_run = context["dag_run"]
    store.audit(
        actor=actor,
        action=action,
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        window=window,
        details=details,
    )


def _allowed_input_bases() -> list[Path]:
    """The folders file inputs must resolve under: the Variable ``coord_input_bases``, else the
    bundled sample folder."""
    from airflow.sdk import Variable

    from coord_core.pipeline.sources import INPUT_BASES_VARIABLE, parse_bases

    return parse_bases(Variable.get(INPUT_BASES_VARIABLE, default=None))


def _input_paths(params: PipelineParams, bases: list[Path]) -> list[str]:
    """The run's input paths (param, else the Variable, else the bundled sample), each checked
    against ``bases`` again at run time: a path outside fails the task without retries."""
    from airflow.sdk import Variable

    from coord_core.pipeline.sources import InputPathRefused, confine

    if params.input_paths:
        paths = list(params.input_paths)
    else:
        configured = Variable.get(INPUT_PATHS_VARIABLE, default=None)
        paths = [p.strip() for p in str(configured or "").split(",") if p.strip()]
        if not paths:
            log.warning("no input_paths param or %r Variable: using the bundled sample", INPUT_PATHS_VARIABLE)
            paths = [str(BUNDLED_SAMPLE)]
    try:
        confine(paths, bases)
    except InputPathRefused as exc:
        raise AirflowFailException(str(exc)) from None
    return paths


def migrate_schema() -> dict[str, Any]:
    from coord_core.pipeline.stores import migrate

    conn = connections.results_db()
    try:
        applied = migrate(conn)
    finally:
        conn.close()
    log.info("migrations applied: %s", applied or "none (up to date)")
    return {"worker": executed_by(), "applied": applied}


def extract(context: Context) -> dict[str, Any]:
    """Stage the interval from the run's source (files or Elasticsearch) with its drift baseline."""
    from coord_core.pipeline.extract import extract_interval
    from coord_core.pipeline.stores import RunRecord, code_version

    params = _params(context)
    window = _window(context)
    dag_run = context["dag_run"]
    source = _files_source(params) if params.source == "files" else _elasticsearch_source(context, params)
    try:
        with _interval_store(context, window) as store:
            store.start_run(
                window,
                RunRecord(
                    dag_id=dag_run.dag_id,
                    run_id=dag_run.run_id,
                    try_number=context["ti"].try_number,
                    source_kind=params.source,
                    source_locations=source.locations,
                    source_query=source.query(),
                    code_version=code_version(),
                    parameters=params.model_dump(mode="json"),
                ),
            )
            starter = getattr(dag_run, "triggering_user_name", None) or "scheduler"
            run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type))
            _audit(
                store,
                context,
                window,
                "run_started",
                {"conf": dict(dag_run.conf or {}), "try_number": context["ti"].try_number},
                actor=f"airflow:{run_type}:{starter}",
            )
            outcome = extract_interval(
                store,
                window,
                source.records(),
                slack=params.session_slack,
                profile=source.profile(),
                profile_lookback=params.baseline_lookback if source.profiles_stream else None,
            )
            store.update_run(
                dag_run.dag_id,
                window,
                run_type=run_type,
                triggered_by=starter,
                event_count=outcome.read,
                quarantined_count=outcome.quarantined,
                session_count=outcome.sessions,
                input_fingerprint=outcome.input_fingerprint,
                **source.lineage_fields(),
            )
    finally:
        source.close()
    _report_lineage(
        context,
        inputs=source.lineage_inputs(),
        outputs=_results_tables("staged_events", "sessions", "quarantine", "dq_baselines"),
    )
    return {"worker": executed_by(), "window": window.label, "source": params.source, **asdict(outcome)}


class _FilesSource:
    """Cowrie log files: one stream covers the interval and its lookback (profiled in passing)."""

    profiles_stream = True

    def __init__(self, paths: list[str], allowed_bases: list[Path]) -> None:
        from coord_core.pipeline.sources import InputPathRefused, discover_files

        self.locations = paths
        self.allowed_bases = allowed_bases
        try:  # before anything is written: files inside folders (symlinks too) are checked here
            self.files = discover_files(paths, allowed_bases)
        except InputPathRefused as exc:
            raise AirflowFailException(str(exc)) from None

    def query(self) -> dict[str, Any] | None:
        return None

    def records(self) -> Iterator[ReadRecord[Any]]:
        """Every record of the files, valid events as plain records (extract needs no models)."""
        from coord_core.pipeline.sources import read_paths_records

        return read_paths_records(self.files, allowed_bases=self.allowed_bases)

    def profile(self) -> SourceProfile | None:
        return None

    def lineage_fields(self) -> dict[str, Any]:
        return {}

    def lineage_inputs(self) -> list[str]:
        return lineage.files(self.locations)

    def close(self) -> None:
        """Nothing held open between reads (each file is closed as it is read)."""


class _ElasticsearchSource:
    """DShield-SIEM indices: the widened interval through a point in time, the lookback profiled
    with one aggregation."""

    profiles_stream = False

    def __init__(
        self, client: Elasticsearch, window: DataWindow, params: PipelineParams, patterns: list[str]
    ) -> None:
        from coord_core.pipeline.sources import elasticsearch_reader

        widened = window.widened(params.session_slack)
        self.client = client
        self.window = window
        self.lookback = params.baseline_lookback
        self.locations = patterns
        self.reader = elasticsearch_reader(client, widened.start, widened.end, patterns)
        self._profile: SourceProfile | None = None

    def query(self) -> dict[str, Any]:
        return self.reader.lineage().query or {}

    def records(self) -> Iterator[ReadRecord[Any]]:
        return self.reader.records()

    def profile(self) -> SourceProfile | None:
        from coord_core.pipeline.sources import elasticsearch_profile

        if self.lookback is None:
            return None
        self._profile = elasticsearch_profile(
            self.client, self.window.start, lookback=self.lookback, index_patterns=self.locations
        )
        return self._profile

    def lineage_fields(self) -> dict[str, Any]:
        """The exact query, the concrete indices and the document count, for ``coord.runs``."""
        read = self.reader.lineage()
        query = dict(read.query or {})
        if self._profile is not None:
            query["baseline_profile"] = self._profile.query
        return {
            "source_query": query,
            "source_locations": read.locations,
            "document_count": read.document_count,
        }

    def lineage_inputs(self) -> list[str]:
        indices = self.reader.indices or self.locations
        return lineage.elasticsearch_indices(connections.ELASTICSEARCH_CONN_ID, indices)

    def close(self) -> None:
        self.client.close()


def _files_source(params: PipelineParams) -> _FilesSource:
    bases = _allowed_input_bases()
    return _FilesSource(_input_paths(params, bases), bases)


def _elasticsearch_source(context: Context, params: PipelineParams) -> _ElasticsearchSource:
    if not connections.connection_is_defined(connections.ELASTICSEARCH_CONN_ID):
        # Configuration, not a passing fault: retrying cannot help.
        raise AirflowFailException(
            f"source 'elasticsearch' needs the {connections.ELASTICSEARCH_CONN_ID} Airflow connection"
        )
    settings = connections.elasticsearch_settings()
    conf = dict(context["dag_run"].conf or {})
    # Patterns given for this run win; else the connection's; else the DAG's defaults.
    if "index_patterns" in conf or settings.index_patterns is None:
        patterns = list(params.index_patterns)
    else:
        patterns = list(settings.index_patterns)
    log.info("reading Elasticsearch %s, indices %s", settings.url, ",".join(patterns))
    return _ElasticsearchSource(connections.elasticsearch_client(), _window(context), params, patterns)


PUBLISHED_REDIS_KEYS = (
    "coord:run:*",
    "coord:campaigns:active",
    "coord:campaign:*",
    "coord:alerts",
    "coord:alerts:stream",
)
LOAD_TABLES = ("campaigns", "campaign_members", "evidence", "evidence_links", "campaign_features")


def _results_tables(*tables: str) -> list[str]:
    return lineage.postgres_tables(connections.POSTGRES_CONN_ID, tables)


def _redis_keys(redis: BestEffortRedis, *patterns: str) -> list[str]:
    if redis.client is None:
        return []
    return lineage.redis_keys(connections.REDIS_CONN_ID, patterns)


def _report_lineage(context: Context, *, inputs: list[str], outputs: list[str]) -> None:
    """Hand the task's real inputs/outputs to Airflow's lineage collector (OpenLineage)."""
    lineage.report(context["ti"], inputs=inputs, outputs=outputs)


def validate(context: Context) -> dict[str, Any]:
    """Great Expectations gate: quarantine bad rows, store results and report, stop on critical."""
    from coord_core.pipeline.validate import validate_interval

    params = _params(context)
    window = _window(context)
    with _interval_store(context, window) as store:
        outcome = validate_interval(
            store,
            window,
            critical_threshold=params.critical_failure_threshold,
            timestamp_slack=params.session_slack,
            empty_interval=params.empty_interval,
        )
        store.update_run(
            context["dag_run"].dag_id,
            window,
            dq_gate_passed=outcome.gate.passed,
            quarantined_count=outcome.counts.quarantined,  # parse and validation quarantine
        )
    _report_lineage(
        context,
        inputs=_results_tables("staged_events", "sessions"),
        outputs=_results_tables("quarantine", "sessions", "dq_results", "dq_reports"),
    )
    if not outcome.gate.passed:
        # A retry would reach the same verdict on the same data: fail without retrying.
        raise DataQualityGateFailed(window.label, outcome.gate.reason)
    counts = outcome.counts
    return {
        "worker": executed_by(),
        "window": window.label,
        "read": counts.read,
        "valid": counts.valid,
        "quarantined_parse": counts.quarantined_parse,
        "quarantined_validate": counts.quarantined_validate,
        "gate_outcome": outcome.gate.outcome,
        "gate": outcome.gate.reason[:500],
    }


def analyze(context: Context) -> dict[str, Any]:
    """Run the analysis workflow; its checkpoints (PostgreSQL) let a retried try resume."""
    from coord_core.pipeline.analyze import analyze_interval
    from coord_core.pipeline.stores import AnalysisResultCache, liveness, workflow_checkpointer

    params = _params(context)
    window = _window(context)
    redis = connections.best_effort_redis()
    signer = connections.cache_signer() if redis.client is not None else None
    intel = connections.threat_intel_source(redis.client)
    checkpoint_conn = connections.results_db()
    try:
        checkpointer = workflow_checkpointer(checkpoint_conn)
        with liveness.explained(checkpoint_conn), _interval_store(context, window) as store:
            summary = analyze_interval(
                store,
                window,
                params.analysis,
                # Entries are verified with the signing key; without one nothing is cached.
                cache=AnalysisResultCache(redis, signer) if signer is not None else None,
                checkpointer=checkpointer,
                dag_id=context["dag_run"].dag_id,
                redis=redis,
                # MISP through coord_misp; without it the threat_intel factor is recorded as missing.
                intel_sources=[intel],
            )
            # Cache entries that failed verification were misses (recomputed, looked up again);
            # the run row and the metrics say how many, so a forger or a corrupting cache shows.
            summary["intel_cache_rejected"] = getattr(intel, "cache_rejected", 0)
            store.update_run(
                context["dag_run"].dag_id,
                window,
                analysis_input_fingerprint=summary["input_fingerprint"],
                parameters_hash=summary["parameters_hash"],
                result_sha256=summary["result_sha256"],
                analysis_cache_hit=summary["cache_hit"],
                cache_rejected_count=summary["cache_rejected"] + summary["intel_cache_rejected"],
            )
    finally:
        checkpoint_conn.close()
    if summary["workflow_resumed"]:
        log.info("analysis workflow resumed from its checkpoint: nodes %s", summary["workflow_nodes"])
    _report_lineage(
        context,
        inputs=_results_tables("sessions", "feature_prevalence"),
        outputs=_results_tables("analysis_results", "feature_prevalence")
        + _redis_keys(redis, "coord:result:*"),
    )
    return {"worker": executed_by(), "window": window.label, **summary, "redis_failures": redis.failures}


def load(context: Context) -> dict[str, Any]:
    from datetime import timedelta

    from coord_core.pipeline.load import load_interval

    params = _params(context)
    window = _window(context)
    with _interval_store(context, window) as store:
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


def publish_redis(context: Context) -> dict[str, Any]:
    from coord_core.pipeline.publish_redis import publish_interval

    params = _params(context)
    window = _window(context)
    redis = connections.best_effort_redis()
    with _store() as store:
        outcome = publish_interval(
            redis, store, context["dag_run"].dag_id, window, alert_confidence=params.alert_confidence
        )
        if redis.failures:
            _audit(store, context, window, "redis_unavailable", {"failures": redis.failures})
    _report_lineage(
        context,
        inputs=_results_tables("analysis_results", "campaign_identity"),
        outputs=_redis_keys(redis, *PUBLISHED_REDIS_KEYS),
    )
    return {"worker": executed_by(), "window": window.label, **outcome}


def _misp_export_settings() -> MispExportSettings:
    """The Variable ``coord_misp_export`` (JSON, see ``MispExportSettings``), else the defaults."""
    import json

    from airflow.sdk import Variable

    from coord_core.pipeline.misp import MispExportSettings

    raw = Variable.get(MISP_EXPORT_VARIABLE, default=None)
    if not raw:
        return MispExportSettings()

    try:
        return MispExportSettings.model_validate(json.loads(raw) if isinstance(raw, str) else raw)
    except ValueError as exc:  # the same on every try: fail without retrying
        raise AirflowFailException(
            f"Variable {MISP_EXPORT_VARIABLE!r} holds invalid export settings: {str(exc)[:500]}"
        ) from exc


def _misp_feed_dir() -> Path:
    from airflow.sdk import Variable

    configured = Variable.get(MISP_FEED_DIR_VARIABLE, default=None)
    if configured:
        return Path(str(configured)).expanduser()
    home = os.environ.get("AIRFLOW_HOME") or str(Path.home() / "airflow")
    return Path(home) / "coord_misp_feed"


def publish_misp(context: Context) -> dict[str, Any]:
    """Export qualifying campaigns to the ``coord_misp`` MISP, or to a MISP feed folder without one."""
    from coord_core.pipeline.misp import FeedPublisher, LiveMispPublisher
    from coord_core.pipeline.publish_misp import export_interval

    params = _params(context)
    window = _window(context)
    dag_run = context["dag_run"]
    settings = _misp_export_settings()
    publisher: LiveMispPublisher | FeedPublisher
    if connections.connection_is_defined(connections.MISP_CONN_ID):
        misp = connections.misp_connection()
        log.info("exporting to MISP at %s", misp.location)
        publisher = LiveMispPublisher(misp.open, settings, location=misp.location)
        outputs = lineage.misp_events(misp.host)
    else:
        folder = _misp_feed_dir()
        log.info(
            "no %s connection: writing the MISP feed folder %s (add it to MISP as a local feed)",
            connections.MISP_CONN_ID,
            folder,
        )
        publisher = FeedPublisher(folder, settings)
        outputs = lineage.files([str(folder)])
    with _store() as store:
        outcome = export_interval(
            store,
            window,
            publisher,
            settings,
            min_confidence=params.min_publish_confidence,
            dag_id=dag_run.dag_id,
            run_id=dag_run.run_id,
        )
    _report_lineage(
        context,
        inputs=_results_tables("analysis_results", "campaigns", "campaign_identity", "sessions"),
        outputs=outputs + _results_tables("exports"),
    )
    return {"worker": executed_by(), "window": window.label, **outcome}


def publish_elasticsearch(context: Context) -> dict[str, Any]:
    """Write the per-session and per-campaign enrichment when ``coord_elasticsearch`` is set."""
    from coord_core.pipeline.publish_elasticsearch import (
        EnrichmentIndices,
        EnrichmentWriteError,
        publish_enrichment,
    )

    window = _window(context)
    dag_run = context["dag_run"]
    if not connections.connection_is_defined(connections.ELASTICSEARCH_CONN_ID):
        log.info(
            "no %s connection: Elasticsearch enrichment is not written for %s (skipped, not an error)",
            connections.ELASTICSEARCH_CONN_ID,
            window.label,
        )
        return {"worker": executed_by(), "window": window.label, "skipped": True}
    settings = connections.elasticsearch_settings()
    default = EnrichmentIndices()
    indices = EnrichmentIndices(
        sessions=settings.session_index or default.sessions,
        campaigns=settings.campaign_index or default.campaigns,
    )
    client = connections.elasticsearch_client()
    with _store() as store:
        try:
            summary = publish_enrichment(
                client,
                store,
                window,
                dag_id=dag_run.dag_id,
                run_id=dag_run.run_id,
                location=settings.url,
                actor=PIPELINE_ACTOR,
                indices=indices,
            )
        except EnrichmentWriteError as exc:
            # Every refused document is in the message; the task fails and Airflow retries it.
            log.error("Elasticsearch refused enrichment documents for %s: %s", window.label, exc)
            _audit(
                store,
                context,
                window,
                "export_failed",
                {
                    "target": "elasticsearch",
                    "location": settings.url,
                    "failed": [str(f) for f in exc.failures[:20]],
                    "failed_count": len(exc.failures),
                    "try_number": context["ti"].try_number,
                },
            )
            raise
        finally:
            client.close()
    _report_lineage(
        context,
        inputs=_results_tables("analysis_results"),
        outputs=lineage.elasticsearch_indices(
            connections.ELASTICSEARCH_CONN_ID, [indices.sessions, indices.campaigns]
        )
        + _results_tables("exports", "audit_log"),
    )
    return {"worker": executed_by(), "window": window.label, **summary}


def finish(context: Context) -> dict[str, Any]:
    window = _window(context)
    dag_run = context["dag_run"]
    with _store() as store:
        store.update_run(dag_run.dag_id, window, status="success")
        _audit(store, context, window, "run_finished")
    return {"worker": executed_by(), "window": window.label, "status": "success"}


def narrate(context: Context) -> dict[str, Any]:
    """LLM narrative per campaign (``gpu`` queue); with ``llm`` false it records that it was off."""
    from coord_core.pipeline.narrate import NarratorConfig, RunContext, narrate_interval, record_llm_off

    params = _params(context)
    window = _window(context)
    dag_run = context["dag_run"]
    run = RunContext(dag_run.dag_id, dag_run.run_id, context["ti"].try_number, executed_by())
    with _store() as store:
        if not params.llm:
            summary = record_llm_off(store, window, run)
        elif not connections.connection_is_defined(connections.OLLAMA_CONN_ID):
            reason = f"no {connections.OLLAMA_CONN_ID} connection is defined"
            summary = narrate_interval(
                store, window, run, client=None, config=NarratorConfig(), unavailable_reason=reason
            )
        else:
            client, config, url = connections.ollama_client()
            with client:
                summary = narrate_interval(store, window, run, client=client, config=config, server=url)
    _report_lineage(
        context,
        inputs=_results_tables("analysis_results", "sessions"),
        outputs=_results_tables("narratives", "llm_runs", "runs")
        if params.llm
        else _results_tables("llm_runs"),
    )
    return {"worker": executed_by(), "window": window.label, **summary}
