"""Redis is a cache and a notification channel, never the system of record: when it is down
the pipeline goes on with a warning, and PostgreSQL still holds every result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # imported where a call is made: holding no client needs no redis (0.2 s)
    import redis

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class BestEffortRedis:
    """Runs Redis operations, turning a Redis outage into a logged, recorded degradation."""

    client: redis.Redis[Any] | None
    failures: list[str] = field(default_factory=list)

    @property
    def available(self) -> bool:
        return self.client is not None and not self.failures

    def call(self, what: str, operation: Callable[[redis.Redis[Any]], T], fallback: T) -> T:
        """Run ``operation``; after the first failure the circuit stays open for this object."""
        if self.client is None or self.failures:
            return fallback
        import redis

        try:
            return operation(self.client)
        except redis.RedisError as exc:
            reason = f"{what}: {type(exc).__name__}: {exc}"
            self.failures.append(reason)
            log.warning("Redis unavailable, continuing without it (%s)", reason)
            return fallback
