"""One interval's occurrence of a campaign: what the MISP event and its evidence report are built from."""

from __future__ import annotations

from dataclasses import dataclass

from coord_core.contracts.campaigns import Campaign
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow


@dataclass(frozen=True)
class CampaignOccurrence:
    """One interval's occurrence of a campaign with its member sessions that are still stored."""

    window: DataWindow
    campaign: Campaign
    sessions: tuple[AttackSession, ...]
