"""Data-quality rows shared by the checks that make them and the store that keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QuarantineEntry:
    """One record that cannot be used, with the reason and the original bytes (nothing lost)."""

    ref: str
    record_key: str
    reason: str
    raw: str
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
