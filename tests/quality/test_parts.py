"""Validation in parts (how the validate step streams staging) judges exactly as in one part."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from coord_core.contracts.events import parse_event
from coord_core.ingest.records import ReadRecord
from coord_core.quality import frames as fr
from coord_core.quality.config import QualityConfig
from coord_core.quality.outcome import QualityOutcome
from coord_core.quality.report import render_report
from coord_core.quality.suites import SuiteDefinitionError
from coord_core.quality.validate import validate_rows
from tests.quality.support import CORPUS, END, REAL_SAMPLE, START, read, sessions_of, steady_profile

CORPUS_FILES = ("duplicates.jsonl", "overlong_username.jsonl", "session_collision.jsonl", "timestamps.jsonl")


def _records() -> list[ReadRecord]:
    """The real sample, part of it read twice, and the corpus's bad rows: failures in every part."""
    real = read(REAL_SAMPLE)
    copies = [r._replace(ref=r.ref + "#copy") for r in real[::7]]
    corpus = [r for name in CORPUS_FILES for r in read(CORPUS / name)]
    return [r for r in (*real, *copies, *corpus) if r.event is not None]


def _validate(records: list[ReadRecord], part_rows: int | None) -> QualityOutcome:
    sessions = sessions_of(records)
    baseline = steady_profile(START, 24, events=86, sessions_by_sensor={"37e2115ebaeb": 20}, login_events=15)
    return validate_rows(fr.event_rows(records), sessions, START, END, baseline=baseline, part_rows=part_rows)


@pytest.mark.parametrize("part_rows", [397, 1000])
def test_parts_give_the_outcome_of_one_part(part_rows: int) -> None:
    records = _records()
    whole = _validate(records, None)
    parted = _validate(records, part_rows)
    assert whole.quarantine and not whole.gate.passed  # failures to agree on
    assert parted.results == whole.results
    assert parted.quarantine == whole.quarantine
    assert parted.quarantined_session_keys == whole.quarantined_session_keys
    assert parted.failed_session_keys == whole.failed_session_keys
    assert parted.counts == whole.counts
    assert parted.summary == whole.summary
    assert parted.gate == whole.gate
    assert render_report(parted) == render_report(whole)


def test_an_empty_interval_in_parts_is_judged_as_in_one_part() -> None:
    whole = validate_rows([], [], START, END, part_rows=None)
    parted = validate_rows([], [], START, END, part_rows=10)
    assert (parted.results, parted.gate, parted.summary) == (whole.results, whole.gate, whole.summary)


def _suite_folder(tmp_path: Path, expectation: dict[str, object]) -> Path:
    for suite in sorted((Path(fr.__file__).resolve().parents[2] / "include" / "gx").glob("*.json")):
        doc = json.loads(suite.read_text())
        if doc["meta"]["frame"] == fr.EVENTS:
            doc["expectations"].append(expectation)
        (tmp_path / suite.name).write_text(json.dumps(doc))
    return tmp_path


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {"type": "expect_column_values_to_be_unique", "kwargs": {"column": "src_ip"}},
    ],
)
def test_a_suite_that_compares_rows_is_refused_for_a_frame_in_parts(
    tmp_path: Path, expectation: dict[str, object]
) -> None:
    meta = {"name": "whole_frame_check", "severity": "warning", "reason": "compares rows"}
    config = QualityConfig(suite_dir=_suite_folder(tmp_path, {**expectation, "meta": meta}))
    record = ReadRecord(
        ref="x:1",
        raw="{}",
        time=START,
        event=parse_event(
            {
                "eventid": "cowrie.session.closed",
                "timestamp": (START + timedelta(minutes=1)).isoformat(),
                "session": "s1",
                "src_ip": "8.8.8.8",
                "sensor": "h",
                "message": "",
            }
        ),
    )
    with pytest.raises(SuiteDefinitionError, match="validated in parts"):
        validate_rows(fr.event_rows([record]), [], START, END, config=config, part_rows=10)
    # In one part (records in memory) the whole frame is at hand: allowed.
    validate_rows(fr.event_rows([record]), [], START, END, config=config, part_rows=None)
