"""Read Cowrie JSON-lines logs from files, folders and ``.gz`` archives, one record at a time."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar, cast

from coord_core.contracts.event_lines import decode_line, line_record
from coord_core.contracts.events import (
    CowrieEvent,
    EventParseError,
    EventRecord,
    parse_event,
    parse_event_record,
    parse_timestamp,
)
from coord_core.ingest.input_paths import InputPathRefused, is_under, shown
from coord_core.ingest.line_reader import (
    DEFAULT_MAX_LINE_BYTES,
    PhysicalLine,
    UnreadableRestError,
    decode,
    line_chunks,
    oversized_reason,
    parse_json_line_checked,
)
from coord_core.ingest.records import ReadRecord, bounded_reason, failure_reason

# A timestamp this far from the records on both sides of it is treated as a clock error.
DEFAULT_MAX_SKEW = timedelta(days=1)
_LOG_SUFFIXES = (".json", ".jsonl", ".ndjson", ".log", ".gz")


def discover_files(paths: Iterable[str | Path], allowed_bases: Sequence[Path] | None = None) -> list[Path]:
    """Expand files and folders into a sorted list of log files (deterministic order).

    With ``allowed_bases`` every file found, resolved (symlinks followed), must lie under one of
    them, else ``InputPathRefused``: a folder inside a base cannot lead elsewhere by a symlink.
    """
    found: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in path.rglob("*"):
                if child.is_file() and _looks_like_log(child):
                    found.add(child)
        elif path.is_file():
            found.add(path)
        else:
            raise FileNotFoundError(f"input path does not exist: {path}")
    if allowed_bases is not None:
        outside = [f for f in sorted(found) if not is_under(f, allowed_bases)]
        if outside:
            raise InputPathRefused(
                f"{len(outside)} input file(s) resolve outside the allowed input folders, e.g. "
                f"{shown(str(outside[0]))}; allowed: {', '.join(str(b) for b in allowed_bases)}"
            )
    return sorted(found)


def _looks_like_log(path: Path) -> bool:
    name = path.name
    return name.startswith("cowrie.json") or name.endswith(_LOG_SUFFIXES)


def _timestamp_of(obj: object) -> datetime | None:
    if isinstance(obj, dict):
        try:
            return parse_timestamp(obj.get("timestamp"))
        except (ValueError, TypeError):
            return None
    return None


E = TypeVar("E", CowrieEvent, EventRecord)
# Turns a decoded line into its event: (object, its parsed timestamp, whether orjson decoded it).
EventParser = Callable[[object, datetime | None, bool], E]


def _model_of(obj: object, ts: datetime | None, plain: bool) -> CowrieEvent:
    return parse_event(obj)


def _record_of(obj: object, ts: datetime | None, plain: bool) -> EventRecord:
    return parse_event_record(obj, ts, plain=plain)


def _line_of(ref: str, text: str, decode_error: str | None, parse: EventParser[E]) -> ReadRecord[E]:
    obj, plain, json_error = parse_json_line_checked(text)
    error = decode_error or json_error
    ts = _timestamp_of(obj)
    event = None
    if error is None:
        try:
            event = parse(obj, ts, plain)
        except EventParseError as exc:
            error = bounded_reason(exc.reason)
    return ReadRecord(ref, text, ts, event, error)


_from_iso = datetime.fromisoformat


def _text(data: bytes) -> str:
    """A line the compiled schema took as text (valid UTF-8: the replacement never happens)."""
    return data.decode("utf-8", "backslashreplace")


def _plausible(ts: datetime, before: datetime | None, after: datetime | None, max_skew: timedelta) -> bool:
    """A timestamp far from the records on both sides of it is a clock error, not a time."""
    if before is None or after is None:
        return True
    return abs(ts - before) <= max_skew or abs(ts - after) <= max_skew


def _record(line: ReadRecord[E], time: datetime | None, error: str | None = None) -> ReadRecord[E]:
    event = None if error is not None else line.event
    return ReadRecord(
        line.ref, line.raw, time, event, error or line.error, line.full_sha256, line.full_length
    )


def read_file(
    path: Path, *, max_skew: timedelta = DEFAULT_MAX_SKEW, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[ReadRecord]:
    """Yield one :class:`ReadRecord` per non-blank line of ``path``, streaming (see :func:`_read_file`)."""
    return cast(Iterator[ReadRecord], _read_file(path, _model_of, max_skew, max_line_bytes, bare=False))


def read_file_records(
    path: Path, *, max_skew: timedelta = DEFAULT_MAX_SKEW, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Iterator[ReadRecord[EventRecord]]:
    """As :func:`read_file`, each valid event as a plain :class:`EventRecord` (same records, same
    rejections and reasons; no event model per line: what sessionizing alone needs)."""
    records = _read_file(path, _record_of, max_skew, max_line_bytes, bare=False)
    return cast(Iterator[ReadRecord[EventRecord]], records)


def read_file_events(
    path: Path, *, max_skew: timedelta = DEFAULT_MAX_SKEW, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
) -> Generator[EventRecord | ReadRecord[EventRecord], None, int]:
    """As :func:`read_file_records`, but a line the compiled schema takes comes as its bare event
    (the ``event`` of the record it would be), with no record made for it; returns how many.

    The streaming read's path: the same events and records in the same order, a few tenths of a
    microsecond less per line.
    """
    return _read_file(path, _record_of, max_skew, max_line_bytes, bare=True)


def _read_file(
    path: Path, parse: EventParser[E], max_skew: timedelta, max_line_bytes: int, bare: bool
) -> Generator[ReadRecord[E] | EventRecord, None, int]:
    """Yield one :class:`ReadRecord` per non-blank line of ``path``, streaming (with ``bare``, a line
    the compiled schema takes as its bare event instead); return the number of bare events.

    Nothing in one line can escape: each becomes an event or an error. Every record gets a time
    that decides which interval owns it: its own timestamp, or, for a record without a usable one
    (unparseable line) or with an implausible one (far from the records on both sides, e.g. 1970
    or 2099 inside a 2025 log), the time of the nearest accepted record before it (after it, at
    the start of the file). Implausible timestamps are errors.
    """
    prefix = f"{path}:"
    typed = parse is _record_of  # plain records: lines the compiled schema takes need no other reading
    accepted: datetime | None = None  # the last timestamp taken as real
    # A timestamped line waiting to see the next timestamp: its record, or a line the schema took
    # as its event (the record is made only where one is needed, from its number and text).
    candidate: ReadRecord[E] | EventRecord | None = None
    candidate_time: datetime | None = None
    candidate_number = 0
    waiting: list[ReadRecord[E]] = []  # lines without a timestamp after the candidate
    bare_events = 0

    def as_read(item: ReadRecord[E] | EventRecord, number: int) -> ReadRecord[E]:
        if type(item) is EventRecord:
            source = item.source
            text = _text(source) if isinstance(source, bytes) else source
            event = item._replace(source=text)
            return ReadRecord(prefix + str(number), text, item.timestamp, event, None)  # type: ignore[arg-type]
        return item  # type: ignore[return-value]

    def decide(line: ReadRecord[E], after: datetime | None) -> tuple[ReadRecord[E], bool]:
        assert line.time is not None
        if _plausible(line.time, accepted, after, max_skew):
            return line, True
        around = (
            f"{accepted.isoformat() if accepted else '-'} before, {after.isoformat() if after else '-'} after"
        )
        reason = (
            f"timestamp {line.time.isoformat()} is more than {max_skew} from the records around it ({around})"
        )
        return _record(line, accepted or after, reason), False

    try:
        for number, chunk in enumerate(line_chunks(path, max_line_bytes), 1):
            if type(chunk) is not bytes:  # a line over the cap: its start and digest (always set)
                over = cast(PhysicalLine, chunk)
                length = cast(int, over.full_length)
                text, _ = decode(over.data)
                reason = oversized_reason(length, max_line_bytes)
                record: ReadRecord[E] = ReadRecord(
                    prefix + str(number), text, None, None, reason, over.full_sha256, length
                )
                waiting.append(record)
                continue
            data = chunk.rstrip(b"\r\n")
            if not data or data.isspace():
                continue  # a blank line
            item: ReadRecord[E] | EventRecord | None = None
            if typed and (decoded := decode_line(data)) is not None:
                # The compiled schema took the line (every byte of it decoded: valid UTF-8).
                try:
                    stamp = decoded.timestamp
                    try:  # parse_timestamp's usual case ("...Z" as is), without its call
                        ts = _from_iso(stamp)
                    except ValueError:
                        ts = parse_timestamp(stamp)
                    if ts.tzinfo is not UTC:
                        ts = parse_timestamp(stamp)
                    # A bare event keeps the line's bytes (its text is decoded only if ever needed).
                    item = line_record(decoded, ts, data if bare else _text(data))
                except ValueError:
                    pass  # a timestamp the model words the error for: read in general
                except Exception as exc:  # the reader's guard: any failure of one line is its quarantine
                    text = _text(data)
                    waiting.append(ReadRecord(prefix + str(number), text, None, None, failure_reason(exc)))
                    continue
            if item is None:
                text, decode_error = decode(data)
                try:
                    item = _line_of(prefix + str(number), text, decode_error, parse)
                except Exception as exc:  # the reader's guard: any failure of one line is its quarantine
                    item = ReadRecord(prefix + str(number), text, None, None, failure_reason(exc))
                if item.time is None:
                    waiting.append(item)
                    continue
                ts = item.time
            # A timestamped line: the candidate before it is decided by it.
            if candidate is not None:
                seen = candidate_time
                assert seen is not None
                if accepted is None or abs(seen - accepted) <= max_skew or abs(seen - ts) <= max_skew:
                    accepted = seen  # plausible (the common case, decided inline): the line is its record
                    if bare and type(candidate) is EventRecord:
                        bare_events += 1
                        yield candidate
                    else:
                        yield as_read(candidate, candidate_number)
                else:
                    yield decide(as_read(candidate, candidate_number), ts)[0]
            if waiting:
                for pending in waiting:
                    yield _record(pending, accepted or ts)
                waiting = []
            candidate, candidate_time, candidate_number = item, ts, number
    except UnreadableRestError as exc:
        waiting.append(ReadRecord(f"{path}:{exc.number}", "", None, None, exc.reason))
    if candidate is not None:
        decided, plausible = decide(as_read(candidate, candidate_number), None)
        if plausible:
            accepted = candidate_time
            if bare and type(candidate) is EventRecord:
                bare_events += 1
                decided = candidate  # type: ignore[assignment]
        yield decided
    if waiting:
        # A file with no usable timestamp at all belongs to the interval of its modification time,
        # so its records are still quarantined by exactly one run rather than lost.
        fallback = accepted or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        for pending in waiting:
            yield _record(pending, fallback)
    return bare_events


def read_paths(
    paths: Iterable[str | Path],
    allowed_bases: Sequence[Path] | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[ReadRecord]:
    """Every record of every log file under ``paths``; a file that cannot be read is a quarantined record."""
    for path in discover_files(paths, allowed_bases):
        yield from read_file(path, max_line_bytes=max_line_bytes)


def read_paths_records(
    paths: Iterable[str | Path],
    allowed_bases: Sequence[Path] | None = None,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
) -> Iterator[ReadRecord[EventRecord]]:
    """As :func:`read_paths`, each valid event as a plain :class:`EventRecord`
    (:func:`read_file_records`: the same records, rejections and reasons; what extract stages)."""
    for path in discover_files(paths, allowed_bases):
        yield from read_file_records(path, max_line_bytes=max_line_bytes)
