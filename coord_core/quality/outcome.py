"""What validating one interval decided: per-expectation results, quarantine, the gate, the summary.

Shapes map 1:1 onto ``coord.dq_results``, ``coord.quarantine`` and ``coord.dq_reports`` through
the store's own row types, so the integrator writes them without translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from coord_core.contracts.data_quality import DQExpectationRow, QuarantineEntry
from coord_core.quality.drift import Baseline


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's verdict for the interval, as a data engineer reads it."""

    suite: str
    expectation: str
    column: str
    type: str
    kwargs: dict[str, Any]
    severity: str
    threshold: float
    quarantines: bool
    reason: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_percent: float
    missing_count: int = 0
    examples: tuple[dict[str, str], ...] = ()
    error: str | None = None

    @property
    def critical(self) -> bool:
        return self.severity == "critical"

    @property
    def key(self) -> str:
        return f"{self.suite}.{self.expectation}"

    def details(self) -> dict[str, Any]:
        """The ``dq_results.details`` document (JSON; example values are bounded previews)."""
        doc: dict[str, Any] = {
            "type": self.type,
            "kwargs": self.kwargs,
            "severity": self.severity,
            "threshold": self.threshold,
            "quarantine": self.quarantines,
            "reason": self.reason,
            "missing_count": self.missing_count,
            "examples": [dict(e) for e in self.examples],
        }
        if self.error is not None:
            doc["error"] = self.error
        return doc

    def as_row(self) -> DQExpectationRow:
        """The stored row: the row's columns read off this result, the rest in ``details``."""
        columns = {f.name: getattr(self, f.name) for f in fields(DQExpectationRow) if f.name != "details"}
        return DQExpectationRow(**columns, details=self.details())


NO_DATA = "no data"


def gate_outcome(passed: bool, no_data: bool) -> str:
    """What the report and the list show: ``no data`` (nothing was judged), ``passed`` or ``failed``."""
    if no_data:
        return NO_DATA
    return "passed" if passed else "failed"


@dataclass(frozen=True)
class GateDecision:
    """``no_data``: the interval held no records, so no expectation was judged; ``passed`` then
    follows the ``empty_interval`` setting (succeed or fail)."""

    passed: bool
    reason: str
    critical_failures: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    no_data: bool = False

    @property
    def outcome(self) -> str:
        return gate_outcome(self.passed, self.no_data)


@dataclass(frozen=True)
class QualityCounts:
    """``read == valid + quarantined_parse + quarantined_validate`` holds by construction."""

    read: int
    valid: int
    quarantined_parse: int
    quarantined_validate: int

    @property
    def quarantined(self) -> int:
        return self.quarantined_parse + self.quarantined_validate


@dataclass(frozen=True)
class QualityOutcome:
    """Everything the validate step hands to the store, the report and the next task.

    ``quarantine`` holds the records this step quarantined (stage ``validate``);
    ``parse_quarantine`` the ones that never parsed (stage ``parse``: passed in, or records
    without an event). ``quarantined_session_keys`` are ``(sensor, session)`` pairs with at least
    one quarantined event or a failed session-level check; ``failed_session_keys`` only those
    that failed a session-level check (the session itself cannot be trusted, not just a row).
    """

    window_start: datetime
    window_end: datetime
    results: tuple[ExpectationResult, ...]
    quarantine: tuple[QuarantineEntry, ...]
    parse_quarantine: tuple[QuarantineEntry, ...]
    quarantined_session_keys: frozenset[tuple[str, str]]
    gate: GateDecision
    counts: QualityCounts
    summary: dict[str, Any]
    baseline: Baseline = field(default_factory=lambda: Baseline((), False))
    failed_session_keys: frozenset[tuple[str, str]] = frozenset()
    notes: tuple[str, ...] = field(default=())
    timings_s: dict[str, float] = field(default_factory=dict, compare=False)

    def dq_rows(self) -> list[DQExpectationRow]:
        return [r.as_row() for r in self.results]
