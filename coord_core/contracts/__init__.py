"""Pydantic contracts at the package's edges: events in, sessions, campaigns and lineage out."""

from coord_core.contracts.campaigns import (
    AnalysisResult,
    Campaign,
    Evidence,
    Link,
    RunInfo,
    Verdict,
)
from coord_core.contracts.events import (
    CowrieEvent,
    EventParseError,
    parse_event,
)
from coord_core.contracts.lineage import RunLineage
from coord_core.contracts.sessions import AttackSession, Download, LoginAttempt

__all__ = [
    "AnalysisResult",
    "AttackSession",
    "Campaign",
    "CowrieEvent",
    "Download",
    "EventParseError",
    "Evidence",
    "Link",
    "LoginAttempt",
    "RunInfo",
    "RunLineage",
    "Verdict",
    "parse_event",
]
