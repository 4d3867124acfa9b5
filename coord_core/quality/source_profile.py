"""What the source held in the hours before an interval: the baseline the drift checks compare against.

A profile counts, per hour of ``[interval start - lookback, interval start)`` and per sensor,
the events, the distinct Cowrie sessions and the login events the SOURCE holds, plus the records
that could not be parsed. It is a pure function of the source and the interval, so the verdicts
built on it do not depend on which other intervals happened to be processed before (a backfill
in any order, or one interval alone, gives the same rows).

Hours are aligned on the lookback start (``lookback_start + k hours``). Only hours in which the
source held at least one record are listed; an hour without any is "no data" (the feed had not
started, or was down), not a zero rate. Sessions are distinct Cowrie session ids with an event
in the hour (what an Elasticsearch ``cardinality`` aggregation on the session field counts);
DShield firewall and web records have no session of their own and are counted as events only.

File sources profile in the same streaming pass that reads the interval
(:class:`ProfileCounter`); Elasticsearch profiles with one aggregation request
(``coord_core.adapters.elasticsearch_profile``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from coord_core.contracts.source_profile import (
    DEFAULT_LOOKBACK,
    HOUR,
    LOGIN_EVENT_IDS,
    NON_SESSION_EVENT_IDS,
    ProfileHour,
    SensorHour,
    SourceProfile,
    hour_index,
    lookback_bounds,
)
from coord_core.ingest.records import ReadRecord


class ProfileCounter:
    """Counts the records of a stream that fall in the lookback while passing every record on."""

    def __init__(self, interval_start: datetime, lookback: timedelta = DEFAULT_LOOKBACK) -> None:
        self.start, self.end = lookback_bounds(interval_start, lookback)
        self._events: dict[tuple[int, str], int] = defaultdict(int)
        self._logins: dict[tuple[int, str], int] = defaultdict(int)
        self._sessions: dict[tuple[int, str], set[str]] = defaultdict(set)
        self._parse_errors: dict[int, int] = defaultdict(int)

    def observe(self, records: Iterable[ReadRecord]) -> Iterator[ReadRecord]:
        start, end = self.start, self.end
        for record in records:
            moment = record.time
            if moment is not None and start <= moment < end:
                self._count(record, hour_index(moment, start))
            yield record

    def _count(self, record: ReadRecord, hour: int) -> None:
        event = record.event
        if event is None:
            self._parse_errors[hour] += 1
            return
        key = (hour, event.sensor)
        self._events[key] += 1
        if event.eventid in LOGIN_EVENT_IDS:
            self._logins[key] += 1
        if event.eventid not in NON_SESSION_EVENT_IDS:
            self._sessions[key].add(event.session)

    def profile(self, source_kind: str = "files") -> SourceProfile:
        sensors: dict[int, dict[str, SensorHour]] = defaultdict(dict)
        for (hour, sensor), events in self._events.items():
            sensors[hour][sensor] = SensorHour(
                events, len(self._sessions.get((hour, sensor), ())), self._logins.get((hour, sensor), 0)
            )
        hours = sorted(set(sensors) | set(self._parse_errors))
        return SourceProfile(
            source_kind=source_kind,
            lookback_start=self.start,
            lookback_end=self.end,
            hours=tuple(
                ProfileHour(
                    start=self.start + hour * HOUR,
                    sensors=dict(sorted(sensors.get(hour, {}).items())),
                    parse_errors=self._parse_errors.get(hour, 0),
                )
                for hour in hours
            ),
        )
