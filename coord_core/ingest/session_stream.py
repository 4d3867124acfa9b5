"""Sessions from log files in bounded memory: each session closes once its last line is read.

Input files need not be time-ordered, and a session's lines may be spread over several files,
so no timestamp can tell that a session is complete. Instead a first, cheap pass counts the
lines of every (sensor, session) (Cowrie lines: only those two ids are read), and the second,
full pass closes a session when all its counted lines have arrived. Memory is then one integer
per session plus the events of the sessions still open (for time-ordered logs, the concurrent
ones), instead of every event of the input.

Counting is conservative: a line counted but rejected by the full pass (bad field, clock error)
only keeps its session open until the end of the input; no session is ever closed early.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec

from coord_core.contracts.events import CowrieEvent, EventRecord
from coord_core.contracts.sessions import SessionRecord
from coord_core.ingest.line_reader import (
    DEFAULT_MAX_LINE_BYTES,
    NOT_PLAIN,
    UnreadableRestError,
    line_chunks,
    orjson_loads,
)
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.sessionize import as_record, records_session

SessionKey = tuple[str, str]


def _identifier(value: object) -> str | None:
    """A sensor or session id as the event model keeps it (integers become text), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) else None


class _Ids(msgspec.Struct):
    """A line's ids as the count pass reads them: every other field is skipped, not decoded."""

    session: str | int | None = None
    sensor: str | int | None = ""


_IDS = msgspec.json.Decoder(_Ids)


def _json_ids(data: bytes) -> tuple[object, object] | None:
    """A line's ``sensor`` and ``session`` values as json reads them; None for a line that is not a
    JSON object."""
    obj = orjson_loads(data)
    if type(obj) is dict:
        sensor, session = obj.get("sensor", ""), obj.get("session")
        if type(sensor) is not float and type(session) is not float:
            return sensor, session
        # a float may be an integer id beyond 64 bits, which json reads exactly
    elif obj is not NOT_PLAIN:
        return None  # JSON, but not an object
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return (obj.get("sensor", ""), obj.get("session")) if isinstance(obj, dict) else None


def cowrie_line_keys(path: Path, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[SessionKey]:
    """The (sensor, session) of every line of a Cowrie file that can become an event.

    A line that cannot (not UTF-8, not JSON, no usable ids) is left out: the full pass rejects
    it too, and reports why; so is the rest of a file that cannot be read.

    msgspec reads only the two ids (the last of repeated keys, as json does; integers exactly) and
    skips the other values with less care than the full pass (a bad byte in a skipped string, a
    deep list): a line it counts may still be rejected, which only keeps its session open until
    the end. Whatever it refuses (a bool or float id, a lone surrogate, malformed JSON) is read
    again as json reads it.
    """
    decode = _IDS.decode
    try:
        for data in line_chunks(path, max_line_bytes):
            if type(data) is not bytes or not data or data.isspace():
                continue  # a line over the cap (never parsed), or a blank one
            sensor: object
            session: object
            try:
                ids = decode(data)
                sensor, session = ids.sensor, ids.session
            except (msgspec.DecodeError, ValueError, RecursionError):
                found = _json_ids(data)
                if found is None:
                    continue  # the full pass quarantines this line with its reason
                sensor, session = found
            if type(sensor) is not str:
                sensor = _identifier(sensor)
            if type(session) is not str:
                session = _identifier(session)
            if sensor is not None and session is not None:
                yield sensor, session
    except UnreadableRestError:
        return  # the full pass reports the unreadable rest as a rejected record


def event_keys(records: Iterable[ReadRecord[Any]]) -> Iterator[SessionKey]:
    """The (sensor, session) of every record that is an event (for inputs parsed in full)."""
    for record in records:
        if record.event is not None:
            yield record.event.sensor, record.event.session


def _slot(key: SessionKey) -> int:
    return hash(key)


class _Slot:
    """The open session(s) of one key slot: the first key's events, and any other key's (a hash
    collision: rare, kept apart all the same); ``left`` lines still to come, None if uncounted."""

    __slots__ = ("key", "left", "others", "records")

    def __init__(self, key: SessionKey, left: int | None, record: EventRecord) -> None:
        self.key = key
        self.left = left
        self.records = [record]
        self.others: dict[SessionKey, list[EventRecord]] | None = None

    def sessions(self) -> list[SessionRecord]:
        done = [records_session(self.records)]
        if self.others:
            done += [records_session(records) for records in self.others.values()]
        return done


class SessionCloser:
    """Groups events by (sensor, session) and hands each session over once all its lines arrived.

    ``expected`` counts the lines per key slot (``count_lines``). Keys that share a slot (a hash
    collision) close together, when the last of them is complete: late, never early.
    """

    def __init__(self, expected: dict[int, int]) -> None:
        self._remaining = expected  # lines per slot not yet opened; 0 once closed
        self._open: dict[int, _Slot] = {}

    @property
    def open_sessions(self) -> int:
        return sum(1 + len(slot.others or ()) for slot in self._open.values())

    def add(self, event: CowrieEvent | EventRecord) -> Sequence[SessionRecord]:
        """Take one event; return the sessions it completes (usually none, at most its own slot)."""
        record = event if type(event) is EventRecord else as_record(event)
        key = (record.sensor, record.session)
        slot = hash(key)  # _slot(key), inlined: this runs once per event
        opened = self._open.get(slot)
        if opened is None:
            left = self._remaining.get(slot)
            if left is not None and left <= 0:
                raise RuntimeError(
                    f"session {key!r} received an event after it was closed: the line count of the "
                    "first pass disagrees with the full read"
                )
            opened = self._open[slot] = _Slot(key, left, record)
        elif opened.key == key:
            opened.records.append(record)
            left = opened.left
        else:  # another key in the slot
            others = opened.others
            if others is None:
                opened.others = {key: [record]}
            elif (records := others.get(key)) is None:
                others[key] = [record]
            else:
                records.append(record)
            left = opened.left
        if left is None:
            return ()  # not counted by the first pass: held until the end of the input
        if left > 1:
            opened.left = left - 1
            return ()
        del self._open[slot]
        self._remaining[slot] = 0
        return opened.sessions()

    def rest(self) -> Iterator[SessionRecord]:
        """The sessions still open at the end of the input (some counted line was rejected)."""
        while self._open:
            _, opened = self._open.popitem()
            yield from opened.sessions()


def count_lines(keys: Iterable[SessionKey], counts: dict[int, int] | None = None) -> dict[int, int]:
    """Lines per key slot, for :class:`SessionCloser` (added to ``counts``, one file after another)."""
    if counts is None:
        counts = {}
    get = counts.get
    for key in keys:
        slot = hash(key)  # _slot(key), inlined
        counts[slot] = get(slot, 0) + 1
    return counts


def stream_sessions(
    records: Iterable[ReadRecord[CowrieEvent] | ReadRecord[EventRecord] | EventRecord],
    expected: dict[int, int],
    on_record: Callable[[ReadRecord[Any]], Any] | None = None,
) -> Iterator[SessionRecord]:
    """Sessions of the records, each as soon as it is complete (in no particular order).

    A record may also come as its bare event (``read_file_events``). ``on_record`` sees every
    record first (to count and report rejected ones), not the bare events.
    """
    closer = SessionCloser(expected)
    add = closer.add
    for record in records:
        if isinstance(record, EventRecord):
            event: CowrieEvent | EventRecord = record
        else:
            if on_record is not None:
                on_record(record)
            if record.event is None:
                continue
            event = record.event
        done = add(event)
        if done:
            yield from done
    yield from closer.rest()
