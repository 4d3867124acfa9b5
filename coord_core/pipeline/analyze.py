"""Analyze one interval's validated sessions and store the contract's JSON result."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

from coord_core.baseline.shared_artifacts import analyze
from coord_core.contracts.campaigns import AnalysisResult, RunInfo
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.store.result_cache import AnalysisResultCache
from coord_core.store.results import ResultsStore
from coord_core.version import code_version

log = logging.getLogger(__name__)


def fingerprint_sessions(sessions: Sequence[AttackSession]) -> str:
    """Order-independent digest of the exact analysis input."""
    digest = hashlib.sha256()
    for doc in sorted(s.model_dump_json() for s in sessions):
        digest.update(doc.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def parameters_hash(parameters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(parameters, sort_keys=True).encode()).hexdigest()[:16]


def analyze_sessions(
    sessions: Sequence[AttackSession],
    parameters: dict[str, Any],
    window: DataWindow | None = None,
    *,
    input_fingerprint: str | None = None,
) -> AnalysisResult:
    run = RunInfo(
        input_fingerprint=input_fingerprint or fingerprint_sessions(sessions),
        parameters=parameters,
        code_version=code_version(),
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        session_count=len(sessions),
        event_count=sum(s.event_count for s in sessions),
    )
    return analyze(sessions, run)


def analyze_interval(
    store: ResultsStore,
    window: DataWindow,
    parameters: dict[str, Any],
    *,
    cache: AnalysisResultCache | None = None,
) -> dict[str, Any]:
    """Analyze the interval, reusing a cached result computed from the very same input, parameters
    and code when the cache has one; the result always lands in PostgreSQL."""
    sessions = store.load_sessions(window)
    fingerprint = fingerprint_sessions(sessions)
    params_hash = parameters_hash(parameters)
    result = cache.get(window, fingerprint, params_hash, code_version()) if cache else None
    cache_hit = result is not None
    if result is None:
        result = analyze_sessions(sessions, parameters, window, input_fingerprint=fingerprint)
        if cache is not None:
            cache.put(window, result, params_hash)
    else:
        log.info(
            "analysis cache hit for %s (input %s): skipped recomputation", window.label, fingerprint[:12]
        )
    digest = store.save_analysis_result(window, result, parameters_hash=params_hash)
    log.info("analyzed %s: %d sessions, %d campaigns", window.label, len(sessions), len(result.campaigns))
    return {
        "sessions": len(sessions),
        "campaigns": len(result.campaigns),
        "result_sha256": digest,
        "input_fingerprint": fingerprint,
        "parameters_hash": params_hash,
        "cache_hit": cache_hit,
    }
