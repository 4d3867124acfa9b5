"""Read DShield-SIEM NDJSON exports (one ``_source`` or search hit per line) as records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from coord_core.contracts.events import parse_timestamp
from coord_core.ingest.line_reader import (
    DEFAULT_MAX_LINE_BYTES,
    UnreadableRestError,
    decode,
    oversized_reason,
    parse_json_line,
    physical_lines,
)
from coord_core.ingest.records import ReadRecord, bounded_reason, failure_reason
from coord_core.ingest.siem_mapping import SiemMappingError, map_hit

_FILE_INDEX = "cowrie-file"


def looks_like_siem(first_line: bytes) -> bool:
    """Whether a file whose first line is this holds DShield-SIEM documents rather than Cowrie events."""
    obj, error = parse_json_line(decode(first_line)[0])
    if error is not None or not isinstance(obj, dict):
        return False
    source = obj.get("_source", obj)
    return isinstance(source, dict) and "@timestamp" in source and "eventid" not in source


def read_siem_file(path: Path, *, max_line_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[ReadRecord]:
    """One :class:`ReadRecord` per non-blank line; a line that is no usable document is an error record."""
    try:
        for line in physical_lines(path, max_line_bytes):
            ref = f"{path}:{line.number}"
            text, decode_error = decode(line.data.rstrip(b"\r\n"))
            if line.full_length is not None:
                reason = oversized_reason(line.full_length, max_line_bytes)
                yield ReadRecord(ref, text, None, None, reason, line.full_sha256, line.full_length)
                continue
            if not text.strip():
                continue
            try:
                yield _record(ref, path, line.number, text, decode_error)
            except Exception as exc:  # the reader's guard: any failure of one line is its error record
                yield ReadRecord(ref, text, None, None, failure_reason(exc))
    except UnreadableRestError as exc:
        yield ReadRecord(f"{path}:{exc.number}", "", None, None, exc.reason)


def _record(ref: str, path: Path, number: int, text: str, decode_error: str | None) -> ReadRecord:
    obj, json_error = parse_json_line(text)
    if decode_error or json_error:
        return ReadRecord(ref, text, None, None, decode_error or json_error)
    hit = _as_hit(obj, f"{path.name}:{number}")
    try:
        _, event = map_hit(hit)
    except SiemMappingError as exc:
        return ReadRecord(ref, text, _document_time(hit), None, bounded_reason(str(exc)))
    return ReadRecord(ref, text, event.timestamp, event)


def _as_hit(obj: object, doc_id: str) -> Any:
    """A search hit as ``map_hit`` takes it: the line itself, or the bare ``_source`` it holds."""
    if not isinstance(obj, dict):
        return obj  # map_hit reports what it is
    hit = obj if "_source" in obj else {"_index": _FILE_INDEX, "_id": doc_id, "_source": obj}
    return {"_index": _FILE_INDEX, "_id": doc_id, **hit}


def _document_time(hit: Any) -> datetime | None:
    source = hit.get("_source") if isinstance(hit, dict) else None
    if not isinstance(source, dict):
        return None
    try:
        return parse_timestamp(source.get("@timestamp"))
    except (ValueError, TypeError):
        return None
