"""The MISP events of an interval's campaigns, kept up to date one occurrence at a time.

An event is what its campaign's qualifying occurrences add up to. Rebuilding it from all of them
at every interval (``rebuilt_events``: every earlier interval's result and sessions read again)
grows with the campaign's history; instead each campaign's sum is stored
(``coord_core.store.misp_event_state``) and an interval's publish folds in only the occurrences
the sum does not hold yet. That equals the rebuild exactly when every occurrence the sum holds is
still one of the campaign's qualifying occurrences with the same stored result; otherwise (a rerun
changed an interval's result, identity moved an occurrence to another campaign, the confidence
threshold rose, retention pruned sessions) the sum is dropped and refolded from all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Verdict
from coord_core.contracts.window import DataWindow
from coord_core.intel import identifiers
from coord_core.intel.campaign_event import (
    CampaignEvent,
    ObservableTally,
    assemble_event,
    build_event,
    qualifies,
)
from coord_core.intel.contribution import Contribution, contribution_of
from coord_core.intel.indicators import Observable, Rejected
from coord_core.intel.occurrence import CampaignOccurrence, EvidenceRow, OccurrenceSummary, headline_of
from coord_core.intel.report import MAX_EVIDENCE_ROWS
from coord_core.intel.settings import MispExportSettings
from coord_core.store import exports
from coord_core.store import misp_event_state as state
from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)


class _Results:
    """Analysis results by interval, each read once per export."""

    def __init__(self, store: ResultsStore) -> None:
        self.store = store
        self._cache: dict[DataWindow, AnalysisResult] = {}

    def get(self, window: DataWindow) -> AnalysisResult:
        if window not in self._cache:
            result = self.store.load_analysis_result(window)
            if result is None:
                raise LookupError(f"no analysis result stored for {window.label}")
            self._cache[window] = result
        return self._cache[window]

    def campaign(self, window: DataWindow, occurrence_id: str) -> Campaign:
        found = [c for c in self.get(window).campaigns if c.campaign_id == occurrence_id]
        if not found:
            raise LookupError(f"occurrence {occurrence_id} is missing from {window.label}")
        return found[0]


@dataclass
class FoldStats:
    """What keeping the interval's events up to date took: occurrences folded, sums refolded."""

    occurrences_folded: int = 0
    refolded: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"occurrences_folded": self.occurrences_folded, "events_refolded": len(self.refolded)}


def interval_campaign_ids(store: ResultsStore, window: DataWindow, min_confidence: float) -> list[str]:
    """The cross-interval campaigns that have a qualifying occurrence in the window."""
    results = _Results(store)
    identity = exports.campaign_ids_of(store.conn, window)
    campaign_ids: set[str] = set()
    for campaign in results.get(window).campaigns:
        if not qualifies(campaign, min_confidence):
            continue
        if campaign.campaign_id not in identity:
            raise LookupError(
                f"campaign {campaign.campaign_id} of {window.label} has no campaign identity; "
                "run the load step first"
            )
        campaign_ids.add(identity[campaign.campaign_id])
    return sorted(campaign_ids)


def _occurrence(
    store: ResultsStore, results: _Results, window: DataWindow, occurrence_id: str
) -> CampaignOccurrence:
    campaign = results.campaign(window, occurrence_id)
    sessions = exports.member_sessions(store.conn, window, list(campaign.session_ids))
    return CampaignOccurrence(window, campaign, tuple(sessions))


def rebuilt_events(
    store: ResultsStore, window: DataWindow, settings: MispExportSettings, *, min_confidence: float
) -> list[CampaignEvent]:
    """The events of the window's campaigns, each built afresh from all of its occurrences (what
    every publish did before the sums were kept; the reference they are held equal to)."""
    results = _Results(store)
    events = []
    for campaign_id in interval_campaign_ids(store, window, min_confidence):
        occurrences = []
        for occurrence_window, occurrence_id in exports.occurrences_of(store.conn, campaign_id):
            occurrence = _occurrence(store, results, occurrence_window, occurrence_id)
            if qualifies(occurrence.campaign, min_confidence):
                occurrences.append(occurrence)
        events.append(build_event(campaign_id, occurrences, settings))
    return events


def folded_events(
    store: ResultsStore,
    window: DataWindow,
    settings: MispExportSettings,
    *,
    min_confidence: float,
    retired: Iterable[str] = (),
) -> tuple[list[CampaignEvent], FoldStats]:
    """The events of the window's campaigns from their stored sums, brought up to date first; the
    sums of ``retired`` campaign ids (re-keyed into others) are dropped."""
    results = _Results(store)
    stats = FoldStats()
    conn = store.conn
    campaign_ids = interval_campaign_ids(store, window, min_confidence)
    with conn.transaction():
        state.drop_folds(conn, sorted(set(retired)))
    events = []
    for campaign_id in campaign_ids:
        with conn.transaction():  # the lock also keeps a concurrent fold out of what is rendered
            state.lock_campaign(conn, campaign_id)
            _bring_up_to_date(store, results, campaign_id, min_confidence, stats)
            events.append(_render(store, results, campaign_id, settings))
    return events, stats


def _bring_up_to_date(
    store: ResultsStore, results: _Results, campaign_id: str, min_confidence: float, stats: FoldStats
) -> None:
    conn = store.conn
    wanted = state.qualifying_occurrences(conn, campaign_id, min_confidence)
    held = state.folded_keys(conn, campaign_id) if state.has_fold(conn, campaign_id) else None
    if held is None or not held <= wanted:
        if held is not None:
            log.info(
                "MISP event of %s: its stored sum no longer matches its occurrences; refolding", campaign_id
            )
            state.drop_folds(conn, [campaign_id])
            stats.refolded.append(campaign_id)
        held = set()
    missing = sorted(wanted - held)
    if not missing and state.has_fold(conn, campaign_id):
        return
    merged = Contribution()
    summaries: list[state.FoldedOccurrence] = []
    for start, end, occurrence_id, sha in missing:
        occurrence = _occurrence(store, results, DataWindow(start=start, end=end), occurrence_id)
        merged.merge(contribution_of(occurrence))
        c = occurrence.campaign
        evidence = tuple((e.factor, e.score, e.summary) for e in c.evidence)
        summaries.append(
            state.FoldedOccurrence(start, end, occurrence_id, sha, c.verdict.value, c.confidence,
                                   len(c.session_ids), len(c.source_ips), c.first_seen, c.last_seen,
                                   len(evidence), evidence)
        )  # fmt: skip
    event_uuid = identifiers.event_uuid(campaign_id)
    additions = [
        state.ObservableAddition(
            identifiers.attribute_uuid(event_uuid, o.misp_type, o.value), o.misp_type, o.value,
            frozenset(e.sessions), frozenset(e.ips), e.first, e.last, e.failed_downloads,
        )
        for o, e in sorted(merged.observables.items())
        if e.first is not None and e.last is not None
    ]  # fmt: skip
    if len(additions) != len(merged.observables):
        # Only a failed download's URL can lack a span, and its session always gives it one.
        raise AssertionError(f"an observable of {campaign_id} was seen in no session")
    rejected = [(r.misp_type, r.value, r.reason) for r in merged.rejected]
    state.fold(
        conn,
        campaign_id,
        occurrences=summaries,
        observables=additions,
        source_ips=merged.source_ips,
        rejected=rejected,
    )
    stats.occurrences_folded += len(missing)


def _key(summary: OccurrenceSummary) -> tuple[datetime, datetime, str]:
    return (summary.window.start, summary.window.end, summary.occurrence_id)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _render(
    store: ResultsStore, results: _Results, campaign_id: str, settings: MispExportSettings
) -> CampaignEvent:
    conn = store.conn
    folded = state.folded_occurrences(conn, campaign_id)
    summaries = [
        OccurrenceSummary(
            # Stored intervals are valid windows: built without validating each (an event holds many).
            window=DataWindow.model_construct(start=_utc(o.interval_start), end=_utc(o.interval_end)),
            occurrence_id=o.occurrence_id,
            verdict=Verdict(o.verdict),
            confidence=o.confidence,
            sessions=o.session_count,
            source_ips=o.source_ip_count,
            first_seen=_utc(o.first_seen),
            last_seen=_utc(o.last_seen),
            evidence_count=o.evidence_count,
            evidence=(),
        )
        for o in folded
    ]
    summaries.sort(key=lambda s: s.order)
    # The report lists the first MAX_EVIDENCE_ROWS evidence rows: read only the occurrences that give them.
    shown, rows = [], 0
    for s in summaries:
        if rows >= MAX_EVIDENCE_ROWS:
            break
        if s.evidence_count:
            shown.append(_key(s))
            rows += s.evidence_count
    evidence = state.evidence_of(conn, campaign_id, shown)
    summaries = [
        replace(s, evidence=tuple(EvidenceRow(*row) for row in evidence.get(_key(s), ()))) for s in summaries
    ]
    headline = headline_of(summaries)
    observables = {
        Observable(o.misp_type, o.value): ObservableTally(
            o.sessions, o.ips, _utc(o.first_seen), _utc(o.last_seen), o.failed_downloads, o.attribute_uuid
        )
        for o in state.observable_totals(conn, campaign_id)
    }
    rejected = [Rejected(t, v, r) for t, v, r in state.rejected_items(conn, campaign_id)]
    return assemble_event(
        campaign_id,
        summaries,
        results.campaign(headline.window, headline.occurrence_id),
        observables,
        source_ips=state.source_ip_count(conn, campaign_id),
        rejected=rejected,
        settings=settings,
    )
