"""Nothing is trusted from the analysis cache: a corrupted or forged entry is a logged, counted miss
and the interval's true result is recomputed, stored and served (real PostgreSQL and Redis)."""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

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


def test_the_analyze_task_records_rejections_in_the_run_row_and_the_metrics(
    pg_conn: psycopg.Connection,
    postgres_dsn: str,
    redis_client: redis.Redis[bytes],
    redis_server_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through the Airflow task (its connections from the environment, as on a worker): each
    rejected entry is in ``coord.runs.cache_rejected_count`` and on the metrics endpoint."""
    from coord_airflow import pipeline_tasks
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from coord_core.store.results import RunRecord
    from tests.dags.airflow_env import DAG_ID, airflow_conn_uri, with_cache_secret
    from tests.observability.support import metrics_app

    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    start = T0 + timedelta(days=910)  # an interval no other test uses
    window = DataWindow(start=start, end=start + timedelta(hours=1))
    _interval(store, random.Random(4712), window)
    run_id = "manual__cache"
    store.start_run(window, RunRecord(DAG_ID, run_id, 1, "files", [], None, "test", {}))
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    monkeypatch.setenv("AIRFLOW_CONN_COORD_REDIS", with_cache_secret(redis_server_url))
    context: Any = {
        "params": {},
        "dag_run": SimpleNamespace(dag_id=DAG_ID, run_id=run_id, conf={}, run_type="manual"),
        "ti": SimpleNamespace(try_number=1, task_id="analyze"),
        "data_interval_start": window.start,
        "data_interval_end": window.end,
    }

    def rejected_in_row() -> int | None:
        row = pg_conn.execute(
            "SELECT cache_rejected_count FROM coord.runs WHERE dag_id = %s AND interval_start = %s",
            (DAG_ID, window.start),
        ).fetchone()
        assert row is not None
        return None if row[0] is None else int(row[0])

    def scraped() -> dict[str, float]:
        reply = TestClient(metrics_app(postgres_dsn, "t")).get(
            "/metrics", headers={"Authorization": "Bearer t"}
        )
        assert reply.status_code == 200, reply.text
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(reply.text)
            for sample in family.samples
            if sample.name.endswith("cache_rejected_entries") and sample.labels == {"dag_id": DAG_ID}
        }

    before = set(redis_client.scan_iter("coord:result:*"))
    try:
        first = pipeline_tasks.analyze(context)
        assert not first["cache_hit"] and rejected_in_row() == 0
        (key,) = set(redis_client.scan_iter(f"coord:result:{window.label}:*")) - before
        genuine = redis_client.get(key)
        assert genuine is not None
        truth = store.load_analysis_result(window)
        assert truth is not None
        for what, entry in {
            "corrupted (truncated)": genuine[: len(genuine) // 2],
            "forged, sealed under another key": CacheSigner("f" * 48).seal(
                "analysis-result", {"window": window.label}, _forged(truth)
            ),
        }.items():
            redis_client.set(key, entry)
            summary = pipeline_tasks.analyze(context)
            assert not summary["cache_hit"] and summary["result_sha256"] == first["result_sha256"], what
            assert rejected_in_row() == 1, what
            assert scraped() == {
                "coord_interval_cache_rejected_entries": 1.0,
                "coord_cache_rejected_entries": 1.0,
            }, what
        assert pipeline_tasks.analyze(context)["cache_hit"] and rejected_in_row() == 0
        assert scraped()["coord_interval_cache_rejected_entries"] == 0.0
    finally:
        created = set(redis_client.scan_iter("coord:result:*")) - before
        if created:
            redis_client.delete(*created)
