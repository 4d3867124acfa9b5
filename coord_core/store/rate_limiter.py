"""A sliding-window rate limiter shared by every worker through Redis, for all outbound lookups.

Each permit is a member of the sorted set ``coord:ratelimit:{name}`` scored by the Redis server's
clock (one clock for all workers, whatever their own clocks say); one Lua script trims the
window, counts and admits atomically. When Redis is unreachable the limiter falls back, with a
warning, to an in-process window of the same size: each process then keeps the limit on its
own, and Redis is tried again after ``recheck_after_s``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis

from coord_core.store import redis_keys

log = logging.getLogger(__name__)

# KEYS[1]: the window's sorted set. ARGV: limit, window (ms), a unique member for this permit.
# Returns {admitted (0|1), milliseconds until a permit frees up, permits in the window}.
_ADMIT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window_ms)
local used = redis.call('ZCARD', KEYS[1])
if used < limit then
    redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
    redis.call('PEXPIRE', KEYS[1], window_ms)
    return {1, 0, used + 1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local wait_ms = tonumber(oldest[2]) + window_ms - now_ms
if wait_ms < 1 then wait_ms = 1 end
return {0, wait_ms, used}
"""


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after_s: float
    backend: Literal["redis", "local"]


class _LocalWindow:
    """The in-process fallback: one window per limiter name, shared by the process's threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.permits: deque[float] = deque()

    def admit(self, limit: int, window_s: float, now: float) -> tuple[bool, float]:
        with self.lock:
            while self.permits and self.permits[0] <= now - window_s:
                self.permits.popleft()
            if len(self.permits) < limit:
                self.permits.append(now)
                return True, 0.0
            return False, max(self.permits[0] + window_s - now, 0.001)


_LOCAL_WINDOWS: dict[str, _LocalWindow] = {}
_LOCAL_WINDOWS_LOCK = threading.Lock()


def _local_window(name: str) -> _LocalWindow:
    with _LOCAL_WINDOWS_LOCK:
        return _LOCAL_WINDOWS.setdefault(name, _LocalWindow())


class SlidingWindowRateLimiter:
    """At most ``limit`` permits in any ``window_s`` seconds for the name, across all workers."""

    def __init__(
        self,
        client: redis.Redis[Any] | None,
        name: str,
        *,
        limit: int,
        window_s: float,
        recheck_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window_s <= 0:
            raise ValueError("window_s must be positive")
        self.name = name
        self.limit = limit
        self.window_s = window_s
        self.key = redis_keys.rate_limit(name)
        self.recheck_after_s = recheck_after_s
        self._client = client
        self._script = client.register_script(_ADMIT) if client is not None else None
        self._clock = clock
        self._sleep = sleep
        self._local = _local_window(name)
        self._redis_down_since: float | None = None
        self.degraded: str | None = None
        if client is None:
            self.degraded = "no Redis client configured"
            log.warning("rate limiter %s: no Redis configured; limiting in this process only", name)

    def try_acquire(self) -> RateDecision:
        """Take a permit if the window has room; otherwise say how long until one frees up."""
        if self._script is not None and self._redis_usable():
            try:
                admitted, wait_ms, _used = self._script(
                    keys=[self.key], args=[self.limit, int(self.window_s * 1000), uuid.uuid4().hex]
                )
            except redis.RedisError as exc:
                self._mark_redis_down(exc)
            else:
                if self.degraded is not None:
                    log.info("rate limiter %s is back on Redis", self.name)
                self.degraded = None
                self._redis_down_since = None
                return RateDecision(bool(admitted), float(wait_ms) / 1000.0, "redis")
        allowed, wait_s = self._local.admit(self.limit, self.window_s, self._clock())
        return RateDecision(allowed, wait_s, "local")

    def acquire(self, timeout_s: float) -> RateDecision:
        """Wait (up to ``timeout_s``) for a permit; the last decision says whether one was taken."""
        deadline = self._clock() + timeout_s
        while True:
            decision = self.try_acquire()
            if decision.allowed:
                return decision
            remaining = deadline - self._clock()
            if remaining <= 0 or decision.retry_after_s > remaining:
                return decision
            self._sleep(decision.retry_after_s)

    def _redis_usable(self) -> bool:
        if self._redis_down_since is None:
            return True
        return self._clock() - self._redis_down_since >= self.recheck_after_s

    def _mark_redis_down(self, exc: redis.RedisError) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        if self.degraded is None or self.degraded.startswith("no Redis"):
            log.warning(
                "rate limiter %s: Redis unavailable (%s); limiting in this process only", self.name, reason
            )
        self.degraded = reason
        self._redis_down_since = self._clock()
