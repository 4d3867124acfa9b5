"""The analysis contract: what `coord analyze` writes and the DAG stores (see DESIGN.md)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = "1.0"


class Verdict(StrEnum):
    COORDINATED_CAMPAIGN = "coordinated_campaign"
    SINGLE_ACTOR_MULTI_SOURCE = "single_actor_multi_source"
    COINCIDENTAL = "coincidental"


class Evidence(BaseModel):
    """One factor behind a verdict: its score and the statistic that produced it."""

    model_config = ConfigDict(frozen=True)

    evidence_id: str
    factor: str
    score: float = Field(ge=0.0, le=1.0)
    statistic: dict[str, Any] = Field(default_factory=dict)
    summary: str = ""


class Link(BaseModel):
    """Two sessions joined by the features they share, with the evidence that weighs them."""

    model_config = ConfigDict(frozen=True)

    session_a: str
    session_b: str
    features: list[str]
    weight: float = 0.0
    evidence_ids: list[str] = Field(default_factory=list)


class Campaign(BaseModel):
    model_config = ConfigDict(frozen=True)

    campaign_id: str
    verdict: Verdict
    confidence: float = Field(ge=0.0, le=1.0)
    session_ids: list[str]
    source_ips: list[str]
    first_seen: datetime
    last_seen: datetime
    evidence: list[Evidence] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    # Sorted hashes of the campaign's defining shared artefacts/tooling: the same actor seen in
    # another interval shares some of them, which is how campaign identity spans intervals.
    signature: list[str] = Field(default_factory=list)


class RunInfo(BaseModel):
    """What makes a result reproducible: the exact input, parameters and code."""

    model_config = ConfigDict(frozen=True)

    input_fingerprint: str
    parameters: dict[str, Any]
    code_version: str
    window_start: datetime | None = None
    window_end: datetime | None = None
    session_count: int = 0
    event_count: int = 0
    # the prevalence history the values were judged against (source, days, digest); None: none
    history: dict[str, Any] | None = None


class BenignScanner(BaseModel):
    """A source on a known research-scanner list: labelled, never part of an attack campaign."""

    model_config = ConfigDict(frozen=True)

    source_ip: str
    lists: list[str]  # names of the warning lists that matched
    session_ids: list[str] = Field(default_factory=list)


class SourceProfile(BaseModel):
    """Offline enrichment of one source IP of a campaign or scanner (ASN/geo, scanner lists)."""

    model_config = ConfigDict(frozen=True)

    ip: str
    country: str | None = None
    as_name: str | None = None
    as_prefix: str | None = None
    network_type: str = "unknown"  # hosting | residential | private | unknown
    scanner_lists: list[str] = Field(default_factory=list)
    campaign_id: str | None = None


class ToolReport(BaseModel):
    """How one lookup tool of the analysis fared; a failed tool degrades its evidence only."""

    model_config = ConfigDict(frozen=True)

    tool: str
    status: str  # ok | failed | skipped
    looked_up: int = 0
    from_cache: int = 0
    matches: int = 0
    error: str | None = None


class AnalysisResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    schema_version: str = SCHEMA_VERSION
    run: RunInfo
    campaigns: list[Campaign] = Field(default_factory=list)
    independent_session_ids: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    benign_scanners: list[BenignScanner] = Field(default_factory=list)
    sources: list[SourceProfile] = Field(default_factory=list)
    tools: list[ToolReport] = Field(default_factory=list)

    def to_canonical_json(self) -> str:
        """Byte-stable JSON: sorted keys, no whitespace variance, UTC timestamps."""
        import json

        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
