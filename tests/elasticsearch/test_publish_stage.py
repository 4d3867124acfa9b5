"""The Elasticsearch publish stage on a real PostgreSQL: documents, export record, audit, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_enrichment import (
    CAMPAIGN_TEMPLATE,
    SESSION_TEMPLATE,
    EnrichmentIndices,
    EnrichmentWriteError,
    document_id,
)
from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.window import DataWindow
from coord_core.pipeline.publish_elasticsearch import publish_enrichment
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.emulators.elasticsearch import ElasticsearchEmulator

WINDOW = DataWindow(start=datetime(2025, 10, 24, 4, tzinfo=UTC), end=datetime(2025, 10, 24, 5, tzinfo=UTC))
NO_WAIT = RetryPolicy(max_attempts=2, initial_backoff_s=0)


def _result() -> AnalysisResult:
    campaign = Campaign(
        campaign_id="occ-1",
        verdict=Verdict.COORDINATED_CAMPAIGN,
        confidence=0.81,
        session_ids=["s1", "s2"],
        source_ips=["45.155.205.1", "91.92.241.7"],
        first_seen=WINDOW.start + timedelta(minutes=3),
        last_seen=WINDOW.start + timedelta(minutes=40),
        evidence=[Evidence(evidence_id="occ-1-e1", factor="shared_payload", score=0.9)],
    )
    return AnalysisResult(
        run=RunInfo(input_fingerprint="a" * 64, parameters={}, code_version="test"),
        campaigns=[campaign],
        independent_session_ids=["s3", "s4", "s5"],
    )


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    store.save_analysis_result(WINDOW, _result(), parameters_hash="p")
    return store


@pytest.fixture
def indices(token: str) -> EnrichmentIndices:
    return EnrichmentIndices(sessions=f"{SESSION_TEMPLATE}-{token}", campaigns=f"{CAMPAIGN_TEMPLATE}-{token}")


def _publish(
    es: Elasticsearch, store: ResultsStore, indices: EnrichmentIndices, run_id: str = "r1"
) -> dict[str, Any]:
    return publish_enrichment(
        es,
        store,
        WINDOW,
        dag_id="dshield_coordination",
        run_id=run_id,
        location="http://es.example:9200",
        actor="test",
        indices=indices,
        retry=NO_WAIT,
    )


def _exports(store: ResultsStore) -> list[tuple[Any, ...]]:
    return store.conn.execute("SELECT target, location, items FROM coord.exports").fetchall()


def test_publish_records_the_export_and_a_rerun_changes_nothing_but_the_audit(
    es: Elasticsearch, store: ResultsStore, indices: EnrichmentIndices
) -> None:
    first = _publish(es, store, indices)
    assert (first["session_documents"], first["campaign_documents"]) == (5, 1)
    assert set(first["templates"]) == {SESSION_TEMPLATE, CAMPAIGN_TEMPLATE}
    exports = _exports(store)
    assert exports == [
        (
            "elasticsearch",
            "http://es.example:9200",
            {
                "indices": {"sessions": indices.sessions, "campaigns": indices.campaigns},
                "session_documents": 5,
                "campaign_documents": 1,
                "campaigns": {"occ-1": document_id(WINDOW.start, WINDOW.end, "campaign", "occ-1")},
            },
        )
    ]
    second = _publish(es, store, indices, run_id="r2")
    assert second["templates"] == {SESSION_TEMPLATE: "unchanged", CAMPAIGN_TEMPLATE: "unchanged"}
    assert second["stale_deleted"] == 0 and second["write_id"] == first["write_id"]
    assert _exports(store) == exports
    es.indices.refresh(index=indices.sessions)
    assert es.count(index=indices.sessions)["count"] == 5
    audits = store.conn.execute(
        "SELECT run_id, details->>'target' FROM coord.audit_log WHERE action = 'exported' ORDER BY id"
    ).fetchall()
    assert audits == [("r1", "elasticsearch"), ("r2", "elasticsearch")]


def test_refused_documents_fail_the_stage_listing_each_and_record_no_export(
    es: Elasticsearch, store: ResultsStore, indices: EnrichmentIndices, emulator: ElasticsearchEmulator
) -> None:
    emulator.reject_bulk_items(50, 429)
    with pytest.raises(EnrichmentWriteError) as caught:
        _publish(es, store, indices)
    message = str(caught.value)
    assert "6 enrichment document(s) could not be written" in message
    assert message.count("HTTP 429 es_rejected_execution_exception") == 6
    assert _exports(store) == []


def test_index_names_outside_the_templates_are_refused(es: Elasticsearch, store: ResultsStore) -> None:
    with pytest.raises(ValueError, match="does not match the template pattern 'coord-campaigns\\*'"):
        _publish(es, store, EnrichmentIndices(campaigns="campaigns-of-coord"))


def test_nothing_to_publish_before_analysis(es: Elasticsearch, pg_conn: psycopg.Connection) -> None:
    migrate(pg_conn)
    with pytest.raises(LookupError, match="no analysis result is stored"):
        _publish(es, ResultsStore(pg_conn), EnrichmentIndices())
