"""The drift baseline from Elasticsearch: one aggregation gives the profile the file source counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import BadRequestError, Elasticsearch

from coord_core.adapters.elasticsearch_profile import profile_lookback, profile_request
from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.contracts.source_profile import SourceProfile
from coord_core.ingest.cowrie_files import read_paths
from coord_core.quality.source_profile import ProfileCounter
from tests.elasticsearch.support import (
    REAL_SAMPLE,
    SiemIndices,
    load_events,
    real_events,
    web_and_firewall_events,
)

SENSOR = "37e2115ebaeb"
NO_WAIT = RetryPolicy(max_attempts=2, initial_backoff_s=0)


def _without_parse_errors(profile: SourceProfile) -> list[tuple[str, dict[str, tuple[int, int, int]]]]:
    return [
        (
            h.start.isoformat(),
            {n: (s.events, s.sessions, s.login_events) for n, s in sorted(h.sensors.items())},
        )
        for h in profile.hours
    ]


@pytest.fixture
def loaded(es: Elasticsearch, token: str, tmp_path: Path) -> tuple[SiemIndices, Path]:
    """The real sample plus firewall and web documents, in Elasticsearch and as one log file."""
    siem = SiemIndices(token)
    extra = web_and_firewall_events(SENSOR, datetime(2025, 10, 24, 3, 5, tzinfo=UTC), 60)
    extra += web_and_firewall_events("sensor-b", datetime(2025, 10, 24, 6, 40, tzinfo=UTC), 11)
    events = real_events() + extra
    load_events(es, siem, events)
    log = tmp_path / "with-web-and-firewall.json"
    log.write_text(REAL_SAMPLE.read_text() + "".join(json.dumps(e) + "\n" for e in extra))
    return siem, log


@pytest.mark.parametrize(
    "interval_start",
    [datetime(2025, 10, 24, 9, tzinfo=UTC), datetime(2025, 10, 24, 8, 13, 27, 500000, tzinfo=UTC)],
    ids=["on-the-hour", "off-the-hour"],
)
def test_elasticsearch_profile_equals_the_file_profile(
    es: Elasticsearch, loaded: tuple[SiemIndices, Path], interval_start: datetime
) -> None:
    siem, log = loaded
    from_es = profile_lookback(
        es, interval_start, lookback=timedelta(hours=6), index_patterns=siem.patterns(), retry=NO_WAIT
    )
    counter = ProfileCounter(interval_start, timedelta(hours=6))
    for _ in counter.observe(read_paths([log])):
        pass
    from_files = counter.profile()
    assert from_es.hours, "the lookback holds documents"
    assert _without_parse_errors(from_es) == _without_parse_errors(from_files)
    # Hours are aligned on the lookback start, also when the interval starts off the hour.
    assert all((h.start - from_es.lookback_start) % timedelta(hours=1) == timedelta(0) for h in from_es.hours)
    # Firewall and web documents are events, not sessions; logins come from event.outcome.
    late = from_es.hours[-1] if interval_start.hour == 9 else None
    if late is not None:
        assert late.start == datetime(2025, 10, 24, 8, tzinfo=UTC)
        assert late.sensors[SENSOR].login_events > 0
    assert {h.parse_errors for h in from_es.hours} == {None}  # an aggregation cannot see parse errors
    assert from_es.query is not None
    assert from_es.query["body"] == profile_request(from_es.lookback_start, from_es.lookback_end)


def test_sensor_b_is_seen_with_events_but_no_sessions(
    es: Elasticsearch, loaded: tuple[SiemIndices, Path]
) -> None:
    siem, _ = loaded
    profile = profile_lookback(
        es,
        datetime(2025, 10, 24, 8, tzinfo=UTC),
        lookback=timedelta(hours=2),
        index_patterns=siem.patterns(),
        retry=NO_WAIT,
    )
    hour = next(h for h in profile.hours if "sensor-b" in h.sensors)
    assert hour.sensors["sensor-b"].events == 11 and hour.sensors["sensor-b"].sessions == 0


def test_an_empty_lookback_is_an_empty_profile(es: Elasticsearch, loaded: tuple[SiemIndices, Path]) -> None:
    siem, _ = loaded
    profile = profile_lookback(
        es, datetime(2025, 10, 1, tzinfo=UTC), index_patterns=siem.patterns(), retry=NO_WAIT
    )
    assert profile.hours == () and profile.lookback_hours == 24


def test_aggregation_answers_have_elasticsearch_shape(
    es: Elasticsearch, loaded: tuple[SiemIndices, Path]
) -> None:
    siem, _ = loaded
    body = profile_request(datetime(2025, 10, 24, 3, tzinfo=UTC), datetime(2025, 10, 24, 5, tzinfo=UTC))
    answer = es.search(index=",".join(siem.patterns()), **body).body
    assert answer["hits"]["hits"] == []
    buckets = answer["aggregations"]["hours"]["buckets"]
    assert [b["key_as_string"] for b in buckets] == ["2025-10-24T03:00:00.000Z", "2025-10-24T04:00:00.000Z"]
    assert buckets[0]["key"] == int(datetime(2025, 10, 24, 3, tzinfo=UTC).timestamp() * 1000)
    sensors = buckets[1]["sensors"]
    assert sensors["sum_other_doc_count"] == 0 and "doc_count_error_upper_bound" in sensors
    (bucket,) = sensors["buckets"]
    assert bucket["key"] == SENSOR and bucket["doc_count"] == buckets[1]["doc_count"]
    assert set(bucket["sessions"]) == {"value"} and set(bucket["logins"]) == {"doc_count"}


@pytest.mark.parametrize(
    ("aggs", "error_type", "reason"),
    [
        (
            {"h": {"date_histogramm": {"field": "@timestamp", "fixed_interval": "1h"}}},
            "parsing_exception",
            "Unknown aggregation type [date_histogramm]",
        ),
        (
            {"h": {"date_histogram": {"field": "@timestamp"}, "terms": {"field": "host.name"}}},
            "parsing_exception",
            "Found two aggregation type definitions in [h]: [date_histogram] and [terms]",
        ),
    ],
    ids=["unknown-type", "two-types"],
)
def test_malformed_aggregations_are_refused_as_elasticsearch_refuses_them(
    es: Elasticsearch, loaded: tuple[SiemIndices, Path], aggs: dict[str, Any], error_type: str, reason: str
) -> None:
    siem, _ = loaded
    with pytest.raises(BadRequestError) as caught:
        es.search(index=",".join(siem.patterns()), size=0, aggs=aggs)
    error = caught.value.body["error"]
    assert error["type"] == error_type and reason in error["reason"]
    assert error["root_cause"][0]["type"] == error_type


def test_a_date_histogram_on_a_keyword_fails_on_the_shards(
    es: Elasticsearch, loaded: tuple[SiemIndices, Path]
) -> None:
    siem, _ = loaded
    aggs = {"h": {"date_histogram": {"field": "host.name", "fixed_interval": "1h"}}}
    with pytest.raises(BadRequestError) as caught:
        es.search(index=",".join(siem.patterns()), size=0, aggs=aggs)
    error = caught.value.body["error"]
    assert error["type"] == "search_phase_execution_exception"
    assert "Field [host.name] of type [keyword] is not supported for aggregation [date_histogram]" in str(
        error
    )
