"""Profile the hours before an interval in DShield-SIEM indices with one aggregation request.

The drift baseline of an interval (``coord_core.quality.source_profile``) for the Elasticsearch
source: ``size: 0`` over ``[interval start - lookback, interval start)`` with a
``date_histogram`` on ``@timestamp`` (hours aligned on the lookback start) x ``terms`` on the
sensor (``host.name``, DShield-SIEM's filebeat host), and per bucket a ``cardinality`` of the
Cowrie session (``event.code``) and a ``filter`` for login events (``event.outcome``
``login.failed`` / ``login.success``, the suffix of Cowrie's eventid). Firewall and web
documents have no ``event.code``, so they count as events, not sessions, as in file profiles.

An aggregation cannot see which documents would fail to map, so hours carry no parse-error
count (``None``). ``cardinality`` is HyperLogLog++: exact in practice below its
``precision_threshold`` (set to the maximum, 40000 sessions per sensor and hour).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from elasticsearch import Elasticsearch, NotFoundError

from coord_core.adapters.elasticsearch_retry import RetryPolicy, call_with_retry, describe_error
from coord_core.adapters.elasticsearch_source import (
    DEFAULT_INDEX_PATTERNS,
    TIMESTAMP_FIELD,
    ElasticsearchSourceError,
    interval_query,
    require_complete,
)
from coord_core.contracts.events import LoginAttempt
from coord_core.contracts.source_profile import (
    DEFAULT_LOOKBACK,
    HOUR,
    ProfileHour,
    SensorHour,
    SourceProfile,
    hour_index,
    lookback_bounds,
)

log = logging.getLogger(__name__)

SENSOR_FIELD: Final = "host.name"
SESSION_FIELD: Final = "event.code"
OUTCOME_FIELD: Final = "event.outcome"
LOGIN_OUTCOMES: Final = tuple(sorted(e.removeprefix("cowrie.") for e in LoginAttempt.EVENT_IDS))
MAX_PRECISION_THRESHOLD: Final = 40_000
DEFAULT_MAX_SENSORS: Final = 2_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def profile_request(
    lookback_start: datetime, lookback_end: datetime, *, max_sensors: int = DEFAULT_MAX_SENSORS
) -> dict[str, Any]:
    """The exact search body: stored with the profile, so the baseline can be re-derived."""
    histogram: dict[str, Any] = {"field": TIMESTAMP_FIELD, "fixed_interval": "1h", "min_doc_count": 1}
    offset_ms = int(((lookback_start - _EPOCH) % HOUR) / timedelta(milliseconds=1))
    if offset_ms:
        histogram["offset"] = f"+{offset_ms}ms"
    return {
        "size": 0,
        "track_total_hits": False,
        "query": interval_query(lookback_start, lookback_end),
        "aggs": {
            "hours": {
                "date_histogram": histogram,
                "aggs": {
                    "sensors": {
                        "terms": {"field": SENSOR_FIELD, "size": max_sensors, "missing": ""},
                        "aggs": {
                            "sessions": {
                                "cardinality": {
                                    "field": SESSION_FIELD,
                                    "precision_threshold": MAX_PRECISION_THRESHOLD,
                                }
                            },
                            "logins": {"filter": {"terms": {OUTCOME_FIELD: list(LOGIN_OUTCOMES)}}},
                        },
                    }
                },
            }
        },
    }


def profile_lookback(
    client: Elasticsearch,
    interval_start: datetime,
    *,
    lookback: timedelta = DEFAULT_LOOKBACK,
    index_patterns: Sequence[str] = DEFAULT_INDEX_PATTERNS,
    max_sensors: int = DEFAULT_MAX_SENSORS,
    retry: RetryPolicy | None = None,
) -> SourceProfile:
    """What the indices hold in the ``lookback`` before ``interval_start``, per hour and sensor."""
    start, end = lookback_bounds(interval_start.astimezone(UTC), lookback)
    body = profile_request(start, end, max_sensors=max_sensors)
    target = ",".join(index_patterns)
    try:
        response = call_with_retry(
            functools.partial(client.search, index=target, allow_partial_search_results=False, **body),
            what=f"profile the {lookback} before {interval_start.isoformat()} in [{target}]",
            policy=retry or RetryPolicy(),
        )
    except NotFoundError as exc:
        raise ElasticsearchSourceError(
            f"an index named in [{target}] does not exist ({describe_error(exc)}); "
            "name it with a wildcard if it may be absent"
        ) from exc
    profile = parse_profile_response(response.body, start, end)
    query = {"index": target, "body": body}
    log.info(
        "profiled [%s] %s..%s: %d hour(s) with documents",
        target,
        start.isoformat(),
        end.isoformat(),
        len(profile.hours),
    )
    return SourceProfile(
        source_kind="elasticsearch",
        lookback_start=start,
        lookback_end=end,
        hours=profile.hours,
        query=query,
        notes=profile.notes,
    )


def parse_profile_response(body: Mapping[str, Any], start: datetime, end: datetime) -> SourceProfile:
    """Read the aggregation answer; refuse partial results and buckets off the hour grid."""
    require_complete(body, "the profile aggregation")
    try:
        buckets = body["aggregations"]["hours"]["buckets"]
    except (KeyError, TypeError) as exc:
        raise ElasticsearchSourceError(f"the profile answer has no hours aggregation ({exc!r})") from exc
    hours: list[ProfileHour] = []
    notes: list[str] = []
    for bucket in buckets:
        moment = datetime.fromtimestamp(int(bucket["key"]) / 1000, tz=UTC)
        index = hour_index(moment, start)
        if moment != start + index * HOUR or not start <= moment < end:
            raise ElasticsearchSourceError(
                f"profile bucket {bucket.get('key_as_string', bucket['key'])} is not an hour of "
                f"[{start.isoformat()}, {end.isoformat()})"
            )
        sensors_agg = bucket["sensors"]
        sensors = {
            str(s["key"]): SensorHour(
                events=int(s["doc_count"]),
                sessions=int(s["sessions"]["value"]),
                login_events=int(s["logins"]["doc_count"]),
            )
            for s in sensors_agg["buckets"]
        }
        other = int(sensors_agg.get("sum_other_doc_count", 0))
        if other:
            notes.append(
                f"hour {moment.isoformat()}: {other} document(s) of sensors beyond the "
                f"{len(sensors)} largest are not in the baseline"
            )
        if int(bucket["doc_count"]):
            hours.append(ProfileHour(start=moment, sensors=dict(sorted(sensors.items())), parse_errors=None))
    return SourceProfile(
        source_kind="elasticsearch", lookback_start=start, lookback_end=end, hours=tuple(hours),
        notes=tuple(notes),
    )  # fmt: skip
