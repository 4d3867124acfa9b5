"""Threat-intelligence lookups: what the analysis asks an intel source and what it gets back.

The analysis workflow's tool coordinator calls any ``ThreatIntelSource`` (MISP in production);
a source that fails returns ``failed=True`` with its reason, so the run degrades that evidence
factor instead of crashing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

IndicatorKind = Literal["ip-src", "url", "domain", "sha256", "md5", "hassh", "ssh-key-fingerprint"]


class Indicator(BaseModel):
    """One observable from the interval, typed as MISP types it."""

    model_config = ConfigDict(frozen=True)

    kind: IndicatorKind
    value: str = Field(max_length=2048)


class IntelMatch(BaseModel):
    """A known attribute that matched an indicator, with the event that carries it."""

    model_config = ConfigDict(frozen=True)

    indicator: Indicator
    source: str  # e.g. "misp"
    event_uuid: str
    event_info: str = ""
    attribute_uuid: str | None = None
    tags: list[str] = Field(default_factory=list)
    first_seen: datetime | None = None
    last_seen: datetime | None = None


class ThreatIntelLookup(BaseModel):
    """The outcome of one batch lookup: matches, and whether (and why) the source failed."""

    model_config = ConfigDict(frozen=True)

    source: str
    looked_up: int = 0
    from_cache: int = 0
    matches: list[IntelMatch] = Field(default_factory=list)
    failed: bool = False
    error: str | None = None


class ThreatIntelSource(Protocol):
    """Anything that can look indicators up; must not raise for an outage (return ``failed``)."""

    name: str
    identity: str  # which instance answers (e.g. ``misp:https://misp.example``); no secrets

    def lookup(self, indicators: list[Indicator]) -> ThreatIntelLookup: ...
