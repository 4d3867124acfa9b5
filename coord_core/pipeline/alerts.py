"""The live alerts a reader follows (the SSE endpoint): the Airflow plugin's door to the alert
stream in Redis and the alert document."""

from __future__ import annotations

from coord_core.contracts.alerts import ALERT_SCHEMA_VERSION, Alert
from coord_core.store.alert_stream import (
    STREAM_MAXLEN,
    Gap,
    Quiet,
    StreamedAlert,
    parse_event_id,
    read_from,
    start_position,
)
from coord_core.store.redis_keys import ALERT_CHANNEL, ALERT_STREAM

__all__ = [
    "ALERT_CHANNEL",
    "ALERT_SCHEMA_VERSION",
    "ALERT_STREAM",
    "STREAM_MAXLEN",
    "Alert",
    "Gap",
    "Quiet",
    "StreamedAlert",
    "parse_event_id",
    "read_from",
    "start_position",
]
