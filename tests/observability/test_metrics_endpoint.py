"""The Prometheus endpoint over a real PostgreSQL holding one pipeline run of a generated botnet.

The run goes through the pipeline's own functions (extract, validate, analyze, load, narrate
without an LLM, a MISP feed export, a refused Elasticsearch export) and the store's own audit
entries; the endpoint's text is parsed with prometheus_client's parser and compared with what
those functions reported.
"""

from __future__ import annotations

import re

import psycopg
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from coord_core.store.results import ResultsStore
from tests.observability.pipeline_run import DAG_ID, RUN_ID, PipelineRun
from tests.observability.support import metrics_app

TOKEN = "scrape-token-for-tests"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _client(dsn: str, token: str | None = TOKEN) -> TestClient:
    return TestClient(metrics_app(dsn, token))


def _scrape(client: TestClient) -> tuple[Samples, dict[str, str]]:
    reply = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/plain; version=")
    samples: Samples = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(reply.text):
        types[family.name] = family.type
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples, types


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_a_scrape_reports_what_the_run_read_found_and_published(pipeline_run: PipelineRun) -> None:
    samples, types = _scrape(_client(pipeline_run.dsn))
    run = pipeline_run
    assert _value(samples, "coord_store_up") == 1.0
    dag = {"dag_id": DAG_ID}
    events = {"dag_id": DAG_ID, "source_kind": "files"}
    assert _value(samples, "coord_interval_events", **events, outcome="read") == run.read
    assert _value(samples, "coord_interval_events", **events, outcome="quarantined") == run.quarantined_refs
    assert (
        _value(samples, "coord_interval_events", **events, outcome="valid") == run.read - run.quarantined_refs
    )
    assert _value(samples, "coord_interval_sessions", **events) == run.sessions
    assert _value(samples, "coord_interval_quarantined_records", **dag, stage="parse") >= 1
    assert _value(samples, "coord_interval_dq_gate_passed", **dag) == float(run.gate_passed)
    for verdict in ("coordinated_campaign", "single_actor_multi_source", "coincidental"):
        found = _value(samples, "coord_interval_campaigns", **dag, verdict=verdict)
        assert found == run.campaigns_by_verdict.get(verdict, 0)
    assert sum(_value(samples, "coord_campaigns", verdict=v) for v in run.campaigns_by_verdict) >= 1
    assert _value(samples, "coord_run_last_status", **dag, status="success") == 1.0
    assert _value(samples, "coord_run_last_status", **dag, status="running") == 0.0
    assert (
        _value(samples, "coord_run_last_interval_end_timestamp_seconds", **dag) == run.window.end.timestamp()
    )
    assert (
        _value(samples, "coord_run_last_success_interval_end_timestamp_seconds", **dag)
        == run.window.end.timestamp()
    )
    assert 0.0 < _value(samples, "coord_run_last_duration_seconds", **dag) < 600.0
    assert _value(samples, "coord_runs_started_total", **dag) == 1.0
    assert _value(samples, "coord_runs_finished_total", **dag) == 1.0
    assert _value(samples, "coord_interval_analysis_cache_hit", **dag) == 0.0
    assert _value(samples, "coord_publish_total", target="misp_feed") == 1.0
    assert _value(samples, "coord_publish_failures_total", target="elasticsearch") == 1.0
    assert _value(samples, "coord_llm_last_run_status", **dag, status="off") == 1.0
    assert _value(samples, "coord_newest_analysed_event_timestamp_seconds") == run.newest_event
    assert types["coord_publish_failures"] == "counter" and types["coord_interval_events"] == "gauge"
    # Bounded label values: no IP address, session or run id in any label.
    ip = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
    for _, labels in samples:
        for _, value in labels:
            assert not ip.match(value) and value != RUN_ID


def test_a_second_scrape_counts_a_new_failure_and_nothing_else_moves(pipeline_run: PipelineRun) -> None:
    client = _client(pipeline_run.dsn)
    before, _ = _scrape(client)
    with psycopg.connect(pipeline_run.dsn) as conn:
        ResultsStore(conn).audit(
            "airflow:pipeline",
            "misp_export_failed",
            dag_id=DAG_ID,
            run_id=RUN_ID,
            window=pipeline_run.window,
            details={"target": "misp", "error": "connection refused"},
        )
    after, _ = _scrape(client)
    assert _value(after, "coord_publish_failures_total", target="misp") == 1.0
    assert ("coord_publish_failures_total", (("target", "misp"),)) not in before
    moved = {k for k in before if k in after and before[k] != after[k]}
    assert moved <= {("coord_metrics_read_seconds", ())}


def test_scrapes_need_the_token_or_an_airflow_user(pipeline_run: PipelineRun) -> None:
    client = _client(pipeline_run.dsn)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert (
        _client(pipeline_run.dsn, token=None)
        .get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        .status_code
        == 401
    )


def test_an_unreachable_database_is_reported_as_down_not_as_an_empty_project() -> None:
    client = _client("postgresql://coord@127.0.0.1:1/coord?connect_timeout=2")
    samples, _ = _scrape(client)
    assert _value(samples, "coord_store_up") == 0.0
    assert not [name for name, _ in samples if name.startswith("coord_interval_")]
