"""Nothing is trusted from the analysis cache: a corrupted or forged entry is a logged, counted miss
and the interval's true result is recomputed, stored and served (real PostgreSQL and Redis)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import psycopg
import pytest
import redis

from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.window import DataWindow
from coord_core.pipeline.analyze import analyze_interval
from coord_core.store.cache_integrity import CacheSigner
from coord_core.store.migrations import migrate
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.store.result_cache import AnalysisResultCache
from coord_core.store.results import ResultsStore
from tests.analysis.builders import PUBLIC_SCRIPT, T0, background, random_ip, session

pytestmark = pytest.mark.integration

SIGNER = CacheSigner("c" * 48)


def _interval(store: ResultsStore, rng: random.Random, window: DataWindow) -> None:
    offset = (window.start - T0).total_seconds()
    users = [random_ip(rng) for _ in range(5)]
    sessions = [
        session(ip, offset + rng.uniform(0, 3000), logins=[("root", "admin")], commands=PUBLIC_SCRIPT)
        for ip in users
    ]
    noise = [
        s.model_copy(update={"start": s.start + (window.start - T0), "end": s.end + (window.start - T0)})
        for s in background(rng, 6, span_s=3000)
    ]
    store.replace_sessions(window, sessions + noise)


def _forged(result: AnalysisResult) -> bytes:
    """The interval's result with its campaigns removed: well-formed, and a lie."""
    assert result.campaigns
    return result.model_copy(update={"campaigns": []}).to_canonical_json().encode()


def test_corrupted_and_forged_cache_entries_are_misses_with_the_true_result(
    pg_conn: psycopg.Connection, redis_client: redis.Redis[bytes], caplog: pytest.LogCaptureFixture
) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    rng = random.Random(4711)
    start = T0 + timedelta(days=900)  # an interval no other test uses
    window = DataWindow(start=start, end=start + timedelta(hours=1))
    other = DataWindow(start=window.end, end=window.end + timedelta(hours=1))
    _interval(store, rng, window)
    _interval(store, rng, other)
    cache = AnalysisResultCache(BestEffortRedis(redis_client), SIGNER)
    before = set(redis_client.scan_iter("coord:result:*"))
    try:
        first = analyze_interval(store, window, {}, cache=cache)
        truth = store.load_analysis_result(window)
        assert truth is not None and not first["cache_hit"]
        (key,) = set(redis_client.scan_iter(f"coord:result:{window.label}:*")) - before
        genuine = redis_client.get(key)
        assert genuine is not None
        assert analyze_interval(store, window, {}, cache=cache)["cache_hit"]

        analyze_interval(store, other, {}, cache=cache)
        (other_key,) = set(redis_client.scan_iter(f"coord:result:{other.label}:*")) - before
        other_entry = redis_client.get(other_key)
        assert other_entry is not None
        header = genuine.split(b"\n", 1)[0]
        bad_entries = {
            "corrupted (truncated)": genuine[: len(genuine) * 2 // 3],
            "forged, valid schema, no digest": _forged(truth),
            "forged, valid schema, wrong digest": header + b"\n" + _forged(truth),
            "forged, sealed under another key": CacheSigner("f" * 48).seal(
                "analysis-result", {"window": window.label}, _forged(truth)
            ),
            "right digest for another interval": other_entry,
        }
        with caplog.at_level(logging.WARNING, logger="coord_core.store.result_cache"):
            for n, (what, entry) in enumerate(bad_entries.items(), start=1):
                redis_client.set(key, entry)
                summary = analyze_interval(store, window, {}, cache=cache)
                assert not summary["cache_hit"] and summary["cache_rejected"] == n, what
                assert summary["result_sha256"] == first["result_sha256"], what
                assert store.load_analysis_result(window) == truth, what
                assert redis_client.get(key) == genuine, what  # the bad entry was replaced
        rejected = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
        assert len(rejected) == len(bad_entries)
        assert all(key.decode() in message for message in rejected)
        # The repaired entry is served again.
        assert analyze_interval(store, window, {}, cache=cache)["cache_hit"]
    finally:
        created = set(redis_client.scan_iter("coord:result:*")) - before
        if created:
            redis_client.delete(*created)
