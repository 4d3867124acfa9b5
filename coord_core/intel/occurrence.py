"""One interval's occurrence of a campaign: what the MISP event and its evidence report are built from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coord_core.contracts.campaigns import Campaign, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow


@dataclass(frozen=True)
class CampaignOccurrence:
    """One interval's occurrence of a campaign with its member sessions that are still stored."""

    window: DataWindow
    campaign: Campaign
    sessions: tuple[AttackSession, ...]


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence factor as the report's table shows it (the statistic only for the headline)."""

    factor: str
    score: float
    summary: str


@dataclass(frozen=True)
class OccurrenceSummary:
    """What an event's title, tags and report say of one occurrence: kept per occurrence so an
    event can be brought up to date without reading every earlier interval again."""

    window: DataWindow
    occurrence_id: str
    verdict: Verdict
    confidence: float
    sessions: int
    source_ips: int
    first_seen: datetime
    last_seen: datetime
    evidence_count: int
    # The evidence rows, in order; may stop short of ``evidence_count`` where the report shows no more.
    evidence: tuple[EvidenceRow, ...]

    @property
    def order(self) -> tuple[datetime, str, datetime]:
        """The report's order of occurrences: by interval start, then occurrence id."""
        return (self.window.start, self.occurrence_id, self.window.end)


def summarise(occurrence: CampaignOccurrence) -> OccurrenceSummary:
    campaign = occurrence.campaign
    return OccurrenceSummary(
        window=occurrence.window,
        occurrence_id=campaign.campaign_id,
        verdict=campaign.verdict,
        confidence=campaign.confidence,
        sessions=len(campaign.session_ids),
        source_ips=len(campaign.source_ips),
        first_seen=campaign.first_seen,
        last_seen=campaign.last_seen,
        evidence_count=len(campaign.evidence),
        evidence=tuple(EvidenceRow(e.factor, e.score, e.summary) for e in campaign.evidence),
    )


def headline_of(summaries: list[OccurrenceSummary]) -> OccurrenceSummary:
    """The occurrence that names the verdict: highest confidence, then the latest interval; among
    equals the first in report order."""
    ordered = sorted(summaries, key=lambda s: s.order)
    return max(ordered, key=lambda s: (s.confidence, s.window.start))
