"""Cache of analysis results in Redis, keyed by everything that determines the result.

Entries are sealed (``cache_integrity``): a read verifies the keyed digest bound to the interval,
input fingerprint, parameters, code version and threat-intel sources, then the result's schema
and its run record. Any entry that fails is a logged, counted miss, and the caller recomputes.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError

from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.window import DataWindow
from coord_core.store import redis_keys
from coord_core.store.cache_integrity import CacheEntryRejected, CacheSigner
from coord_core.store.redis_resilience import BestEffortRedis

log = logging.getLogger(__name__)

RESULT_TTL_SECONDS = 24 * 3600
PURPOSE = "analysis-result"


def _binding(
    window: DataWindow, input_fingerprint: str, parameters_hash: str, code_version: str, intel_sources: str
) -> dict[str, str]:
    return {
        "window": window.label,
        "input_fingerprint": input_fingerprint,
        "parameters_hash": parameters_hash,
        "code_version": code_version,
        "intel_sources": intel_sources or redis_keys.source_digest(),
    }


class AnalysisResultCache:
    """Results sealed with ``signer``; ``rejected`` counts entries that failed verification."""

    def __init__(
        self, redis: BestEffortRedis, signer: CacheSigner, ttl_seconds: int = RESULT_TTL_SECONDS
    ) -> None:
        self.redis = redis
        self.signer = signer
        self.ttl_seconds = ttl_seconds
        self.rejected = 0

    def get(
        self,
        window: DataWindow,
        input_fingerprint: str,
        parameters_hash: str,
        code_version: str,
        intel_sources: str = "",
    ) -> AnalysisResult | None:
        key = redis_keys.analysis_result(
            window, input_fingerprint, parameters_hash, code_version, intel_sources
        )
        raw = self.redis.call("read cached result", lambda r: r.get(key), None)
        if raw is None:
            return None
        binding = _binding(window, input_fingerprint, parameters_hash, code_version, intel_sources)
        try:
            result = AnalysisResult.model_validate_json(self.signer.unseal(PURPOSE, binding, raw))
            if result.run.input_fingerprint != input_fingerprint or result.run.code_version != code_version:
                raise CacheEntryRejected("the result's run record is for another input or code")
        except (CacheEntryRejected, ValidationError) as exc:
            self.rejected += 1
            reason = str(exc) if isinstance(exc, CacheEntryRejected) else "payload fails the result schema"
            log.warning("cached result under %s rejected (%s); treating it as a miss", key, reason)
            return None
        return result

    def put(
        self, window: DataWindow, result: AnalysisResult, parameters_hash: str, intel_sources: str = ""
    ) -> bool:
        key = redis_keys.analysis_result(
            window, result.run.input_fingerprint, parameters_hash, result.run.code_version, intel_sources
        )
        binding = _binding(
            window, result.run.input_fingerprint, parameters_hash, result.run.code_version, intel_sources
        )
        entry = self.signer.seal(PURPOSE, binding, result.to_canonical_json().encode())
        stored = self.redis.call("cache result", lambda r: r.set(key, entry, ex=self.ttl_seconds), None)
        return bool(stored)
