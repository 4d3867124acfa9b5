"""What a reader yields per raw record: the event, or the reason it could not be one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from coord_core.contracts.events import CowrieEvent


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """One raw input record and what became of it.

    ``ref`` locates the record in its source (``path:line`` or ``index/_id``). ``time`` is the
    event's own timestamp, or for a record that has none usable, the timestamp of its nearest
    parseable neighbour, so that every bad record is owned by exactly one data interval.
    """

    ref: str
    raw: str
    time: datetime | None
    event: CowrieEvent | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.event is not None

    @property
    def record_key(self) -> str:
        """Content hash of the raw record: the natural key of an event or quarantine row."""
        return hashlib.sha256(self.raw.encode("utf-8", "backslashreplace")).hexdigest()[:32]
