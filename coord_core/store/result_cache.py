"""Cache of analysis results in Redis, keyed by everything that determines the result."""

from __future__ import annotations

import logging

from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.window import DataWindow
from coord_core.store import redis_keys
from coord_core.store.redis_resilience import BestEffortRedis

log = logging.getLogger(__name__)

RESULT_TTL_SECONDS = 24 * 3600


class AnalysisResultCache:
    def __init__(self, redis: BestEffortRedis, ttl_seconds: int = RESULT_TTL_SECONDS) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

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
        result = AnalysisResult.model_validate_json(raw)
        if result.run.input_fingerprint != input_fingerprint:
            log.warning("cached result under %s has another input fingerprint; ignoring it", key)
            return None
        return result

    def put(
        self, window: DataWindow, result: AnalysisResult, parameters_hash: str, intel_sources: str = ""
    ) -> bool:
        key = redis_keys.analysis_result(
            window, result.run.input_fingerprint, parameters_hash, result.run.code_version, intel_sources
        )
        stored = self.redis.call(
            "cache result", lambda r: r.set(key, result.to_canonical_json(), ex=self.ttl_seconds), None
        )
        return bool(stored)
