"""The extract stage on the Elasticsearch source stages what it stages from the log file."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.adapters.elasticsearch_source import ElasticsearchIntervalReader
from coord_core.contracts.events import parse_timestamp
from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.ingest.siem_mapping import KIND_COWRIE
from coord_core.pipeline.extract import DEFAULT_SESSION_SLACK, extract_interval
from coord_core.quality.bounded import reason_category
from coord_core.quality.stage import validate_stage
from coord_core.scenarios.siem_writer import event_to_siem_document
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.elasticsearch.support import REAL_SAMPLE, SiemIndices, create_index, load_events, real_events


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


SURICATA_MAPPING: dict[str, Any] = {
    "properties": {
        "@timestamp": {"type": "date"},
        "src_ip": {"type": "ip"},
        "dest_ip": {"type": "ip"},
        "event_type": {"type": "keyword"},
        "alert": {"properties": {"signature": {"type": "keyword"}}},
    }
}


def test_documents_that_do_not_map_get_an_error_record_and_the_good_rows_stay(
    es: Elasticsearch, token: str, pg_conn: psycopg.Connection
) -> None:
    """Bad input from Elasticsearch through extract and validate: another product's index under
    the same pattern, and DShield-SIEM documents whose fields the pipeline cannot use."""
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    siem = SiemIndices(token)
    window = DataWindow(
        start=datetime(2025, 10, 24, 4, tzinfo=UTC), end=datetime(2025, 10, 24, 5, tzinfo=UTC)
    )
    load_events(es, siem, real_events())
    foreign = f"{siem.prefix(KIND_COWRIE)}-suricata-2025.10.24"
    create_index(es, foreign, mappings=SURICATA_MAPPING)
    template = event_to_siem_document(
        next(e for e in real_events() if e["timestamp"].startswith("2025-10-24T04:1"))
    )
    ecs_outcome = {**template.source, "event.outcome": "success"}
    bad_address = {k: v for k, v in template.source.items() if k not in ("related.ip", "source.ip")}
    bad_address["source.address"] = "999.1.1.1"
    no_session = {k: v for k, v in template.source.items() if k != "event.code"}
    dshield_index = siem.retarget(template)
    bad = {
        f"{foreign}/eve-1": {
            "@timestamp": "2025-10-24T04:10:00.000Z",
            "src_ip": "45.155.205.9",
            "dest_ip": "10.0.0.4",
            "event_type": "alert",
            "alert": {"signature": "<script>alert('eve')</script>"},
        },
        f"{dshield_index}/ecs-outcome": ecs_outcome,
        f"{dshield_index}/bad-address": bad_address,
        f"{dshield_index}/no-session": no_session,
    }
    for ref, source in bad.items():
        index, doc_id = ref.split("/")
        es.index(index=index, id=doc_id, document=source, refresh=True)

    widened = window.widened(DEFAULT_SESSION_SLACK)
    reader = ElasticsearchIntervalReader(
        es, widened.start, widened.end, index_patterns=siem.patterns(), retry=RetryPolicy(initial_backoff_s=0)
    )
    extracted = extract_interval(store, window, reader.records())
    outcome = validate_stage(store, window)

    assert outcome.gate.passed, outcome.gate.reason  # a few bad documents do not stop the analysis
    assert outcome.counts.read == outcome.counts.valid + outcome.counts.quarantined == extracted.read
    rows: dict[str, str] = dict(
        pg_conn.execute("SELECT ref, reason FROM coord.quarantine WHERE stage = 'parse'").fetchall()
    )
    assert set(rows) == set(bad)
    assert "field [event.outcome] is missing" in rows[f"{foreign}/eve-1"]
    assert "is the ECS outcome 'success'" in rows[f"{dshield_index}/ecs-outcome"]
    assert 'field [source.address] is "999.1.1.1", not an IP address' in rows[f"{dshield_index}/bad-address"]
    assert "field [event.code] is missing (Cowrie session id" in rows[f"{dshield_index}/no-session"]
    # The stored report lists each kind of failure, attacker markup escaped.
    row = pg_conn.execute(
        "SELECT html FROM coord.dq_reports WHERE interval_start = %s", (window.start,)
    ).fetchone()
    assert row is not None
    page = row[0]
    for reason in rows.values():
        assert html.escape(reason_category(reason)) in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#x27;eve&#x27;)" in page
    # The good rows are exactly what the file holds for this interval.
    from_file = extract_interval(store, window, read_paths([REAL_SAMPLE]))
    assert extracted.staged_events == from_file.staged_events > 0
    assert extracted.quarantined == from_file.quarantined + len(bad)
