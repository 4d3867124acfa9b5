"""Bad inputs: each bad line gets a clear error record, every good line survives, nothing is lost."""

from __future__ import annotations

import html
from typing import Any

import pytest

from coord_core.ingest.records import ReadRecord
from coord_core.quality.bounded import preview, reason_category
from coord_core.quality.outcome import QualityOutcome
from coord_core.quality.report import render_report
from coord_core.quality.validate import validate_interval
from tests.quality.support import (
    CORPUS,
    END,
    REAL_SAMPLE,
    START,
    expected_corpus,
    read,
    sessions_of,
    valid_records,
)

CASES = expected_corpus()


def _line(ref: str) -> str:
    return ref.rsplit(":", 1)[1]


def _validate(records: list[ReadRecord]) -> QualityOutcome:
    return validate_interval(records, sessions_of(records), START, END)


def _assert_accounted(records: list[ReadRecord], outcome: QualityOutcome) -> None:
    c = outcome.counts
    assert c.read == len(records) == c.valid + c.quarantined_parse + c.quarantined_validate
    refs_out = [r.ref for r in valid_records(records, outcome)] + [
        e.ref for e in (*outcome.parse_quarantine, *outcome.quarantine)
    ]
    assert sorted(refs_out) == sorted(r.ref for r in records)  # each record exactly once


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_file(name: str) -> None:
    case: dict[str, Any] = CASES[name]
    records = read(CORPUS / name)
    outcome = _validate(records)
    _assert_accounted(records, outcome)

    parse = {_line(e.ref): e for e in outcome.parse_quarantine}
    validate = {_line(e.ref): e for e in outcome.quarantine}
    bad: dict[str, dict[str, Any]] = case["bad"]
    for line, want in bad.items():
        entry = parse.get(line) if want["stage"] == "parse" else validate.get(line)
        assert entry is not None, f"{name}:{line} should be quarantined at {want['stage']}"
        assert want["reason"] in entry.reason, entry.reason
        if want["stage"] == "validate":
            assert list(entry.expectations) == want["expectations"]
        record = next(r for r in records if _line(r.ref) == line)
        assert (entry.raw_sha256, entry.raw_length) == (record.sha256, record.length)
        assert entry.preview == preview(record.raw[:160], 160)
    assert set(parse) | set(validate) == set(bad), "only the listed lines may be quarantined"
    valid_lines = {_line(r.ref) for r in valid_records(records, outcome)}
    assert valid_lines == {_line(r.ref) for r in records} - set(bad)
    assert sorted(s for _, s in outcome.quarantined_session_keys) == sorted(case.get("sessions", []))
    for key in case.get("warnings", []):
        assert key in outcome.gate.warnings


def test_unknown_event_ids_are_kept_and_reported() -> None:
    records = read(CORPUS / "unknown_event.jsonl")
    outcome = _validate(records)
    assert "cowrie.session.file_download.tampered" in {
        r.event.eventid for r in valid_records(records, outcome) if r.event
    }
    result = next(r for r in outcome.results if r.key == "events.eventid_known")
    assert (result.success, result.critical, result.unexpected_count) == (False, False, 1)
    assert result.examples[0]["value"] == "cowrie.session.file_download.tampered"
    assert outcome.summary["unknown_event_ids"] == {"cowrie.session.file_download.tampered": 1}
    assert outcome.gate.passed


@pytest.fixture(scope="module")
def combined() -> tuple[list[ReadRecord], QualityOutcome]:
    records = read(REAL_SAMPLE)
    for name in sorted(CASES):
        records += read(CORPUS / name)
    return records, _validate(records)


def test_corpus_inside_real_data_keeps_the_gate_open_and_each_failure_reported(
    combined: tuple[list[ReadRecord], QualityOutcome],
) -> None:
    records, outcome = combined
    _assert_accounted(records, outcome)
    bad_total = sum(len(c["bad"]) for c in CASES.values())
    assert outcome.counts.quarantined == bad_total
    # A few bad rows in a real day are quarantined, not a reason to stop the analysis.
    assert outcome.gate.passed, outcome.gate.reason
    page = render_report(outcome)
    for entry in outcome.parse_quarantine:
        assert html.escape(reason_category(entry.reason)) in page
    for entry in outcome.quarantine:
        assert html.escape(" + ".join(entry.expectations)) in page
    failing = [r for r in outcome.results if r.unexpected_count]
    assert {r.key for r in failing} >= {
        "events.record_not_duplicated",
        "events.src_ip_can_be_a_source",
        "events.src_port_in_range",
        "events.session_single_source",
        "events.input_length_bounded",
        "events.username_length_bounded",
        "events.eventid_known",
    }
    for result in failing:
        assert html.escape(result.key) in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;dq&#x27;)&lt;/script&gt;" in page  # the foreign document's raw text


def test_attacker_strings_in_examples_are_bounded(combined: tuple[list[ReadRecord], QualityOutcome]) -> None:
    _, outcome = combined
    input_check = next(r for r in outcome.results if r.key == "events.input_length_bounded")
    example = input_check.examples[0]
    assert example["value"] == "40005"
    assert example["input"].startswith("echo BBBB")
    assert len(example["input"]) < 200 and "(+" in example["input"]
    entry = next(e for e in outcome.parse_quarantine if "65536" in e.reason)
    # Quarantine keeps a bounded preview plus the whole record's length and hash, never the record.
    assert entry.raw_length > 1_000_000 and len(entry.raw_sha256) == 64
    assert len(entry.preview) <= 160
    assert len(entry.reason) < 300
