"""`coord mcp`'s trigger_analysis through a real Airflow API server: with a user's token the run is
created with the window as its conf; with a wrong token Airflow refuses and the tool says so."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from coord_core.embedded_services import free_port
from tests.dags.airflow_env import DAG_ID, REPO, make_airflow_env
from tests.dags.airflow_stack import api_server_alone

USER = "coord-assistant"
WINDOW = {"window_start": "2025-10-24T02:00:00+00:00", "window_end": "2025-10-24T03:00:00+00:00"}


@pytest.fixture(scope="module")
def api_server(
    tmp_path_factory: pytest.TempPathFactory, airflow_home_template: Path, airflow_servers: None
) -> Iterator[tuple[str, str]]:
    """``airflow api-server`` alone on a copy of the migrated template, the DAGs serialized into it."""
    root = tmp_path_factory.mktemp("mcp-trigger")
    home = root / "airflow"
    shutil.copytree(airflow_home_template, home)
    cfg = home / "airflow.cfg"
    cfg.write_text(cfg.read_text().replace(str(airflow_home_template), str(home)))
    password = "pw-" + os.urandom(6).hex()
    (root / "passwords.json").write_text(json.dumps({USER: password}))
    cli = make_airflow_env(
        home,
        "host=/nonexistent dbname=x",  # triggering touches no results database
        "redis://127.0.0.1:1/0",
        AIRFLOW__API__PORT=str(free_port()),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(root / "passwords.json"),
    )
    cli.run("dags", "reserialize")
    with api_server_alone(cli, root / "api-server.log", USER, password) as served:
        yield served


async def _trigger(env: dict[str, str], arguments: dict[str, Any]) -> Any:
    # The server checks its results database when it starts: an empty one, read as the login role.
    server = StdioServerParameters(
        command=str(Path(sys.executable).with_name("coord")),
        args=["mcp", "--role", ""],
        env=env,
        cwd=REPO,
    )
    async with Client(server, mode="legacy") as client:
        return await client.call_tool("trigger_analysis", arguments)


def test_trigger_analysis_creates_a_run_with_the_token_and_is_refused_without(
    api_server: tuple[str, str], postgres_dsn: str
) -> None:
    base, token = api_server
    db = {"COORD_POSTGRES_DSN": postgres_dsn}
    done = anyio.run(_trigger, {**db, "COORD_AIRFLOW_URL": base, "COORD_AIRFLOW_TOKEN": token}, WINDOW)
    assert not done.is_error, done.content
    run = json.loads(done.content[0].text)["data"]
    assert run["dag_id"] == DAG_ID and run["conf"] == WINDOW
    runs = httpx.get(
        f"{base}/api/v2/dags/{DAG_ID}/dagRuns", headers={"Authorization": f"Bearer {token}"}, timeout=60
    ).json()["dag_runs"]
    assert [r["dag_run_id"] for r in runs] == [run["dag_run_id"]]

    refused = anyio.run(_trigger, {**db, "COORD_AIRFLOW_URL": base, "COORD_AIRFLOW_TOKEN": "bad"}, WINDOW)
    # Airflow answers a token it cannot verify with 403 (401 when none is sent).
    assert refused.is_error and "refused by Airflow (403)" in refused.content[0].text

    too_long = {"window_start": WINDOW["window_start"], "window_end": "2025-11-24T03:00:00+00:00"}
    bounded = anyio.run(_trigger, {**db, "COORD_AIRFLOW_URL": base, "COORD_AIRFLOW_TOKEN": token}, too_long)
    assert bounded.is_error and "at most 7 days" in bounded.content[0].text
