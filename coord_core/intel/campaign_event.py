"""One MISP event per cross-interval campaign, built from its stored occurrences.

A pure function of what PostgreSQL holds: the event of a campaign is what all of its qualifying
occurrences add up to (``coord_core.intel.contribution``), so the event is the same whichever
interval (re)ran last and a campaign continuing into the next interval updates the same event;
``build_event`` adds them up at once, ``assemble_event`` renders a sum kept up to date per
occurrence (``coord_core.pipeline.misp_event_fold``). Only non-coincidental occurrences at or
above the confidence threshold qualify: a coincidental grouping is not an actor and must not
reach a threat-intelligence platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from coord_core.contracts.campaigns import Campaign, Verdict
from coord_core.intel import identifiers, taxonomy
from coord_core.intel.contribution import Contribution, ObservableSeen, contribution_of
from coord_core.intel.indicators import Observable, Rejected
from coord_core.intel.occurrence import CampaignOccurrence, OccurrenceSummary, headline_of, summarise
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


@dataclass(frozen=True)
class ObservableTally:
    """What an event says of one observable: its sessions and sources counted, its span, its failed
    downloads (all an attribute's comment and times need)."""

    sessions: int
    ips: int
    first: datetime
    last: datetime
    failed_downloads: int
    uuid: str | None = None  # the attribute's UUID where already known (else derived from the value)


def tallies(seen: dict[Observable, ObservableSeen]) -> dict[Observable, ObservableTally]:
    return {
        observable: ObservableTally(
            len(entry.sessions), len(entry.ips), entry.first, entry.last, entry.failed_downloads
        )
        for observable, entry in seen.items()
        if entry.first is not None and entry.last is not None
    }


def build_event(
    campaign_id: str, occurrences: Sequence[CampaignOccurrence], settings: MispExportSettings
) -> CampaignEvent:
    """The event from all of the campaign's qualifying occurrences at once (the reference the
    incremental publish is held equal to)."""
    if not occurrences:
        raise ValueError(f"campaign {campaign_id} has no qualifying occurrence to export")
    merged = Contribution()
    for occurrence in occurrences:
        merged.merge(contribution_of(occurrence))
    summaries = [summarise(o) for o in occurrences]
    headline = headline_of(summaries)
    campaign = next(
        o.campaign
        for o in occurrences
        if o.window == headline.window and o.campaign.campaign_id == headline.occurrence_id
    )
    return assemble_event(
        campaign_id,
        summaries,
        campaign,
        tallies(merged.observables),
        source_ips=len(merged.source_ips),
        rejected=merged.rejected,
        settings=settings,
    )


def assemble_event(
    campaign_id: str,
    summaries: Sequence[OccurrenceSummary],
    headline_campaign: Campaign,
    observables: dict[Observable, ObservableTally],
    *,
    source_ips: int,
    rejected: Iterable[Rejected],
    settings: MispExportSettings,
) -> CampaignEvent:
    """The event from what its occurrences add up to; ``headline_campaign`` is the headline
    occurrence's campaign (its verdict, confidence and evidence statistics)."""
    if not summaries:
        raise ValueError(f"campaign {campaign_id} has no qualifying occurrence to export")
    ordered = sorted(summaries, key=lambda s: s.order)
    headline = headline_of(ordered)
    event_uuid = identifiers.event_uuid(campaign_id)
    attributes = _attributes(event_uuid, observables, settings)
    campaign = headline_campaign
    sessions = sum(s.sessions for s in ordered)
    first_seen = min(s.first_seen for s in ordered)
    last_seen = max(s.last_seen for s in ordered)
    label = campaign.verdict.value.replace("_", " ")
    info = (
        f"DShield {label} {campaign_id}: {source_ips} source IPs, {sessions} sessions, "
        f"{first_seen:%Y-%m-%d %H:%M}Z to {last_seen:%Y-%m-%d %H:%M}Z"
    )
    report = EventReport(
        uuid=identifiers.report_uuid(event_uuid),
        name=f"Coordination evidence for {campaign_id}",
        content=evidence_report(campaign_id, ordered, headline, campaign),
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
        occurrence_ids=tuple(s.occurrence_id for s in ordered),
        rejected=tuple(sorted(set(rejected), key=lambda r: (r.misp_type, r.value))),
    )


def _attributes(
    event_uuid: str, seen: dict[Observable, ObservableTally], settings: MispExportSettings
) -> tuple[EventAttribute, ...]:
    commands = sorted((o for o in seen if o.misp_type == "text"), key=lambda o: (-seen[o].sessions, o.value))
    dropped = set(commands[settings.max_command_sequences :])
    out: list[EventAttribute] = []
    for observable, entry in seen.items():
        if observable in dropped:
            continue
        category, to_ids = _CATEGORY_AND_IDS[observable.misp_type]
        out.append(
            EventAttribute(
                uuid=entry.uuid
                or identifiers.attribute_uuid(event_uuid, observable.misp_type, observable.value),
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


def _comment(observable: Observable, entry: ObservableTally) -> str:
    text = f"{_ROLE[observable.misp_type]}; {entry.sessions} session(s)"
    if observable.misp_type != "ip-src":
        text += f" from {entry.ips} source IP(s)"
    if entry.failed_downloads:
        text += f"; {entry.failed_downloads} failed download(s)"
    return text
