"""Reading one interval from Elasticsearch: exact edges, exact pages, slices, retries, clear errors."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from coord_core.adapters.elasticsearch_retry import RetryExhaustedError, RetryPolicy
from coord_core.adapters.elasticsearch_source import (
    ElasticsearchIntervalReader,
    ElasticsearchSourceError,
    MappingCheckError,
    interval_query,
    require_complete,
)
from coord_core.contracts.events import parse_event
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.sessionize import sessionize
from coord_core.scenarios.siem_writer import event_to_siem_document
from tests.elasticsearch.cluster import make_client
from tests.elasticsearch.support import SiemIndices, create_index, load, load_events, real_events
from tests.emulators.elasticsearch import ElasticsearchEmulator

DAY = (datetime(2025, 10, 24, tzinfo=UTC), datetime(2025, 10, 25, tzinfo=UTC))
NO_WAIT = RetryPolicy(max_attempts=4, initial_backoff_s=0.0)


@pytest.fixture
def siem(token: str) -> SiemIndices:
    return SiemIndices(token)


def _reader(es: Elasticsearch, siem: SiemIndices, start: datetime, end: datetime, **options: Any) -> Any:
    options.setdefault("retry", NO_WAIT)
    return ElasticsearchIntervalReader(es, start, end, index_patterns=siem.patterns(), **options)


def _event(ts: datetime, session: str, n: int = 0, eventid: str = "cowrie.command.input") -> dict[str, Any]:
    return {
        "eventid": eventid,
        "timestamp": ts.isoformat().replace("+00:00", "Z"),
        "session": session,
        "src_ip": f"198.51.100.{n % 250 + 1}",
        "sensor": "s1",
        "message": f"CMD: echo {n}",
        "input": f"echo {n}",
    }


def test_real_sample_read_from_elasticsearch_gives_the_sessions_of_the_file_path(
    es: Elasticsearch, siem: SiemIndices
) -> None:
    events = real_events()
    load_events(es, siem, events)
    reader = _reader(es, siem, *DAY, page_size=250)
    records = list(reader.records())
    assert all(r.ok for r in records)
    assert reader.document_count == len(records) == len(events) == 2057
    from_es = sessionize(r.event for r in records if r.event is not None)
    from_file = sessionize(parse_event(e) for e in events)
    # The stock pipeline drops the kex algorithm lists; everything else is identical.
    assert from_es == [s.model_copy(update={"kex_algs": []}) for s in from_file]
    assert reader.pages == 9


def test_documents_loaded_with_every_field_give_identical_sessions(
    es: Elasticsearch, siem: SiemIndices
) -> None:
    events = real_events()
    load_events(es, siem, events, keep_removed_fields=True, nested=True)
    records = list(_reader(es, siem, *DAY, page_size=1000).records())
    assert sessionize(r.event for r in records if r.event is not None) == sessionize(
        parse_event(e) for e in events
    )


def test_interval_edges_are_exact_to_the_microsecond(es: Elasticsearch, siem: SiemIndices) -> None:
    start = datetime(2025, 10, 24, 3, 0, 0, 250_500, tzinfo=UTC)  # not on a millisecond
    end = datetime(2025, 10, 24, 4, 0, 0, tzinfo=UTC)
    offsets = {
        "before-1ms": timedelta(milliseconds=-1),
        "before-1us": timedelta(microseconds=-1),
        "same-ms-before": timedelta(microseconds=-300),  # same millisecond as start, earlier
        "at-start": timedelta(0),
        "after-start": timedelta(microseconds=1),
    }
    events = [_event(start + delta, name) for name, delta in offsets.items()]
    events += [
        _event(end - timedelta(microseconds=1), "end-minus-1us"),
        _event(end, "at-end"),
        _event(end + timedelta(microseconds=400), "end-same-ms"),
    ]
    load_events(es, siem, events)
    records = list(_reader(es, siem, start, end).records())
    sessions = sorted(r.event.session for r in records if r.event is not None)
    assert sessions == ["after-start", "at-start", "end-minus-1us"]


def test_pages_have_no_duplicates_and_no_gaps_even_with_equal_timestamps(
    es: Elasticsearch, siem: SiemIndices
) -> None:
    base = datetime(2025, 10, 24, 5, tzinfo=UTC)
    # 5 distinct timestamps shared by 60 documents each: pages split inside runs of equal @timestamp
    events = [_event(base + timedelta(seconds=i % 5), f"s{i:04d}", i) for i in range(300)]
    events.append(_event(base - timedelta(seconds=1), "outside-before"))
    events.append(_event(base + timedelta(hours=1), "outside-after"))
    load_events(es, siem, events, shards=3)
    reader = _reader(es, siem, base, base + timedelta(hours=1), page_size=7)
    records = list(reader.records())
    refs = [r.ref for r in records]
    assert len(refs) == len(set(refs)) == 300
    assert {r.event.session for r in records if r.event} == {f"s{i:04d}" for i in range(300)}
    assert [r.time for r in records] == sorted(r.time for r in records)
    assert reader.pages == 43  # 300 / 7 rounded up; the last page is short, so no empty page is fetched


def test_slices_partition_the_interval(es: Elasticsearch, siem: SiemIndices) -> None:
    base = datetime(2025, 10, 24, 6, tzinfo=UTC)
    events = [_event(base + timedelta(milliseconds=37 * i), f"s{i}", i) for i in range(240)]
    load_events(es, siem, events, shards=2)
    window = (base, base + timedelta(hours=1))
    whole = {r.ref for r in _reader(es, siem, *window, page_size=50).records()}
    parts = [
        {r.ref for r in _reader(es, siem, *window, page_size=13, slices=3, slice_id=i).records()}
        for i in range(3)
    ]
    assert all(parts), "every slice holds some documents"
    assert sum(len(p) for p in parts) == len(whole) == 240
    assert set().union(*parts) == whole
    sequential = _reader(es, siem, *window, page_size=13, slices=3)
    assert {r.ref for r in sequential.records()} == whole
    assert sequential.lineage().query is not None


def _open_pits(emulator: ElasticsearchEmulator) -> int:
    return emulator.open_point_in_time_count


def test_point_in_time_is_closed_after_a_full_read_an_abandoned_read_and_a_failed_read(
    es: Elasticsearch, siem: SiemIndices, emulator: ElasticsearchEmulator
) -> None:
    base = datetime(2025, 10, 24, 7, tzinfo=UTC)
    load_events(es, siem, [_event(base + timedelta(seconds=i), f"s{i}", i) for i in range(30)])
    window = (base, base + timedelta(hours=1))
    before = _open_pits(emulator)

    list(_reader(es, siem, *window, page_size=4).records())
    assert _open_pits(emulator) == before

    stream: Iterator[ReadRecord] = _reader(es, siem, *window, page_size=4).records()
    first = list(itertools.islice(stream, 5))
    assert len(first) == 5 and _open_pits(emulator) == before + 1
    stream.close()  # type: ignore[attr-defined]
    assert _open_pits(emulator) == before

    emulator.inject_faults(10, 503, path_contains="_search")
    with pytest.raises(RetryExhaustedError, match="503"):
        list(
            _reader(
                es, siem, *window, page_size=4, retry=RetryPolicy(max_attempts=2, initial_backoff_s=0)
            ).records()
        )
    assert _open_pits(emulator) == before
    emulator.clear_faults()


@pytest.mark.parametrize("status", [429, 503])
def test_transient_errors_are_retried_with_exponential_backoff(
    es: Elasticsearch, siem: SiemIndices, emulator: ElasticsearchEmulator, status: int
) -> None:
    base = datetime(2025, 10, 24, 8, tzinfo=UTC)
    load_events(es, siem, [_event(base + timedelta(seconds=i), f"s{i}", i) for i in range(20)])
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, initial_backoff_s=0.25, max_backoff_s=0.75, sleep=waits.append)
    emulator.inject_faults(1, status, path_contains="_mapping")
    emulator.inject_faults(1, status, path_contains="_pit")
    emulator.inject_faults(3, status, path_contains="_search")
    reader = _reader(es, siem, base, base + timedelta(hours=1), page_size=6, retry=policy)
    records = list(reader.records())
    assert len(records) == 20
    assert waits == [0.25, 0.25, 0.25, 0.5, 0.75]
    assert emulator.pending_faults == 0


def test_a_timed_out_request_is_retried(
    es_server: Any, siem: SiemIndices, emulator: ElasticsearchEmulator
) -> None:
    es = make_client(es_server.url, request_timeout=0.3)
    base = datetime(2025, 10, 24, 9, tzinfo=UTC)
    load_events(es, siem, [_event(base + timedelta(seconds=i), f"s{i}", i) for i in range(5)])
    emulator.inject_delay(1, 1.0, path_contains="_search")
    records = list(_reader(es, siem, base, base + timedelta(hours=1)).records())
    assert len(records) == 5


def test_retries_are_bounded(es: Elasticsearch, siem: SiemIndices, emulator: ElasticsearchEmulator) -> None:
    create_index(es, f"{siem.prefix('cowrie')}-2025.10.24-000001")
    emulator.inject_faults(5, 429, path_contains="_mapping")
    with pytest.raises(RetryExhaustedError) as caught:
        list(_reader(es, siem, *DAY, retry=RetryPolicy(max_attempts=3, initial_backoff_s=0)).records())
    assert caught.value.attempts == 3
    assert "429" in str(caught.value) and "es_rejected_execution_exception" in str(caught.value)
    emulator.clear_faults()


def test_a_mapping_without_timestamp_is_a_clear_error(es: Elasticsearch, siem: SiemIndices) -> None:
    index = f"{siem.prefix('cowrie')}-2025.10.24-000001"
    create_index(
        es, index, mappings={"properties": {"timestamp": {"type": "date"}, "event": {"type": "object"}}}
    )
    reader = _reader(es, siem, *DAY)
    with pytest.raises(MappingCheckError) as caught:
        list(reader.records())
    error = caught.value
    assert (error.index, error.field) == (index, "@timestamp")
    assert index in str(error) and "@timestamp" in str(error) and '"range"' in str(error)
    assert error.query == interval_query(*DAY)


def test_a_timestamp_mapped_as_text_is_a_clear_error(es: Elasticsearch, siem: SiemIndices) -> None:
    index = f"{siem.prefix('firewall')}-2025.10.24-000001"
    create_index(es, index, mappings={"properties": {"@timestamp": {"type": "keyword"}}})
    with pytest.raises(MappingCheckError, match=r"mapped as \[keyword\], expected date or date_nanos"):
        list(_reader(es, siem, *DAY).records())


def test_unmappable_documents_become_error_records_in_their_interval(
    es: Elasticsearch, siem: SiemIndices
) -> None:
    base = datetime(2025, 10, 24, 10, tzinfo=UTC)
    good = event_to_siem_document(_event(base, "ok"))
    bad = event_to_siem_document(_event(base + timedelta(seconds=1), "broken"))
    del bad.source["event.code"]
    load(es, siem, [good, bad])
    reader = _reader(es, siem, base, base + timedelta(hours=1))
    records = list(reader.records())
    assert [r.ok for r in records] == [True, False]
    broken = records[1]
    assert broken.ref == f"{siem.retarget(bad)}/{bad.doc_id}"
    assert broken.error is not None and "[event.code]" in broken.error and bad.doc_id in broken.error
    assert broken.time == base + timedelta(seconds=1)
    assert reader.document_count == 2 and reader.error_count == 1


def test_lineage_records_the_exact_query_sent_and_the_count(
    es: Elasticsearch, siem: SiemIndices, emulator: ElasticsearchEmulator
) -> None:
    base = datetime(2025, 10, 24, 11, tzinfo=UTC)
    load_events(es, siem, [_event(base + timedelta(seconds=i), f"s{i}", i) for i in range(9)])
    reader = _reader(es, siem, base, base + timedelta(hours=1), page_size=4)
    emulator.requests.clear()
    list(reader.records())
    lineage = reader.lineage()
    assert lineage.kind == "elasticsearch"
    assert lineage.document_count == 9
    assert lineage.locations == siem.patterns()
    assert lineage.query is not None
    assert lineage.query["indices"] == [f"{siem.prefix('cowrie')}-2025.10.24-000001"]
    searches = [r for r in emulator.requests if r.path == "/_search"]
    assert len(searches) == 3
    for sent in searches:
        body = {k: v for k, v in sent.body.items() if k not in ("pit", "search_after")}
        assert body == lineage.query["body"]
    assert "search_after" not in searches[0].body and searches[1].body["search_after"]


def test_patterns_matching_no_index_read_nothing(es: Elasticsearch, siem: SiemIndices) -> None:
    reader = _reader(es, siem, *DAY)
    assert list(reader.records()) == []
    assert reader.lineage().document_count == 0


def test_an_expired_point_in_time_is_a_clear_error(
    es: Elasticsearch, siem: SiemIndices, emulator: ElasticsearchEmulator
) -> None:
    base = datetime(2025, 10, 24, 12, tzinfo=UTC)
    load_events(es, siem, [_event(base + timedelta(seconds=i), f"s{i}", i) for i in range(6)])
    stream = _reader(es, siem, base, base + timedelta(hours=1), page_size=2).records()
    next(stream)
    with emulator.cluster.lock:
        emulator.cluster.pits.clear()  # what keep_alive running out does
    with pytest.raises(ElasticsearchSourceError, match=r"point in time .* was lost"):
        list(stream)


def test_bad_arguments_are_refused() -> None:
    es = Elasticsearch("http://127.0.0.1:9")
    with pytest.raises(ValueError, match="timezone"):
        ElasticsearchIntervalReader(es, datetime(2025, 1, 1), datetime(2025, 1, 2))
    with pytest.raises(ValueError, match="not after"):
        ElasticsearchIntervalReader(es, DAY[1], DAY[0])
    with pytest.raises(ValueError, match="slice"):
        ElasticsearchIntervalReader(es, *DAY, slices=2, slice_id=2)


def test_a_missing_concrete_index_is_a_clear_error(es: Elasticsearch, token: str) -> None:
    reader = ElasticsearchIntervalReader(es, *DAY, index_patterns=[f"cowrie-{token}-absent"], retry=NO_WAIT)
    with pytest.raises(ElasticsearchSourceError, match=rf"cowrie-{token}-absent.*does not exist"):
        list(reader.records())


def test_raw_is_the_event_that_re_parses_or_on_request_the_document(
    es: Elasticsearch, siem: SiemIndices
) -> None:
    base = datetime(2025, 10, 24, 13, tzinfo=UTC)
    doc = event_to_siem_document(_event(base, "raw-form"))
    load(es, siem, [doc])
    window = (base, base + timedelta(hours=1))
    (as_event,) = list(_reader(es, siem, *window).records())
    assert parse_event(json.loads(as_event.raw)) == as_event.event
    (as_document,) = list(_reader(es, siem, *window, raw_form="document").records())
    assert json.loads(as_document.raw) == doc.source
    assert as_document.event == as_event.event


def test_an_answer_that_failed_on_some_shards_is_refused_not_read_as_a_quiet_interval() -> None:
    partial = {
        "_shards": {"total": 3, "failed": 1, "failures": [{"reason": "node left"}]},
        "timed_out": False,
    }
    with pytest.raises(
        ElasticsearchSourceError, match=r"search of \[x\] returned partial results \(1 of 3 shards"
    ):
        require_complete(partial, "search of [x]")
    with pytest.raises(ElasticsearchSourceError, match="timed_out=True"):
        require_complete({"_shards": {"total": 3, "failed": 0}, "timed_out": True}, "the profile aggregation")
    require_complete({"_shards": {"total": 3, "failed": 0}, "timed_out": False}, "search of [x]")
