"""What an export hands a publisher, what a publisher reports back, and the publisher interface."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from coord_core.contracts.window import DataWindow
from coord_core.intel.campaign_event import CampaignEvent


@dataclass(frozen=True)
class SightingSpec:
    """An indicator of an earlier exported event seen again in this interval."""

    uuid: str
    event_uuid: str
    attribute_uuid: str
    value: str
    seen_at: datetime
    sessions: int


@dataclass(frozen=True)
class ExportBatch:
    window: DataWindow
    events: tuple[CampaignEvent, ...]
    retired_event_uuids: tuple[str, ...] = ()  # events of campaign ids that were re-keyed
    sightings: tuple[SightingSpec, ...] = ()


@dataclass
class PublishOutcome:
    target: str  # misp | misp_feed
    location: str  # URL or folder, never credentials
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    sightings_sent: int = 0
    sightings_added: int = 0
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "location": self.location,
            "created": sorted(self.created),
            "updated": sorted(self.updated),
            "unchanged": sorted(self.unchanged),
            "retired": sorted(self.retired),
            "sightings_sent": self.sightings_sent,
            "sightings_added": self.sightings_added,
            "errors": self.errors,
            "notes": self.notes,
        }


class EventPublisher(Protocol):
    """Writes events so that writing the same events again changes nothing."""

    @property
    def target(self) -> str: ...  # misp | misp_feed

    @property
    def location(self) -> str: ...  # URL or folder, never credentials

    def publish(self, batch: ExportBatch) -> PublishOutcome: ...
