"""Deterministic UUIDs: the same campaign, value or sighting always gets the same UUID.

Republishing therefore updates in place and never duplicates; MISP requires attribute UUIDs to
be unique across events, so they derive from their event's UUID.
"""

from __future__ import annotations

import uuid

# The project's namespace for every UUID it mints (fixed forever: changing it re-keys MISP).
PROJECT_NAMESPACE = uuid.UUID("46f1d32b-0b3a-475e-aa15-c5d8e5b4ea67")


def event_uuid(campaign_id: str) -> str:
    """The MISP event of a cross-interval campaign id."""
    return str(uuid.uuid5(PROJECT_NAMESPACE, f"campaign:{campaign_id}"))


def attribute_uuid(event: str, misp_type: str, value: str) -> str:
    return str(uuid.uuid5(uuid.UUID(event), f"attribute:{misp_type}|{value}"))


def report_uuid(event: str) -> str:
    return str(uuid.uuid5(uuid.UUID(event), "report:evidence"))


def sighting_uuid(attribute: str, interval_label: str) -> str:
    """One sighting per attribute and interval: resending it is a no-op in MISP."""
    return str(uuid.uuid5(uuid.UUID(attribute), f"sighting:{interval_label}"))


def organisation_uuid(name: str) -> str:
    return str(uuid.uuid5(PROJECT_NAMESPACE, f"organisation:{name}"))
