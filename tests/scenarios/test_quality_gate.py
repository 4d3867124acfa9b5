"""Generated logs pass the DAG's Great Expectations gate as they are, like the real sample."""

from __future__ import annotations

from coord_core.quality.validate import validate_interval
from tests.scenarios.conftest import WrittenScenario

# Every event id the generator writes is modelled: nothing is tolerated.
TOLERATED_WARNINGS: set[str] = set()


def test_generated_window_passes_the_data_quality_gate(mixed: WrittenScenario) -> None:
    window = mixed.generated.window
    outcome = validate_interval(mixed.records, mixed.sessions, window.start, window.end)
    assert outcome.gate.passed, outcome.gate.reason
    assert set(outcome.gate.warnings) <= TOLERATED_WARNINGS
    assert {r.key for r in outcome.results if not r.success} <= TOLERATED_WARNINGS
    assert outcome.quarantine == () and outcome.parse_quarantine == ()
    assert not outcome.quarantined_session_keys
