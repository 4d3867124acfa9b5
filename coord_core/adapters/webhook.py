"""Signed webhook delivery over HTTP(S): HMAC-SHA256 over timestamp and body, bounded retries.

The receiver recomputes ``HMAC-SHA256(secret, "<X-Coord-Timestamp>." + body)`` and compares it
with ``X-Coord-Signature: sha256=<hex>``; the timestamp is inside the signed bytes, so a receiver
that refuses old timestamps refuses replays. A 5xx answer or a connection error is retried with
exponential backoff up to ``max_attempts``; a 4xx (or any other non-2xx) answer is final: the
receiver has refused that body and sending it again cannot change its mind. Redirects are not
followed (a signed body goes only where it was configured to go).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

SIGNATURE_HEADER = "X-Coord-Signature"
TIMESTAMP_HEADER = "X-Coord-Timestamp"
EVENT_HEADER = "X-Coord-Event"
DELIVERY_HEADER = "X-Coord-Delivery"
SIGNATURE_PREFIX = "sha256="
REPLAY_TOLERANCE_S = 300
MAX_ATTEMPTS_LIMIT = 10
_RESPONSE_READ_LIMIT = 4096

Outcome = Literal["delivered", "retry", "refused", "failed"]


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Coord-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()


def verify(
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    now: float | None = None,
    tolerance_s: int = REPLAY_TOLERANCE_S,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is within ``tolerance_s``."""
    if not signature or not timestamp or not timestamp.isdigit():
        return False
    sent = int(timestamp)
    if abs((time.time() if now is None else now) - sent) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature)


@dataclass(frozen=True)
class WebhookTarget:
    """Where and how to deliver; the secret never appears in ``repr`` or ``location``."""

    url: str
    secret: str = field(repr=False)
    timeout_s: float = 10.0
    max_attempts: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("webhook URL must be http(s)://host[:port][/path]")
        if parts.username or parts.password:
            raise ValueError("webhook URL must not carry credentials; the signing secret is separate")
        if not self.secret:
            raise ValueError("webhook signing secret is empty: unsigned deliveries are not sent")
        if not 1 <= self.max_attempts <= MAX_ATTEMPTS_LIMIT:
            raise ValueError(f"max_attempts must be 1..{MAX_ATTEMPTS_LIMIT}")
        if self.timeout_s <= 0 or self.backoff_s < 0 or self.max_backoff_s < 0:
            raise ValueError("timeout_s must be positive, backoff_s and max_backoff_s not negative")

    @property
    def location(self) -> str:
        """Scheme, host and port only: a path or query may hold a token, so it is never recorded."""
        parts = urlsplit(self.url)
        port = f":{parts.port}" if parts.port else ""
        host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else parts.hostname
        return f"{parts.scheme}://{host}{port}"

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): doubling, capped."""
        return float(min(self.max_backoff_s, self.backoff_s * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Attempt:
    """One POST: its number, the HTTP status (None when no answer came) and what follows from it."""

    number: int
    status: int | None
    outcome: Outcome
    error: str | None
    elapsed_ms: int


@dataclass(frozen=True)
class Delivery:
    delivered: bool
    attempts: tuple[Attempt, ...]

    @property
    def status(self) -> int | None:
        return self.attempts[-1].status if self.attempts else None


def _post(target: WebhookTarget, body: bytes, headers: dict[str, str]) -> int:
    """POST once; the status code (the answer's body is read, bounded, and dropped)."""
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=target.timeout_s, context=ssl.create_default_context()
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=target.timeout_s)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(_RESPONSE_READ_LIMIT)
        return response.status
    finally:
        conn.close()


def post_signed(
    target: WebhookTarget,
    event: str,
    delivery_id: str,
    body: bytes,
    *,
    on_attempt: Callable[[Attempt], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
) -> Delivery:
    """Deliver ``body``; each attempt is re-signed with its own timestamp and reported to
    ``on_attempt`` before the next one starts."""
    attempts: list[Attempt] = []
    for number in range(1, target.max_attempts + 1):
        timestamp = int(clock())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "coord-webhook/1",
            EVENT_HEADER: event,
            DELIVERY_HEADER: delivery_id,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(target.secret, timestamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            status = _post(target, body, headers)
        except (OSError, http.client.HTTPException) as exc:  # refused, reset, timeout, TLS, bad answer
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        retryable = status is None or status >= 500
        last = number == target.max_attempts
        outcome: Outcome
        if status is not None and 200 <= status < 300:
            outcome = "delivered"
        elif retryable:
            outcome = "failed" if last else "retry"
        else:
            outcome = "refused"
        attempt = Attempt(number, status, outcome, error, int((time.monotonic() - started) * 1000))
        attempts.append(attempt)
        on_attempt(attempt)
        if outcome != "retry":
            break
        sleep(target.backoff(number))
    return Delivery(delivered=attempts[-1].outcome == "delivered", attempts=tuple(attempts))
