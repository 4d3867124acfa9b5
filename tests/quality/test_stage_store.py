"""The validate stage on a real PostgreSQL: after extract, it writes quarantine, marks, results, report."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Any

import psycopg

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.quality.bounded import reason_category
from coord_core.quality.config import QualityConfig
from coord_core.quality.stage import validate_stage
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from coord_core.store.staging_sql import CHECK_COLUMNS
from tests.quality.support import CORPUS, END, REAL_SAMPLE, START, expected_corpus, read, valid_records


def _state(conn: psycopg.Connection) -> dict[str, Any]:
    def one(sql: str) -> Any:
        row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]

    return {
        "quarantine": conn.execute(
            "SELECT stage, ref, record_key, reason, expectations FROM coord.quarantine ORDER BY stage, ref"
        ).fetchall(),
        "results": conn.execute(
            "SELECT suite, expectation, column_name, success, critical, element_count, unexpected_count, "
            "unexpected_percent, details FROM coord.dq_results ORDER BY suite, expectation"
        ).fetchall(),
        "report": conn.execute(
            "SELECT gate_passed, gate_reason, summary, html FROM coord.dq_reports"
        ).fetchall(),
        "marked": one(
            "SELECT array_agg(session_id ORDER BY session_id) FROM coord.sessions WHERE quarantined"
        ),
    }


def test_extract_then_validate_accounts_for_every_record_and_is_idempotent(
    pg_conn: psycopg.Connection,
) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    window = DataWindow(start=START, end=END)
    paths = [REAL_SAMPLE, *(CORPUS / name for name in sorted(expected_corpus()))]
    extracted = extract_interval(store, window, read_paths(paths), slack=timedelta(minutes=30))
    outcome = validate_stage(store, window, QualityConfig(timestamp_slack=timedelta(minutes=30)))

    # Extract read everything of the interval; parse + validate quarantine + valid is all of it.
    assert outcome.counts.read == extracted.read
    assert outcome.counts.quarantined_parse == extracted.quarantined
    assert outcome.counts.read == outcome.counts.valid + outcome.counts.quarantined
    assert outcome.gate.passed, outcome.gate.reason

    state = _state(pg_conn)
    stages = [row[0] for row in state["quarantine"]]
    assert stages.count("validate") == len(outcome.quarantine) > 0
    assert stages.count("parse") == extracted.quarantined > 0
    validate_rows = {row[1]: row for row in state["quarantine"] if row[0] == "validate"}
    dup = next(r for ref, r in validate_rows.items() if ref.endswith("duplicates.jsonl:3"))
    assert dup[4] == ["events.record_not_duplicated"]
    assert len(state["results"]) == len(outcome.results)
    assert state["report"][0][0] is True
    assert state["report"][0][2]["events_valid"] == outcome.counts.valid
    # Sessions that failed a session-level check are excluded; a bad row only costs its row:
    # the duplicated login's session is rebuilt from its valid events and stays in the analysis.
    staged = list(store.iter_staged_records(window))
    valid_keys = {(r.event.sensor, r.event.session) for r in valid_records(staged, outcome) if r.event}
    excluded = outcome.failed_session_keys | (outcome.quarantined_session_keys - valid_keys)
    assert sorted(state["marked"]) == sorted(s for _, s in excluded)
    assert "c7a000000001" not in state["marked"]
    analysed = {s.session_id: s for s in store.load_sessions(window)}
    assert analysed["c7a000000001"].event_count == 3  # connect, one login, close: copies removed
    assert len(analysed["c7a000000001"].logins) == 1
    assert set(analysed).isdisjoint(state["marked"])

    # Case by case: each bad line has its error record, every other line is a valid row.
    _assert_each_case_accounted(pg_conn, state)

    again = validate_stage(store, window, QualityConfig(timestamp_slack=timedelta(minutes=30)))
    assert again.counts == outcome.counts
    assert _state(pg_conn) == state  # a rerun leaves exactly the same rows and the same report bytes

    # Rows staged before extract computed the checks' columns are parsed instead: the same verdicts.
    columns = ", ".join(f"{c} = NULL" for c in CHECK_COLUMNS)
    pg_conn.execute(f"UPDATE coord.staged_events SET {columns}")
    validate_stage(store, window, QualityConfig(timestamp_slack=timedelta(minutes=30)))
    assert _state(pg_conn) == state


def _assert_each_case_accounted(conn: psycopg.Connection, state: dict[str, Any]) -> None:
    quarantined = {(row[0], row[1]): row for row in state["quarantine"]}
    validate_refs = {ref for stage, ref in quarantined if stage == "validate"}
    staged = {ref for (ref,) in conn.execute("SELECT ref FROM coord.staged_events").fetchall()}
    valid = staged - validate_refs
    page = state["report"][0][3]
    for name, case in expected_corpus().items():
        records = read(CORPUS / name)
        bad: dict[str, dict[str, Any]] = case["bad"]
        for record in records:
            line = record.ref.rsplit(":", 1)[1]
            want = bad.get(line)
            if want is None:
                assert record.ref in valid, f"{record.ref} is a good line and must stay valid"
                continue
            row = quarantined.get((want["stage"], record.ref))
            assert row is not None, f"{record.ref} must be quarantined at {want['stage']}"
            reason, expectations = row[3], row[4]
            assert want["reason"] in reason, (record.ref, reason)
            assert record.ref not in valid
            # The stored report names it: its reason (parse) or its failing expectations.
            shown = reason_category(reason) if want["stage"] == "parse" else " + ".join(expectations)
            assert html.escape(shown) in page, (record.ref, shown)
            if want["stage"] == "validate":
                assert expectations == want["expectations"]
        in_case = {r.ref for r in records}
        held = len(in_case & valid) + sum(1 for _, ref in quarantined if ref in in_case)
        assert held == len(records), f"{name}: read = valid + quarantined"


HOUR = timedelta(hours=1)
LOOKBACK = timedelta(hours=24)


def _run_hour(store: ResultsStore, start: datetime) -> None:
    window = DataWindow(start=start, end=start + HOUR)
    extract_interval(
        store, window, read_paths([REAL_SAMPLE]), slack=timedelta(minutes=30), profile_lookback=LOOKBACK
    )
    validate_stage(store, window)


def _dq_state(conn: psycopg.Connection, only: datetime | None = None) -> dict[str, list[Any]]:
    where, args = ("WHERE interval_start = %s", (only,)) if only else ("", ())
    return {
        table: conn.execute(f"SELECT t::text FROM coord.{table} t {where} ORDER BY 1", args).fetchall()
        for table in ("dq_baselines", "dq_results", "dq_reports", "quarantine", "sessions")
    }


def test_baseline_is_the_sources_lookback(pg_conn: psycopg.Connection) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    window = DataWindow(start=START.replace(hour=9), end=START.replace(hour=10))
    extract_interval(store, window, read_paths([REAL_SAMPLE]), profile_lookback=LOOKBACK)
    outcome = validate_stage(store, window)
    # The sample starts at 02:51: the source holds hours 02..08 before 09:00, nothing earlier.
    assert [h.start.hour for h in outcome.baseline.hours] == [2, 3, 4, 5, 6, 7, 8]
    assert outcome.baseline.lookback_start == window.start - LOOKBACK
    events = next(r for r in outcome.results if r.key == "volume.events_not_collapsed")
    assert events.missing_count == 0 and events.success  # judged against the median hour
    stored = store.load_source_profile(window)
    assert stored is not None and stored.to_json() == outcome_profile_json(store, window)
    assert outcome.summary["baseline"]["hours_with_events"] == 7
    # No lookback: no baseline is staged and the drift checks say so.
    extract_interval(store, window, read_paths([REAL_SAMPLE]))
    assert store.load_source_profile(window) is None
    assert any("no source profile" in n for n in validate_stage(store, window).notes)


def outcome_profile_json(store: ResultsStore, window: DataWindow) -> dict[str, Any]:
    row = store.conn.execute(
        "SELECT profile FROM coord.dq_baselines WHERE interval_start = %s", (window.start,)
    ).fetchone()
    assert row is not None
    return dict(row[0])


def test_stored_quality_verdicts_do_not_depend_on_the_order_intervals_run_in(
    pg_conn: psycopg.Connection,
) -> None:
    """The root of idempotent backfills: each interval's DQ rows are a function of the source."""
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    hours = [START.replace(hour=h) for h in (4, 5, 6, 7, 8)]
    for start in hours:
        _run_hour(store, start)
    in_order = _dq_state(pg_conn)
    after_others = _dq_state(pg_conn, only=hours[3])
    assert len(in_order["dq_reports"]) == 5 and len(after_others["dq_reports"]) == 1
    with pg_conn.transaction():
        for table in in_order:
            pg_conn.execute(f"DELETE FROM coord.{table}")
    for start in (hours[3], hours[0], hours[4], hours[2], hours[1]):
        _run_hour(store, start)
    assert _dq_state(pg_conn) == in_order
    # And one interval alone, into an otherwise empty store, stores the same rows as well.
    with pg_conn.transaction():
        for table in in_order:
            pg_conn.execute(f"DELETE FROM coord.{table}")
    _run_hour(store, hours[3])
    assert _dq_state(pg_conn) == after_others
