"""The live alert document: what goes to the Redis alert channel and stream, and out of the SSE
endpoint, when a new high-confidence campaign appears or a campaign spikes.

Versioned (``schema_version``) and bounded (``MAX_ALERT_BYTES``). Every field is an identifier,
a number, a time or an enumerated word, each checked against its pattern: an alert carries no
attacker-controlled text at all (no URL, command, credential or user agent), only where to read
the campaign, so a consumer that renders one cannot be injected through it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ALERT_SCHEMA_VERSION: Literal[1] = 1
MAX_ALERT_BYTES = 4096
NEW_CAMPAIGN = "new_campaign"
SPIKE = "spike"
CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"

CampaignId = Annotated[str, Field(pattern=CAMPAIGN_ID_PATTERN)]


class NewCampaignFacts(BaseModel):
    """A campaign first tracked at or above the alert confidence (its cross-interval track)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict: Literal["coordinated_campaign", "single_actor_multi_source", "coincidental"]
    confidence: float = Field(ge=0.0, le=1.0)
    alert_confidence: float = Field(ge=0.0, le=1.0)
    first_seen: datetime
    last_seen: datetime
    intervals: int = Field(ge=0)
    sessions: int = Field(ge=0)


class SpikeFacts(BaseModel):
    """One method calling one day (or one hour of it) of a campaign's series a spike."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    day: date
    metric: Literal["sessions", "sources"]
    method: str = Field(pattern=r"^[a-z_]{1,32}$")
    hour: int | None = Field(default=None, ge=0, le=23)
    value: float = Field(ge=0.0)
    baseline: float
    threshold: float


class Alert(BaseModel):
    """One alert; ``alert_id`` is stable for the event it reports (a rerun gives the same id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = ALERT_SCHEMA_VERSION
    alert_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: Literal["new_campaign", "spike"]
    campaign_id: CampaignId
    emitted_at: datetime
    facts: NewCampaignFacts | SpikeFacts

    @model_validator(mode="after")
    def _facts_match_kind(self) -> Alert:
        expected = NewCampaignFacts if self.kind == NEW_CAMPAIGN else SpikeFacts
        if not isinstance(self.facts, expected):
            raise ValueError(f"a {self.kind} alert holds {expected.__name__}")
        return self

    def encode(self) -> str:
        """Compact ASCII JSON with sorted keys; refuses anything over ``MAX_ALERT_BYTES``."""
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        if len(text) > MAX_ALERT_BYTES:  # the field bounds above keep far below this
            raise ValueError(f"alert of {len(text)} bytes exceeds {MAX_ALERT_BYTES}")
        return text

    @classmethod
    def decode(cls, text: str | bytes) -> Alert:
        """An alert read back (from Redis), validated like one being made."""
        if len(text) > MAX_ALERT_BYTES:
            raise ValueError(f"alert of {len(text)} bytes exceeds {MAX_ALERT_BYTES}")
        return cls.model_validate_json(text)


def alert_id(*parts: object) -> str:
    """The stable id of the event the parts name (kind, campaign, and what makes it unique)."""
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32]


def new_campaign_alert(
    campaign_id: str, facts: dict[str, Any], *, alert_confidence: float, emitted_at: datetime
) -> Alert:
    """The alert for a campaign first tracked at or above ``alert_confidence`` (once per campaign)."""
    return Alert(
        alert_id=alert_id(NEW_CAMPAIGN, campaign_id),
        kind=NEW_CAMPAIGN,
        campaign_id=campaign_id,
        emitted_at=emitted_at,
        facts=NewCampaignFacts(alert_confidence=alert_confidence, **facts),
    )


def spike_alert(day: date, spike: dict[str, Any], *, emitted_at: datetime) -> Alert:
    """The alert for one row of a trend report's ``spikes`` (once per campaign, day, metric,
    method and hour)."""
    hour = spike.get("hour")
    return Alert(
        alert_id=alert_id(
            SPIKE, spike["campaign_id"], day.isoformat(), spike["metric"], spike["method"], hour
        ),
        kind=SPIKE,
        campaign_id=spike["campaign_id"],
        emitted_at=emitted_at,
        facts=SpikeFacts(
            day=day,
            metric=spike["metric"],
            method=spike["method"],
            hour=hour,
            value=spike["value"],
            baseline=spike["baseline"],
            threshold=spike["threshold"],
        ),
    )
