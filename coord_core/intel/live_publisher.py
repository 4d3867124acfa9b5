"""Events into a live MISP through PyMISP: add once, then edit only what differs.

Each event is looked up by its deterministic UUID: absent -> ``events/add``; present -> compare
with what MISP holds and send only the changed fields, attributes, tags and report
(``events/edit``), soft-delete attributes the campaign no longer has and detach stale tags of its
own (TLP, likelihood, ``dshield-coord``); what analysts added by hand stays. An event equal to
MISP's copy is not touched, so a rerun changes nothing. MISP drops invalid attributes from an
add or edit without failing the request, so every write is checked against the event MISP
returns and anything missing is reported. Sightings of repeat activity go in one
``sightings/bulkSaveSightings`` call per event, with deterministic UUIDs MISP deduplicates.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymisp import PyMISP

from coord_core.adapters.misp_client import misp_errors
from coord_core.intel.campaign_event import CampaignEvent, EventAttribute
from coord_core.intel.export import ExportBatch, PublishOutcome, SightingSpec
from coord_core.intel.identifiers import attribute_uuid
from coord_core.intel.misp_format import misp_event
from coord_core.intel.settings import MispExportSettings
from coord_core.intel.taxonomy import is_managed_tag

log = logging.getLogger(__name__)

_SIGHTINGS_ADDED = re.compile(r"(\d+) sightings? added")


class MispExportError(RuntimeError):
    """MISP refused or failed a write; the message carries MISP's answer (never the API key)."""


def _check(what: str, response: Any) -> Any:
    error = misp_errors(response)
    if error is not None:
        raise MispExportError(f"{what}: MISP answered {error}")
    return response


def _instant(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value)
    return None


def _text(value: object) -> str:
    """Text as MISP holds it: PyMISP strips every string it sends."""
    return str(value or "").strip()


def _attribute_differs(desired: EventAttribute, held: dict[str, Any]) -> bool:
    return (
        held.get("type") != desired.misp_type
        or held.get("category") != desired.category
        or _text(held.get("value")) != _text(desired.value)
        or bool(held.get("to_ids")) != desired.to_ids
        or _text(held.get("comment")) != _text(desired.comment)
        or _instant(held.get("first_seen")) != desired.first_seen
        or _instant(held.get("last_seen")) != desired.last_seen
    )


def _already_exists(response: Any) -> bool:
    """MISP's answer to adding an event whose UUID it holds: 404 "Event already exists"."""
    errors = response.get("errors") if isinstance(response, dict) else None
    return (
        isinstance(errors, tuple | list)
        and len(errors) == 2
        and errors[0] == 404
        and ("already exists" in str(errors[1]))
    )


def _ours(event_uuid: str, held: dict[str, Any]) -> bool:
    """An attribute this project wrote (its UUID derives from the event, type and value); what an
    analyst added to the event by hand is never touched."""
    return held.get("uuid") == attribute_uuid(event_uuid, str(held.get("type")), _text(held.get("value")))


def _event_body(response: Any) -> dict[str, Any]:
    body = response.get("Event") if isinstance(response, dict) else None
    if not isinstance(body, dict):
        raise MispExportError(f"MISP answered without an event: {str(response)[:300]}")
    return body


class LiveMispPublisher:
    """Publishes through a PyMISP client opened at the first write (opening one talks to MISP)."""

    target = "misp"

    def __init__(
        self, open_client: Callable[[], PyMISP], settings: MispExportSettings, *, location: str
    ) -> None:
        self._open_client = open_client
        self._client: PyMISP | None = None
        self.settings = settings
        self.location = location

    @property
    def client(self) -> PyMISP:
        if self._client is None:
            self._client = self._open_client()
        return self._client

    def publish(self, batch: ExportBatch) -> PublishOutcome:
        outcome = PublishOutcome(self.target, self.location)
        for event in batch.events:
            self._publish_event(event, outcome)
        for retired in batch.retired_event_uuids:
            if self.client.event_exists(retired):
                _check(f"delete retired event {retired}", self.client.delete_event(retired))
                outcome.retired.append(retired)
        self._send_sightings(batch.sightings, outcome)
        return outcome

    def _publish_event(self, event: CampaignEvent, outcome: PublishOutcome) -> None:
        if not self.client.event_exists(event.uuid):
            response = self.client.add_event(misp_event(event))
            if not _already_exists(response):  # else another run added it just now: edit it
                response = _check(f"add event {event.uuid}", response)
                self._verify(event, _event_body(response), outcome)
                outcome.created.append(event.uuid)
                self._maybe_publish(event)
                return
        held = _event_body(_check(f"read event {event.uuid}", self.client.get_event(event.uuid)))
        changed = self._apply_changes(event, held)
        if not changed:
            outcome.unchanged.append(event.uuid)
            return
        fresh = _event_body(_check(f"read event {event.uuid}", self.client.get_event(event.uuid)))
        self._verify(event, fresh, outcome)
        outcome.updated.append(event.uuid)
        self._maybe_publish(event)

    def _apply_changes(self, event: CampaignEvent, held: dict[str, Any]) -> bool:
        """Send MISP what differs from its copy; True when anything was sent."""
        held_attributes = {a.get("uuid"): a for a in held.get("Attribute", []) if not a.get("deleted")}
        changed_attributes = [
            a
            for a in event.attributes
            if a.uuid not in held_attributes or _attribute_differs(a, held_attributes[a.uuid])
        ]
        wanted = {a.uuid for a in event.attributes}
        stale_attributes = sorted(
            str(uuid)
            for uuid, held_attribute in held_attributes.items()
            if uuid not in wanted and _ours(event.uuid, held_attribute)
        )
        held_tags = {t.get("name") for t in held.get("Tag", []) if isinstance(t, dict)}
        new_tags = [t for t in event.tags if t not in held_tags]
        stale_tags = sorted(str(t) for t in held_tags if t and t not in event.tags and is_managed_tag(str(t)))
        held_reports = {r.get("uuid"): r for r in held.get("EventReport", []) if not r.get("deleted")}
        report = held_reports.get(event.report.uuid)
        report_changed = report is None or (_text(report.get("content")), _text(report.get("name"))) != (
            _text(event.report.content),
            _text(event.report.name),
        )
        metadata_changed = (
            _text(held.get("info")) != _text(event.info)
            or str(held.get("date")) != event.date.isoformat()
            or str(held.get("threat_level_id")) != str(event.threat_level_id)
            or str(held.get("analysis")) != str(event.analysis)
            or str(held.get("distribution")) != str(event.distribution)
        )
        if not (changed_attributes or new_tags or report_changed or metadata_changed):
            if not (stale_attributes or stale_tags):
                return False
        else:
            edit = misp_event(event, attributes=changed_attributes, with_report=report_changed)
            _check(f"edit event {event.uuid}", self.client.update_event(edit))
        for uuid in stale_attributes:
            _check(f"delete attribute {uuid} of {event.uuid}", self.client.delete_attribute(uuid))
        for tag in stale_tags:
            _check(f"detach tag {tag!r} from {event.uuid}", self.client.untag(event.uuid, tag))
        return True

    def _verify(self, event: CampaignEvent, stored: dict[str, Any], outcome: PublishOutcome) -> None:
        present = {a.get("uuid") for a in stored.get("Attribute", []) if not a.get("deleted")}
        missing = [a for a in event.attributes if a.uuid not in present]
        if missing:
            sample = ", ".join(f"{a.misp_type} {a.value[:80]!r}" for a in missing[:5])
            message = f"MISP dropped {len(missing)} attribute(s) of event {event.uuid}: {sample}"
            log.warning(message)
            outcome.errors.append(message)
        tags = {t.get("name") for t in stored.get("Tag", []) if isinstance(t, dict)}
        if missing_tags := [t for t in event.tags if t not in tags]:
            message = f"MISP did not attach tag(s) {missing_tags} to event {event.uuid}"
            log.warning(message)
            outcome.errors.append(message)

    def _maybe_publish(self, event: CampaignEvent) -> None:
        if self.settings.publish:
            _check(f"publish event {event.uuid}", self.client.publish(event.uuid))

    def _send_sightings(self, sightings: tuple[SightingSpec, ...], outcome: PublishOutcome) -> None:
        by_event: dict[str, list[SightingSpec]] = defaultdict(list)
        for sighting in sightings:
            by_event[sighting.event_uuid].append(sighting)
        for event_uuid, items in sorted(by_event.items()):
            if not self.client.event_exists(event_uuid):
                outcome.errors.append(
                    f"{len(items)} sighting(s) for event {event_uuid} not sent: the event is not in MISP"
                )
                continue
            payload = {
                "Sighting": [
                    {
                        "uuid": s.uuid,
                        "attribute_uuid": s.attribute_uuid,
                        "date_sighting": str(int(s.seen_at.timestamp())),
                        "type": "0",
                        "source": self.settings.sighting_source,
                    }
                    for s in sorted(items, key=lambda s: s.uuid)
                ]
            }
            response = _check(
                f"sightings for {event_uuid}",
                self.client.direct_call(f"sightings/bulkSaveSightings/{event_uuid}", payload),
            )
            outcome.sightings_sent += len(items)
            text = str(response.get("success", "")) if isinstance(response, dict) else str(response)
            if match := _SIGHTINGS_ADDED.search(text):
                outcome.sightings_added += int(match.group(1))
