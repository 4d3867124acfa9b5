"""The shapes the results API answers with: its OpenAPI document is generated from these.

Times are ISO-8601 strings with their zone. Nested records the store returns whole (runs, evidence
statistics, data quality) are open objects: new fields appear without a new API version.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CampaignSummary(BaseModel):
    campaign_id: str
    verdicts: list[str] = Field(description="the verdicts of its occurrences")
    max_confidence: float
    first_seen: str
    last_seen: str
    intervals: int
    sessions: int
    source_ips: int = Field(description="distinct source IPs over all occurrences")


class CampaignList(BaseModel):
    campaigns: list[CampaignSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class Interval(BaseModel):
    start: str
    end: str


class EvidenceItem(_Open):
    evidence_id: str
    factor: str
    score: float
    summary: str
    statistic: dict[str, Any] | None = Field(None, description="the statistic behind the score")


class Occurrence(_Open):
    interval: Interval
    occurrence_id: str
    verdict: str
    confidence: float
    sessions: int
    source_ips: int
    first_seen: str
    last_seen: str
    runs: list[dict[str, Any]]
    data_quality: dict[str, Any] | None
    evidence: list[EvidenceItem]
    narrative: dict[str, Any] | None
    llm_runs: Any = None


class CampaignLineage(_Open):
    campaign_id: str
    queried_as: str
    aliases: list[str]
    first_seen: str | None
    last_seen: str | None
    intervals: int
    sessions: int
    max_confidence: float | None
    verdicts: list[str]
    occurrences: list[Occurrence]


class Member(BaseModel):
    interval_start: str
    session_id: str
    src_ip: str


class TimelineSession(BaseModel):
    src_ip: str
    session_id: str
    start: str
    end: str


class MispExport(BaseModel):
    interval: Interval
    target: str = Field(description="misp (a live MISP) or misp_feed (a feed folder)")
    location: str
    event_uuid: str | None


class CampaignDetail(CampaignLineage):
    member_count: int
    members: list[Member]
    members_truncated: bool
    source_ip_count: int
    source_ips: list[str]
    signature_features: list[str]
    timeline: list[TimelineSession]
    timeline_truncated: bool
    misp_exports: list[MispExport]


class RunRecord(_Open):
    dag_id: str
    run_id: str
    interval_start: str
    interval_end: str
    status: str


class RunList(BaseModel):
    runs: list[RunRecord]
    next_cursor: str | None


class IndicatorMatch(BaseModel):
    campaign_id: str
    matching_sessions: int
    first_interval: str
    last_interval: str
    max_confidence: float
    verdicts: list[str]


class IndicatorAnswer(BaseModel):
    indicator: str
    kind: str
    campaigns: list[IndicatorMatch]
