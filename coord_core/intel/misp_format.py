"""A ``CampaignEvent`` as PyMISP objects: what a live MISP receives and what a feed file holds."""

from __future__ import annotations

from pymisp import MISPAttribute, MISPEvent, MISPEventReport, MISPOrganisation

from coord_core.intel.campaign_event import CampaignEvent, EventAttribute

INHERIT_EVENT_DISTRIBUTION = 5


def misp_attribute(attribute: EventAttribute, *, timestamp: int | None = None) -> MISPAttribute:
    item = MISPAttribute(strict=True)
    item.from_dict(
        uuid=attribute.uuid,
        type=attribute.misp_type,
        category=attribute.category,
        value=attribute.value,
        to_ids=attribute.to_ids,
        comment=attribute.comment,
        distribution=INHERIT_EVENT_DISTRIBUTION,
        first_seen=attribute.first_seen.isoformat(),
        last_seen=attribute.last_seen.isoformat(),
        disable_correlation=False,
    )
    # Explicit, so that re-sending an attribute MISP had soft-deleted restores it.
    item.deleted = False
    if timestamp is not None:
        item.timestamp = timestamp
    return item


def _event_header(event: CampaignEvent) -> MISPEvent:
    """What the live event and the feed event share: identity, title, date and assessment."""
    out = MISPEvent(strict_validation=True)
    out.uuid = event.uuid
    out.info = event.info
    out.set_date(event.date)
    out.threat_level_id = event.threat_level_id
    out.analysis = event.analysis
    return out


def misp_event(
    event: CampaignEvent,
    *,
    attributes: list[EventAttribute] | None = None,
    with_report: bool = True,
) -> MISPEvent:
    """The event for a live MISP: no timestamps (MISP stamps what it stores)."""
    out = _event_header(event)
    out.distribution = event.distribution
    for tag in event.tags:
        out.add_tag(tag)
    for attribute in event.attributes if attributes is None else attributes:
        out.attributes.append(misp_attribute(attribute))
    if with_report:
        out.event_reports.append(misp_report(event))
    return out


def misp_report(event: CampaignEvent, *, timestamp: int | None = None) -> MISPEventReport:
    report = MISPEventReport()
    report.from_dict(
        uuid=event.report.uuid,
        name=event.report.name,
        content=event.report.content,
        distribution=INHERIT_EVENT_DISTRIBUTION,
    )
    if timestamp is not None:
        report.timestamp = timestamp
    return report


def feed_attribute(attribute: EventAttribute, timestamp: int) -> dict[str, object]:
    """An attribute as PyMISP's ``to_feed`` writes it, without building PyMISP objects (an event's
    attributes grow with its campaign; ``feed_event`` checks this against PyMISP on every event)."""
    return {
        "category": attribute.category,
        "comment": attribute.comment,
        "deleted": False,
        "disable_correlation": False,
        "first_seen": attribute.first_seen.isoformat(),
        "last_seen": attribute.last_seen.isoformat(),
        "timestamp": str(timestamp),
        "to_ids": attribute.to_ids,
        "type": attribute.misp_type,
        "uuid": attribute.uuid,
        "value": attribute.value,
    }


def feed_event(
    event: CampaignEvent,
    *,
    org_name: str,
    org_uuid: str,
    timestamp: int,
    attribute_timestamps: dict[str, int],
    report_timestamp: int,
) -> dict[str, object]:
    """The ``{"Event": ...}`` document of a MISP feed (PyMISP's own ``to_feed`` layout).

    PyMISP renders the event with its first attribute; the others are rendered by
    ``feed_attribute``, which must give what PyMISP gives for the first (else PyMISP renders all).
    """

    def through_pymisp(attributes: tuple[EventAttribute, ...]) -> dict[str, object]:
        out = _event_header(event)
        out.published = True
        out.timestamp = timestamp
        out.publish_timestamp = timestamp
        out.extends_uuid = ""
        out.protected = False
        org = MISPOrganisation()
        org.from_dict(name=org_name, uuid=org_uuid)
        out.Orgc = org
        for tag in event.tags:
            out.add_tag(tag)
        for attribute in attributes:
            out.attributes.append(misp_attribute(attribute, timestamp=attribute_timestamps[attribute.uuid]))
        out.event_reports.append(misp_report(event, timestamp=report_timestamp))
        return out.to_feed(with_distribution=False)

    document = through_pymisp(event.attributes[:1])
    body = document["Event"]
    if not isinstance(body, dict) or not event.attributes:
        return document
    rendered = [feed_attribute(a, attribute_timestamps[a.uuid]) for a in event.attributes]
    if body.get("Attribute") != rendered[:1]:
        return through_pymisp(event.attributes)
    body["Attribute"] = rendered
    return document
