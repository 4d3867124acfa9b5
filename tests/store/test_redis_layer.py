"""Redis cache, tracking and alerts against a real Redis, and degradation when it is down."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
import redis

from coord_core.contracts.alerts import Alert
from coord_core.contracts.campaigns import AnalysisResult, RunInfo
from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import free_port
from coord_core.store import redis_keys
from coord_core.store.cache_integrity import CacheSigner
from coord_core.store.campaign_tracking import TrackedCampaign, track_campaigns
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.store.result_cache import AnalysisResultCache

WINDOW = DataWindow(start=datetime(2031, 1, 1, tzinfo=UTC), end=datetime(2031, 1, 1, 1, tzinfo=UTC))
SIGNER = CacheSigner("k" * 64)


def _result(fingerprint: str) -> AnalysisResult:
    return AnalysisResult(
        run=RunInfo(input_fingerprint=fingerprint, parameters={"k": 1}, code_version="v-test")
    )


def _campaign(cid: str, confidence: float) -> TrackedCampaign:
    seen = datetime.now(UTC)
    return TrackedCampaign(cid, "coordinated_campaign", confidence, seen - timedelta(minutes=5), seen, 1, 3)


def test_result_cache_roundtrip_with_ttl(redis_client: redis.Redis[bytes]) -> None:
    cache = AnalysisResultCache(BestEffortRedis(redis_client), SIGNER, ttl_seconds=120)
    fingerprint = f"fp-{time.time_ns()}"
    assert cache.get(WINDOW, fingerprint, "p1", "v-test") is None
    assert cache.put(WINDOW, _result(fingerprint), "p1")
    assert cache.get(WINDOW, fingerprint, "p1", "v-test") == _result(fingerprint)
    assert cache.get(WINDOW, fingerprint, "p2", "v-test") is None  # other parameters: a miss
    assert cache.get(WINDOW, fingerprint, "p1", "v-other") is None  # other code: a miss
    with_misp = redis_keys.source_digest("misp:https://misp.example")
    assert cache.get(WINDOW, fingerprint, "p1", "v-test", with_misp) is None  # other intel: a miss
    key = redis_keys.analysis_result(WINDOW, fingerprint, "p1", "v-test")
    assert 0 < redis_client.ttl(key) <= 120
    redis_client.delete(key)


def test_new_high_confidence_campaign_alerts_once(redis_client: redis.Redis[bytes]) -> None:
    pubsub = redis_client.pubsub()
    pubsub.subscribe(redis_keys.ALERT_CHANNEL)
    pubsub.get_message(timeout=1)  # subscription confirmation
    cid = f"cmp-test-{time.time_ns()}"
    low = f"cmp-low-{time.time_ns()}"
    best_effort = BestEffortRedis(redis_client)
    first = track_campaigns(best_effort, [_campaign(cid, 0.95), _campaign(low, 0.3)], alert_confidence=0.8)
    second = track_campaigns(best_effort, [_campaign(cid, 0.97)], alert_confidence=0.8)
    assert first["alerts"] == [cid] and second["alerts"] == []
    message = pubsub.get_message(timeout=2)
    assert message is not None and json.loads(message["data"])["campaign_id"] == cid
    assert pubsub.get_message(timeout=0.5) is None
    # The same versioned document is in the stream a reader resumes from (the SSE endpoint).
    alert = Alert.decode(message["data"])
    assert alert.kind == "new_campaign" and alert.facts.confidence == 0.95  # type: ignore[union-attr]
    assert alert.facts.alert_confidence == 0.8 and alert.facts.sessions == 3  # type: ignore[union-attr]
    newest = redis_client.xrevrange(redis_keys.ALERT_STREAM, count=50)  # others' too, on a shared Redis
    assert [a for a in (Alert.decode(f[b"alert"]) for _, f in newest) if a.campaign_id == cid] == [alert]
    assert redis_client.zscore(redis_keys.ACTIVE_CAMPAIGNS, cid) is not None
    assert redis_client.hget(redis_keys.campaign(cid), "confidence") == b"0.97"
    for key in (redis_keys.campaign(cid), redis_keys.campaign(low), redis_keys.alerted(cid)):
        redis_client.delete(key)
    redis_client.zrem(redis_keys.ACTIVE_CAMPAIGNS, cid, low)
    pubsub.close()


def test_redis_down_degrades_with_a_recorded_reason() -> None:
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    best_effort = BestEffortRedis(dead)
    cache = AnalysisResultCache(best_effort, SIGNER)
    assert cache.get(WINDOW, "fp", "p", "v") is None
    assert not cache.put(WINDOW, _result("fp"), "p")
    outcome = track_campaigns(best_effort, [_campaign("cmp-x", 0.99)], alert_confidence=0.5)
    assert outcome["alerts"] == []
    assert not best_effort.available
    assert all("ConnectionError" in f for f in best_effort.failures)


def test_workflow_state_is_recorded_with_a_one_hour_ttl(redis_client: redis.Redis[bytes]) -> None:
    from coord_core.store.workflow_state import WorkflowStateRecorder

    recorder = WorkflowStateRecorder(BestEffortRedis(redis_client), f"thread-{time.time_ns()}")
    recorder.record("pattern_analyzer", "running")
    recorder.record("pattern_analyzer", "done", campaigns=3)
    recorder.record("confidence_scorer", "running")
    state = recorder.snapshot()
    assert state["pattern_analyzer"]["status"] == "done" and state["pattern_analyzer"]["campaigns"] == 3
    assert state["confidence_scorer"]["status"] == "running"
    assert 3590 < redis_client.ttl(recorder.key) <= 3600
    redis_client.delete(recorder.key)


def test_bad_cached_results_are_counted_logged_misses(
    redis_client: redis.Redis[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    cache = AnalysisResultCache(BestEffortRedis(redis_client), SIGNER, ttl_seconds=120)
    fingerprint = f"fp-{time.time_ns()}"
    other_window = DataWindow(start=WINDOW.end, end=WINDOW.end + timedelta(hours=1))
    key = redis_keys.analysis_result(WINDOW, fingerprint, "p1", "v-test")
    other_key = redis_keys.analysis_result(other_window, fingerprint, "p1", "v-test")
    forged = _result(fingerprint).model_copy(update={"schema_version": "forged"})
    assert cache.put(WINDOW, _result(fingerprint), "p1") and cache.put(other_window, forged, "p1")
    sealed = redis_client.get(key)
    assert sealed is not None and sealed.startswith(b"coord-sealed-v1 ")
    bad_entries = {
        "truncated": sealed[: len(sealed) // 2],
        "unsealed JSON of a valid result": forged.to_canonical_json().encode(),
        "valid schema, digest under another key": CacheSigner("x" * 64).seal(
            "analysis-result", _binding_of(fingerprint), forged.to_canonical_json().encode()
        ),
        "right digest, another interval": redis_client.get(other_key),
        "right digest, payload not a result": SIGNER.seal("analysis-result", _binding_of(fingerprint), b"{}"),
    }
    with caplog.at_level(logging.WARNING, logger="coord_core.store.result_cache"):
        for n, (what, entry) in enumerate(bad_entries.items(), start=1):
            assert entry is not None
            redis_client.set(key, entry, ex=120)
            assert cache.get(WINDOW, fingerprint, "p1", "v-test") is None, what
            assert cache.rejected == n, what
    warnings = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert len(warnings) == len(bad_entries) and all(key in w for w in warnings)
    assert any("digest does not match" in w for w in warnings)
    assert any("schema" in w for w in warnings)
    redis_client.set(key, sealed, ex=120)
    assert cache.get(WINDOW, fingerprint, "p1", "v-test") == _result(fingerprint)  # the genuine entry
    redis_client.delete(key, other_key)


def _binding_of(fingerprint: str) -> dict[str, str]:
    return {
        "window": WINDOW.label,
        "input_fingerprint": fingerprint,
        "parameters_hash": "p1",
        "code_version": "v-test",
        "intel_sources": redis_keys.source_digest(),
    }
