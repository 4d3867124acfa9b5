"""The metrics plugin as Airflow loads it: mounted at /coord-metrics, closed to anonymous scrapers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.observability.support import REPO


def _airflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONWARNINGS="ignore",
    )
    return env


def test_airflow_mounts_the_metrics_app_from_the_plugins_folder(tmp_path: Path) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run(
        [airflow, "plugins", "-o", "json"],
        check=False,
        env=_airflow_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    plugins = json.loads(done.stdout[done.stdout.index("[") :])
    ours = next(p for p in plugins if p["name"] == "coord_metrics")
    assert [(a["url_prefix"], a["name"]) for a in ours["fastapi_apps"]] == [
        ("/coord-metrics", "Coordination metrics for Prometheus")
    ]
    assert any(p["name"] == "coord_data_quality" for p in plugins)  # the report pages stay mounted


def test_without_the_scrape_connection_anonymous_scrapes_are_refused_before_any_query(tmp_path: Path) -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from coord_airflow.metrics_app import create_app\n"
        "def no_db():\n    raise AssertionError('the database must not be reached')\n"
        "client = TestClient(create_app(connect=no_db))\n"
        "print('STATUS', client.get('/metrics').status_code)\n"
    )
    env = _airflow_env(tmp_path)
    env["PYTHONPATH"] = f"{REPO / 'plugins'}:{REPO}"
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("STATUS ")]
    assert statuses == ["401"]
