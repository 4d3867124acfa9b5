"""The data-quality gate inside the DAG: bad input is quarantined with its reason and the run
goes on (the DAG's tasks in one interpreter); a feed that is mostly broken stops the run before
analysis, saying why (`airflow dags test`: the DAG's own failure callbacks)."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import psycopg

from coord_core.quality.bounded import reason_category
from tests.conftest import REAL_SAMPLE
from tests.dags.airflow_env import DAG_ID, AirflowEnv
from tests.dags.in_process import run_intervals_in_process
from tests.dags.snapshot import count
from tests.emulators.webhook_receiver import WebhookReceiver
from tests.ingest.test_hostile_input import COWRIE_CORPUS, HOSTILE

WEBHOOK_SECRET = "whsec-dag-quality-0123456789abcdef"
CORPUS = Path(__file__).resolve().parents[1] / "quality" / "corpus"
# The whole day: the corpus spreads its cases over the hours of 2025-10-24.
WINDOW = {"window_start": "2025-10-24T00:00:00+00:00", "window_end": "2025-10-25T00:00:00+00:00"}
DAY = (datetime(2025, 10, 24, tzinfo=UTC), datetime(2025, 10, 25, tzinfo=UTC))


def _corpus_files() -> list[str]:
    return [str(CORPUS / name) for name in sorted(json.loads((CORPUS / "expected.json").read_text()))]


def test_bad_input_is_quarantined_and_the_run_completes(airflow: AirflowEnv, postgres_dsn: str) -> None:
    inputs = [str(REAL_SAMPLE), *_corpus_files()]
    run_intervals_in_process(airflow, [DAY], {"input_paths": inputs})
    cases = json.loads((CORPUS / "expected.json").read_text()).values()
    expected_bad = sum(len(case.get("bad", {})) for case in cases)
    parse = count(postgres_dsn, "SELECT count(*) FROM coord.quarantine WHERE stage = 'parse'")
    validate = count(postgres_dsn, "SELECT count(*) FROM coord.quarantine WHERE stage = 'validate'")
    staged = count(postgres_dsn, "SELECT count(*) FROM coord.staged_events")
    with psycopg.connect(postgres_dsn) as conn:
        row = conn.execute("SELECT summary, html FROM coord.dq_reports").fetchone()
        reasons = [r[0] for r in conn.execute("SELECT DISTINCT reason FROM coord.quarantine")]
    assert row is not None
    summary, html = row
    # read = valid + quarantined, for the whole interval
    assert summary["records_read"] == staged + parse == summary["events_valid"] + parse + validate
    assert parse + validate == expected_bad
    assert count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE status = 'success'") == 1
    # The run row counts every quarantined record, at parse and at validation.
    assert count(postgres_dsn, "SELECT quarantined_count FROM coord.runs") == parse + validate
    assert count(postgres_dsn, "SELECT count(*) FROM coord.analysis_results") == 1
    assert any("not valid JSON" in r for r in reasons)
    assert any("UTF-8" in r for r in reasons)
    for expectation in ("record_not_duplicated", "src_ip"):
        assert expectation in html
    # The run's stored report names every failure: each parse reason and failed expectation.
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute("SELECT stage, reason, expectations FROM coord.quarantine").fetchall()
    for stage, reason, expectations in rows:
        shown = reason_category(reason) if stage == "parse" else " + ".join(expectations)
        assert escape(shown) in html, (stage, shown)


def test_mostly_broken_feed_stops_before_analysis(airflow: AirflowEnv, postgres_dsn: str) -> None:
    conf = {**WINDOW, "input_paths": _corpus_files(), "critical_failure_threshold": 0.0}
    args = ["dags", "test", DAG_ID, "2025-10-25T00:00:00+00:00", "-c", json.dumps(conf)]
    with WebhookReceiver(WEBHOOK_SECRET) as receiver:
        airflow.env["AIRFLOW_CONN_COORD_WEBHOOK"] = json.dumps(
            {"conn_type": "http", "host": receiver.url, "password": WEBHOOK_SECRET, "extra": {"backoff": 0.1}}
        )
        done = airflow.run(*args, check=False, timeout=600)
    output = done.stdout + done.stderr
    assert WEBHOOK_SECRET not in output
    # The gate's webhook (validate's failure callback) and the run's (the DAG's), both signed.
    events = {r.headers["X-Coord-Event"]: r.json() for r in receiver.received if r.signature_ok}
    assert len(receiver.received) == 2 and sorted(events) == ["dq_gate_failed", "run_failed"]
    assert events["dq_gate_failed"]["data"]["reason"].startswith("gate failed: ")
    assert events["run_failed"]["data"]["failed_task"] == "validate"
    assert count(postgres_dsn, "SELECT count(*) FROM coord.audit_log WHERE action = 'webhook_delivery'") == 2
    assert "data-quality gate failed" in output
    assert count(postgres_dsn, "SELECT count(*) FROM coord.dq_reports WHERE NOT gate_passed") == 1
    assert count(postgres_dsn, "SELECT count(*) FROM coord.analysis_results") == 0
    assert count(postgres_dsn, "SELECT count(*) FROM coord.runs WHERE dq_gate_passed = false") == 1
    # The failure callback marked the run failed, saying which task and why.
    with psycopg.connect(postgres_dsn) as conn:
        row = conn.execute("SELECT status, failure_reason FROM coord.runs").fetchone()
    assert row is not None and row[0] == "failed"
    assert row[1].startswith("validate: DataQualityGateFailed: data-quality gate failed")


def test_the_hostile_corpus_runs_through_with_every_record_accounted_for(
    airflow: AirflowEnv, postgres_dsn: str, tmp_path: Path
) -> None:
    """Overflowing timestamps, deep nesting, huge numbers, scoped addresses, corrupt archives...:
    each bad record is quarantined with its reason and the good ones are analysed."""
    day_start = datetime(2025, 10, 24, tzinfo=UTC).timestamp()
    for name in COWRIE_CORPUS:  # files that cannot be read at all belong to their mtime's interval
        shutil.copyfile(HOSTILE / name, tmp_path / name)
        os.utime(tmp_path / name, (day_start + 3600, day_start + 3600))
    run_intervals_in_process(airflow, [DAY], {"input_paths": [str(REAL_SAMPLE), str(tmp_path)]})
    parse = count(postgres_dsn, "SELECT count(*) FROM coord.quarantine WHERE stage = 'parse'")
    validate = count(postgres_dsn, "SELECT count(*) FROM coord.quarantine WHERE stage = 'validate'")
    staged = count(postgres_dsn, "SELECT count(*) FROM coord.staged_events")
    assert parse == sum(q for _, q, _ in COWRIE_CORPUS.values())
    assert staged == 2057 + sum(v for v, _, _ in COWRIE_CORPUS.values())
    with psycopg.connect(postgres_dsn) as conn:
        summary = conn.execute("SELECT summary FROM coord.dq_reports").fetchone()
        run = conn.execute("SELECT status, quarantined_count, failure_reason FROM coord.runs").fetchone()
    assert summary is not None and run is not None
    assert summary[0]["records_read"] == staged + parse == summary[0]["events_valid"] + parse + validate
    assert run == ("success", parse + validate, None)
