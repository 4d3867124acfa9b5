"""The validate stage over the results store: read what extract staged, validate, write the verdict.

One call for the DAG's validate task (the Airflow side only opens the store and builds the
config from the run's params). Rerunning it for an interval replaces exactly that interval's
validate-stage quarantine, session marks, expectation results and report. The drift baseline is
the source profile extract staged for the interval, so what is stored depends on the
interval's source data alone, not on which other intervals were validated before.
"""

from __future__ import annotations

import logging
from collections import defaultdict

from coord_core.contracts.events import CowrieEvent
from coord_core.contracts.window import DataWindow
from coord_core.ingest.sessionize import session_from_events
from coord_core.quality.config import QualityConfig
from coord_core.quality.outcome import QualityOutcome
from coord_core.quality.report import render_report
from coord_core.quality.validate import validate_rows
from coord_core.store.results import ResultsStore
from coord_core.store.staged_validation import iter_event_rows, staged_raw_text, staged_records_of_sessions

log = logging.getLogger(__name__)


def validate_stage(
    store: ResultsStore, window: DataWindow, config: QualityConfig | None = None
) -> QualityOutcome:
    """Validate the staged interval and store quarantine, session marks, results and the report."""
    outcome = validate_rows(
        iter_event_rows(store.conn, window),
        store.iter_session_rows(window),
        window.start,
        window.end,
        baseline=store.load_source_profile(window),
        config=config,
        parse_quarantine=store.load_quarantine(window, "parse"),
        raw_text=lambda refs: staged_raw_text(store.conn, window, refs),
    )
    store.replace_quarantine(window, "validate", outcome.quarantine)
    excluded = _rebuild_sessions_without_quarantined_events(store, window, outcome)
    store.mark_sessions_quarantined(window, excluded)
    store.save_data_quality(
        window,
        outcome.dq_rows(),
        gate_passed=outcome.gate.passed,
        gate_reason=outcome.gate.reason,
        summary=outcome.summary,
        html=render_report(outcome),
    )
    log.info("data quality of %s stored: %s", window.label, outcome.gate.reason[:500])
    return outcome


def _rebuild_sessions_without_quarantined_events(
    store: ResultsStore, window: DataWindow, outcome: QualityOutcome
) -> set[tuple[str, str]]:
    """A bad row (a duplicate line, an over-long field) costs its row, not its session: such
    sessions are rebuilt from their valid events (staged, less the quarantine just stored).
    Sessions that failed a session-level check, or have no valid event left, are excluded from
    analysis; returns those keys."""
    excluded = set(outcome.failed_session_keys)
    to_rebuild = set(outcome.quarantined_session_keys) - excluded
    if not to_rebuild:
        return excluded
    events: dict[tuple[str, str], list[CowrieEvent]] = defaultdict(list)
    for record in staged_records_of_sessions(store.conn, window, to_rebuild, except_stage="validate"):
        if record.event is not None:
            events[(record.event.sensor, record.event.session)].append(record.event)
    rebuilt = [session_from_events(events[key]) for key in sorted(to_rebuild) if events[key]]
    excluded |= {key for key in to_rebuild if not events[key]}
    store.replace_session_rows(window, rebuilt)
    log.info(
        "rebuilt %d session(s) without their quarantined events; excluded %d", len(rebuilt), len(excluded)
    )
    return excluded
