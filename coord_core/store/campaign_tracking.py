"""Real-time campaign tracking in Redis and an alert when a new high-confidence campaign appears."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from coord_core.contracts.alerts import new_campaign_alert
from coord_core.store import redis_keys
from coord_core.store.alert_stream import publish_once
from coord_core.store.redis_resilience import BestEffortRedis

log = logging.getLogger(__name__)

CAMPAIGN_TTL_SECONDS = 7 * 24 * 3600
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
    """Update the active-campaign index; publish one alert (``contracts.alerts``, to the channel and
    the stream) per new campaign at or above the threshold."""
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
        if c.confidence >= alert_confidence:
            facts = {k: v for k, v in asdict(c).items() if k != "campaign_id"}
            alert = new_campaign_alert(
                c.campaign_id, facts, alert_confidence=alert_confidence, emitted_at=datetime.now(UTC)
            )
            if publish_once(redis, alert, redis_keys.alerted(c.campaign_id)) is not None:
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
