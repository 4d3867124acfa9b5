"""What one campaign occurrence adds to its MISP event: per observable the sessions and sources
that showed it, when, and its failed downloads; the values refused; the campaign's source IPs.

An event is the merge of its occurrences' contributions (sets united, times widened, counts
added), so it can be built from all of them at once or kept up to date one occurrence at a time
with the same result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from coord_core.contracts.sessions import AttackSession
from coord_core.intel.indicators import (
    Observable,
    Rejected,
    ip_observable,
    session_observables,
    url_observables,
)
from coord_core.intel.occurrence import CampaignOccurrence


@dataclass
class ObservableSeen:
    """Where and when an observable was seen: session keys (``sensor/session``), source IPs, span."""

    sessions: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    failed_downloads: int = 0

    def add(self, session: AttackSession) -> None:
        self.sessions.add(session_key(session))
        self.ips.add(session.src_ip)
        self.widen(session.start, session.end)

    def widen(self, first: datetime, last: datetime) -> None:
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)

    def merge(self, other: ObservableSeen) -> None:
        self.sessions |= other.sessions
        self.ips |= other.ips
        if other.first is not None and other.last is not None:
            self.widen(other.first, other.last)
        self.failed_downloads += other.failed_downloads


@dataclass
class Contribution:
    observables: dict[Observable, ObservableSeen] = field(default_factory=dict)
    rejected: set[Rejected] = field(default_factory=set)
    source_ips: set[str] = field(default_factory=set)

    def seen(self, observable: Observable) -> ObservableSeen:
        return self.observables.setdefault(observable, ObservableSeen())

    def merge(self, other: Contribution) -> None:
        for observable, entry in other.observables.items():
            self.seen(observable).merge(entry)
        self.rejected |= other.rejected
        self.source_ips |= other.source_ips


def session_key(session: AttackSession) -> str:
    return f"{session.sensor}/{session.session_id}"


def contribution_of(occurrence: CampaignOccurrence) -> Contribution:
    out = Contribution(source_ips=set(occurrence.campaign.source_ips))
    covered: set[str] = set()
    for session in occurrence.sessions:
        covered.add(session.src_ip)
        for item in session_observables(session):
            if isinstance(item, Rejected):
                out.rejected.add(item)
            else:
                out.seen(item).add(session)
        for download in session.downloads:
            if download.failed:
                for item in url_observables(download.url):
                    if isinstance(item, Observable) and item.misp_type == "url":
                        out.seen(item).failed_downloads += 1
    # Members whose sessions are gone (retention) still contribute their source IPs.
    for ip in occurrence.campaign.source_ips:
        if ip in covered:
            continue
        item = ip_observable(ip)
        if isinstance(item, Rejected):
            out.rejected.add(item)
            continue
        entry = out.seen(item)
        entry.ips.add(ip)
        entry.widen(occurrence.campaign.first_seen, occurrence.campaign.last_seen)
    return out
