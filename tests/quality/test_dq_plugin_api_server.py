"""The report plugin in a real Airflow API server: mounted, authenticated by Airflow, on coord_postgres."""

from __future__ import annotations

import json
import os
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
from coord_core.store.results import ResultsStore, RunRecord
from tests.dags.airflow_env import make_airflow_env
from tests.dags.airflow_stack import api_server_alone, free_port
from tests.quality.support import END, REAL_SAMPLE, START

DAG_ID = "dshield_coordination"
RUN_ID = "manual__2025-10-25T00:00:00+00:00"
USER = "dq-engineer"


@pytest.fixture
def report_db(postgres_dsn: str) -> str:
    window = DataWindow(start=START, end=END)
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        store = ResultsStore(conn)
        store.start_run(
            window,
            RunRecord(
                dag_id=DAG_ID,
                run_id=RUN_ID,
                try_number=1,
                source_kind="files",
                source_locations=[str(REAL_SAMPLE)],
                source_query=None,
                code_version="test",
                parameters={},
            ),
        )
        extract_interval(store, window, read_paths([REAL_SAMPLE]), slack=timedelta(minutes=30))
        validate_stage(store, window)
    return postgres_dsn


@pytest.fixture
def api_server(
    tmp_path: Path, report_db: str, redis_server_url: str, airflow_servers: None
) -> Iterator[tuple[str, str]]:
    """``airflow api-server`` alone (SQLite metadata is enough for one process); stopped by its group."""
    port = free_port()
    password = "pw-" + os.urandom(6).hex()
    (tmp_path / "passwords.json").write_text(json.dumps({USER: password}))
    cli = make_airflow_env(
        tmp_path / "airflow",
        report_db,
        redis_server_url,
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:viewer",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(tmp_path / "passwords.json"),
    )
    cli.home.mkdir()
    cli.run("db", "migrate")
    with api_server_alone(cli, tmp_path / "api-server.log", USER, password) as served:
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
