"""Airflow itself loads this project's plugins from the plugins folder: one ``airflow plugins``
process, every app mounted under its prefix and every view where the UI shows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.dags.airflow_env import plugin_env


def _apps(plugin: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["url_prefix"], a["name"]) for a in plugin["fastapi_apps"]]


def test_airflow_loads_every_plugin_from_the_plugins_folder(tmp_path: Path) -> None:
    airflow = str(Path(sys.executable).with_name("airflow"))
    done = subprocess.run(
        [airflow, "plugins", "-o", "json"],
        check=False,
        env=plugin_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    plugins = {p["name"]: p for p in json.loads(done.stdout[done.stdout.index("[") :])}
    # Data-quality reports: the pages, a tab on each run and task, and an entry under Browse.
    dq = plugins["coord_data_quality"]
    assert _apps(dq) == [("/coord-dq", "Coordination data-quality reports")]
    views = {v["destination"]: v for v in dq["external_views"]}
    assert views["dag_run"]["href"] == "coord-dq/report?dag_id={DAG_ID}&run_id={RUN_ID}"
    assert views["task_instance"]["href"] == views["dag_run"]["href"]
    assert views["nav"]["href"] == "coord-dq/" and views["nav"]["category"] == "browse"
    assert all(not v["href"].startswith("/") for v in views.values())  # relative to the UI base URL
    # Prometheus metrics.
    assert _apps(plugins["coord_metrics"]) == [("/coord-metrics", "Coordination metrics for Prometheus")]
    # Campaign pages and the results API, a tab on each run and an entry under Browse.
    campaigns = plugins["coord_campaigns"]
    assert _apps(campaigns) == [
        ("/coord-campaigns", "Coordination campaigns"),
        ("/coord-api/v1", "Coordination results API v1"),
    ]
    tabs = {v["destination"]: v["href"] for v in campaigns["external_views"]}
    assert tabs == {
        "dag_run": "coord-campaigns/run?dag_id={DAG_ID}&run_id={RUN_ID}",
        "nav": "coord-campaigns/",
    }
    # Trend reports under Browse.
    trends = plugins["coord_trend_reports"]
    assert _apps(trends) == [("/coord-trends", "Coordination trend reports")]
    (nav,) = trends["external_views"]
    assert nav["href"] == "coord-trends/" and nav["category"] == "browse"
