"""Cache entries sealed with a keyed digest, so nothing read back from Redis is trusted unchecked.

Anyone who can write to Redis could otherwise plant a result that PostgreSQL stores and MISP
exports as the interval's. Every entry is written as one header line and the payload::

    coord-sealed-v1 <HMAC-SHA256 hex>\\n<payload bytes>

The digest is an HMAC-SHA256 under a secret key (the ``coord_redis`` connection's extra
``cache_hmac_key``; never in code or logs) over the entry's purpose, its binding (for an
analysis result: interval, input fingerprint, parameters, code version and threat-intel sources)
and the payload. A copy of a valid entry under another key, a truncated or edited payload, or a
well-formed entry made without the key all fail ``unseal``; the caller treats that as a miss.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

SEAL_FORMAT = b"coord-sealed-v1"
MIN_KEY_CHARS = 32
_HEADER = re.compile(rb"coord-sealed-v1 ([0-9a-f]{64})")


class CacheEntryRejected(Exception):
    """A cached entry failed verification; the message is the reason (never the key or digest)."""


class CacheSigner:
    """Seals and verifies cache entries with one secret key (HMAC-SHA256)."""

    __slots__ = ("_key",)

    def __init__(self, secret: str) -> None:
        if len(secret) < MIN_KEY_CHARS:
            raise ValueError(f"the cache signing key must have at least {MIN_KEY_CHARS} characters")
        # Derived per use, so the configured secret itself never keys anything directly.
        self._key = hmac.new(secret.encode(), b"coord cache entries v1", hashlib.sha256).digest()

    def __repr__(self) -> str:
        return "CacheSigner(key=<hidden>)"

    def _digest(self, purpose: str, binding: Mapping[str, str], payload: bytes) -> str:
        # JSON escapes newlines, so the first b"\n" ends the header unambiguously.
        header = json.dumps([purpose, sorted(binding.items())], separators=(",", ":")).encode()
        mac = hmac.new(self._key, header + b"\n", hashlib.sha256)
        mac.update(payload)
        return mac.hexdigest()

    def seal(self, purpose: str, binding: Mapping[str, str], payload: bytes) -> bytes:
        """The entry to store: header line with the digest, then ``payload``."""
        digest = self._digest(purpose, binding, payload)
        return SEAL_FORMAT + b" " + digest.encode() + b"\n" + payload

    def unseal(self, purpose: str, binding: Mapping[str, str], entry: bytes | str) -> bytes:
        """The payload of an entry sealed for exactly this purpose and binding, else
        ``CacheEntryRejected`` saying why."""
        raw = entry.encode() if isinstance(entry, str) else entry
        header, newline, payload = raw.partition(b"\n")
        match = _HEADER.fullmatch(header)
        if not newline or match is None:
            raise CacheEntryRejected("not a sealed entry")
        expected = self._digest(purpose, binding, payload)
        if not hmac.compare_digest(match.group(1), expected.encode()):
            raise CacheEntryRejected("digest does not match (forged, altered or for another key)")
        return payload
