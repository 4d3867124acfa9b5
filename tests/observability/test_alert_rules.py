"""The alert rules and the Prometheus configuration: valid for promtool, tested, on real metric names."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from tests.observability.support import DEPLOY, RULES, coord_metric_names, unknown_metrics

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian package `prometheus`; .ci/run installs it)",
)


def _promtool(*args: str) -> str:
    assert PROMTOOL is not None
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@needs_promtool
def test_rule_files_pass_promtool_check() -> None:
    for path in sorted(RULES.glob("*.yml")):
        assert "SUCCESS" in _promtool("check", "rules", str(path))


@needs_promtool
def test_rule_unit_tests_pass() -> None:
    for path in sorted((DEPLOY / "prometheus" / "tests").glob("*.yml")):
        assert "SUCCESS" in _promtool("test", "rules", str(path))


@needs_promtool
def test_prometheus_config_is_valid() -> None:
    _promtool("check", "config", "--syntax-only", str(DEPLOY / "prometheus" / "prometheus.yml"))


def test_every_rule_queries_metrics_that_are_exported() -> None:
    alerts = []
    for path in sorted(RULES.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                assert not unknown_metrics(rule["expr"]), (rule["alert"], unknown_metrics(rule["expr"]))
                alerts.append(rule["alert"])
    assert len(alerts) == len(set(alerts))
    required = {
        "CoordDataQualityGateFailed",
        "CoordNoData",
        "CoordRunStalled",
        "AirflowDagRunFailed",
        "CoordRunSlowerThanSLO",
        "CoordDataStale",
        "CoordPublishErrors",
        "CoordNewHighConfidenceCampaign",
    }
    assert required <= set(alerts)


def test_every_alert_has_a_unit_test_that_sees_it_fire() -> None:
    tests = yaml.safe_load((DEPLOY / "prometheus" / "tests" / "coord_rules_test.yml").read_text())
    fired = {
        case["alertname"]
        for group in tests["tests"]
        for case in group["alert_rule_test"]
        if case["exp_alerts"]
    }
    defined = {
        rule["alert"]
        for path in RULES.glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    }
    assert defined == fired, sorted(defined ^ fired)


def test_exported_names_follow_prometheus_conventions() -> None:
    for name in coord_metric_names():
        assert name.startswith("coord_") and name == name.lower()
        if name.endswith("_total"):
            continue
        assert not name.endswith(("_ms", "_milliseconds", "_minutes", "_hours", "_count")), name
