"""The gate: the real sample passes, broken input and broken feeds stop the analysis with a reason."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import timedelta

import pytest

from coord_core.contracts.source_profile import ProfileError, ProfileHour, SourceProfile
from coord_core.ingest.records import ReadRecord
from coord_core.quality.config import QualityConfig
from coord_core.quality.outcome import QualityOutcome
from coord_core.quality.report import render_report
from coord_core.quality.suites import SuiteDefinitionError
from coord_core.quality.validate import validate_interval
from tests.quality.support import END, REAL_SAMPLE, START, read, sessions_of, steady_profile, valid_records

SENSOR = "37e2115ebaeb"  # the real sample's only sensor


@pytest.fixture(scope="module")
def real() -> list[ReadRecord]:
    return read(REAL_SAMPLE)


@pytest.fixture(scope="module")
def baseline_outcome(real: list[ReadRecord]) -> QualityOutcome:
    return validate_interval(real, sessions_of(real), START, END)


def _result(outcome: QualityOutcome, key: str):
    return next(r for r in outcome.results if r.key == key)


def test_real_sample_passes_with_zero_critical_failures(baseline_outcome: QualityOutcome) -> None:
    outcome = baseline_outcome
    assert outcome.gate.passed
    assert outcome.gate.critical_failures == ()
    assert [r.key for r in outcome.results if r.critical and (not r.success or r.unexpected_count)] == []
    assert asdict(outcome.counts) == {
        "read": 2057,
        "valid": 2057,
        "quarantined_parse": 0,
        "quarantined_validate": 0,
    }
    assert outcome.quarantined_session_keys == frozenset()
    # Every event id of the sample is modelled (tunnelled data included): no warning.
    assert outcome.gate.warnings == ()
    s = outcome.summary
    assert (s["events"], s["sessions"], s["login_events"], s["login_success"]) == (2057, 474, 348, 9)
    assert s["sessions_by_sensor"] == {SENSOR: 474}
    assert s["gate_passed"] is True
    # Every expectation of every suite ran and maps onto a dq_results row (unique key).
    rows = outcome.dq_rows()
    assert len({(r.suite, r.expectation, r.column) for r in rows}) == len(rows) >= 25


def test_input_read_twice_fails_the_gate_naming_expectation_column_counts_examples(
    real: list[ReadRecord],
) -> None:
    doubled = real + [r._replace(ref=r.ref + "#copy") for r in real]
    outcome = validate_interval(doubled, sessions_of(real), START, END)
    assert not outcome.gate.passed
    assert outcome.gate.critical_failures == ("events.record_not_duplicated",)
    reason = outcome.gate.reason
    assert "events.record_not_duplicated failed on column 'record_copy'" in reason
    assert "2057 of 4114 rows unexpected (50.00% > threshold 5.00%)" in reason
    assert "examples: " in reason and "#copy: 2" in reason
    # The second copies are quarantined; the first copies stay valid.
    assert outcome.counts.quarantined_validate == 2057
    assert all(r.ref.endswith("#copy") for r in (e for e in outcome.quarantine))
    assert {r.ref for r in valid_records(doubled, outcome)} == {r.ref for r in real}
    assert outcome.summary["gate_passed"] is False


def test_thresholds_are_configurable_per_expectation(real: list[ReadRecord]) -> None:
    doubled = real + [r._replace(ref=r.ref + "#copy") for r in real[:500]]
    strict = validate_interval(doubled, sessions_of(real), START, END)
    assert strict.gate.critical_failures == ("events.record_not_duplicated",)  # 19.6% > 5%
    lenient = validate_interval(
        doubled,
        sessions_of(real),
        START,
        END,
        config=QualityConfig(thresholds={"events.record_not_duplicated": 0.25}),
    )
    assert lenient.gate.passed
    result = _result(lenient, "events.record_not_duplicated")
    assert (result.success, result.threshold, result.unexpected_count) == (True, 0.25, 500)
    assert lenient.counts.quarantined_validate == 500  # within threshold, still quarantined
    assert "within threshold: events.record_not_duplicated (500 rows)" in lenient.gate.reason
    global_default = validate_interval(
        doubled, sessions_of(real), START, END, config=QualityConfig(critical_threshold=0.3)
    )
    assert global_default.gate.passed


def test_unknown_threshold_key_is_refused(real: list[ReadRecord]) -> None:
    with pytest.raises(SuiteDefinitionError, match=r"events\.no_such_check"):
        validate_interval(
            real[:10], [], START, END, config=QualityConfig(thresholds={"events.no_such_check": 0.1})
        )


def test_events_outside_the_window_and_slack_are_quarantined(real: list[ReadRecord]) -> None:
    # A one-hour window over a day of data: events of sessions straddling the end within the
    # slack stay; the rest of the day is outside and quarantined, which fails the gate.
    start = START.replace(hour=3)
    end = start + timedelta(hours=1)
    outcome = validate_interval(real, sessions_of(real), start, end, config=QualityConfig())
    late = [e for e in outcome.quarantine if "events.timestamp_in_window" in e.expectations]
    assert late and not outcome.gate.passed
    assert "events.timestamp_in_window" in outcome.gate.critical_failures
    for record in valid_records(real, outcome):
        assert record.event is not None
        assert start - timedelta(minutes=30) <= record.event.timestamp < end + timedelta(minutes=30)


def test_empty_interval_is_no_data_not_a_pass() -> None:
    outcome = validate_interval([], [], START, END)
    assert outcome.gate.passed and outcome.gate.no_data and outcome.gate.outcome == "no data"
    assert outcome.gate.reason.startswith("no data: the interval holds no records")
    assert outcome.counts.read == 0 and outcome.summary["gate_outcome"] == "no data"
    assert all(r.element_count in (0, 1) and r.unexpected_count == 0 for r in outcome.results)
    page = render_report(outcome)
    assert "NO DATA" in page and "Gate PASSED" not in page


def test_empty_interval_can_be_configured_to_fail() -> None:
    outcome = validate_interval([], [], START, END, config=QualityConfig(empty_interval="fail"))
    assert not outcome.gate.passed and outcome.gate.outcome == "no data"
    assert "empty_interval = fail" in outcome.gate.reason
    assert "this run fails on that" in render_report(outcome)


def test_an_interval_with_records_is_judged_even_if_all_are_bad(real: list[ReadRecord]) -> None:
    garbage = [ReadRecord(r.ref, "not json", r.time, None, "not valid JSON") for r in real[:3]]
    outcome = validate_interval(garbage, [], START, END)
    assert not outcome.gate.no_data and outcome.gate.outcome in ("passed", "failed")


def test_parse_quarantine_from_extract_counts_and_can_fail_the_gate(real: list[ReadRecord]) -> None:
    parse = [
        ReadRecord(ref=f"x:{i}", raw="{" + " " * i, time=START).quarantined(
            "not valid JSON (Expecting value at column 1)"
        )
        for i in range(200)
    ]
    outcome = validate_interval(real, sessions_of(real), START, END, parse_quarantine=parse)
    assert outcome.counts.read == 2257 == outcome.counts.valid + outcome.counts.quarantined
    assert outcome.parse_quarantine == tuple(parse)
    assert outcome.gate.critical_failures == ("volume.parse_errors_rare",)  # 8.9% of records
    assert outcome.summary["quarantine_by_reason"] == {
        "parse: not valid JSON (Expecting value at column N)": 200
    }


# -- drift against the source's earlier hours ------------------------------------------------
# The real sample over its day: 2057 events, 474 sessions and 348 login events, i.e. about 86
# events, 20 sessions and 15 login events an hour.


def _profile(hours: int, *, sessions: dict[str, int], events: int = 86, logins: int = 15):
    return steady_profile(START, hours, events=events, sessions_by_sensor=sessions, login_events=logins)


def test_steady_source_passes(real: list[ReadRecord]) -> None:
    outcome = validate_interval(
        real, sessions_of(real), START, END, baseline=_profile(24, sessions={SENSOR: 20})
    )
    assert outcome.gate.passed
    volume = _result(outcome, "volume.events_not_collapsed")
    assert volume.success and volume.missing_count == 0  # judged, not skipped
    assert not any("drift checks not judged" in n for n in outcome.notes)
    assert outcome.summary["baseline"] == {
        "source_kind": "files",
        "lookback_start": (START - timedelta(hours=24)).isoformat(),
        "lookback_end": START.isoformat(),
        "hours_with_events": 24,
        "judged": True,
    }


def test_a_sensor_that_went_silent_fails_the_gate(real: list[ReadRecord]) -> None:
    # The source held thousands of sessions a day from "sensor-b"; this interval has none from
    # it. Totals alone would not notice (another sensor delivers), the per-sensor check does.
    baseline = _profile(24, sessions={"sensor-b": 4000 // 24}, events=86 * 5)
    outcome = validate_interval(real, sessions_of(real), START, END, baseline=baseline)
    assert outcome.gate.critical_failures == ("sensors.sensor_sessions_not_collapsed",)
    sensors = _result(outcome, "sensors.sensor_sessions_not_collapsed")
    assert (sensors.unexpected_count, sensors.element_count, sensors.missing_count) == (1, 2, 1)
    assert sensors.examples[0]["row"] == "sensor-b"
    assert sensors.examples[0]["value"] == "0.0"
    assert "sensors.sensor_sessions_not_collapsed failed on column 'sessions_ratio'" in outcome.gate.reason
    assert "sensor-b" in outcome.gate.reason
    assert _result(outcome, "volume.sessions_not_collapsed").success


def test_one_sensor_of_several_going_silent_is_reported_within_threshold(real: list[ReadRecord]) -> None:
    baseline = _profile(24, sessions={SENSOR: 20, "sensor-b": 20})
    outcome = validate_interval(real, sessions_of(real), START, END, baseline=baseline)
    sensors = _result(outcome, "sensors.sensor_sessions_not_collapsed")
    assert sensors.success and sensors.unexpected_count == 1  # 1 of 2 judged sensors, threshold 50%
    assert outcome.gate.passed
    assert "sensors.sensor_sessions_not_collapsed (1 rows)" in outcome.gate.reason


def test_event_volume_collapse_fails_the_gate(real: list[ReadRecord]) -> None:
    baseline = _profile(6, sessions={SENSOR: 20}, events=86 * 30)
    outcome = validate_interval(real, sessions_of(real), START, END, baseline=baseline)
    assert "volume.events_not_collapsed" in outcome.gate.critical_failures
    example = _result(outcome, "volume.events_not_collapsed").examples[0]
    assert float(example["events_baseline_per_hour"]) == pytest.approx(86 * 30)


def test_login_drop_is_a_warning_only(real: list[ReadRecord]) -> None:
    outcome = validate_interval(
        real, sessions_of(real), START, END, baseline=_profile(6, sessions={SENSOR: 20}, logins=15 * 10)
    )
    login = _result(outcome, "volume.login_events_not_collapsed")
    assert not login.success and not login.critical
    assert outcome.gate.passed
    assert "volume.login_events_not_collapsed" in outcome.gate.warnings


def test_too_few_hours_with_data_are_not_judged(real: list[ReadRecord]) -> None:
    baseline = _profile(2, sessions={SENSOR: 100000}, events=10**7)
    outcome = validate_interval(real, sessions_of(real), START, END, baseline=baseline)
    assert outcome.gate.passed
    assert _result(outcome, "volume.events_not_collapsed").missing_count == 1
    assert any("2 hour(s) with events in the 24 h before the interval, 3 needed" in n for n in outcome.notes)


def test_no_profile_is_not_judged(real: list[ReadRecord]) -> None:
    outcome = validate_interval(real, sessions_of(real), START, END)
    assert outcome.gate.passed
    assert _result(outcome, "sensors.sensor_sessions_not_collapsed").element_count == 1
    assert any("no source profile" in n for n in outcome.notes)
    assert outcome.summary["baseline"]["judged"] is False


def test_hours_without_events_do_not_become_the_baseline(real: list[ReadRecord]) -> None:
    # The feed was down for the last six hours (only unparseable noise arrived); three healthy
    # hours before that are the baseline, not a rate of zero.
    healthy = _profile(9, sessions={SENSOR: 20})
    down = [
        ProfileHour(start=h.start, sensors={}, parse_errors=3) if h.start >= START - timedelta(hours=6) else h
        for h in healthy.hours
    ]
    outcome = validate_interval(
        real, sessions_of(real), START, END, baseline=replace(healthy, hours=tuple(down))
    )
    assert outcome.gate.passed
    assert len(outcome.baseline.hours) == 3
    judged = _result(outcome, "volume.events_not_exploded")
    assert judged.success and judged.missing_count == 0  # judged against the healthy hours


def test_a_stored_profile_that_cannot_be_read_is_an_error() -> None:
    with pytest.raises(ProfileError, match="not a source profile"):
        SourceProfile.from_json({"profile_version": 1, "hours": [{"start": "not a time"}]})
    with pytest.raises(ProfileError, match="profile version 9"):
        SourceProfile.from_json({"profile_version": 9})
