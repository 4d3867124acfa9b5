"""The DAG's ``publish_elasticsearch`` task body: skipped without a connection, loud on refused items."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import psycopg
import pytest
from coord_airflow import pipeline_tasks

from coord_core.adapters.elasticsearch_enrichment import (
    CAMPAIGN_TEMPLATE,
    SESSION_TEMPLATE,
    EnrichmentWriteError,
)
from coord_core.contracts.campaigns import AnalysisResult, RunInfo
from coord_core.contracts.window import DataWindow
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.dags.airflow_env import airflow_conn_uri
from tests.elasticsearch.cluster import EsServer, airflow_connection
from tests.emulators.elasticsearch import ElasticsearchEmulator

if TYPE_CHECKING:
    from airflow.sdk import Context

WINDOW = DataWindow(start=datetime(2025, 10, 24, 4, tzinfo=UTC), end=datetime(2025, 10, 24, 5, tzinfo=UTC))
SECRET = "c2VjcmV0LWFwaS1rZXk="


def _context() -> Context:
    """The keys the task reads, with stand-ins for the DAG run and task instance."""
    dag_run = SimpleNamespace(
        dag_id="dshield_coordination", run_id="manual__test", conf={}, run_type="manual"
    )
    context: dict[str, Any] = {
        "params": {},
        "dag_run": dag_run,
        "ti": SimpleNamespace(try_number=3, task_id="publish_elasticsearch"),
        "data_interval_start": WINDOW.start,
        "data_interval_end": WINDOW.end,
    }
    return cast("Context", context)


@pytest.fixture
def results_db(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        result = AnalysisResult(
            run=RunInfo(input_fingerprint="b" * 64, parameters={}, code_version="test"),
            independent_session_ids=["s1", "s2", "s3"],
        )
        ResultsStore(conn).save_analysis_result(WINDOW, result, parameters_hash="p")
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    monkeypatch.setattr(pipeline_tasks, "_report_lineage", lambda *a, **k: None)
    return postgres_dsn


def _logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> str:
    """Everything logged: Airflow may route the standard logging through structlog to stdout."""
    captured = capsys.readouterr()
    return caplog.text + captured.out + captured.err


def test_without_a_connection_the_task_says_so_and_succeeds(
    results_db: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_COORD_ELASTICSEARCH", raising=False)
    with caplog.at_level(logging.INFO):
        outcome = pipeline_tasks.publish_elasticsearch(_context())
    assert outcome["skipped"] is True
    text = _logged(caplog, capsys)
    assert "no coord_elasticsearch connection: Elasticsearch enrichment is not written" in text
    assert "(skipped, not an error)" in text and "error" not in text.lower().replace("not an error", "")


def test_refused_documents_fail_the_task_with_each_item_in_the_log_and_no_secret(
    results_db: str,
    es_server: EsServer,
    emulator: ElasticsearchEmulator,
    token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    connection = airflow_connection(
        es_server,
        session_index=f"{SESSION_TEMPLATE}-{token}",
        campaign_index=f"{CAMPAIGN_TEMPLATE}-{token}",
        api_key=SECRET,
    )
    monkeypatch.setenv("AIRFLOW_CONN_COORD_ELASTICSEARCH", json.dumps(connection))
    emulator.reject_bulk_items(100, 429)
    with caplog.at_level(logging.INFO), pytest.raises(EnrichmentWriteError):
        pipeline_tasks.publish_elasticsearch(_context())
    text = _logged(caplog, capsys)
    assert "Elasticsearch refused enrichment documents" in text
    error = text.split("Elasticsearch refused enrichment documents", 1)[1].splitlines()[:4]
    assert "3 enrichment document(s) could not be written" in error[0]
    assert all("HTTP 429 es_rejected_execution_exception" in line for line in error[1:])
    assert SECRET not in text
    with psycopg.connect(results_db) as conn:
        audit = conn.execute("SELECT details FROM coord.audit_log WHERE action = 'export_failed'").fetchone()
        exports = conn.execute("SELECT count(*) FROM coord.exports").fetchone()
    assert audit is not None and audit[0]["failed_count"] == 3 and audit[0]["try_number"] == 3
    assert SECRET not in json.dumps(audit[0])
    assert exports == (0,)


def test_index_patterns_and_enrichment_targets_come_from_the_connection(
    es_server: EsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coord_airflow import connections

    connection = airflow_connection(es_server, index_patterns="cowrie-a-*, cowrie.dshield-a-*")
    monkeypatch.setenv("AIRFLOW_CONN_COORD_ELASTICSEARCH", json.dumps(connection))
    settings = connections.elasticsearch_settings()
    assert settings.index_patterns == ("cowrie-a-*", "cowrie.dshield-a-*")
    assert settings.url.startswith("http") and "@" not in settings.url
