"""Extract one data interval: stage its events and sessions in PostgreSQL, quarantine bad records.

Streaming in two passes so memory stays flat for millions of records:
1. every parsed record in the widened window is COPY-ed into ``staged_events``; every record that
   failed to parse and whose time falls in the window goes to ``quarantine`` with its reason;
2. events of sessions that started outside the window are removed (their own interval owns
   them), and the remaining events are read back ordered by session to build sessions one at a
   time.

It also stages the interval's drift baseline, the profile of what the source held in the hours
before the window (``coord_core.quality.source_profile``): counted from the same record stream
for sources that stream everything (files), or handed in when the source computed it itself
(an Elasticsearch aggregation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from coord_core.contracts.data_quality import QuarantineEntry
from coord_core.contracts.events import EventRecord
from coord_core.contracts.sessions import SessionRecord
from coord_core.contracts.source_profile import SourceProfile
from coord_core.contracts.window import DataWindow
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.sessionize import records_session
from coord_core.quality.frames import staged_checks
from coord_core.quality.source_profile import ProfileCounter
from coord_core.store.results import ResultsStore

log = logging.getLogger(__name__)

DEFAULT_SESSION_SLACK = timedelta(minutes=30)


@dataclass(frozen=True)
class ExtractOutcome:
    """Counts for the interval: ``read == staged_events + quarantined`` always holds."""

    read: int
    staged_events: int
    quarantined: int
    sessions: int
    input_fingerprint: str


class _Splitter:
    """Routes records to staging or quarantine while counting, in a single pass."""

    def __init__(self, window: DataWindow, slack: timedelta) -> None:
        self.window = window
        self.widened = window.widened(slack)
        self.bad: list[QuarantineEntry] = []

    def good(self, records: Iterable[ReadRecord[Any]]) -> Iterator[ReadRecord[Any]]:
        for record in records:
            if record.time is None:
                raise ValueError(f"{record.ref}: reader gave no time; cannot assign it to an interval")
            if record.ok:
                if self.widened.contains(record.time):
                    yield record
            elif self.window.contains(record.time):
                self.bad.append(record.quarantined(record.error or "unparseable record"))


class _Steps:
    """Seconds per step of an extract, for its log line (where a large interval's time goes)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self._last, 2)
        self._last = now


def extract_interval(
    store: ResultsStore,
    window: DataWindow,
    records: Iterable[ReadRecord[Any]],
    *,
    slack: timedelta = DEFAULT_SESSION_SLACK,
    profile: SourceProfile | None = None,
    profile_lookback: timedelta | None = None,
) -> ExtractOutcome:
    """Stage the interval's events and sessions from any record source (files or Elasticsearch).

    The drift baseline staged with them: ``profile`` when the source computed it, else, with
    ``profile_lookback``, the profile of ``records`` over that lookback before the window (only
    for a stream that covers the lookback, as a file source's does); with neither, none (drift
    checks are then not judged).
    """
    if profile is not None and profile_lookback is not None:
        raise ValueError("give a source profile or a lookback to profile the records over, not both")
    counter = ProfileCounter(window.start, profile_lookback) if profile_lookback is not None else None
    splitter = _Splitter(window, slack)
    stream = counter.observe(records) if counter is not None else records
    steps = _Steps()
    store.replace_staged_events(window, splitter.good(stream), checks=staged_checks)
    steps.done("stage_s")
    if counter is not None:
        profile = counter.profile()
    if profile is not None:
        store.save_source_profile(window, profile)
    else:
        store.clear_source_profile(window)
    quarantined = store.replace_quarantine(window, "parse", splitter.bad)
    store.drop_staged_sessions_starting_outside(window)
    steps.done("drop_outside_s")
    session_count = store.replace_sessions(window, _sessions_from_staging(store, window))
    steps.done("sessions_s")
    staged, fingerprint = store.staged_summary(window)
    steps.done("summary_s")
    outcome = ExtractOutcome(
        read=staged + quarantined,
        staged_events=staged,
        quarantined=quarantined,
        sessions=session_count,
        input_fingerprint=fingerprint,
    )
    log.info("extracted %s: %s in %s", window.label, asdict(outcome), steps.seconds)
    return outcome


def _sessions_from_staging(store: ResultsStore, window: DataWindow) -> Iterator[SessionRecord]:
    """Build sessions one at a time from staged events read back grouped by session (plain records
    and plain sessions: the values and JSON of the models, without a model per event or session)."""
    current: tuple[str, str] | None = None
    bucket: list[EventRecord] = []
    for event in store.iter_staged_events_by_session(window):
        key = (event.sensor, event.session)
        if key != current and bucket:
            yield records_session(bucket)
            bucket = []
        current = key
        bucket.append(event)
    if bucket:
        yield records_session(bucket)
