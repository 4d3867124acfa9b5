"""The metrics plugin as Airflow loads it: mounted at /coord-metrics, closed to anonymous scrapers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.dags.airflow_env import plugin_env
from tests.observability.support import REPO


def test_without_the_scrape_connection_anonymous_scrapes_are_refused_before_any_query(tmp_path: Path) -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from coord_airflow.metrics_app import create_app\n"
        "def no_db():\n    raise AssertionError('the database must not be reached')\n"
        "client = TestClient(create_app(connect=no_db))\n"
        "print('STATUS', client.get('/metrics').status_code)\n"
    )
    env = plugin_env(tmp_path)
    env["PYTHONPATH"] = f"{REPO / 'plugins'}:{REPO}"
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("STATUS ")]
    assert statuses == ["401"]
