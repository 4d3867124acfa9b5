"""Publish an interval's qualifying campaigns to MISP (live or feed) and record the export.

For every campaign of the interval that qualifies, the event is what all of that campaign's
stored occurrences add up to, kept up to date per occurrence
(``coord_core.pipeline.misp_event_fold``); events of campaign ids retired by re-keying are
withdrawn; source IPs of earlier exported campaigns seen again in this interval become sightings.
The export is recorded in ``coord.exports`` and the audit log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from coord_core.contracts.window import DataWindow
from coord_core.intel import identifiers
from coord_core.intel.campaign_event import CampaignEvent
from coord_core.intel.export import EventPublisher, ExportBatch, SightingSpec
from coord_core.intel.settings import MispExportSettings
from coord_core.pipeline.misp_event_fold import folded_events, interval_campaign_ids
from coord_core.store import exports
from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)


def campaign_events(
    store: ResultsStore,
    window: DataWindow,
    settings: MispExportSettings,
    *,
    min_confidence: float,
    retired: Iterable[str] = (),
) -> list[CampaignEvent]:
    """The events of the cross-interval campaigns that have a qualifying occurrence in the window."""
    events, stats = folded_events(store, window, settings, min_confidence=min_confidence, retired=retired)
    log.info("MISP events of %s: %s", window.label, stats.as_dict())
    return events


def repeat_sightings(store: ResultsStore, window: DataWindow, *, min_confidence: float) -> list[SightingSpec]:
    """Sightings for source IPs of earlier exported campaigns that attacked again in the window."""
    sightings = []
    for activity in exports.repeat_activity(store.conn, window, min_confidence):
        event = identifiers.event_uuid(activity.campaign_id)
        attribute = identifiers.attribute_uuid(event, "ip-src", activity.src_ip)
        sightings.append(
            SightingSpec(
                uuid=identifiers.sighting_uuid(attribute, window.label),
                event_uuid=event,
                attribute_uuid=attribute,
                value=activity.src_ip,
                seen_at=activity.first_seen,
                sessions=activity.sessions,
            )
        )
    return sightings


def export_interval(
    store: ResultsStore,
    window: DataWindow,
    publisher: EventPublisher,
    settings: MispExportSettings,
    *,
    min_confidence: float,
    dag_id: str | None = None,
    run_id: str | None = None,
) -> dict[str, Any]:
    campaign_ids = interval_campaign_ids(store, window, min_confidence)
    aliases = exports.aliases_of(store.conn, campaign_ids)
    retired_ids = sorted({alias for ids in aliases.values() for alias in ids})
    events = campaign_events(store, window, settings, min_confidence=min_confidence, retired=retired_ids)
    retired = sorted({identifiers.event_uuid(alias) for alias in retired_ids})
    sightings = repeat_sightings(store, window, min_confidence=min_confidence)
    batch = ExportBatch(window, tuple(events), tuple(retired), tuple(sightings))

    def audit(action: str, details: dict[str, Any]) -> None:
        """The export's audit row: the pipeline's when a DAG run exports, else the CLI's."""
        actor = "airflow:pipeline" if dag_id else "coord"
        store.audit(actor=actor, action=action, dag_id=dag_id, run_id=run_id, window=window, details=details)

    try:
        outcome = publisher.publish(batch)
    except Exception as exc:
        audit(
            "misp_export_failed",
            {"target": publisher.target, "location": publisher.location, "error": str(exc)[:2000]},
        )
        raise
    rejected: dict[str, int] = defaultdict(int)
    for event in events:
        for item in event.rejected:
            rejected[item.reason] += 1
    if rejected:
        outcome.errors.append(f"values not exportable (by reason): {dict(sorted(rejected.items()))}")
    exports.record_export(
        store.conn,
        window,
        publisher.target,
        publisher.location,
        {
            "events": {e.campaign_id: e.uuid for e in events},
            "retired": retired,
            "sightings": sorted(s.uuid for s in sightings),
        },
    )
    summary = outcome.as_dict()
    audit("misp_export", summary)
    for error in outcome.errors:
        log.warning("MISP export of %s: %s", window.label, error)
    log.info(
        "MISP export of %s to %s %s: %d event(s) (%d created, %d updated, %d unchanged), "
        "%d retired, %d sighting(s) sent",
        window.label,
        publisher.target,
        publisher.location,
        len(events),
        len(outcome.created),
        len(outcome.updated),
        len(outcome.unchanged),
        len(outcome.retired),
        outcome.sightings_sent,
    )
    return {"events": len(events), **summary}
