"""The extract stage on the Elasticsearch source stages what it stages from the log file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.adapters.elasticsearch_source import ElasticsearchIntervalReader
from coord_core.contracts.events import parse_timestamp
from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import DEFAULT_SESSION_SLACK, extract_interval
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.elasticsearch.support import REAL_SAMPLE, SiemIndices, load_events, real_events

pytestmark = pytest.mark.integration


def test_hourly_extracts_from_elasticsearch_equal_those_from_the_file(
    es: Elasticsearch, token: str, pg_conn: psycopg.Connection
) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    siem = SiemIndices(token)
    events = real_events()
    load_events(es, siem, events, keep_removed_fields=True)
    for hour in (3, 4, 12):
        start = datetime(2025, 10, 24, hour, tzinfo=UTC)
        window = DataWindow(start=start, end=start + timedelta(hours=1))
        from_file = extract_interval(store, window, read_paths([REAL_SAMPLE]))
        file_sessions = store.load_sessions(window)

        widened = window.widened(DEFAULT_SESSION_SLACK)
        reader = ElasticsearchIntervalReader(
            es,
            widened.start,
            widened.end,
            index_patterns=siem.patterns(),
            page_size=200,
            retry=RetryPolicy(max_attempts=2, initial_backoff_s=0),
        )
        from_es = extract_interval(store, window, reader.records())
        assert file_sessions, f"hour {hour} has sessions"
        assert store.load_sessions(window) == file_sessions
        assert (from_es.staged_events, from_es.quarantined, from_es.sessions) == (
            from_file.staged_events,
            from_file.quarantined,
            from_file.sessions,
        )
        in_widened = sum(1 for e in events if widened.contains(parse_timestamp(e["timestamp"])))
        assert reader.lineage().document_count == in_widened
