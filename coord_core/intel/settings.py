"""How exported events look: sharing, TLP, organisation, limits (Airflow Variable ``coord_misp_export``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coord_core.intel.identifiers import organisation_uuid


class MispExportSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    tlp: Literal["tlp:clear", "tlp:white", "tlp:green", "tlp:amber", "tlp:amber+strict", "tlp:red"] = (
        "tlp:amber"
    )
    distribution: int = Field(0, ge=0, le=3, description="0 your org ... 3 all communities")
    threat_level_id: int = Field(3, ge=1, le=4, description="1 high, 2 medium, 3 low, 4 undefined")
    analysis: int = Field(1, ge=0, le=2, description="0 initial, 1 ongoing, 2 completed")
    org_name: str = Field("DShield Coordination Engine", min_length=1, max_length=255)
    org_uuid: str | None = Field(None, description="the feed's creator organisation; derived from org_name")
    publish: bool = Field(False, description="live MISP: publish events after writing them")
    max_command_sequences: int = Field(20, ge=0, le=500)
    sighting_source: str = Field("dshield-coord", max_length=255)

    @property
    def organisation_uuid(self) -> str:
        return self.org_uuid or organisation_uuid(self.org_name)
