"""The trend task alerts a spike once: to the Redis alert channel and stream (the alert document)
and, through its success callback, to the webhook receiver; a quiet day alerts nothing. Real
PostgreSQL and Redis; the task's own glue (``trend_tasks``) with its connections from the env."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import psycopg
import pytest
import redis
from coord_airflow import notifiers, trend_tasks

from coord_core.contracts.alerts import Alert
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
