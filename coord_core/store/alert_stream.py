"""Live alerts in Redis: published once each to the ``coord:alerts`` channel and appended to the
bounded ``coord:alerts:stream``, which a reader follows and resumes from an entry id.

Why both: pub/sub reaches whoever is subscribed at that moment and nobody else (a page that was
reloading loses the alert); the stream keeps the newest ``STREAM_MAXLEN`` alerts, so a reader
that reconnects with its last entry id (SSE ``Last-Event-ID``) gets every alert it missed, and
is told when some may have been trimmed away meanwhile. The channel stays for subscribers that
only want the live push.

Publishing is one Lua script: the once-per-alert marker, the stream entry and the channel message
happen together or not at all, so a Redis failure half-way cannot mark an alert as sent that
nobody can read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coord_core.contracts.alerts import Alert
from coord_core.store import redis_keys
from coord_core.store.redis_resilience import BestEffortRedis

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)

STREAM_MAXLEN = 1000  # approximate (``MAXLEN ~``): Redis trims whole nodes, keeping at least this many
SENT_TTL_SECONDS = 30 * 24 * 3600
FIELD = "alert"
_EVENT_ID = re.compile(r"^\d{1,20}-\d{1,20}$")

# KEYS: marker, stream. ARGV: marker TTL, stream max length, alert JSON, channel (not a key).
_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'alert', ARGV[3])
  redis.call('PUBLISH', ARGV[4], ARGV[3])
  return id
end
return false
"""


def publish_once(
    redis: BestEffortRedis,
    alert: Alert,
    marker: str,
    *,
    stream: str = redis_keys.ALERT_STREAM,
    channel: str = redis_keys.ALERT_CHANNEL,
) -> str | None:
    """Publish ``alert`` unless ``marker`` says it was already sent; the new stream entry's id, or
    None (already sent, or Redis unavailable: recorded in ``redis.failures``)."""
    body = alert.encode()

    def run(r: Any) -> str | None:
        entry = r.eval(_PUBLISH_ONCE, 2, marker, stream, SENT_TTL_SECONDS, STREAM_MAXLEN, body, channel)
        if entry is None:
            return None
        return entry.decode() if isinstance(entry, bytes) else str(entry)

    return redis.call(f"publish {alert.kind} alert", run, None)


def parse_event_id(value: str | None) -> str | None:
    """A stream entry id as a client sent it back (``Last-Event-ID``), or None when it is not one."""
    if value is None:
        return None
    value = value.strip()
    return value if _EVENT_ID.match(value) else None


def _order(entry_id: str) -> tuple[int, int]:
    ms, seq = entry_id.split("-")
    return int(ms), int(seq)


@dataclass(frozen=True)
class StreamedAlert:
    """An alert read from the stream with its entry id (the SSE event id)."""

    entry_id: str
    alert: Alert


@dataclass(frozen=True)
class Gap:
    """Alerts after ``after`` may be lost: trimmed from the stream (it keeps ``STREAM_MAXLEN``), or
    the stream was recreated (``after`` lies beyond its newest entry). Reading goes on from
    ``resumed_after``."""

    after: str
    resumed_after: str
    reason: str


@dataclass(frozen=True)
class Quiet:
    """Nothing arrived for one block period: the moment for a heartbeat."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _newest(client: redis.asyncio.Redis[Any], stream: str) -> str | None:
    last = await client.xrevrange(stream, count=1)
    return _text(last[0][0]) if last else None


async def start_position(
    client: redis.asyncio.Redis[Any], after: str | None, *, stream: str = redis_keys.ALERT_STREAM
) -> tuple[str, Gap | None]:
    """Where to read from: after ``after`` when it is still covered by the stream, else the newest
    entry (no ``after``: only alerts from now on), with the ``Gap`` to report if any."""
    newest = await _newest(client, stream)
    if after is None:
        return newest or "0-0", None
    if newest is None or _order(after) > _order(newest):
        # Ids are times: one beyond the newest entry comes from a stream that no longer exists.
        if newest is None and after == "0-0":
            return after, None
        return "0-0", Gap(after, "0-0", "the stream was recreated since that id; replaying what it holds")
    first = await client.xrange(stream, count=1)
    first_id = _text(first[0][0]) if first else newest
    if _order(after) < _order(first_id) and await client.xlen(stream) >= STREAM_MAXLEN:
        return after, Gap(
            after, after, f"the stream keeps the newest {STREAM_MAXLEN} alerts; older ones are trimmed"
        )
    return after, None


async def read_from(
    client: redis.asyncio.Redis[Any],
    position: str,
    *,
    block_ms: int,
    stream: str = redis_keys.ALERT_STREAM,
    batch: int = 100,
) -> AsyncIterator[StreamedAlert | Quiet]:
    """The alerts after the entry id ``position`` (from ``start_position``) as they arrive, a
    ``Quiet`` after every ``block_ms`` without one; never ends by itself (the caller stops)."""
    while True:
        answer = await client.xread({stream: position}, count=batch, block=block_ms)
        if not answer:
            yield Quiet()
            continue
        for entry_id, fields in answer[0][1]:
            position = _text(entry_id)
            raw = fields.get(FIELD.encode()) if FIELD.encode() in fields else fields.get(FIELD)
            try:
                alert = Alert.decode(raw if raw is not None else b"")
            except ValueError as exc:  # only this module writes the stream: a bad entry was put there
                log.error("alert stream entry %s is not an alert, skipped: %s", position, exc)
                continue
            yield StreamedAlert(position, alert)
