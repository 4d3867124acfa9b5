"""The trend task alerts a spike once: to the Redis alert channel and stream (the alert document)
and, through its success callback, to the webhook receiver; a quiet day alerts nothing. It also
stores the ISO week's report, shown on ``/coord-trends/``. Real PostgreSQL and Redis; the task's
own glue (``trend_tasks``) with its connections from the env."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import psycopg
import pytest
import redis
from coord_airflow import notifiers, trend_report_app, trend_tasks
from fastapi import Request
from fastapi.testclient import TestClient

from coord_core.contracts.alerts import Alert
from coord_core.pipeline.results_access import read_only_as
from coord_core.scenarios.stored_campaigns import daily_campaign
from coord_core.store import redis_keys
from tests.campaigns.corpus import store_intervals
from tests.dags.airflow_env import airflow_conn_uri, with_cache_secret
from tests.emulators.webhook_receiver import WebhookReceiver

if TYPE_CHECKING:
    from airflow.sdk import Context

SECRET = "whsec-spike-test-0123456789abcdef"
# Eight ordinary days, then four times the sessions (each from its own address): both daily
# methods call day 9 a spike on sessions and on sources.
COUNTS = [10, 11, 9, 10, 12, 10, 11, 9, 44]
SPIKE_DAY = date(2025, 11, 1)
QUIET_DAY = date(2025, 10, 31)


def _context(day: date, outcome: Any = None) -> Context:
    ti = SimpleNamespace(task_id="build_trend_reports", xcom_pull=lambda task_ids: outcome)
    dag_run = SimpleNamespace(dag_id="coord_trends", run_id=f"manual__{day}")
    return cast("Context", {"params": {"day": day.isoformat()}, "dag_run": dag_run, "ti": ti})


def _stream_after(client: redis.Redis[bytes], after: str) -> list[Alert]:
    entries = client.xrange(redis_keys.ALERT_STREAM, min=f"({after}")
    return [Alert.decode(fields[b"alert"]) for _, fields in entries]


def test_a_spike_is_alerted_once_to_the_channel_the_stream_and_the_webhook(
    postgres_dsn: str,
    redis_server_url: str,
    redis_client: redis.Redis[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        store_intervals(conn, daily_campaign(COUNTS, index=901, seed=5))
        (campaign_id,) = [
            r[0] for r in conn.execute("SELECT DISTINCT campaign_id FROM coord.campaign_identity")
        ]
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    monkeypatch.setenv("AIRFLOW_CONN_COORD_REDIS", with_cache_secret(redis_server_url))
    monkeypatch.setattr(notifiers, "_reported_off", set())
    newest = redis_client.xrevrange(redis_keys.ALERT_STREAM, count=1)
    before = newest[0][0].decode() if newest else "0-0"
    pubsub = redis_client.pubsub()
    pubsub.subscribe(redis_keys.ALERT_CHANNEL)
    assert pubsub.get_message(timeout=1) is not None  # the subscription's confirmation
    sent: list[str] = []
    try:
        with WebhookReceiver(SECRET) as receiver:
            monkeypatch.setenv(
                "AIRFLOW_CONN_COORD_WEBHOOK",
                json.dumps({"conn_type": "http", "host": receiver.url, "password": SECRET}),
            )
            quiet = trend_tasks.build_reports(_context(QUIET_DAY))
            notifiers.SpikesWebhook()(_context(QUIET_DAY, quiet))
            first = trend_tasks.build_reports(_context(SPIKE_DAY))
            sent = first[0]["spike_alerts"]
            notifiers.SpikesWebhook()(_context(SPIKE_DAY, first))
            # The report is rebuilt after every load of its day: a spike found again is not re-sent.
            again = trend_tasks.build_reports(_context(SPIKE_DAY))
            notifiers.SpikesWebhook()(_context(SPIKE_DAY, again))
        messages = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            messages.append(Alert.decode(message["data"]))
        streamed = _stream_after(redis_client, before)
    finally:
        pubsub.close()
        if sent:
            redis_client.delete(*[redis_keys.alert_sent(a) for a in sent])

    assert quiet[0]["spike_alerts"] == [] and again[0]["spike_alerts"] == []
    assert first[0]["spikes"] == 4 and len(sent) == 4
    mine = [a for a in messages if a.campaign_id == campaign_id]
    assert [a.alert_id for a in mine] == sent and len(messages) == len(mine)
    assert [a for a in streamed if a.campaign_id == campaign_id] == mine
    found = {(a.facts.metric, a.facts.method) for a in mine}  # type: ignore[union-attr]
    assert found == {(m, k) for m in ("sessions", "sources") for k in ("median_iqr", "mean_sigma")}
    assert all(a.kind == "spike" and a.facts.day == SPIKE_DAY and a.facts.value == 44 for a in mine)  # type: ignore[union-attr]

    (hook,) = receiver.received  # the quiet day and the rebuild sent nothing
    assert hook.signature_ok and hook.headers["X-Coord-Event"] == "spikes"
    body = hook.json()
    assert body["dag_id"] == "coord_trends" and body["run_id"] == f"manual__{SPIKE_DAY}"
    assert body["window"] == {"start": "2025-11-01T00:00:00+00:00", "end": "2025-11-02T00:00:00+00:00"}
    assert body["data"]["total"] == 4 and body["data"]["truncated"] is False
    assert sorted(s["alert_id"] for s in body["data"]["spikes"]) == sorted(sent)
    spike = body["data"]["spikes"][0]
    assert spike["campaign_id"] == campaign_id and spike["threshold"] < spike["value"] == 44

    # Each run also rebuilt the ISO week's report from the stored daily reports (the two built here).
    assert again[0]["weekly"] == {
        "week": "2025-W44", "sessions": COUNTS[-2] + COUNTS[-1], "previous_week_sessions": 0,
        "previous_week_days_reported": 0, "growth": None, "new_campaigns": 0, "spikes": 4,
        "campaigns_active_max": 1, "days_reported": 2,
    }  # fmt: skip
    page = TestClient(trend_report_app.create_app(db=_reader(postgres_dsn), authorize=_anyone))
    index = page.get("/")
    assert index.status_code == 200 and 'href="week?week=2025-W44"' in index.text
    week = page.get("/week", params={"week": "2025-W44"})
    assert week.status_code == 200 and "Weekly trend report 2025-W44" in week.text
    spikes = week.text[week.text.index('id="spikes"') : week.text.index('id="new_campaigns"')]
    assert spikes.count(f"coord-campaigns/campaign/{campaign_id}") == 4 and "2025-11-01" in spikes
    assert "No daily report for 2025-10-27" in week.text
    stored = page.get("/week.json", params={"week": "2025-W44"}).json()
    assert stored["lineage"]["daily_reports"] == [
        {"day": "2025-10-31", "run_id": "manual__2025-10-31"},
        {"day": "2025-11-01", "run_id": "manual__2025-11-01"},
    ]
    assert len(stored["lineage"]["runs_read"]) == len(COUNTS)  # every daily run the two days read
    assert page.get("/week", params={"week": "2025-44"}).status_code == 400
    assert page.get("/week", params={"week": "2025-W45"}).status_code == 404


def _reader(dsn: str) -> Callable[[], AbstractContextManager[psycopg.Connection[Any]]]:
    @contextmanager
    def reader() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(dsn) as conn:
            read_only_as(conn, None)
            yield conn

    return reader


async def _anyone(request: Request) -> None:
    """Authentication is Airflow's (tested with the campaign pages); not what this test is about."""
