"""The source profile record: what the source held per hour and sensor in the hours before an interval.

A profile counts, per hour of ``[interval start - lookback, interval start)`` and per sensor,
the events, the distinct Cowrie sessions and the login events the SOURCE holds, plus the records
that could not be parsed. Hours are aligned on the lookback start (``lookback_start + k hours``).
Only hours in which the source held at least one record are listed; an hour without any is
"no data" (the feed had not started, or was down), not a zero rate. The record is shared by the
sources that build it (``quality.source_profile``, ``adapters.elasticsearch_profile``), the store
that keeps it and the drift checks that read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from coord_core.contracts.events import LoginAttempt, parse_timestamp

PROFILE_VERSION = 1
HOUR = timedelta(hours=1)
DEFAULT_LOOKBACK = timedelta(hours=24)
MAX_LOOKBACK = timedelta(days=7)
LOGIN_EVENT_IDS = frozenset(LoginAttempt.EVENT_IDS)
# Event ids of records that are not Cowrie sessions (each is its own one-record "session").
NON_SESSION_EVENT_IDS = frozenset({"dshield.firewall", "dshield.web.request"})


class ProfileError(ValueError):
    """A stored or received profile that cannot be read."""


@dataclass(frozen=True)
class SensorHour:
    events: int
    sessions: int
    login_events: int


@dataclass(frozen=True)
class ProfileHour:
    start: datetime
    sensors: Mapping[str, SensorHour]
    parse_errors: int | None = None  # None: the source cannot tell (an aggregation sees no parse errors)

    @property
    def events(self) -> int:
        return sum(s.events for s in self.sensors.values())

    @property
    def sessions(self) -> int:
        return sum(s.sessions for s in self.sensors.values())

    @property
    def login_events(self) -> int:
        return sum(s.login_events for s in self.sensors.values())


@dataclass(frozen=True)
class SourceProfile:
    """The lookback profile of one interval; ``hours`` sorted, only hours with records."""

    source_kind: str
    lookback_start: datetime
    lookback_end: datetime
    hours: tuple[ProfileHour, ...] = ()
    query: dict[str, Any] | None = None  # the exact request that produced it (Elasticsearch)
    notes: tuple[str, ...] = field(default=())

    @property
    def lookback_hours(self) -> int:
        return int((self.lookback_end - self.lookback_start) / HOUR)

    def to_json(self) -> dict[str, Any]:
        """Canonical JSON (sorted hours and sensors): the ``coord.dq_baselines.profile`` document."""
        return {
            "profile_version": PROFILE_VERSION,
            "source_kind": self.source_kind,
            "lookback_start": _iso(self.lookback_start),
            "lookback_end": _iso(self.lookback_end),
            "hours": [
                {
                    "start": _iso(h.start),
                    "parse_errors": h.parse_errors,
                    "sensors": {
                        name: {"events": s.events, "sessions": s.sessions, "login_events": s.login_events}
                        for name, s in sorted(h.sensors.items())
                    },
                }
                for h in sorted(self.hours, key=lambda h: h.start)
            ],
            "notes": list(self.notes),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], query: dict[str, Any] | None = None) -> SourceProfile:
        try:
            if int(doc["profile_version"]) != PROFILE_VERSION:
                raise ProfileError(f"profile version {doc['profile_version']} is not {PROFILE_VERSION}")
            hours = tuple(
                ProfileHour(
                    start=parse_timestamp(h["start"]),
                    parse_errors=None if h.get("parse_errors") is None else int(h["parse_errors"]),
                    sensors={
                        str(name): SensorHour(int(s["events"]), int(s["sessions"]), int(s["login_events"]))
                        for name, s in dict(h["sensors"]).items()
                    },
                )
                for h in doc["hours"]
            )
            return cls(
                source_kind=str(doc["source_kind"]),
                lookback_start=parse_timestamp(doc["lookback_start"]),
                lookback_end=parse_timestamp(doc["lookback_end"]),
                hours=hours,
                query=query,
                notes=tuple(str(n) for n in doc.get("notes", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ProfileError):
                raise
            raise ProfileError(f"not a source profile ({type(exc).__name__}: {exc})") from exc


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def lookback_bounds(interval_start: datetime, lookback: timedelta) -> tuple[datetime, datetime]:
    """``[interval_start - lookback, interval_start)``; the lookback is whole hours, at most 7 days."""
    if lookback < HOUR or lookback > MAX_LOOKBACK or lookback % HOUR:
        raise ValueError(f"lookback must be a whole number of hours between 1 and 168, not {lookback}")
    return interval_start - lookback, interval_start


def hour_index(moment: datetime, lookback_start: datetime) -> int:
    return int((moment - lookback_start) // HOUR)
