"""One MISP event per cross-interval campaign, built from its stored occurrences.

A pure function of what PostgreSQL holds: every interval's run rebuilds the event of each
campaign it saw from all of that campaign's qualifying occurrences, so the event is the same
whichever interval (re)ran last and a campaign continuing into the next interval updates the
same event. Only non-coincidental occurrences at or above the confidence threshold qualify: a
coincidental grouping is not an actor and must not reach a threat-intelligence platform.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from coord_core.contracts.campaigns import Campaign, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.intel import identifiers, taxonomy
from coord_core.intel.indicators import (
    Observable,
    Rejected,
    ip_observable,
    session_observables,
    url_observables,
)
from coord_core.intel.occurrence import CampaignOccurrence
from coord_core.intel.report import evidence_report
from coord_core.intel.settings import MispExportSettings

# MISP category and IDS flag per attribute type. Shared tooling (HASSH, key fingerprints,
# command text) is context, not a detection signature: popular clients share it.
_CATEGORY_AND_IDS: dict[str, tuple[str, bool]] = {
    "ip-src": ("Network activity", True),
    "ip-dst": ("Network activity", True),
    "url": ("Payload delivery", True),
    "domain": ("Network activity", True),
    "hostname": ("Network activity", True),
    "sha256": ("Payload delivery", True),
    "sha1": ("Payload delivery", True),
    "md5": ("Payload delivery", True),
    "hassh-md5": ("Network activity", False),
    "ssh-fingerprint": ("Network activity", False),
    "text": ("Other", False),
}
_ROLE = {
    "ip-src": "source of attack sessions",
    "ip-dst": "download host",
    "url": "download URL",
    "domain": "download host",
    "hostname": "download host",
    "sha256": "downloaded/uploaded file",
    "sha1": "downloaded/uploaded file",
    "md5": "downloaded/uploaded file",
    "hassh-md5": "SSH client fingerprint (HASSH); popular clients share it",
    "ssh-fingerprint": "SSH public key offered at login",
    "text": "command sequence typed in the session",
}


def qualifies(campaign: Campaign, min_confidence: float) -> bool:
    """Whether a campaign occurrence is exported (the same rule as the SQL in ``store.exports``)."""
    return campaign.verdict is not Verdict.COINCIDENTAL and campaign.confidence >= min_confidence


@dataclass(frozen=True)
class EventAttribute:
    uuid: str
    misp_type: str
    category: str
    value: str
    to_ids: bool
    comment: str
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class EventReport:
    uuid: str
    name: str
    content: str


@dataclass(frozen=True)
class CampaignEvent:
    """Everything the event says, in MISP's terms, independent of how it is written out."""

    uuid: str
    campaign_id: str
    info: str
    date: date
    threat_level_id: int
    analysis: int
    distribution: int
    tags: tuple[str, ...]
    attributes: tuple[EventAttribute, ...]
    report: EventReport
    verdict: Verdict
    confidence: float
    occurrence_ids: tuple[str, ...]
    rejected: tuple[Rejected, ...] = field(default=(), compare=False)


@dataclass
class _Seen:
    sessions: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    failed_downloads: int = 0

    def add(self, session: AttackSession) -> None:
        self.sessions.add(f"{session.sensor}/{session.session_id}")
        self.ips.add(session.src_ip)
        self.first = session.start if self.first is None else min(self.first, session.start)
        self.last = session.end if self.last is None else max(self.last, session.end)


def _headline(occurrences: Sequence[CampaignOccurrence]) -> CampaignOccurrence:
    """The occurrence that names the verdict: highest confidence, then the latest."""
    return max(occurrences, key=lambda o: (o.campaign.confidence, o.window.start))


def build_event(
    campaign_id: str, occurrences: Sequence[CampaignOccurrence], settings: MispExportSettings
) -> CampaignEvent:
    if not occurrences:
        raise ValueError(f"campaign {campaign_id} has no qualifying occurrence to export")
    ordered = sorted(occurrences, key=lambda o: (o.window.start, o.campaign.campaign_id))
    headline = _headline(ordered)
    event_uuid = identifiers.event_uuid(campaign_id)
    seen: dict[Observable, _Seen] = defaultdict(_Seen)
    rejected: list[Rejected] = []
    for occurrence in ordered:
        covered: set[str] = set()
        for session in occurrence.sessions:
            covered.add(session.src_ip)
            for item in session_observables(session):
                if isinstance(item, Rejected):
                    rejected.append(item)
                else:
                    seen[item].add(session)
            for download in session.downloads:
                if download.failed:
                    for item in url_observables(download.url):
                        if isinstance(item, Observable) and item.misp_type == "url":
                            seen[item].failed_downloads += 1
        # Members whose sessions are gone (retention) still contribute their source IPs.
        for ip in occurrence.campaign.source_ips:
            if ip in covered:
                continue
            item = ip_observable(ip)
            if isinstance(item, Rejected):
                rejected.append(item)
                continue
            entry = seen[item]
            entry.ips.add(ip)
            first, last = occurrence.campaign.first_seen, occurrence.campaign.last_seen
            entry.first = first if entry.first is None else min(entry.first, first)
            entry.last = last if entry.last is None else max(entry.last, last)
    attributes = _attributes(event_uuid, seen, settings)
    campaign = headline.campaign
    sessions = sum(len(o.campaign.session_ids) for o in ordered)
    source_ips = len({ip for o in ordered for ip in o.campaign.source_ips})
    first_seen = min(o.campaign.first_seen for o in ordered)
    last_seen = max(o.campaign.last_seen for o in ordered)
    label = campaign.verdict.value.replace("_", " ")
    info = (
        f"DShield {label} {campaign_id}: {source_ips} source IPs, {sessions} sessions, "
        f"{first_seen:%Y-%m-%d %H:%M}Z to {last_seen:%Y-%m-%d %H:%M}Z"
    )
    report = EventReport(
        uuid=identifiers.report_uuid(event_uuid),
        name=f"Coordination evidence for {campaign_id}",
        content=evidence_report(campaign_id, ordered, headline),
    )
    return CampaignEvent(
        uuid=event_uuid,
        campaign_id=campaign_id,
        info=info,
        date=first_seen.date(),
        threat_level_id=settings.threat_level_id,
        analysis=settings.analysis,
        distribution=settings.distribution,
        tags=taxonomy.event_tags(settings.tlp, campaign.confidence, campaign.verdict),
        attributes=attributes,
        report=report,
        verdict=campaign.verdict,
        confidence=campaign.confidence,
        occurrence_ids=tuple(o.campaign.campaign_id for o in ordered),
        rejected=tuple(sorted(set(rejected), key=lambda r: (r.misp_type, r.value))),
    )


def _attributes(
    event_uuid: str, seen: dict[Observable, _Seen], settings: MispExportSettings
) -> tuple[EventAttribute, ...]:
    commands = sorted(
        (o for o in seen if o.misp_type == "text"), key=lambda o: (-len(seen[o].sessions), o.value)
    )
    dropped = set(commands[settings.max_command_sequences :])
    out: list[EventAttribute] = []
    for observable, entry in seen.items():
        if observable in dropped or entry.first is None or entry.last is None:
            continue
        category, to_ids = _CATEGORY_AND_IDS[observable.misp_type]
        out.append(
            EventAttribute(
                uuid=identifiers.attribute_uuid(event_uuid, observable.misp_type, observable.value),
                misp_type=observable.misp_type,
                category=category,
                value=observable.value,
                to_ids=to_ids,
                comment=_comment(observable, entry),
                first_seen=entry.first,
                last_seen=entry.last,
            )
        )
    return tuple(sorted(out, key=lambda a: (a.misp_type, a.value)))


def _comment(observable: Observable, entry: _Seen) -> str:
    sessions = len(entry.sessions)
    text = f"{_ROLE[observable.misp_type]}; {sessions} session(s)"
    if observable.misp_type != "ip-src":
        text += f" from {len(entry.ips)} source IP(s)"
    if entry.failed_downloads:
        text += f"; {entry.failed_downloads} failed download(s)"
    return text
