"""The report plugin in a real Airflow API server: mounted, authenticated by Airflow, on coord_postgres."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import psycopg
import pytest

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.quality.stage import validate_stage
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.dags.airflow_stack import api_server_for
from tests.quality.support import END, REAL_SAMPLE, START, sample_run

DAG_ID = "dshield_coordination"
RUN_ID = "manual__2025-10-25T00:00:00+00:00"
USER = "dq-engineer"


@pytest.fixture
def report_db(postgres_dsn: str) -> str:
    window = DataWindow(start=START, end=END)
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        store = ResultsStore(conn)
        store.start_run(window, sample_run(DAG_ID, RUN_ID))
        extract_interval(store, window, read_paths([REAL_SAMPLE]), slack=timedelta(minutes=30))
        validate_stage(store, window)
    return postgres_dsn


@pytest.fixture
def api_server(
    tmp_path: Path, report_db: str, redis_server_url: str, airflow_servers: None
) -> Iterator[tuple[str, str]]:
    """``airflow api-server`` alone (SQLite metadata is enough for one process); stopped by its group."""
    with api_server_for(tmp_path, report_db, redis_server_url, USER, "viewer") as served:
        yield served


def test_report_page_served_by_airflow(api_server: tuple[str, str]) -> None:
    base, token = api_server
    url = f"{base}/coord-dq/report"
    params = {"dag_id": DAG_ID, "run_id": RUN_ID}
    assert httpx.get(url, params=params, timeout=30).status_code == 401  # anonymous
    bearer = httpx.get(url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert bearer.status_code == 200 and "Gate PASSED" in bearer.text
    # The UI's iframe authenticates with Airflow's session cookie.
    cookie = httpx.get(url, params=params, cookies={"_token": token}, timeout=30)
    assert cookie.status_code == 200 and cookie.text == bearer.text
    index = httpx.get(f"{base}/coord-dq/", cookies={"_token": token}, timeout=30)
    assert index.status_code == 200 and RUN_ID in index.text
    plugins = httpx.get(f"{base}/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    ours = next(p for p in plugins.json()["plugins"] if p["name"] == "coord_data_quality")
    assert sorted(v["destination"] for v in ours["external_views"]) == ["dag_run", "nav", "task_instance"]
