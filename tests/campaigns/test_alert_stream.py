"""The live alert stream (``GET /alerts/stream`` of the results API) served by uvicorn in this
process and read by an httpx client while alerts are published to a real Redis: each alert as an
SSE event, heartbeats, resume by Last-Event-ID, the gap when the stream trimmed what a client
missed, the time limit, a clean disconnect, and refusals (no login, a bad id, no Redis)."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis
import redis.asyncio
from coord_airflow.alert_events import StreamSettings
from coord_airflow.results_api import caller_limiter, create_app
from fastapi import FastAPI, HTTPException, Request
from fastapi.testclient import TestClient
from starlette.types import ASGIApp

from coord_core.contracts.alerts import Alert, new_campaign_alert, spike_alert
from coord_core.store.alert_stream import STREAM_MAXLEN, publish_once
from coord_core.store.redis_resilience import BestEffortRedis
from tests.asgi_thread import served_in_thread

TOKEN = "token-a"


async def _caller(request: Request) -> str:
    """Airflow's answers (``airflow_user``): no token 401, a token it cannot verify 403."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not token:
        raise HTTPException(status_code=401, detail="Not authenticated")
    if token != TOKEN:
        raise HTTPException(status_code=403, detail="Invalid JWT token")
    return "analyst-a"


@contextmanager
def _no_database() -> Iterator[Any]:
    raise AssertionError("the alert stream reads no database")
    yield


@dataclass
class Keys:
    """The stream, channel and marker keys one test owns (deleted afterwards)."""

    prefix: str
    stream: str = ""
    channel: str = ""
    markers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stream, self.channel = f"{self.prefix}:stream", f"{self.prefix}:channel"

    def marker(self, name: str) -> str:
        self.markers.append(f"{self.prefix}:sent:{name}")
        return self.markers[-1]


@pytest.fixture
def keys(redis_client: redis.Redis[bytes]) -> Iterator[Keys]:
    owned = Keys(f"coordtest-alerts-{uuid.uuid4().hex[:10]}")
    yield owned
    limits = [k.decode() for k in redis_client.scan_iter(match=f"coord:ratelimit:{owned.prefix}:*")]
    redis_client.delete(owned.stream, *owned.markers, *limits)


def _app(redis_url: str, keys: Keys, **settings: Any) -> FastAPI:
    limiter = caller_limiter(redis.Redis.from_url(redis_url), limit=1000, window_s=60, namespace=keys.prefix)
    return create_app(
        reader=_no_database,
        authenticate=_caller,
        limiter=limiter,
        alert_redis=lambda: redis.asyncio.Redis.from_url(redis_url),
        alert_settings=StreamSettings(**{"heartbeat_s": 0.3, "stream": keys.stream, **settings}),
    )


@contextmanager
def _served(app: ASGIApp) -> Iterator[str]:
    """``app`` under uvicorn in a thread of this process; its base URL."""
    with served_in_thread(app) as address:
        yield f"http://{address}"


def _wait(ready: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(what)
        time.sleep(0.02)


@dataclass(frozen=True)
class Event:
    event: str | None
    event_id: str | None
    data: str
    comments: tuple[str, ...]


class Listener:
    """An SSE client in a thread: parses the response into events (comments kept) on a queue."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[Event | BaseException | None] = queue.Queue()
        self.status: int | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10.0, read=5.0))
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers), daemon=True)
        self._thread.start()
        assert self._opened.wait(10), "the stream did not open"

    def _run(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self._opened.set()
                fields: dict[str, str] = {}
                comments: list[str] = []
                for line in response.iter_lines():
                    if self._stop.is_set():
                        return
                    if line == "":
                        if fields or comments:
                            self.events.put(
                                Event(
                                    fields.get("event"),
                                    fields.get("id"),
                                    fields.get("data", ""),
                                    tuple(comments),
                                )
                            )
                        fields, comments = {}, []
                    elif line.startswith(":"):
                        comments.append(line[1:].strip())
                    else:
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
            self.events.put(None)  # the server ended the response
        except BaseException as exc:  # handed to the test, which fails on it
            self._opened.set()
            if not self._stop.is_set():
                self.events.put(exc)

    def next(self, timeout_s: float = 5.0, *, skip_heartbeats: bool = True) -> Event | None:
        deadline = time.monotonic() + timeout_s
        while True:
            item = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(item, BaseException):
                raise item
            if item is None or not skip_heartbeats or item.event or item.data:
                return item

    def close(self) -> None:
        self._stop.set()
        self._client.close()
        self._thread.join(timeout=10)


def _alert(n: int) -> Alert:
    seen = datetime(2025, 11, 1, n % 24, tzinfo=UTC)
    facts = {"verdict": "coordinated_campaign", "confidence": 0.9, "first_seen": seen, "last_seen": seen}
    return new_campaign_alert(
        f"cmp-live-{n:04d}",
        {**facts, "intervals": 1, "sessions": 5 + n},
        alert_confidence=0.8,
        emitted_at=datetime.now(UTC),
    )


def _publish(client: redis.Redis[bytes], keys: Keys, alert: Alert) -> str:
    entry = publish_once(
        BestEffortRedis(client), alert, keys.marker(alert.alert_id), stream=keys.stream, channel=keys.channel
    )
    assert entry is not None
    return entry


def test_alerts_stream_live_resume_after_a_disconnect_and_the_stream_closes_cleanly(
    redis_server_url: str, redis_client: redis.Redis[bytes], keys: Keys
) -> None:
    app = _app(redis_server_url, keys)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    with _served(app) as base:
        url = f"{base}/alerts/stream"
        # Refused like every API call: no login 401, a token Airflow cannot verify 403; a bad id 400.
        assert httpx.get(url, timeout=5).status_code == 401
        assert httpx.get(url, headers={"Authorization": "Bearer forged"}, timeout=5).status_code == 403
        bad = httpx.get(url, headers={**bearer, "Last-Event-ID": "1-2-3"}, timeout=5)
        assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]
        assert app.state.alert_streams.open == 0

        before = _publish(redis_client, keys, _alert(0))  # published before: not sent to a new reader
        listener = Listener(url, bearer)
        assert listener.status == 200 and listener.content_type.startswith("text/event-stream")
        opening = listener.next(skip_heartbeats=False)
        assert opening is not None and opening.comments[0].startswith("coord alerts, schema 1")
        first = _alert(1)
        first_id = _publish(redis_client, keys, first)
        event = listener.next()
        assert event is not None and (event.event, event.event_id) == ("alert", first_id)
        assert Alert.decode(event.data) == first and json.loads(event.data)["schema_version"] == 1
        # Quiet: a heartbeat comment every heartbeat_s (0.3 s here).
        quiet = listener.next(skip_heartbeats=False)
        assert quiet is not None and quiet.comments[0].startswith("heartbeat ")
        assert app.state.alert_streams.open == 1

        # The client goes away; the server closes its Redis connection and frees the slot.
        listener.close()
        _wait(lambda: app.state.alert_streams.open == 0, "the stream was not closed after the disconnect")

        missed = [_alert(n) for n in (2, 3)]
        missed_ids = [_publish(redis_client, keys, a) for a in missed]
        back = Listener(url, {**bearer, "Last-Event-ID": first_id})
        got = [back.next(), back.next()]
        assert [(e.event_id, Alert.decode(e.data)) for e in got if e] == list(
            zip(missed_ids, missed, strict=True)
        )
        later = _alert(4)
        later_id = _publish(redis_client, keys, later)
        event = back.next()
        assert event is not None and event.event_id == later_id and Alert.decode(event.data) == later
        back.close()

        # The query parameter does the same for a client that cannot send the header (0-0: all kept).
        replay = Listener(f"{url}?last_event_id=0-0", bearer)
        ids = [e.event_id for e in (replay.next() for _ in range(5)) if e]
        assert ids == [before, first_id, *missed_ids, later_id]
        replay.close()
    assert app.state.alert_streams.open == 0


def test_a_client_behind_the_trimmed_stream_is_told_of_the_gap(
    redis_server_url: str, redis_client: redis.Redis[bytes], keys: Keys
) -> None:
    oldest = _publish(redis_client, keys, _alert(0))
    pipe = redis_client.pipeline()
    for n in range(STREAM_MAXLEN + 200):  # past the bound: the oldest entries are trimmed away
        pipe.xadd(
            keys.stream, {"alert": _alert(n % 1000 + 1).encode()}, maxlen=STREAM_MAXLEN, approximate=True
        )
    pipe.execute()
    first_kept = redis_client.xrange(keys.stream, count=1)[0][0].decode()
    assert first_kept != oldest and redis_client.xlen(keys.stream) >= STREAM_MAXLEN
    with _served(_app(redis_server_url, keys)) as base:
        listener = Listener(
            f"{base}/alerts/stream", {"Authorization": f"Bearer {TOKEN}", "Last-Event-ID": oldest}
        )
        gap = listener.next()
        assert gap is not None and gap.event == "gap"
        assert json.loads(gap.data)["after"] == oldest and "trimmed" in json.loads(gap.data)["reason"]
        event = listener.next()
        assert event is not None and event.event == "alert" and event.event_id == first_kept
        listener.close()


def test_the_stream_ends_after_its_time_limit_and_spike_alerts_travel_too(
    redis_server_url: str, redis_client: redis.Redis[bytes], keys: Keys
) -> None:
    spike = spike_alert(
        datetime(2025, 11, 1, tzinfo=UTC).date(),
        {
            "campaign_id": "cmp-wave",
            "metric": "sessions",
            "method": "median_iqr",
            "value": 44.0,
            "baseline": 10.0,
            "threshold": 12.5,
        },
        emitted_at=datetime.now(UTC),
    )
    with _served(_app(redis_server_url, keys, max_seconds=1.0)) as base:
        entry = _publish(redis_client, keys, spike)  # replayed (0-0): first whatever the timing
        listener = Listener(
            f"{base}/alerts/stream", {"Authorization": f"Bearer {TOKEN}", "Last-Event-ID": "0-0"}
        )
        event = listener.next()
        assert event is not None and event.event_id == entry and Alert.decode(event.data) == spike
        ending = listener.next(timeout_s=5)
        assert ending is not None and ending.event == "reconnect"
        assert listener.next(timeout_s=5) is None  # the server ended the response
        listener.close()


def test_without_redis_the_stream_is_unavailable(redis_server_url: str, keys: Keys) -> None:
    app = create_app(
        reader=_no_database,
        authenticate=_caller,
        limiter=caller_limiter(None, limit=10, window_s=60),
        alert_redis=lambda: None,
        alert_settings=StreamSettings(stream=keys.stream),
    )
    reply = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"}).get("/alerts/stream")
    assert reply.status_code == 503 and "coord_redis" in reply.json()["detail"]
    assert app.state.alert_streams.open == 0
