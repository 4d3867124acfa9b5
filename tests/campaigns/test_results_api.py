"""The results API on a real PostgreSQL (reader role) and a real Redis (the rate limiter): filters and
cursor paging, one campaign and its lineage, runs, indicators, its OpenAPI document, 401 and 429."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import redis
from coord_airflow.results_api import caller_limiter, create_app
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient

from coord_core.scenarios.stored_campaigns import HOSTILE_URL, payload_hash
from tests.campaigns.conftest import CAMPAIGNS, EVENT_UUID, INTERVALS, Corpus
from tests.campaigns.corpus import DAG_ID

USERS = {"token-a": "analyst-a", "token-b": "analyst-b"}


async def _caller(request: Request) -> str:
    """Airflow's answers (``airflow_user``): no token 401, a token it cannot verify 403."""
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    if not token:
        raise HTTPException(status_code=401, detail="Not authenticated")
    user = USERS.get(token)
    if user is None:
        raise HTTPException(status_code=403, detail="Invalid JWT token")
    return user


@pytest.fixture
def limited(redis_server_url: str) -> Iterator[tuple[redis.Redis[bytes], str]]:
    """A real Redis and a rate-limit namespace owned by one test (its keys deleted afterwards)."""
    client: redis.Redis[bytes] = redis.Redis.from_url(redis_server_url)
    namespace = f"coordtest-api-{uuid.uuid4().hex[:10]}"
    yield client, namespace
    keys = list(client.scan_iter(match=f"coord:ratelimit:{namespace}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def _client(corpus: Corpus, limited: tuple[redis.Redis[bytes], str], limit: int = 1000) -> TestClient:
    client, namespace = limited
    limiter = caller_limiter(client, limit=limit, window_s=60, namespace=namespace)
    app = create_app(reader=corpus.reader, authenticate=_caller, limiter=limiter)
    return TestClient(app, headers={"Authorization": "Bearer token-a"})


def _all_pages(api: TestClient, **params: Any) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        reply = api.get("/campaigns", params={**params, **({"cursor": cursor} if cursor else {})})
        assert reply.status_code == 200, reply.text
        body = reply.json()
        rows += body["campaigns"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return rows, pages


def test_cursor_paging_walks_every_campaign_once_in_either_sort(
    corpus: Corpus, limited: tuple[redis.Redis[bytes], str]
) -> None:
    api = _client(corpus, limited)
    rows, pages = _all_pages(api, limit=25)
    expected = [r[0] for r in corpus.query(
        "SELECT campaign_id FROM coord.campaign_tracks ORDER BY last_seen DESC, campaign_id DESC"
    )]  # fmt: skip
    assert pages == 3 and [r["campaign_id"] for r in rows] == expected
    assert set(rows[0]) == {"campaign_id", "verdicts", "max_confidence", "first_seen", "last_seen",
                            "intervals", "sessions", "source_ips"}  # fmt: skip
    assert sum(r["intervals"] for r in rows) > CAMPAIGNS and all(r["source_ips"] >= 1 for r in rows)
    up, _ = _all_pages(api, limit=7, sort="confidence", order="asc")
    assert [r["max_confidence"] for r in up] == sorted(r["max_confidence"] for r in rows)
    assert {r["campaign_id"] for r in up} == set(expected)
    first = api.get("/campaigns", params={"limit": 5, "sort": "confidence"}).json()
    wrong_sort = api.get("/campaigns", params={"cursor": first["next_cursor"], "sort": "last_seen"})
    assert wrong_sort.status_code == 400 and "cursor" in wrong_sort.json()["detail"]
    assert api.get("/campaigns", params={"cursor": "!!not base64"}).status_code == 400


def test_filters_and_their_validation(corpus: Corpus, limited: tuple[redis.Redis[bytes], str]) -> None:
    api = _client(corpus, limited)
    rows, _ = _all_pages(api, verdict="coincidental", min_confidence=0.3, limit=500)
    expected = {r[0] for r in corpus.query(
        "SELECT campaign_id FROM coord.campaign_tracks "
        "WHERE 'coincidental' = ANY(verdicts) AND max_confidence >= 0.3"
    )}  # fmt: skip
    assert expected and {r["campaign_id"] for r in rows} == expected
    window = corpus.windows[-1]
    late, _ = _all_pages(api, seen_since=window.start.isoformat(), limit=500)
    assert late and all(r["last_seen"] >= window.start.isoformat() for r in late)
    hashed = api.get("/campaigns", params={"indicator": payload_hash(3)}).json()["campaigns"]
    assert len(hashed) == 1
    half, pages = _all_pages(api, network="128.0.0.0/1", limit=7)  # paged by cursor, filter kept
    expected_half = corpus.in_network("128.0.0.0/1")
    assert 0 < len(expected_half) < CAMPAIGNS and pages > 1
    assert len(half) == len(expected_half) and {r["campaign_id"] for r in half} == expected_half
    for params, status in (
        ({"verdict": "evil"}, 422),
        ({"min_confidence": 1.5}, 422),
        ({"limit": 0}, 422),
        ({"seen_since": "2025-10-24T00:00:00"}, 400),
        ({"source_ip": "300.1.1.1"}, 400),
        ({"network": "10.0.0.0/33"}, 400),
        ({"network": "x" * 65}, 422),
        ({"indicator": "not an indicator"}, 400),
    ):
        assert api.get("/campaigns", params=params).status_code == status, params


def test_one_campaign_and_its_lineage(corpus: Corpus, limited: tuple[redis.Redis[bytes], str]) -> None:
    api = _client(corpus, limited)
    detail = api.get(f"/campaigns/{corpus.exported}").json()
    assert detail["campaign_id"] == corpus.exported and detail["member_count"] == 3
    assert detail["misp_exports"][0]["event_uuid"] == EVENT_UUID
    (occurrence,) = detail["occurrences"]
    statistic = {e["factor"]: e["statistic"] for e in occurrence["evidence"]}
    assert statistic["shared_artefact"]["shared_values"][0] == HOSTILE_URL  # data, unaltered in JSON
    assert statistic["temporal_synchronisation"]["permutations"] == 999
    assert occurrence["narrative"]["model"] == "qwen2.5:7b-instruct"
    assert len(detail["timeline"]) == 3 and detail["timeline_truncated"] is False
    lineage = api.get(f"/campaigns/{corpus.continued}/lineage").json()
    assert len(lineage["occurrences"]) == 2
    assert [run["dag_id"] for occ in lineage["occurrences"] for run in occ["runs"]] == [DAG_ID, DAG_ID]
    assert api.get("/campaigns/cmp-0000000000000000").status_code == 404
    assert api.get("/campaigns/cmp-0000000000000000/lineage").status_code == 404
    assert api.get("/campaigns/" + quote("x' OR 1=1 --", safe="")).status_code == 422
    trimmed = api.get(f"/campaigns/{corpus.exported}", params={"member_limit": 1, "timeline_limit": 2}).json()
    assert len(trimmed["members"]) == 1 and trimmed["members_truncated"] is True
    assert len(trimmed["timeline"]) == 2 and trimmed["timeline_truncated"] is True


def test_runs_page_by_cursor(corpus: Corpus, limited: tuple[redis.Redis[bytes], str]) -> None:
    api = _client(corpus, limited)
    first = api.get("/runs", params={"limit": 3}).json()
    second = api.get("/runs", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    runs = first["runs"] + second["runs"]
    assert second["next_cursor"] is None and len(runs) == INTERVALS
    assert [r["interval_start"] for r in runs] == sorted(
        (w.start.isoformat() for w in corpus.windows), reverse=True
    )
    assert all(r["status"] == "success" and r["dq_gate_passed"] is True for r in runs)
    assert api.get("/runs", params={"status": "failed"}).json() == {"runs": [], "next_cursor": None}
    campaigns_cursor = api.get("/campaigns", params={"limit": 1}).json()["next_cursor"]
    assert api.get("/runs", params={"cursor": campaigns_cursor}).status_code == 400


def test_indicator_lookup_for_ip_hash_and_url(
    corpus: Corpus, limited: tuple[redis.Redis[bytes], str]
) -> None:
    api = _client(corpus, limited)
    (ip,) = corpus.query(
        """SELECT host(m.src_ip) FROM coord.campaign_identity i JOIN coord.campaign_members m
             ON m.interval_start = i.interval_start AND m.campaign_id = i.occurrence_id
           WHERE i.campaign_id = %s LIMIT 1""",
        corpus.exported,
    )[0]
    by_ip = api.get(f"/indicators/{ip}").json()
    assert by_ip["kind"] == "ip" and [c["campaign_id"] for c in by_ip["campaigns"]] == [corpus.exported]
    by_hash = api.get(f"/indicators/{payload_hash(0).upper()}").json()
    assert by_hash["kind"] == "hash" and len(by_hash["campaigns"]) == 1
    assert by_hash["campaigns"][0]["matching_sessions"] == 6  # the campaign's two occurrences
    by_url = api.get("/indicators/" + quote(HOSTILE_URL, safe=""), params={"limit": 500}).json()
    assert by_url["kind"] == "url" and by_url["indicator"] == HOSTILE_URL
    assert len(by_url["campaigns"]) == CAMPAIGNS
    assert api.get("/indicators/198.51.100.254").json()["campaigns"] == []
    assert api.get("/indicators/hello").status_code == 400
    assert api.get("/indicators/abc", params={"kind": "hash"}).status_code == 400


def test_the_openapi_document_describes_every_endpoint_and_the_bearer_scheme(
    corpus: Corpus, limited: tuple[redis.Redis[bytes], str]
) -> None:
    document = _client(corpus, limited).get("/openapi.json").json()
    assert set(document["paths"]) == {
        "/campaigns", "/campaigns/{campaign_id}", "/campaigns/{campaign_id}/lineage", "/runs",
        "/indicators/{value}", "/alerts/stream",
    }  # fmt: skip
    stream = document["paths"]["/alerts/stream"]["get"]
    assert "text/event-stream" in stream["responses"]["200"]["content"]
    assert {p["name"] for p in stream["parameters"]} == {"Last-Event-ID", "last_event_id"}
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    listing = document["paths"]["/campaigns"]["get"]
    assert {p["name"] for p in listing["parameters"]} >= {"verdict", "min_confidence", "cursor", "sort"}
    assert {"401", "403", "429"} <= set(listing["responses"])
    assert "CampaignDetail" in document["components"]["schemas"]


def test_unauthenticated_calls_get_401_forged_tokens_403_and_never_reach_the_database(
    corpus: Corpus, limited: tuple[redis.Redis[bytes], str]
) -> None:
    api = _client(corpus, limited)
    for path in ("/campaigns", f"/campaigns/{corpus.exported}", f"/campaigns/{corpus.exported}/lineage",
                 "/runs", "/indicators/203.0.113.7", "/openapi.json"):  # fmt: skip
        assert api.get(path, headers={"Authorization": ""}).status_code == 401, path
        assert api.get(path, headers={"Authorization": "Bearer forged"}).status_code == 403, path


def test_past_the_limit_a_caller_gets_429_until_the_window_frees_and_others_are_unaffected(
    corpus: Corpus, limited: tuple[redis.Redis[bytes], str]
) -> None:
    client, namespace = limited
    api = _client(corpus, limited, limit=5)
    assert [api.get("/runs").status_code for _ in range(5)] == [200] * 5
    refused = api.get("/campaigns")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert api.get("/runs", headers={"Authorization": "Bearer token-b"}).status_code == 200
    # The window lives in Redis (shared by every API server worker), one sorted set per caller.
    keys = sorted(k.decode() for k in client.scan_iter(match=f"coord:ratelimit:{namespace}:*"))
    assert len(keys) == 2 and sorted(client.zcard(k) for k in keys) == [1, 5]
    # A second app (another worker) sees the same window.
    assert _client(corpus, limited, limit=5).get("/runs").status_code == 429
