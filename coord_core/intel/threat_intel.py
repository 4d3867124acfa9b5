"""``ThreatIntelSource`` for MISP: what does MISP already know about this interval's indicators?

Indicators are searched in batches (one ``attributes/restSearch`` per kind and batch, values
OR-ed, event info/UUID/tags included), each batch behind the shared Redis rate limiter. Each
indicator's answer, a miss included, is cached in Redis per MISP instance
(``coord:ti:{source}:{kind}:{value}``) for ``cache_ttl_s``, sealed with a keyed digest bound to the
source and the indicator (``cache_integrity``): an entry that fails verification or the schema is
a logged, counted miss, looked up again; without a signing key the cache is not used. Events
this project exported (tagged ``dshield-coord:``) are not evidence about themselves and are
ignored. An outage, a timeout, an HTTP error or a refused permit ends the lookup with
``failed=True`` and the reason, keeping what was found; it never raises.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import redis
from pydantic import TypeAdapter, ValidationError
from pymisp import PyMISP

from coord_core.adapters.misp_client import misp_errors
from coord_core.contracts.threat_intel import Indicator, IndicatorKind, IntelMatch, ThreatIntelLookup
from coord_core.intel.indicators import MISP_TYPES_OF_KIND
from coord_core.intel.taxonomy import is_project_tag
from coord_core.store import redis_keys
from coord_core.store.cache_integrity import CacheEntryRejected, CacheSigner
from coord_core.store.rate_limiter import SlidingWindowRateLimiter

log = logging.getLogger(__name__)

DEFAULT_CACHE_TTL_S = 24 * 3600
MAX_TAGS_PER_MATCH = 50
MAX_INFO_CHARS = 500
_MATCHES = TypeAdapter(list[IntelMatch])
CACHE_PURPOSE = "threat-intel-answer"


class UnconfiguredThreatIntel:
    """The source when no MISP is configured: every lookup fails, saying so (degraded evidence)."""

    def __init__(self, name: str = "misp", reason: str = "no MISP connection configured") -> None:
        self.name = name
        self.reason = reason
        self.identity = f"unconfigured:{name}"

    def lookup(self, indicators: list[Indicator]) -> ThreatIntelLookup:
        wanted = {normalise(i) for i in indicators}
        return ThreatIntelLookup(source=self.name, looked_up=len(wanted), failed=True, error=self.reason)


class _LookupFailed(Exception):
    """Internal: the source failed; the message is the reason reported in the lookup."""


def normalise(indicator: Indicator) -> Indicator:
    """The form MISP stores (lower-case digests and host names, compressed IPs)."""
    value = indicator.value.strip()
    if indicator.kind == "ip-src":
        with contextlib.suppress(ValueError):
            value = str(ipaddress.ip_address(value))
    elif indicator.kind != "url":
        value = value.lower().rstrip(".") if indicator.kind == "domain" else value.lower()
    return Indicator(kind=indicator.kind, value=value)


def _when(value: object) -> datetime | None:
    try:
        if isinstance(value, str) and value:
            if value.isdigit():
                return datetime.fromtimestamp(int(value), UTC)
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    return None


def _tag_names(attribute: dict[str, Any]) -> list[str]:
    tags = attribute.get("Tag") or []
    names = {str(t.get("name"))[:255] for t in tags if isinstance(t, dict) and t.get("name")}
    return sorted(names)[:MAX_TAGS_PER_MATCH]


class MispThreatIntel:
    """Looks indicators up in MISP; ``open_client`` is called once, at the first cache miss."""

    name = "misp"

    def __init__(
        self,
        open_client: Callable[[], PyMISP],
        *,
        redis_client: redis.Redis[Any] | None,
        limiter: SlidingWindowRateLimiter,
        cache_ttl_s: int = DEFAULT_CACHE_TTL_S,
        batch_size: int = 100,
        page_size: int = 1000,
        permit_wait_s: float = 30.0,
        identity: str = "misp",
        cache_signer: CacheSigner | None = None,
    ) -> None:
        if batch_size < 1 or page_size < 1:
            raise ValueError("batch_size and page_size must be positive")
        self._open_client = open_client
        self._client: PyMISP | None = None
        self._redis = redis_client
        self._limiter = limiter
        self.cache_ttl_s = cache_ttl_s
        self.batch_size = batch_size
        self.page_size = page_size
        self.permit_wait_s = permit_wait_s
        self._cache_down = False
        self.identity = identity
        self._signer = cache_signer
        self.cache_rejected = 0
        if redis_client is not None and cache_signer is None:
            log.warning("threat-intel answers are not cached: no cache signing key configured")

    def lookup(self, indicators: list[Indicator]) -> ThreatIntelLookup:
        wanted = sorted({normalise(i) for i in indicators}, key=lambda i: (i.kind, i.value))
        cached = self._read_cache(wanted)
        matches = [m for found in cached.values() for m in found]
        misses = [i for i in wanted if i not in cached]
        error: str | None = None
        try:
            for kind in sorted({i.kind for i in misses}):
                of_kind = [i for i in misses if i.kind == kind]
                for start in range(0, len(of_kind), self.batch_size):
                    batch = of_kind[start : start + self.batch_size]
                    answered = self._search(batch)
                    self._write_cache(answered)
                    matches.extend(m for found in answered.values() for m in found)
        except _LookupFailed as exc:
            error = str(exc)
            log.warning("MISP threat-intel lookup failed: %s", error)
        return ThreatIntelLookup(
            source=self.name,
            looked_up=len(wanted),
            from_cache=len(cached),
            matches=sorted(matches, key=lambda m: (m.indicator.kind, m.indicator.value, m.event_uuid)),
            failed=error is not None,
            error=error,
        )

    # -- MISP ------------------------------------------------------------------------------

    def _client_or_fail(self) -> PyMISP:
        if self._client is None:
            try:
                self._client = self._open_client()
            except Exception as exc:  # PyMISP wraps every connection problem differently
                raise _LookupFailed(f"cannot reach MISP: {type(exc).__name__}: {str(exc)[:300]}") from exc
        return self._client

    def _search(self, batch: Sequence[Indicator]) -> dict[Indicator, list[IntelMatch]]:
        kind = batch[0].kind
        permit = self._limiter.acquire(self.permit_wait_s)
        if not permit.allowed:
            raise _LookupFailed(
                f"rate limit {self._limiter.name!r} full for {self.permit_wait_s:g} s; "
                f"next permit in {permit.retry_after_s:.1f} s"
            )
        client = self._client_or_fail()
        answered: dict[Indicator, list[IntelMatch]] = {i: [] for i in batch}
        by_value = {i.value: i for i in batch}
        values: list[str | int] = [i.value for i in batch]
        types: list[str | int] = list(MISP_TYPES_OF_KIND[kind])
        page = 1
        while True:
            try:
                response = client.search(
                    controller="attributes",
                    return_format="json",
                    value=values,
                    type_attribute=types,
                    include_event_tags=True,
                    include_event_uuid=True,
                    limit=self.page_size,
                    page=page,
                )
            except Exception as exc:  # requests/PyMISP errors: an outage, not a crash
                raise _LookupFailed(f"MISP search failed: {type(exc).__name__}: {str(exc)[:300]}") from exc
            if (error := misp_errors(response)) is not None:
                raise _LookupFailed(f"MISP refused the search: {error}")
            attributes = response.get("Attribute") if isinstance(response, dict) else None
            if not isinstance(attributes, list):
                raise _LookupFailed(f"unexpected MISP search answer: {str(response)[:200]}")
            for attribute in attributes:
                if isinstance(attribute, dict):
                    self._collect(attribute, kind, by_value, answered)
            if len(attributes) < self.page_size:
                return answered
            page += 1
            if not self._limiter.acquire(self.permit_wait_s).allowed:
                raise _LookupFailed(f"rate limit {self._limiter.name!r} full while paging results")

    def _collect(
        self,
        attribute: dict[str, Any],
        kind: IndicatorKind,
        by_value: dict[str, Indicator],
        answered: dict[Indicator, list[IntelMatch]],
    ) -> None:
        tags = _tag_names(attribute)
        if any(is_project_tag(t) for t in tags):
            return  # an event this project exported is not outside knowledge
        raw_event = attribute.get("Event")
        event: dict[str, Any] = raw_event if isinstance(raw_event, dict) else {}
        event_uuid = str(attribute.get("event_uuid") or event.get("uuid") or "")
        value = str(attribute.get("value", ""))
        parts = value.split("|") if "|" in str(attribute.get("type", "")) else [value]
        for part in parts:
            indicator = by_value.get(normalise(Indicator(kind=kind, value=part)).value)
            if indicator is None or not event_uuid:
                continue
            match = IntelMatch(
                indicator=indicator,
                source=self.name,
                event_uuid=event_uuid,
                event_info=str(event.get("info", ""))[:MAX_INFO_CHARS],
                attribute_uuid=str(attribute["uuid"]) if attribute.get("uuid") else None,
                tags=tags,
                first_seen=_when(attribute.get("first_seen")),
                last_seen=_when(attribute.get("last_seen")) or _when(attribute.get("timestamp")),
            )
            if match not in answered[indicator]:
                answered[indicator].append(match)

    # -- cache -----------------------------------------------------------------------------

    def _binding(self, indicator: Indicator) -> dict[str, str]:
        return {"source": self.identity, "kind": indicator.kind, "value": indicator.value}

    def _read_cache(self, indicators: Iterable[Indicator]) -> dict[Indicator, list[IntelMatch]]:
        wanted = list(indicators)
        if self._redis is None or self._signer is None or not wanted:
            return {}
        keys = [redis_keys.threat_intel(self.identity, i.kind, i.value) for i in wanted]
        try:
            raw = self._redis.mget(keys)
        except redis.RedisError as exc:
            self._cache_unavailable(exc)
            return {}
        found: dict[Indicator, list[IntelMatch]] = {}
        for indicator, key, value in zip(wanted, keys, raw, strict=True):
            if value is None:
                continue
            try:
                matches = _MATCHES.validate_json(
                    self._signer.unseal(CACHE_PURPOSE, self._binding(indicator), value)
                )
                if any(m.indicator != indicator or m.source != self.name for m in matches):
                    raise CacheEntryRejected("an answer names another indicator or source")
            except (CacheEntryRejected, ValidationError) as exc:
                self.cache_rejected += 1
                reason = str(exc) if isinstance(exc, CacheEntryRejected) else "payload fails the schema"
                log.warning(
                    "cached threat-intel answer under %s rejected (%s); looking it up again", key, reason
                )
                continue
            found[indicator] = matches
        return found

    def _write_cache(self, answered: dict[Indicator, list[IntelMatch]]) -> None:
        if self._redis is None or self._signer is None or self._cache_down or not answered:
            return
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for indicator, found in answered.items():
                    payload = json.dumps([m.model_dump(mode="json") for m in found], sort_keys=True)
                    entry = self._signer.seal(CACHE_PURPOSE, self._binding(indicator), payload.encode())
                    key = redis_keys.threat_intel(self.identity, indicator.kind, indicator.value)
                    pipe.set(key, entry, ex=self.cache_ttl_s)
                pipe.execute()
        except redis.RedisError as exc:
            self._cache_unavailable(exc)

    def _cache_unavailable(self, exc: redis.RedisError) -> None:
        if not self._cache_down:
            log.warning("threat-intel cache unavailable, going on without it: %s", exc)
        self._cache_down = True
