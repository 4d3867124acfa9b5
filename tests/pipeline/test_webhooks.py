"""Webhook delivery against a real local receiver: signed bodies, retries on 5xx and dead
receivers only, bounded payloads, and one audit row per attempt in a real PostgreSQL."""

from __future__ import annotations

import json
import logging
import socket
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from coord_core.adapters.webhook import WebhookTarget, sign, verify
from coord_core.contracts.window import DataWindow
from coord_core.pipeline import webhooks
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.emulators.webhook_receiver import WebhookReceiver

SECRET = "whsec-test-0123456789abcdef0123456789abcdef"
WINDOW = DataWindow(start=datetime(2025, 10, 24, 8, tzinfo=UTC), end=datetime(2025, 10, 24, 9, tzinfo=UTC))
DAG = "dshield_coordination"


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    return ResultsStore(pg_conn)


@pytest.fixture
def receiver() -> Any:
    with WebhookReceiver(SECRET) as server:
        yield server


def _target(url: str, **more: Any) -> WebhookTarget:
    return WebhookTarget(url=url, secret=SECRET, timeout_s=5, **{"max_attempts": 4, "backoff_s": 0.5, **more})


def _audit_rows(store: ResultsStore) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT actor, dag_id, run_id, interval_start, details FROM coord.audit_log "
        "WHERE action = 'webhook_delivery' ORDER BY id"
    ).fetchall()
    return [
        {"actor": actor, "dag_id": dag_id, "run_id": run_id, "interval_start": start, **details}
        for actor, dag_id, run_id, start, details in rows
    ]


def _payload(reason: str = "validate: AirflowFailException: gate failed") -> dict[str, Any]:
    return webhooks.run_failed_payload(
        WINDOW, dag_id=DAG, run_id="manual__1", reason=reason, failed_task="validate", secrets=[SECRET]
    )


def test_signature_covers_timestamp_and_body_and_refuses_replays() -> None:
    body = b'{"event":"run_failed"}'
    signature = sign(SECRET, 1_760_000_000, body)
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(SECRET, body, signature, "1760000000", now=1_760_000_010)
    assert not verify(SECRET, body + b" ", signature, "1760000000", now=1_760_000_010)  # body changed
    assert not verify(SECRET, body, signature, "1760000001", now=1_760_000_010)  # timestamp changed
    assert not verify("other-secret", body, signature, "1760000000", now=1_760_000_010)
    assert not verify(SECRET, body, signature, "1760000000", now=1_760_000_000 + 301)  # a replay
    assert not verify(SECRET, body, None, "1760000000", now=1_760_000_010)


def test_a_5xx_is_retried_with_backoff_and_every_attempt_is_audited(
    store: ResultsStore, receiver: WebhookReceiver
) -> None:
    receiver.answer_next(500, 200)
    slept: list[float] = []
    delivery = webhooks.deliver(
        _target(receiver.url + "/hooks/coord"), _payload(), store=store, window=WINDOW, sleep=slept.append
    )
    assert delivery.delivered and delivery.status == 200
    assert [a.status for a in delivery.attempts] == [500, 200]
    assert slept == [0.5]
    assert [r.status for r in receiver.received] == [500, 200]
    assert all(r.signature_ok for r in receiver.received)
    first, second = receiver.received
    assert first.body == second.body and first.path == "/hooks/coord"
    assert first.headers["X-Coord-Delivery"] == second.headers["X-Coord-Delivery"]
    assert first.headers["X-Coord-Event"] == "run_failed"
    assert first.json()["data"]["failed_task"] == "validate"
    rows = _audit_rows(store)
    assert [(r["attempt"], r["status_code"], r["outcome"]) for r in rows] == [
        (1, 500, "retry"),
        (2, 200, "delivered"),
    ]
    for row in rows:
        assert (row["actor"], row["dag_id"], row["run_id"]) == ("airflow:webhook", DAG, "manual__1")
        assert row["interval_start"] == WINDOW.start
        assert row["target"] == receiver.url  # scheme, host and port: never the path
        assert row["event"] == "run_failed" and row["max_attempts"] == 4


def test_a_4xx_is_final(store: ResultsStore, receiver: WebhookReceiver) -> None:
    receiver.answer_next(400)
    slept: list[float] = []
    delivery = webhooks.deliver(
        _target(receiver.url), _payload(), store=store, window=WINDOW, sleep=slept.append
    )
    assert not delivery.delivered and delivery.status == 400
    assert len(receiver.received) == 1 and slept == []
    assert [(r["attempt"], r["status_code"], r["outcome"]) for r in _audit_rows(store)] == [
        (1, 400, "refused")
    ]


def test_a_wrong_secret_is_refused_by_the_receiver(store: ResultsStore, receiver: WebhookReceiver) -> None:
    target = WebhookTarget(url=receiver.url, secret="not-the-receivers-secret", max_attempts=3)
    delivery = webhooks.deliver(target, _payload(), store=store, window=WINDOW, sleep=lambda s: None)
    assert [r.status for r in receiver.received] == [401]
    assert not delivery.delivered and [a.outcome for a in delivery.attempts] == ["refused"]


def test_an_unreachable_receiver_is_tried_a_bounded_number_of_times(store: ResultsStore) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slept: list[float] = []
    target = _target(f"http://127.0.0.1:{port}/x", max_attempts=4, backoff_s=1.0, max_backoff_s=3.0)
    delivery = webhooks.deliver(target, _payload(), store=store, window=WINDOW, sleep=slept.append)
    assert not delivery.delivered
    assert slept == [1.0, 2.0, 3.0]  # doubling, capped
    rows = _audit_rows(store)
    assert [(r["attempt"], r["status_code"], r["outcome"]) for r in rows] == [
        (1, None, "retry"),
        (2, None, "retry"),
        (3, None, "retry"),
        (4, None, "failed"),
    ]
    assert all(r["error"].startswith("ConnectionRefusedError") for r in rows)


def test_attacker_text_is_bounded_escaped_and_secrets_stay_out(
    store: ResultsStore, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    hostile = (
        '"}],"event":"forged"</script>\u2028\x00\x1b[31m '
        f"postgresql://coord:db-password@db.example.org/coord {SECRET} " + "A" * 5000
    )
    token_url = receiver.url + "/hooks/t0k3n-in-path?key=query-token"
    with caplog.at_level(logging.DEBUG):
        delivery = webhooks.deliver(
            _target(token_url), _payload(hostile), store=store, window=WINDOW, sleep=lambda s: None
        )
    assert delivery.delivered
    (got,) = receiver.received
    assert got.body.isascii()  # JSON escapes every control and non-ASCII character
    parsed = json.loads(got.body)
    assert parsed["event"] == "run_failed"  # the quote in the text did not end the string
    reason = parsed["data"]["reason"]
    assert reason.startswith(
        '"}],"event":"forged"</script>\u2028\x00\x1b[31m postgresql://***@db.example.org'
    )
    assert len(reason) == webhooks.MAX_TEXT_CHARS and reason.endswith("...")
    for secret in (SECRET, "db-password", "t0k3n-in-path", "query-token"):
        assert secret not in got.body.decode()
        assert secret not in caplog.text
        assert secret not in json.dumps(_audit_rows(store), default=str)
    assert SECRET not in repr(_target(token_url))


def test_payload_size_is_bounded() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        webhooks.encode({"event": "x", "data": "y" * (webhooks.MAX_BODY_BYTES + 1)})


@pytest.mark.parametrize(
    ("url", "secret", "message"),
    [
        ("ftp://hooks.example.org/x", SECRET, "must be http"),
        ("https://user:pw@hooks.example.org/x", SECRET, "must not carry credentials"),
        ("https://hooks.example.org/x", "", "secret is empty"),
    ],
)
def test_unusable_targets_are_refused(url: str, secret: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookTarget(url=url, secret=secret)


def test_audit_outage_does_not_stop_the_delivery(
    postgres_dsn: str, receiver: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    conn = psycopg.connect(postgres_dsn, autocommit=True)
    store = ResultsStore(conn)  # no migrations: coord.audit_log does not exist
    with caplog.at_level(logging.INFO):
        delivery = webhooks.deliver(_target(receiver.url), _payload(), store=store, window=WINDOW)
    conn.close()
    assert delivery.delivered and len(receiver.received) == 1
    assert "cannot be audited" in caplog.text
    assert "attempt 1/4 -> 200 (delivered)" in caplog.text
