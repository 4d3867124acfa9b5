"""Live alerts as server-sent events: ``GET /coord-api/v1/alerts/stream`` (a route of ``results_api``,
so it is let in exactly like the other API calls).

Each alert of the Redis alert stream (new high-confidence campaigns, spikes; ``contracts.alerts``)
becomes one ``event: alert`` whose ``id`` is its stream entry id and whose ``data`` is the alert's
JSON. A client that reconnects with ``Last-Event-ID`` (browsers do it by themselves; or the
``last_event_id`` query parameter) gets what it missed from the stream's retained alerts, and an
``event: gap`` first when some of them may have been trimmed. Without one it gets the alerts from
now on (``last_event_id=0-0``: every retained one). A ``: heartbeat`` comment goes out after each
quiet ``heartbeat_s``, so proxies keep the connection and a vanished client is noticed. After
``max_seconds`` the server ends the response (``event: reconnect``): the browser comes back with
its last id, and its token is checked again. Each API server process serves at most
``max_streams`` at once (503 with Retry-After beyond).

Importing this module imports neither FastAPI nor Airflow nor redis.
"""

# No ``from __future__ import annotations``: FastAPI reads the endpoint annotations at runtime.
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis.asyncio
    from fastapi import FastAPI

log = logging.getLogger(__name__)

AsyncRedisFactory = Callable[[], "redis.asyncio.Redis[Any]"]
MEDIA_TYPE = "text/event-stream"
STREAM_PATH = "/alerts/stream"


@dataclass(frozen=True)
class StreamSettings:
    """How the alert stream is served (``[coord_api] alert_*`` in the Airflow configuration)."""

    heartbeat_s: float = 15.0
    max_seconds: float = 900.0
    max_streams: int = 100
    retry_ms: int = 5000
    stream: str = "coord:alerts:stream"  # redis_keys.ALERT_STREAM (tests use their own)


def configured_settings() -> StreamSettings:
    """``[coord_api] alert_heartbeat_seconds``, ``alert_stream_max_seconds``, ``alert_max_streams``."""
    from airflow.configuration import conf

    from coord_airflow.app_support import CONFIG_SECTION
    from coord_core.pipeline.alerts import ALERT_STREAM

    default = StreamSettings()
    return StreamSettings(
        heartbeat_s=conf.getfloat(CONFIG_SECTION, "alert_heartbeat_seconds", fallback=default.heartbeat_s),
        max_seconds=conf.getfloat(CONFIG_SECTION, "alert_stream_max_seconds", fallback=default.max_seconds),
        max_streams=conf.getint(CONFIG_SECTION, "alert_max_streams", fallback=default.max_streams),
        stream=ALERT_STREAM,
    )


def configured_redis() -> "redis.asyncio.Redis[Any] | None":
    """An asyncio client of ``coord_redis``, or None when the connection is not defined."""
    from coord_airflow import connections

    if not connections.connection_is_defined(connections.REDIS_CONN_ID):
        return None
    return connections.async_redis_client()


def frame(data: str, *, event: str | None = None, event_id: str | None = None) -> str:
    """One SSE event; ``data`` is one line (compact JSON), so it cannot open a second field."""
    if "\n" in data or "\r" in data:
        raise ValueError("an SSE data line holds no line break")
    head = (f"id: {event_id}\n" if event_id else "") + (f"event: {event}\n" if event else "")
    return f"{head}data: {data}\n\n"


class StreamSlots:
    """How many streams this process serves now, at most ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.open -= 1


async def alert_frames(
    client: "redis.asyncio.Redis[Any]",
    after: str | None,
    settings: StreamSettings,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[str]:
    """The SSE text of the stream from ``after``: alerts, gaps, heartbeats; ends after ``max_seconds``.
    The opening comment goes out once the starting point is fixed: what is published after a
    client has read it reaches that client."""
    from coord_core.pipeline.alerts import Quiet, read_from, start_position

    deadline = clock() + settings.max_seconds
    position, gap = await start_position(client, after, stream=settings.stream)
    yield f"retry: {settings.retry_ms}\n: coord alerts, schema {_schema()}\n\n"
    if gap is not None:
        fields = {"after": gap.after, "resumed_after": gap.resumed_after, "reason": gap.reason}
        yield frame(json.dumps(fields, sort_keys=True), event="gap")
    block_ms = max(1, int(settings.heartbeat_s * 1000))
    async for item in read_from(client, position, block_ms=block_ms, stream=settings.stream):
        if isinstance(item, Quiet):
            yield f": heartbeat {datetime.now(UTC).isoformat(timespec='seconds')}\n\n"
        else:
            yield frame(item.alert.encode(), event="alert", event_id=item.entry_id)
        if clock() >= deadline:
            yield frame(
                json.dumps({"reason": "stream time limit; reconnect with Last-Event-ID"}), event="reconnect"
            )
            return


def _schema() -> int:
    from coord_core.pipeline.alerts import ALERT_SCHEMA_VERSION

    return ALERT_SCHEMA_VERSION


def add_stream_route(
    app: "FastAPI", redis_factory: Callable[[], "redis.asyncio.Redis[Any] | None"], settings: StreamSettings
) -> StreamSlots:
    """Add ``GET /alerts/stream`` to ``app`` (whose own dependencies let the caller in); return the
    slots it counts its open streams in."""
    import anyio
    from fastapi import Header, HTTPException, Query
    from fastapi.responses import StreamingResponse

    from coord_core.pipeline.alerts import parse_event_id

    slots = StreamSlots(settings.max_streams)

    @app.get(
        STREAM_PATH,
        response_class=StreamingResponse,
        responses={
            200: {"content": {MEDIA_TYPE: {}}, "description": "alert, gap and reconnect events; heartbeats"},
            400: {"description": "Last-Event-ID is not an id this stream sent"},
            503: {"description": "no coord_redis connection, or this process serves its most streams"},
        },
    )
    async def alerts_stream(
        last_event_id_header: str | None = Header(None, alias="Last-Event-ID", max_length=64),
        last_event_id: str | None = Query(None, max_length=64, description="the last alert id seen"),
    ) -> StreamingResponse:
        """New high-confidence campaigns and spikes as server-sent events, as they are published."""
        wanted = last_event_id_header if last_event_id_header is not None else last_event_id
        after = parse_event_id(wanted)
        if wanted is not None and after is None:
            raise HTTPException(status_code=400, detail="Last-Event-ID is not an alert id (<ms>-<seq>)")
        if not slots.take():
            raise HTTPException(
                status_code=503, detail="too many alert streams open", headers={"Retry-After": "30"}
            )
        try:
            client = redis_factory()
        except Exception:
            slots.give_back()
            raise
        if client is None:
            slots.give_back()
            raise HTTPException(status_code=503, detail="no coord_redis connection: live alerts are off")

        async def body() -> AsyncIterator[str]:
            from redis import RedisError

            try:
                async for text in alert_frames(client, after, settings):
                    yield text
            except RedisError as exc:  # the browser retries after ``retry_ms``, from its last id
                log.warning("alert stream ends: Redis unavailable (%s: %s)", type(exc).__name__, exc)
                yield frame(json.dumps({"reason": "alert store unavailable; retry later"}), event="reconnect")
            finally:  # a disconnect cancels us: close without being cancelled again
                with anyio.CancelScope(shield=True):
                    await client.aclose()  # type: ignore[attr-defined]  # types-redis 4.6 predates aclose
                slots.give_back()

        return StreamingResponse(
            body(), media_type=MEDIA_TYPE, headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    return slots
