"""``truth.json``: who was behind every generated session, and what the right answer is.

Convention for metrics: a session's true cluster is its actor's campaign when the actor is
multi-source (two or more source addresses acting as one campaign or one operator), else the
session alone. Benign research scanners are never a campaign.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from coord_core.contracts.campaigns import Verdict

TRUTH_SCHEMA_VERSION = "1"


class SessionTruth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    sensor: str
    session_id: str
    src_ip: str
    actor_id: str


class ActorFacts(BaseModel):
    """Who an actor is and the verdict its sessions should earn: fixed when the generator creates
    it, before any of its sessions is planned (``World.new_actor``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor_id: str
    archetype: str
    multi_source: bool
    expected_verdict: Verdict
    note: str
    benign: bool = False
    scanner_list: str | None = None


class ActorTruth(ActorFacts):
    """An actor's facts with what it did in the window: its addresses and session count."""

    source_ips: list[str]
    session_count: int


class ScenarioTruth(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: str = TRUTH_SCHEMA_VERSION
    scenario: str
    seed: int
    size: str
    window_start: datetime
    window_end: datetime
    actors: list[ActorTruth]
    sessions: list[SessionTruth]

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")) + "\n"

    @classmethod
    def read(cls, path: Path) -> ScenarioTruth:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))

    def actor_by_id(self) -> dict[str, ActorTruth]:
        return {actor.actor_id: actor for actor in self.actors}
