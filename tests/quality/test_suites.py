"""Suite files, threshold resolution, bounded previews, and the import-time promise."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coord_core.quality.bounded import preview, reason_category
from coord_core.quality.config import DEFAULT_SUITE_DIR, QualityConfig
from coord_core.quality.frames import ip_scope
from coord_core.quality.suites import SuiteDefinitionError, load_suite, load_suites, resolve_thresholds
from coord_core.quality.validate import validate_interval
from tests.quality.support import END, REPO, START, hostile_records


def test_bundled_suites_load_and_every_expectation_is_classified() -> None:
    suites = load_suites(DEFAULT_SUITE_DIR)
    assert [s.name for s in suites] == ["events", "sensors", "sessions", "volume"]
    for suite in suites:
        for spec in suite.expectations:
            assert spec.severity in {"critical", "warning"}
            assert spec.reason
    thresholds = resolve_thresholds(suites, {}, critical_default=0.05, warning_default=0.0)
    assert thresholds["events.record_not_duplicated"] == 0.05
    assert thresholds["sessions.session_has_connect"] == 0.05  # set in the suite file
    assert thresholds["sensors.sensor_sessions_not_collapsed"] == 0.5
    assert thresholds["events.eventid_known"] == 0.0


def test_suite_files_are_great_expectations_suites() -> None:
    import great_expectations as gx

    for path in sorted(DEFAULT_SUITE_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        suite = gx.ExpectationSuite(name=doc["name"], expectations=doc["expectations"], meta=doc["meta"])
        assert len(suite.expectations) == len(doc["expectations"])


def _write_suite(tmp_path: Path, expectation: dict[str, object], frame: str = "events") -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"name": "custom", "meta": {"frame": frame}, "expectations": [expectation]}))
    return tmp_path


def test_bad_suite_files_are_refused_with_the_file_named(tmp_path: Path) -> None:
    folder = _write_suite(
        tmp_path,
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "ts"}, "meta": {"name": "x"}},
    )
    with pytest.raises(SuiteDefinitionError, match=r"s\.json.*severity"):
        load_suites(folder)
    folder = _write_suite(
        tmp_path,
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "ts", "mostly": 0.9},
            "meta": {"name": "x", "severity": "critical", "reason": "r"},
        },
    )
    with pytest.raises(SuiteDefinitionError, match="threshold"):
        load_suite(folder / "s.json")


def test_a_custom_suite_folder_is_used(tmp_path: Path) -> None:
    folder = _write_suite(
        tmp_path,
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "eventid", "value_set": ["cowrie.session.connect"]},
            "meta": {
                "name": "only_connects",
                "severity": "critical",
                "quarantine": True,
                "reason": "not a connect",
            },
        },
    )
    records = hostile_records()
    outcome = validate_interval(records, [], START, END, config=QualityConfig(suite_dir=folder))
    assert [r.key for r in outcome.results] == ["custom.only_connects"]
    assert outcome.counts.quarantined_validate == 2 and not outcome.gate.passed


def test_an_expectation_that_errors_fails_closed(tmp_path: Path) -> None:
    folder = _write_suite(
        tmp_path,
        {
            "type": "expect_column_values_to_not_be_null",
            "kwargs": {"column": "no_such_column"},
            "meta": {"name": "broken", "severity": "critical", "reason": "misconfigured"},
        },
    )
    outcome = validate_interval([], [], START, END, config=QualityConfig(suite_dir=folder))
    result = outcome.results[0]
    assert not result.success and result.error
    assert not outcome.gate.passed and "custom.broken could not be evaluated" in outcome.gate.reason


def test_records_without_a_sensor_name_are_kept_with_a_warning() -> None:
    from coord_core.contracts.events import parse_event
    from coord_core.ingest.records import ReadRecord

    doc = {
        "eventid": "cowrie.session.connect",
        "timestamp": "2025-10-24T01:00:00Z",
        "session": "abc",
        "src_ip": "45.155.205.10",
        "sensor": "",  # Elasticsearch documents without host.name map to an empty sensor
        "src_port": 40000,
        "dst_ip": "172.29.0.2",
        "dst_port": 22,
    }
    event = parse_event(doc)
    records = [ReadRecord("es/doc1", json.dumps(doc), event.timestamp, event)]
    outcome = validate_interval(records, [], START, END)
    assert outcome.gate.passed and outcome.counts.valid == 1
    assert outcome.gate.warnings == ("events.sensor_named",)


def test_preview_bounds_and_escapes() -> None:
    assert preview("a" * 1_000_000, 10) == "aaaaaaaaaa… (+999990 chars)"
    assert preview("x\x00y\x1b\u202ez", 40) == "x\\x00y\\x1b\\u202ez"
    assert preview(None) == "null"
    assert reason_category("src_ip: '999.1.1.1' is bad at column 17") == "src_ip: '…' is bad at column N"


@pytest.mark.parametrize(
    ("ip", "scope"),
    [
        ("45.155.205.10", "global"),
        ("10.1.2.3", "private"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "broadcast"),
        ("224.0.0.1", "multicast"),
        ("127.0.0.1", "loopback"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non_global"),
        ("::ffff:8.8.8.8", "global"),
        ("::", "unspecified"),
        ("nonsense", "invalid"),
    ],
)
def test_ip_scope(ip: str, scope: str) -> None:
    assert ip_scope(ip) == scope


def test_importing_the_quality_modules_does_not_import_great_expectations() -> None:
    code = (
        "import sys; import coord_core.quality.validate, coord_core.quality.report, coord_core.quality.stage;"
        "sys.path.insert(0, 'plugins'); import coord_airflow.dq_report_app;"
        "bad = [m for m in ('great_expectations', 'fastapi', 'airflow') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
