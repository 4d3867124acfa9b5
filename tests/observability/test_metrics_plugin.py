"""The metrics plugin as Airflow loads it: mounted at /coord-metrics, closed to anonymous scrapers."""

from __future__ import annotations

from pathlib import Path

from tests.dags.airflow_env import plugin_app_statuses


def test_without_the_scrape_connection_anonymous_scrapes_are_refused_before_any_query(tmp_path: Path) -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from coord_airflow.metrics_app import create_app\n"
        "def no_db():\n    raise AssertionError('the database must not be reached')\n"
        "client = TestClient(create_app(connect=no_db))\n"
        "print('STATUS', client.get('/metrics').status_code)\n"
    )
    statuses = plugin_app_statuses(tmp_path, code)
    assert statuses == ["401"]
