"""Publish an interval's results to Redis: run summary, active-campaign tracking and alerts.

Best effort by design: PostgreSQL already holds every result, so a Redis outage is a warning
recorded in the summary, never a failed run.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from coord_core.contracts.campaigns import AnalysisResult
from coord_core.contracts.window import DataWindow
from coord_core.store import redis_keys
from coord_core.store.campaign_tracking import TrackedCampaign, track_campaigns
from coord_core.store.redis_resilience import BestEffortRedis
from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)

RUN_SUMMARY_TTL_SECONDS = 7 * 24 * 3600


def run_summary(result: AnalysisResult, window: DataWindow) -> dict[str, Any]:
    verdicts: dict[str, int] = {}
    for campaign in result.campaigns:
        verdicts[campaign.verdict.value] = verdicts.get(campaign.verdict.value, 0) + 1
    top = sorted(result.campaigns, key=lambda c: (-c.confidence, c.campaign_id))[:10]
    return {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "sessions": result.run.session_count,
        "campaigns": len(result.campaigns),
        "verdicts": dict(sorted(verdicts.items())),
        "top_campaigns": [
            {
                "campaign_id": c.campaign_id,
                "verdict": c.verdict.value,
                "confidence": c.confidence,
                "sessions": len(c.session_ids),
                "source_ips": len(c.source_ips),
            }
            for c in top
        ],
        "input_fingerprint": result.run.input_fingerprint,
        "code_version": result.run.code_version,
    }


def publish_interval(
    redis: BestEffortRedis,
    store: ResultsStore,
    dag_id: str,
    window: DataWindow,
    *,
    alert_confidence: float,
) -> dict[str, Any]:
    result = store.load_analysis_result(window)
    if result is None:
        raise LookupError(f"no analysis result for {window.label}; run the analyze step first")
    key = redis_keys.run_summary(dag_id, window)
    summary = json.dumps(run_summary(result, window), sort_keys=True)
    redis.call("publish run summary", lambda r: r.set(key, summary, ex=RUN_SUMMARY_TTL_SECONDS), None)
    tracked = [TrackedCampaign(**row) for row in store.campaign_tracks_of(window)]
    outcome = track_campaigns(redis, tracked, alert_confidence=alert_confidence)
    if redis.failures:
        log.warning("Redis publish degraded for %s; results are complete in PostgreSQL", window.label)
    return {"summary_key": key, "published": redis.available, **outcome}
