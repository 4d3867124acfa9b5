"""Bounded exponential backoff for Elasticsearch calls that fail with 429, 5xx or a lost connection."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from elasticsearch import ApiError, ConnectionError, ConnectionTimeout

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: ``max_attempts`` tries in all, waits doubling.

    Give the client ``max_retries=0`` (or a small number) when using this, so that retries are
    counted in one place; ``sleep`` is injectable so tests need not wait.
    """

    max_attempts: int = 5
    initial_backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("backoff must not be negative")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_backoff_s, self.initial_backoff_s * 2 ** (attempt - 1)))

    def is_retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, ApiError):
            return exc.meta.status in self.retry_statuses
        return isinstance(exc, (ConnectionError, ConnectionTimeout))


class RetryExhaustedError(RuntimeError):
    """A call that still failed after every attempt the policy allows."""

    def __init__(self, what: str, attempts: int, last_error: BaseException) -> None:
        self.what = what
        self.attempts = attempts
        self.last_error = last_error
        super().__init__(f"{what} failed after {attempts} attempts: {describe_error(last_error)}")


def describe_error(exc: BaseException) -> str:
    """One line for an Elasticsearch error: status, error type and reason when the body has them."""
    if isinstance(exc, ApiError):
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error")
        if isinstance(error, dict):
            root = (error.get("root_cause") or [error])[0]
            reason = root.get("reason", error.get("reason"))
            return f"HTTP {exc.meta.status} {root.get('type', error.get('type'))}: {reason}"
        return f"HTTP {exc.meta.status}: {error or exc.message}"
    return f"{type(exc).__name__}: {exc}"


def call_with_retry(operation: Callable[[], T], *, what: str, policy: RetryPolicy) -> T:
    """Run ``operation``; on a retryable failure wait and try again, up to ``policy.max_attempts``."""
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return operation()
        except Exception as exc:
            if not policy.is_retryable(exc):
                raise
            if attempt == policy.max_attempts:
                raise RetryExhaustedError(what, attempt, exc) from exc
            delay = policy.backoff(attempt)
            log.warning(
                "%s failed (%s); attempt %d of %d, retrying in %.2fs",
                what,
                describe_error(exc),
                attempt,
                policy.max_attempts,
                delay,
            )
            policy.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
