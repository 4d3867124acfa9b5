"""The emulator's generated index (used by bench/bench_es_extract.py) pages like a stored one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from bench.bench_es_extract import synthetic_document
from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.adapters.elasticsearch_source import ElasticsearchIntervalReader
from coord_core.ingest.sessionize import sessionize
from tests.elasticsearch.cluster import make_client
from tests.emulators.elasticsearch import ElasticsearchEmulator

START = datetime(2025, 10, 24, tzinfo=UTC)


def _factory(ordinal: int, timestamp: str) -> dict[str, Any]:
    return synthetic_document(ordinal, timestamp)


@pytest.fixture(scope="module")
def generated() -> Any:
    with ElasticsearchEmulator(record_requests=False) as emulator:
        emulator.add_synthetic_index(
            "cowrie-generated-000001", 3000, start=START, step_ms=10, factory=_factory
        )
        yield emulator


def test_a_generated_window_reads_exactly_once_in_order(generated: ElasticsearchEmulator) -> None:
    es: Elasticsearch = make_client(generated.url)
    start = START + timedelta(milliseconds=10 * 250)  # document 250 ...
    end = START + timedelta(milliseconds=10 * 2750)  # ... up to, not including, document 2750
    reader = ElasticsearchIntervalReader(
        es,
        start,
        end,
        index_patterns=["cowrie-generated-*"],
        page_size=333,
        retry=RetryPolicy(max_attempts=1),
    )
    records = list(reader.records())
    assert len(records) == 2500 and all(r.ok for r in records)
    ids = [int(r.ref.rsplit("-", 1)[1]) for r in records]
    assert ids == list(range(250, 2750))
    sessions = sessionize(r.event for r in records if r.event is not None)
    assert {s.event_count for s in sessions[1:-1]} == {8}, "whole sessions of eight events"
    assert generated.open_point_in_time_count == 0


def test_generated_documents_are_deterministic_and_refuse_writes(generated: ElasticsearchEmulator) -> None:
    assert synthetic_document(17, "2025-10-24T00:00:00.170Z") == synthetic_document(
        17, "2025-10-24T00:00:00.170Z"
    )
    es = make_client(generated.url)
    response = es.bulk(operations=[{"index": {"_index": "cowrie-generated-000001", "_id": "x"}}, {"a": 1}])
    assert response["items"][0]["index"]["status"] == 403
