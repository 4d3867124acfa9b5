"""The DAG's webhook notifiers in-process: configured through ``coord_webhook``, off (said once)
without it, sending the gate, run and new-campaign events to a real receiver, audited in PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import psycopg
import pytest
import redis
from coord_airflow import notifiers, pipeline_tasks

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.analyze import analyze_interval
from coord_core.pipeline.extract import extract_interval
from coord_core.pipeline.load import load_interval
from coord_core.pipeline.publish_redis import publish_interval
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_writer import write_scenario
from coord_core.store import redis_keys
from coord_core.store.migrations import migrate
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.store.results import ResultsStore, RunRecord
from tests.dags.airflow_env import airflow_conn_uri
from tests.emulators.webhook_receiver import WebhookReceiver

if TYPE_CHECKING:
    from airflow.sdk import Context

SECRET = "whsec-notifier-test-0123456789abcdef"
DAG = "dshield_coordination"
CONF = {"window_start": "2025-10-24T08:00:00+00:00", "window_end": "2025-10-24T09:00:00+00:00"}


@pytest.fixture
def store(pg_conn: psycopg.Connection, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> ResultsStore:
    migrate(pg_conn)
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    monkeypatch.setattr(notifiers, "_reported_off", set())
    return ResultsStore(pg_conn)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as server:
        host, port = server.url.removeprefix("http://").rsplit(":", 1)
        conn = {
            "conn_type": "http",
            "host": host,
            "port": int(port),
            "schema": "hooks/coord",
            "password": SECRET,
            "extra": {"backoff": 0.01, "max_attempts": 3},
        }
        monkeypatch.setenv("AIRFLOW_CONN_COORD_WEBHOOK", json.dumps(conn))
        yield server


def _context(run_id: str = "manual__1", conf: dict[str, Any] = CONF, **more: Any) -> Context:
    return cast(
        "Context",
        {
            "params": conf,
            "dag_run": SimpleNamespace(dag_id=DAG, run_id=run_id, conf=conf, run_type="manual"),
            "data_interval_start": None,
            "data_interval_end": None,
            **more,
        },
    )


def _deliveries(store: ResultsStore) -> list[tuple[str, int, int | None, str]]:
    rows = store.conn.execute(
        "SELECT details FROM coord.audit_log WHERE action = 'webhook_delivery' ORDER BY id"
    ).fetchall()
    return [(d["event"], d["attempt"], d["status_code"], d["outcome"]) for (d,) in rows]


def test_without_the_connection_webhooks_are_off_and_it_is_said_once(
    store: ResultsStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_COORD_WEBHOOK", raising=False)
    window = DataWindow.model_validate({"start": CONF["window_start"], "end": CONF["window_end"]})
    error = pipeline_tasks.DataQualityGateFailed(window.label, "18 critical expectations failed")
    with caplog.at_level(logging.INFO, logger=notifiers.__name__):
        notifiers.GateFailedWebhook()(_context(ti=SimpleNamespace(task_id="validate"), exception=error))
        notifiers.RunFailedWebhook()(_context(ti=SimpleNamespace(task_id="validate")))
    said = [r.getMessage() for r in caplog.records if "webhooks are off" in r.getMessage()]
    assert said == ["no coord_webhook connection: webhooks are off"]
    assert _deliveries(store) == []


def test_a_failed_gate_sends_its_webhook_and_other_errors_do_not(
    store: ResultsStore, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    window = DataWindow.model_validate({"start": CONF["window_start"], "end": CONF["window_end"]})
    ti = SimpleNamespace(task_id="validate", try_number=1)
    notifiers.GateFailedWebhook()(_context(ti=ti, exception=OSError("disk gone")))
    assert receiver.received == []
    receiver.answer_next(503)  # one retry, then delivered
    error = pipeline_tasks.DataQualityGateFailed(window.label, "critical expectation src_ip failed: 92%")
    with caplog.at_level(logging.DEBUG):
        notifiers.GateFailedWebhook()(_context(ti=ti, exception=error))
    assert [r.status for r in receiver.received] == [503, 200]
    assert all(r.signature_ok and r.path == "/hooks/coord" for r in receiver.received)
    body = receiver.received[-1].json()
    assert body["event"] == "dq_gate_failed" and body["run_id"] == "manual__1"
    assert body["window"] == {"start": CONF["window_start"], "end": CONF["window_end"]}
    assert body["data"] == {
        "reason": "critical expectation src_ip failed: 92%",
        "report_path": "/coord-dq/report?dag_id=dshield_coordination&run_id=manual__1",
    }
    assert _deliveries(store) == [
        ("dq_gate_failed", 1, 503, "retry"),
        ("dq_gate_failed", 2, 200, "delivered"),
    ]
    assert SECRET not in caplog.text


def test_a_failed_run_reports_the_reason_its_run_row_recorded(
    store: ResultsStore, receiver: WebhookReceiver
) -> None:
    window = DataWindow.model_validate({"start": CONF["window_start"], "end": CONF["window_end"]})
    record = RunRecord(
        dag_id=DAG, run_id="manual__7", try_number=1, source_kind="files", source_locations=["/x"],
        source_query=None, code_version="c", parameters={},
    )  # fmt: skip
    store.start_run(window, record)
    store.mark_run_failed(DAG, window, "manual__7", "analyze: OperationalError: connection lost")
    notifiers.RunFailedWebhook()(
        _context("manual__7", ti=SimpleNamespace(task_id="analyze"), reason="task_failure")
    )
    # A minimal callback context (no task instance was left to describe): the run is still reported.
    from airflow.sdk import DAG as AirflowDag

    minimal = {"dag": AirflowDag(DAG, schedule=None), "run_id": "manual__8", "reason": "timed out"}
    notifiers.RunFailedWebhook()(cast("Context", minimal))
    first, second = (r.json() for r in receiver.received)
    assert first["event"] == "run_failed"
    assert first["data"] == {"failed_task": "analyze", "reason": "analyze: OperationalError: connection lost"}
    assert second["window"] is None and second["data"] == {"failed_task": None, "reason": "timed out"}
    assert [d[0] for d in _deliveries(store)] == ["run_failed", "run_failed"]


def test_a_refused_delivery_is_not_retried(store: ResultsStore, receiver: WebhookReceiver) -> None:
    receiver.answer_next(410)
    notifiers.RunFailedWebhook()(_context(ti=SimpleNamespace(task_id="extract")))
    assert [r.status for r in receiver.received] == [410]
    assert _deliveries(store) == [("run_failed", 1, 410, "refused")]


def test_new_campaigns_flagged_by_tracking_are_sent_once(
    store: ResultsStore, receiver: WebhookReceiver, redis_client: redis.Redis[bytes], tmp_path: Path
) -> None:
    scenario = generate("dropper_botnet", 3, size="small")
    log_path, _ = write_scenario(scenario.plans, scenario.truth(), tmp_path / "botnet")
    window = scenario.window
    extract_interval(store, window, read_paths([log_path]))
    analyze_interval(store, window, {})
    load_interval(store, window)
    tracks = store.campaign_tracks_of(window)
    redis_client.delete(*[redis_keys.alerted(t["campaign_id"]) for t in tracks])  # new to this Redis
    conf = {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "alert_confidence": 0.5,
    }
    expected = {t["campaign_id"] for t in tracks if t["confidence"] >= 0.5}
    assert expected, "the generated botnet must give at least one campaign above the threshold"

    try:
        for _ in range(2):  # the second publish of the interval finds nothing new: no webhook
            outcome = publish_interval(
                BestEffortRedis(redis_client), store, DAG, window, alert_confidence=0.5
            )
            ti = SimpleNamespace(task_id="publish_redis", xcom_pull=lambda task_ids, outcome=outcome: outcome)
            notifiers.NewCampaignsWebhook()(_context(conf=conf, ti=ti))
    finally:
        redis_client.delete(*[redis_keys.alerted(t["campaign_id"]) for t in tracks])

    (got,) = receiver.received
    assert got.signature_ok and got.headers["X-Coord-Event"] == "new_campaigns"
    data = got.json()["data"]
    assert {c["campaign_id"] for c in data["campaigns"]} == expected
    assert data["total"] == len(expected) and data["truncated"] is False
    assert [c["confidence"] for c in data["campaigns"]] == sorted(
        (c["confidence"] for c in data["campaigns"]), reverse=True
    )
    assert _deliveries(store) == [("new_campaigns", 1, 200, "delivered")]


@pytest.mark.parametrize(
    ("conn", "url"),
    [
        # URI form: the path is the connection's schema; https unless the type says http.
        ("https://:s3cret@hooks.example.org:8443/coord%2Fin", "https://hooks.example.org:8443/coord/in"),
        ('{"conn_type": "http", "host": "10.0.0.5", "port": 8080, "password": "s3cret"}', "http://10.0.0.5:8080"),
        ('{"conn_type": "generic", "host": "https://h.example.org/x?k=1", "password": "s3cret"}', "https://h.example.org/x?k=1"),
    ],
)  # fmt: skip
def test_the_connection_names_the_receiver(conn: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from coord_airflow import connections

    monkeypatch.setenv("AIRFLOW_CONN_COORD_WEBHOOK", conn)
    target = connections.webhook_target()
    assert (target.url, target.secret, target.max_attempts) == (url, "s3cret", 4)


def test_a_connection_without_a_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from coord_airflow import connections

    monkeypatch.setenv("AIRFLOW_CONN_COORD_WEBHOOK", '{"conn_type": "https", "host": "h.example.org"}')
    with pytest.raises(ValueError, match="coord_webhook: webhook signing secret is empty"):
        connections.webhook_target()
    monkeypatch.setenv(
        "AIRFLOW_CONN_COORD_WEBHOOK",
        '{"conn_type": "https", "host": "h.example.org", "password": "s", "extra": {"max_attempts": 50}}',
    )
    with pytest.raises(ValueError, match=r"max_attempts must be 1\.\.10"):
        connections.webhook_target()
