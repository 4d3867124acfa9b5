"""`coord local-ui` (`make ui`) from nothing: a healthy Airflow with our connections stored in its
metadata database, one line with URL and login, the plugin pages and the trigger guard live;
`coord local-stop` (`make stop`) stops all of it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from coord_core.embedded_services import free_port
from tests.dags.airflow_env import REPO

COORD = str(Path(sys.executable).with_name("coord"))
READY = re.compile(
    r"^Airflow UI: (?P<url>http://127\.0\.0\.1:\d+)  login admin / (?P<password>\S+)  \(ready in"
)


@pytest.fixture
def state(airflow_servers: None) -> Iterator[tuple[Path, dict[str, str]]]:
    # Not under pytest's basetemp: pgserver runs PostgreSQL as another user (see tests/conftest.py).
    root = Path(tempfile.mkdtemp(prefix="coord-test-ui-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(root / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        PYTHONWARNINGS="ignore",
    )
    try:
        yield root / "state", env
    finally:
        subprocess.run(
            [COORD, "local-stop", "--state-dir", str(root / "state")], env=env, check=False, timeout=180
        )
        shutil.rmtree(root, ignore_errors=True)


def test_make_ui_starts_a_working_airflow_and_make_stop_stops_it(state: tuple[Path, dict[str, str]]) -> None:
    folder, env = state
    started = time.monotonic()
    done = subprocess.run(
        [COORD, "local-ui", "--state-dir", str(folder), "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    print(f"coord local-ui from nothing: {time.monotonic() - started:.0f} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("Airflow UI:")]
    ready = READY.match(lines[0]) if len(lines) == 1 else None
    assert ready is not None, done.stdout
    url, password = ready["url"], ready["password"]
    token = httpx.post(f"{url}/auth/token", json={"username": "admin", "password": password}, timeout=30)
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    # The connections live in Airflow's metadata database, where the API server's plugins read them.
    stored = httpx.get(f"{url}/api/v2/connections", headers=bearer, timeout=30).json()["connections"]
    assert {"coord_postgres", "coord_redis"} <= {c["connection_id"] for c in stored}
    # The results database is migrated (schema and reader role) before any run: the pages answer
    # 200 and say there is nothing yet, not a 503 about a missing role.
    index = httpx.get(f"{url}/coord-dq/", headers=bearer, timeout=60)
    assert index.status_code == 200 and "No data-quality report has been stored yet" in index.text
    campaigns = httpx.get(f"{url}/coord-campaigns/", headers=bearer, timeout=60)
    assert campaigns.status_code == 200 and "No campaign matches" in campaigns.text
    listed = httpx.get(f"{url}/coord-api/v1/campaigns", headers=bearer, timeout=60)
    assert listed.status_code == 200 and listed.json()["campaigns"] == []
    refused = httpx.post(
        f"{url}/api/v2/dags/dshield_coordination/dagRuns",
        json={"logical_date": None, "conf": {"window_strat": "2025-10-24T08:00:00Z"}},
        headers=bearer,
        timeout=60,
    )
    assert refused.status_code == 400 and "window_strat" in refused.json()["detail"]
    pid = int((folder / "airflow-ui.pid").read_text())

    stop = subprocess.run(
        [COORD, "local-stop", "--state-dir", str(folder)],
        env=env,
        check=False,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "Airflow UI stopped: True" in stop.stdout and "postgres stopped: True" in stop.stdout, stop.stdout
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the whole session is gone
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{url}/api/v2/monitor/health", timeout=5)
