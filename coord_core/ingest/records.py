"""What a reader yields per raw record: the event, or the reason it could not be one."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Generic, NamedTuple

from typing_extensions import TypeVar

from coord_core.contracts.bounded_text import preview
from coord_core.contracts.data_quality import QUARANTINE_PREVIEW_CHARS, QuarantineEntry
from coord_core.contracts.events import CowrieEvent

# What a valid record carries: its event model, or (the CLI's streaming read) a plain EventRecord.
E = TypeVar("E", default=CowrieEvent)

# A reason is one line a data engineer reads; attacker text inside it is cut to this.
MAX_REASON_CHARS = 500


class ReadRecord(NamedTuple, Generic[E]):
    """One raw input record and what became of it (a named tuple: one is made per input line).

    ``ref`` locates the record in its source (``path:line`` or ``index/_id``). ``time`` is the
    event's own timestamp, or for a record that has none usable, the timestamp of its nearest
    parseable neighbour, so that every bad record is owned by exactly one data interval.
    ``raw`` is the record's text; for a line too long to keep, only its start, and then
    ``full_sha256`` and ``full_length`` describe the whole line.
    """

    ref: str
    raw: str
    time: datetime | None
    event: E | None = None
    error: str | None = None
    full_sha256: str | None = None
    full_length: int | None = None

    @property
    def ok(self) -> bool:
        return self.event is not None

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the whole record as read."""
        if self.full_sha256 is not None:
            return self.full_sha256
        return hashlib.sha256(self.raw.encode("utf-8", "backslashreplace")).hexdigest()

    @property
    def length(self) -> int:
        """Length in bytes (UTF-8) of the whole record as read."""
        if self.full_length is not None:
            return self.full_length
        return len(self.raw.encode("utf-8", "backslashreplace"))

    @property
    def record_key(self) -> str:
        """Content hash of the raw record: the natural key of an event or quarantine row."""
        return self.sha256[:32]

    def quarantined(self, reason: str, expectations: tuple[str, ...] = ()) -> QuarantineEntry:
        """This record as a quarantine row: a bounded, escaped preview, never the record itself."""
        return QuarantineEntry(
            ref=self.ref,
            record_key=self.record_key,
            reason=reason,
            preview=preview(self.raw[:QUARANTINE_PREVIEW_CHARS], QUARANTINE_PREVIEW_CHARS),
            raw_sha256=self.sha256,
            raw_length=self.length,
            expectations=expectations,
        )


def bounded_reason(text: str) -> str:
    """A reason cut to :data:`MAX_REASON_CHARS`, on one line."""
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_REASON_CHARS else flat[: MAX_REASON_CHARS - 3] + "..."


def failure_reason(exc: BaseException) -> str:
    """The quarantine reason for an exception that escaped turning one record into an event."""
    if isinstance(exc, RecursionError):
        return "record is nested too deeply to read"
    return bounded_reason(f"could not be read ({type(exc).__name__}: {exc})")
