"""Real-time campaign tracking in Redis and an alert when a new high-confidence campaign appears."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from coord_core.store import redis_keys
from coord_core.store.redis_resilience import BestEffortRedis

log = logging.getLogger(__name__)

CAMPAIGN_TTL_SECONDS = 7 * 24 * 3600
ALERTED_TTL_SECONDS = 30 * 24 * 3600
ACTIVE_HORIZON_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class TrackedCampaign:
    campaign_id: str
    verdict: str
    confidence: float
    first_seen: datetime
    last_seen: datetime
    intervals: int
    sessions: int


def track_campaigns(
    redis: BestEffortRedis, campaigns: list[TrackedCampaign], *, alert_confidence: float
) -> dict[str, Any]:
    """Update the active-campaign index; publish one alert per new campaign above the threshold."""
    alerts: list[str] = []
    for c in campaigns:
        record = {
            "campaign_id": c.campaign_id,
            "verdict": c.verdict,
            "confidence": c.confidence,
            "first_seen": c.first_seen.isoformat(),
            "last_seen": c.last_seen.isoformat(),
            "intervals": c.intervals,
            "sessions": c.sessions,
        }

        def write(r: Any, c: TrackedCampaign = c, record: dict[str, Any] = record) -> None:
            pipe = r.pipeline()
            pipe.zadd(redis_keys.ACTIVE_CAMPAIGNS, {c.campaign_id: c.last_seen.timestamp()})
            pipe.hset(redis_keys.campaign(c.campaign_id), mapping={k: str(v) for k, v in record.items()})
            pipe.expire(redis_keys.campaign(c.campaign_id), CAMPAIGN_TTL_SECONDS)
            pipe.execute()

        redis.call("track campaign", write, None)
        if c.confidence >= alert_confidence and _first_alert(redis, c.campaign_id):
            payload = json.dumps({"type": "new_campaign", **record}, sort_keys=True)
            redis.call("publish alert", _publisher(payload), 0)
            alerts.append(c.campaign_id)
    if campaigns:
        newest = max(c.last_seen for c in campaigns).timestamp()
        redis.call(
            "trim active campaigns",
            lambda r: r.zremrangebyscore(
                redis_keys.ACTIVE_CAMPAIGNS, "-inf", newest - ACTIVE_HORIZON_SECONDS
            ),
            None,
        )
    return {"tracked": len(campaigns), "alerts": alerts, "redis_failures": list(redis.failures)}


def _first_alert(redis: BestEffortRedis, campaign_id: str) -> bool:
    """True once per campaign: the marker key is set only if absent."""

    def mark(r: Any) -> bool:
        return bool(r.set(redis_keys.alerted(campaign_id), "1", nx=True, ex=ALERTED_TTL_SECONDS))

    return redis.call("mark alert", mark, False)


def _publisher(payload: str) -> Callable[[Any], int]:
    def publish(r: Any) -> int:
        return int(r.publish(redis_keys.ALERT_CHANNEL, payload))

    return publish
