"""Publishing results to Elasticsearch: templates once, idempotent writes, surfaced bulk errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_enrichment import (
    CAMPAIGN_TEMPLATE,
    SESSION_TEMPLATE,
    EnrichmentIndices,
    EnrichmentWriteError,
    enrichment_actions,
    install_index_templates,
    load_templates,
    write_enrichment,
)
from coord_core.adapters.elasticsearch_retry import RetryPolicy
from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, Link, RunInfo, Verdict
from tests.emulators.elasticsearch import ElasticsearchEmulator

START = datetime(2025, 10, 24, 3, tzinfo=UTC)
END = START + timedelta(hours=1)
NO_WAIT = RetryPolicy(max_attempts=4, initial_backoff_s=0.0)


def _campaign(
    campaign_id: str, sessions: list[str], ips: list[str], verdict: Verdict, confidence: float
) -> Campaign:
    return Campaign(
        campaign_id=campaign_id,
        verdict=verdict,
        confidence=confidence,
        session_ids=sessions,
        source_ips=ips,
        first_seen=START + timedelta(minutes=5),
        last_seen=START + timedelta(minutes=40),
        evidence=[
            Evidence(
                evidence_id=f"{campaign_id}-ev1",
                factor="shared_payload",
                score=0.9,
                statistic={
                    "p_value": 0.0004,
                    "shared": ["sha256:abc"],
                    "counts": {"sessions": len(sessions)},
                },
                summary="all sessions downloaded the same dropper",
            ),
            Evidence(
                evidence_id=f"{campaign_id}-ev2",
                factor="timing",
                score=0.4,
                statistic={"ks": 0.31},
                summary="waves 10 minutes apart",
            ),
        ],
        links=[
            Link(session_a=sessions[0], session_b=sessions[-1], features=["payload", "hassh"], weight=0.8)
        ],
        labels=["botnet"],
    )


def _result(*, drop_independent: bool = False) -> AnalysisResult:
    campaigns = [
        _campaign(
            "camp-a", ["a1", "a2", "a3"], ["198.51.100.7", "203.0.113.9"], Verdict.COORDINATED_CAMPAIGN, 0.93
        ),
        _campaign(
            "camp-b", ["b1", "b2"], ["192.0.2.10", "192.0.2.11"], Verdict.SINGLE_ACTOR_MULTI_SOURCE, 0.71
        ),
    ]
    independent = ["i1"] if drop_independent else ["i1", "i2", "i3"]
    return AnalysisResult(
        run=RunInfo(input_fingerprint="f" * 32, parameters={"seed": 7}, code_version="0.1.0+test"),
        campaigns=campaigns,
        independent_session_ids=independent,
    )


@pytest.fixture
def indices(token: str) -> EnrichmentIndices:
    return EnrichmentIndices(sessions=f"{SESSION_TEMPLATE}-{token}", campaigns=f"{CAMPAIGN_TEMPLATE}-{token}")


@pytest.fixture
def templates(es: Elasticsearch) -> Iterator[None]:
    install_index_templates(es, retry=NO_WAIT)
    yield


def _docs(es: Elasticsearch, index: str) -> dict[str, dict[str, Any]]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=1000, query={"match_all": {}}, sort=["_doc"])["hits"]["hits"]
    return {h["_id"]: h["_source"] for h in hits}


def _write(es: Elasticsearch, result: AnalysisResult, indices: EnrichmentIndices, **options: Any) -> Any:
    options.setdefault("retry", NO_WAIT)
    return write_enrichment(
        es,
        result,
        run_id="scheduled__2025-10-24T03:00:00",
        interval_start=START,
        interval_end=END,
        indices=indices,
        **options,
    )


def test_templates_install_once_and_then_are_left_alone(es: Elasticsearch) -> None:
    first = install_index_templates(es, retry=NO_WAIT)
    assert {t.name for t in first} == {SESSION_TEMPLATE, CAMPAIGN_TEMPLATE}
    second = install_index_templates(es, retry=NO_WAIT)
    assert [t.action for t in second] == ["unchanged", "unchanged"]
    stored = es.indices.get_index_template(name=SESSION_TEMPLATE)["index_templates"][0]["index_template"]
    assert stored["index_patterns"] == ["coord-session-enrichment*"]
    assert stored["_meta"]["content_sha256"] == load_templates()[SESSION_TEMPLATE]["_meta"]["content_sha256"]


def test_writing_twice_leaves_the_same_documents(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None
) -> None:
    result = _result()
    first = _write(es, result, indices)
    sessions_1, campaigns_1 = _docs(es, indices.sessions), _docs(es, indices.campaigns)
    second = _write(es, result, indices)
    sessions_2, campaigns_2 = _docs(es, indices.sessions), _docs(es, indices.campaigns)

    assert (first.session_documents, first.campaign_documents) == (8, 2)
    assert set(sessions_1) == set(sessions_2) and len(sessions_2) == 8
    assert set(campaigns_1) == set(campaigns_2) and len(campaigns_2) == 2
    assert second.stale_deleted == 0
    assert es.count(index=indices.sessions)["count"] == 8
    assert sessions_2 == sessions_1 and campaigns_2 == campaigns_1  # the same result, the same bytes
    assert first.write_id == second.write_id


def test_session_and_campaign_documents_carry_verdict_confidence_run_and_interval(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None
) -> None:
    _write(es, _result(), indices)
    sessions = {d["session_id"]: d for d in _docs(es, indices.sessions).values()}
    a1 = sessions["a1"]
    assert (a1["campaign_id"], a1["verdict"], a1["confidence"]) == ("camp-a", "coordinated_campaign", 0.93)
    assert a1["run_id"] == "scheduled__2025-10-24T03:00:00"
    assert (a1["interval_start"], a1["interval_end"]) == ("2025-10-24T03:00:00Z", "2025-10-24T04:00:00Z")
    assert sessions["i2"]["verdict"] == "independent" and "campaign_id" not in sessions["i2"]
    campaign = next(d for d in _docs(es, indices.campaigns).values() if d["campaign_id"] == "camp-b")
    assert campaign["verdict"] == "single_actor_multi_source"
    assert campaign["session_count"] == 2 and campaign["source_ip_count"] == 2
    assert campaign["top_factor"] == "shared_payload"
    assert [e["factor"] for e in campaign["evidence"]] == ["shared_payload", "timing"]
    assert campaign["evidence"][0]["statistic"]["p_value"] == 0.0004
    assert campaign["link_features"] == ["hassh", "payload"]


def test_a_rerun_with_fewer_sessions_removes_what_the_interval_no_longer_has(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None
) -> None:
    _write(es, _result(), indices)
    other_interval = write_enrichment(
        es,
        _result(),
        run_id="other",
        interval_start=END,
        interval_end=END + timedelta(hours=1),
        indices=indices,
        retry=NO_WAIT,
    )
    assert other_interval.session_documents == 8
    summary = _write(es, _result(drop_independent=True), indices)
    assert summary.stale_deleted == 2
    remaining = _docs(es, indices.sessions).values()
    this_hour = sorted(d["session_id"] for d in remaining if d["interval_start"] == "2025-10-24T03:00:00Z")
    assert this_hour == ["a1", "a2", "a3", "b1", "b2", "i1"]
    assert sum(1 for d in remaining if d["interval_start"] == "2025-10-24T04:00:00Z") == 8, (
        "other intervals untouched"
    )


def test_document_ids_are_deterministic_per_interval_and_key() -> None:
    ids_1 = [
        a["_id"] for a in enrichment_actions(_result(), run_id="r1", interval_start=START, interval_end=END)
    ]
    ids_2 = [
        a["_id"] for a in enrichment_actions(_result(), run_id="r2", interval_start=START, interval_end=END)
    ]
    later = [
        a["_id"]
        for a in enrichment_actions(
            _result(), run_id="r1", interval_start=END, interval_end=END + timedelta(hours=1)
        )
    ]
    assert ids_1 == ids_2
    assert len(set(ids_1)) == len(ids_1) == 10
    assert not set(ids_1) & set(later)


def test_a_document_elasticsearch_refuses_is_reported_with_its_reason(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None
) -> None:
    bad = _campaign(
        "camp-x", ["x1", "x2"], ["not-an-address", "192.0.2.1"], Verdict.COORDINATED_CAMPAIGN, 0.5
    )
    result = _result().model_copy(update={"campaigns": [*_result().campaigns, bad]})
    with pytest.raises(EnrichmentWriteError) as caught:
        _write(es, result, indices)
    error = caught.value
    assert len(error.failures) == 1
    failure = error.failures[0]
    assert failure.index == indices.campaigns and failure.status == 400
    assert failure.error_type == "document_parsing_exception"
    assert "source_ips" in failure.reason and "not-an-address" in failure.reason
    assert failure.doc_id in str(error)
    assert error.written == 12, "every other document was written"
    es.indices.refresh(index=indices.sessions)
    assert es.count(index=indices.sessions)["count"] == 10


def test_rejected_bulk_items_are_retried(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None, emulator: ElasticsearchEmulator
) -> None:
    waits: list[float] = []
    emulator.reject_bulk_items(3, 429)
    summary = _write(
        es, _result(), indices, retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.1, sleep=waits.append)
    )
    assert summary.retried_items == 3
    assert waits == [0.1]
    assert es.count(index=indices.sessions)["count"] == 8
    assert es.count(index=indices.campaigns)["count"] == 2


def test_a_failed_bulk_request_is_retried(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None, emulator: ElasticsearchEmulator
) -> None:
    emulator.inject_faults(2, 503, path_contains="_bulk")
    _write(es, _result(), indices)
    assert emulator.pending_faults == 0
    assert es.count(index=indices.sessions)["count"] == 8


def test_items_still_rejected_after_the_last_attempt_are_listed(
    es: Elasticsearch, indices: EnrichmentIndices, templates: None, emulator: ElasticsearchEmulator
) -> None:
    emulator.reject_bulk_items(30, 429)
    with pytest.raises(EnrichmentWriteError) as caught:
        _write(es, _result(), indices, retry=RetryPolicy(max_attempts=3, initial_backoff_s=0.0), chunk_size=4)
    failures = caught.value.failures
    assert failures and all(
        f.status == 429 and f.error_type == "es_rejected_execution_exception" for f in failures
    )
    assert len({f.doc_id for f in failures}) == len(failures)
    emulator.clear_faults()
