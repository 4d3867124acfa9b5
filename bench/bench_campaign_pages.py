"""Benchmark: the campaign pages and the results API with 10,000 campaigns in the database.

Stores the synthetic corpus of ``coord_core.scenarios.stored_campaigns`` (10,000 cross-interval
campaigns over 24 hourly intervals, 3 sessions each, every tenth continuing into the next interval)
through the store in an embedded PostgreSQL (``pgserver``), then times each page and API call as
a request to the real apps (``TestClient``: routing, the reader-role session, every query, the
HTML rendering or JSON encoding; the Redis rate limiter for the API), with authentication stubbed.
Storing the corpus is not timed. Each request runs once to warm up, then ``--repeat`` times; the
median and the slowest are reported. Target: every page renders in under 1 s.

    .venv/bin/python bench/bench_campaign_pages.py                 # 10,000 campaigns
    .venv/bin/python bench/bench_campaign_pages.py --campaigns 50000

Prints one JSON document and writes ``bench/results/campaign_pages.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import psycopg  # noqa: E402
import redis  # noqa: E402
from coord_airflow import campaigns_app, results_api  # noqa: E402
from fastapi import Request  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis  # noqa: E402
from coord_core.pipeline.results_access import read_only_as  # noqa: E402
from coord_core.scenarios.stored_campaigns import HOSTILE_URL, payload_hash  # noqa: E402
from tests.campaigns.corpus import DAG_ID, run_id_of, store_corpus  # noqa: E402

RESULT = REPO / "bench" / "results" / "campaign_pages.json"
TARGET_S = 1.0
INTERVALS = 24


async def _anyone(request: Request) -> None:
    """Authentication is Airflow's and is not what this benchmark measures."""


async def _caller(request: Request) -> str:
    return "bench"


def _requests(conn: psycopg.Connection[Any], windows: list[Any]) -> dict[str, tuple[str, str]]:
    """Name -> (app, path): what a user or program asks for most."""
    busiest = conn.execute(
        "SELECT campaign_id FROM coord.campaign_tracks "
        "ORDER BY intervals DESC, sessions DESC, campaign_id LIMIT 1"
    ).fetchone()
    ip = conn.execute("SELECT host(src_ip) FROM coord.campaign_members ORDER BY src_ip LIMIT 1").fetchone()
    assert busiest is not None and ip is not None
    cid = quote(str(busiest[0]), safe="")
    run = f"dag_id={DAG_ID}&run_id={quote(run_id_of(windows[len(windows) // 2]), safe='')}"
    return {
        "list: first page (50, newest first)": ("pages", "/"),
        "list: sorted by confidence, page 100 of 200": ("pages", "/?sort=confidence&page=100"),
        "list: verdict + min confidence + time range": (
            "pages",
            f"/?verdict=coordinated_campaign&min_confidence=0.5&since={quote(windows[3].start.isoformat())}"
            f"&until={quote(windows[9].end.isoformat())}",
        ),
        "list: by source IP": ("pages", f"/?source_ip={ip[0]}"),
        "list: by network (the source's /16)": ("pages", f"/?network={quote(ip[0] + '/16', safe='')}"),
        "list: by network (a /1: about every campaign)": (
            "pages",
            f"/?network={quote('0.0.0.0/1', safe='')}",
        ),
        "list: by indicator (file hash)": ("pages", f"/?indicator={payload_hash(4242)}"),
        "list: by indicator (URL every campaign fetched)": (
            "pages",
            f"/?indicator={quote(HOSTILE_URL, safe='')}",
        ),
        "campaign page (two intervals)": ("pages", f"/campaign/{cid}"),
        "run tab (an interval's campaigns)": ("pages", f"/run?{run}"),
        "API: campaigns (100)": ("api", "/campaigns?limit=100"),
        "API: campaigns by network (/16)": ("api", f"/campaigns?network={quote(ip[0] + '/16', safe='')}"),
        "API: campaign": ("api", f"/campaigns/{cid}"),
        "API: lineage": ("api", f"/campaigns/{cid}/lineage"),
        "API: runs": ("api", "/runs"),
        "API: indicator (file hash)": ("api", f"/indicators/{payload_hash(4242)}"),
    }


def _time(client: TestClient, path: str, repeat: int) -> dict[str, Any]:
    first = client.get(path)
    assert first.status_code == 200, (path, first.status_code, first.text[:500])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        reply = client.get(path)
        times.append(time.perf_counter() - started)
        assert reply.status_code == 200
    return {
        "median_seconds": round(statistics.median(times), 4),
        "max_seconds": round(max(times), 4),
        "bytes": len(first.content),
        "meets_target": max(times) < TARGET_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coord-bench-pages-") as tmp:
        postgres, cache = EmbeddedPostgres(Path(tmp) / "pgdata"), EmbeddedRedis(Path(tmp) / "redis")
        dsn, redis_url = postgres.start(), cache.start()
        try:
            started = time.perf_counter()
            with psycopg.connect(dsn, autocommit=True) as conn:
                windows = store_corpus(conn, args.campaigns, intervals=INTERVALS, seed=7)
                conn.execute("ANALYZE")
                wanted = _requests(conn, windows)
                stored = conn.execute("SELECT count(*) FROM coord.campaign_tracks").fetchone()
            store_s = time.perf_counter() - started

            @contextmanager
            def reader() -> Iterator[psycopg.Connection[Any]]:
                conn = psycopg.connect(dsn)
                try:
                    read_only_as(conn, statement_timeout="30s")
                    yield conn
                finally:
                    conn.close()

            limiter = results_api.caller_limiter(
                redis.Redis.from_url(redis_url), limit=1_000_000, window_s=60, namespace="bench"
            )
            clients = {
                "pages": TestClient(campaigns_app.create_app(reader=reader, authorize=_anyone)),
                "api": TestClient(
                    results_api.create_app(reader=reader, authenticate=_caller, limiter=limiter)
                ),
            }
            timings = {}
            for name, (app, path) in wanted.items():
                timings[name] = _time(clients[app], path, args.repeat)
                print(name, json.dumps(timings[name], sort_keys=True), file=sys.stderr, flush=True)
        finally:
            cache.stop()
            postgres.stop()
    document = {
        "benchmark": "campaign_pages",
        "command": ".venv/bin/python bench/bench_campaign_pages.py (make bench)",
        "timed": "one request to the real app each (queries as coord_reader, rendering); auth stubbed",
        "campaigns": int(stored[0]) if stored else 0,
        "intervals": INTERVALS,
        "store_seconds_untimed": round(store_s, 1),
        "target_seconds": TARGET_S,
        "machine": {"cpus": 2, "platform": platform.platform(), "python": platform.python_version()},
        "requests": timings,
    }
    RESULT.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(document, indent=2, sort_keys=True))
    return 0 if all(t["meets_target"] for t in timings.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
