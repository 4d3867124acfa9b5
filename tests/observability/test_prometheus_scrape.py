"""A real Prometheus scrapes the real endpoint and fires the gate-failed alert from the real rules.

The pipeline's own functions extract and validate the real sample read twice (the gate fails on
duplicated records) into a real PostgreSQL; the metrics app is served by uvicorn; Debian's
``prometheus`` scrapes it every second with the project's rule files loaded and evaluated every
second. Everything is asserted through Prometheus' HTTP API.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import free_port
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.quality.stage import validate_stage
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore, RunRecord
from tests.asgi_thread import served_in_thread
from tests.observability.support import RULES, metrics_app
from tests.quality.support import REAL_SAMPLE

PROMETHEUS = shutil.which("prometheus")
DAG_ID = "dshield_coordination"
TOKEN = "prometheus-scrape-token"
WINDOW = DataWindow(start=datetime(2025, 10, 24, tzinfo=UTC), end=datetime(2025, 10, 25, tzinfo=UTC))
DEADLINE_S = 40.0

pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="prometheus is not installed (Debian package `prometheus`; .ci/run installs it)",
)


@dataclass(frozen=True)
class FailedGateRun:
    dsn: str
    read: int


@pytest.fixture
def failed_gate_run(postgres_dsn: str, tmp_path: Path) -> FailedGateRun:
    """One interval whose input holds the real sample twice: the gate fails on duplicated records."""
    doubled = tmp_path / "cowrie.json"
    doubled.write_text(REAL_SAMPLE.read_text() * 2)
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        store = ResultsStore(conn)
        store.start_run(
            WINDOW, RunRecord(DAG_ID, "manual__prometheus", 1, "files", [str(doubled)], None, "t", {})
        )
        extracted = extract_interval(store, WINDOW, read_paths([doubled]))
        store.update_run(DAG_ID, WINDOW, event_count=extracted.read, session_count=extracted.sessions)
        quality = validate_stage(store, WINDOW)
        store.update_run(DAG_ID, WINDOW, dq_gate_passed=quality.gate.passed)
    assert not quality.gate.passed, quality.gate.reason
    return FailedGateRun(postgres_dsn, extracted.read)


@contextmanager
def _served_metrics(dsn: str) -> Iterator[str]:
    """The metrics app under uvicorn on a free loopback port; yields its base URL."""
    with served_in_thread(metrics_app(dsn, TOKEN)) as address:
        yield address


@contextmanager
def _prometheus(target: str, workdir: Path) -> Iterator[str]:
    """Prometheus scraping ``target`` every second with the project's rules; stopped by its PID."""
    assert PROMETHEUS is not None
    token_file = workdir / "token"
    token_file.write_text(TOKEN)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(path) for path in sorted(RULES.glob("*.yml"))],
        "scrape_configs": [
            {
                "job_name": "coord",
                "metrics_path": "/metrics",
                "authorization": {"type": "Bearer", "credentials_file": str(token_file)},
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    config_file = workdir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            _wait_for(lambda: _ready(url), "prometheus did not become ready", process)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{(workdir / 'prometheus.log').read_text()[-4000:]}") from None
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as reply:
            return bool(reply.status == 200)
    except OSError:
        return False


def _api(url: str, path: str, **params: str) -> Any:
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    with urllib.request.urlopen(f"{url}/api/v1/{path}{query}", timeout=5) as reply:
        body = json.load(reply)
    assert body["status"] == "success", body
    return body["data"]


def _wait_for(check: Callable[[], Any], failure: str, process: subprocess.Popen[bytes] | None = None) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{failure}: exited with {process.returncode}")
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(failure)


def _series(url: str, query: str) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = _api(url, "query", query=query)["result"]
    return result


def _firing(url: str, name: str) -> list[dict[str, Any]]:
    alerts = _api(url, "alerts")["alerts"]
    return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]


def test_prometheus_ingests_the_metrics_and_fires_the_gate_alert(
    failed_gate_run: FailedGateRun, tmp_path: Path
) -> None:
    with _served_metrics(failed_gate_run.dsn) as target, _prometheus(target, tmp_path) as prometheus:
        gate = _wait_for(
            lambda: _series(prometheus, f'coord_interval_dq_gate_passed{{dag_id="{DAG_ID}"}}'),
            "Prometheus never ingested coord_interval_dq_gate_passed",
        )
        assert gate[0]["metric"]["job"] == "coord" and float(gate[0]["value"][1]) == 0.0
        read = _series(prometheus, f'coord_interval_events{{dag_id="{DAG_ID}",outcome="read"}}')
        assert [float(s["value"][1]) for s in read] == [failed_gate_run.read]
        assert float(_series(prometheus, "coord_store_up")[0]["value"][1]) == 1.0
        assert float(_series(prometheus, 'coord_dq_gate_intervals{outcome="failed"}')[0]["value"][1]) == 1.0

        fired = _wait_for(
            lambda: _firing(prometheus, "CoordDataQualityGateFailed"), "the gate-failed alert never fired"
        )
        assert fired[0]["labels"]["dag_id"] == DAG_ID and fired[0]["labels"]["severity"] == "critical"
        # Every rule file loaded and evaluated without error; a passing-data alert stays silent.
        groups = _api(prometheus, "rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        assert rules and all(rule["health"] != "err" for rule in rules), [
            r for r in rules if r.get("lastError")
        ]
        assert not _firing(prometheus, "CoordMetricsStoreDown")
