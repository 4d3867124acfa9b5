"""Data-quality rows shared by the checks that make them and the store that keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Enough of a bad record to recognise its shape and fix the feed; ``ref`` and the hash find the rest.
QUARANTINE_PREVIEW_CHARS = 160


@dataclass(frozen=True)
class QuarantineEntry:
    """One record that cannot be used: where it is, why, and a bounded preview plus its hash and length.

    The record itself is never kept: it may hold anything the reader was pointed at.
    """

    ref: str
    record_key: str
    reason: str
    preview: str
    raw_sha256: str
    raw_length: int
    expectations: tuple[str, ...] = ()


@dataclass(frozen=True)
class DQExpectationRow:
    """One expectation's outcome on one suite, as stored in ``coord.dq_expectations``."""

    suite: str
    expectation: str
    column: str
    success: bool
    critical: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float
    details: dict[str, Any]
