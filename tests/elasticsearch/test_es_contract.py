"""Elasticsearch behaviours the adapters rely on, asserted through the unmodified client.

They run against the emulator by default and against a real cluster with ``ES_URL``, which is
how the emulator is kept honest: a behaviour it gets wrong fails here on a real server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from elasticsearch import BadRequestError, Elasticsearch, NotFoundError

from tests.elasticsearch.support import create_index


def _reason(exc: Any) -> str:
    error = exc.body["error"]
    return str(error["root_cause"][0]["reason"])


def _type(exc: Any) -> str:
    return str(exc.body["error"]["root_cause"][0]["type"])


@pytest.fixture
def index(es: Elasticsearch, token: str) -> str:
    name = f"contract-{token}"
    create_index(
        es, name, mappings={"properties": {"@timestamp": {"type": "date"}, "n": {"type": "long"}}}, shards=2
    )
    docs = [{"@timestamp": f"2025-10-24T00:00:0{i % 3}.000Z", "n": i} for i in range(9)]
    for i, doc in enumerate(docs):
        es.index(index=name, id=str(i), document=doc)
    es.indices.refresh(index=name)
    return name


@pytest.fixture
def pit(es: Elasticsearch, index: str) -> Iterator[str]:
    pit_id = es.open_point_in_time(index=index, keep_alive="1m")["id"]
    yield pit_id
    with contextlib.suppress(NotFoundError):
        es.close_point_in_time(id=pit_id)


def test_cluster_identifies_as_elasticsearch_8(es: Elasticsearch) -> None:
    info = es.info()
    assert info["version"]["number"].startswith("8.")
    assert info.meta.headers["x-elastic-product"] == "Elasticsearch"


def test_search_after_needs_a_sort(es: Elasticsearch, index: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.search(index=index, search_after=[1], size=1)
    assert _reason(caught.value) == "Sort must contain at least one field."


def test_search_after_must_match_the_sort_length(es: Elasticsearch, index: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.search(index=index, sort=[{"n": "asc"}], search_after=[1, 2], size=1)
    assert _reason(caught.value) == "search_after has 2 value(s) but sort has 1."


def test_a_point_in_time_search_takes_no_index(es: Elasticsearch, index: str, pit: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.search(index=index, pit={"id": pit}, size=1)
    assert _type(caught.value) == "action_request_validation_exception"
    assert "[indices] cannot be used with point in time" in _reason(caught.value)


def test_shard_doc_needs_a_point_in_time(es: Elasticsearch, index: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.search(index=index, sort=[{"_shard_doc": "asc"}], size=1)
    assert "[_shard_doc] sort field cannot be used without [point in time]" in _reason(caught.value)


def test_an_unknown_query_is_refused(es: Elasticsearch, index: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.search(index=index, query={"no_such_query": {"field": "x"}})
    assert _type(caught.value) == "parsing_exception"
    assert _reason(caught.value) == "unknown query [no_such_query]"


def test_point_in_time_pages_carry_the_implicit_tiebreaker_and_end_exactly(
    es: Elasticsearch, index: str, pit: str
) -> None:
    seen: list[int] = []
    after: list[Any] | None = None
    while True:
        options: dict[str, Any] = {"search_after": after} if after else {}
        page = es.search(pit={"id": pit, "keep_alive": "1m"}, sort=[{"@timestamp": "asc"}], size=2, **options)
        assert page["pit_id"]
        hits = page["hits"]["hits"]
        if not hits:
            break
        assert all(len(h["sort"]) == 2 for h in hits), "@timestamp plus the implicit _shard_doc"
        seen.extend(h["_source"]["n"] for h in hits)
        after = hits[-1]["sort"]
    assert sorted(seen) == list(range(9))
    stamps = [n % 3 for n in seen]
    assert stamps == sorted(stamps)


def test_slices_of_a_point_in_time_are_disjoint_and_complete(es: Elasticsearch, index: str, pit: str) -> None:
    parts = []
    for slice_id in range(2):
        page = es.search(
            pit={"id": pit}, slice={"id": slice_id, "max": 2}, size=100, sort=[{"_shard_doc": "asc"}]
        )
        parts.append({h["_id"] for h in page["hits"]["hits"]})
    assert not parts[0] & parts[1]
    assert parts[0] | parts[1] == {str(i) for i in range(9)}


def test_a_closed_point_in_time_is_gone(es: Elasticsearch, index: str) -> None:
    pit_id = es.open_point_in_time(index=index, keep_alive="1m")["id"]
    assert es.close_point_in_time(id=pit_id)["succeeded"]
    with pytest.raises(NotFoundError):
        es.search(pit={"id": pit_id}, size=1)


def test_range_on_a_date_counts_and_total_hits_can_be_turned_off(es: Elasticsearch, index: str) -> None:
    query = {"range": {"@timestamp": {"gte": "2025-10-24T00:00:01Z", "lt": "2025-10-24T00:00:02Z"}}}
    assert es.count(index=index, query=query)["count"] == 3
    page = es.search(index=index, query=query, track_total_hits=False, size=1)
    assert "total" not in page["hits"]
    assert es.search(index=index, query=query, size=0)["hits"]["total"] == {"value": 3, "relation": "eq"}


def test_result_window_is_bounded(es: Elasticsearch, index: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.search(index=index, from_=9995, size=10)
    assert "Result window is too large" in _reason(caught.value)


def test_malformed_bulk_lines_are_refused_whole(es: Elasticsearch, index: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.bulk(operations=[{"upsert": {"_index": index, "_id": "x"}}, {"n": 1}])
    assert _reason(caught.value) == (
        "Malformed action/metadata line [1], expected field [create], [delete], [index] or [update] "
        "but found [upsert]"
    )


def test_bulk_reports_each_refused_item(es: Elasticsearch, index: str) -> None:
    response = es.bulk(
        operations=[
            {"index": {"_index": index, "_id": "ok"}},
            {"@timestamp": "2025-10-24T00:00:00Z", "n": 1},
            {"index": {"_index": index, "_id": "bad"}},
            {"@timestamp": "2025-10-24T00:00:00Z", "n": "many"},
            {"create": {"_index": index, "_id": "0"}},
            {"@timestamp": "2025-10-24T00:00:00Z", "n": 2},
        ]
    )
    assert response["errors"] is True
    ok, bad, conflict = (next(iter(item.values())) for item in response["items"])
    assert ok["status"] == 201 and ok["result"] == "created"
    assert bad["status"] == 400 and bad["error"]["type"] == "document_parsing_exception"
    assert "failed to parse field [n] of type [long]" in bad["error"]["reason"]
    assert conflict["status"] == 409 and conflict["error"]["type"] == "version_conflict_engine_exception"


def test_documents_become_searchable_on_refresh(es: Elasticsearch, token: str) -> None:
    name = f"refresh-{token}"
    es.indices.create(index=name, settings={"refresh_interval": "-1", "number_of_replicas": 0})
    es.index(index=name, id="1", document={"n": 1})
    assert es.count(index=name)["count"] == 0
    es.indices.refresh(index=name)
    assert es.count(index=name)["count"] == 1


def test_index_names_must_be_lowercase(es: Elasticsearch, token: str) -> None:
    with pytest.raises(BadRequestError) as caught:
        es.indices.create(index=f"Upper-{token}")
    assert _type(caught.value) == "invalid_index_name_exception"


def test_a_template_shapes_indices_it_matches(es: Elasticsearch, token: str) -> None:
    name = f"contract-template-{token}"
    es.indices.put_index_template(
        name=name,
        index_patterns=[f"shaped-{token}-*"],
        priority=500,
        template={"mappings": {"dynamic": "strict", "properties": {"n": {"type": "long"}}}},
    )
    try:
        response = es.bulk(
            operations=[{"index": {"_index": f"shaped-{token}-1", "_id": "1"}}, {"n": 1, "extra": "x"}],
        )
        item = response["items"][0]["index"]
        assert item["status"] == 400
        assert item["error"]["type"] == "strict_dynamic_mapping_exception"
        mapping = es.indices.get_mapping(index=f"shaped-{token}-1")[f"shaped-{token}-1"]["mappings"]
        assert mapping["properties"]["n"] == {"type": "long"}
    finally:
        es.indices.delete_index_template(name=name)
