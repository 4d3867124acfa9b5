"""Against a real Airflow (`airflow standalone`: API server, scheduler, dag-processor):
backfills over several hourly intervals, and runs triggered through the REST API."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import REAL_SAMPLE, temporary_database
from tests.dags.airflow_env import DAG_ID, make_airflow_env
from tests.dags.airflow_stack import AirflowStack, airflow_standalone
from tests.dags.conftest import airflow_with_postgres_metadata
from tests.dags.in_process import run_intervals_in_process
from tests.dags.snapshot import count, snapshot

FROM, TO = "2025-10-24T04:00:00+00:00", "2025-10-24T07:00:00+00:00"
# The data intervals of the hourly runs that backfill creates (logical dates 05:00 to 08:00).
INTERVALS = [
    (datetime(2025, 10, 24, hour, tzinfo=UTC), datetime(2025, 10, 24, hour + 1, tzinfo=UTC))
    for hour in range(4, 8)
]


@dataclass
class Running:
    stack: AirflowStack
    results_dsn: str


def _shared_config(folder: Path) -> dict[str, str]:
    """Configuration both the backfill and the one-interval-at-a-time runs share (same output places)."""
    return {"AIRFLOW_VAR_COORD_MISP_FEED_DIR": str(folder / "misp-feed")}


@pytest.fixture(scope="module")
def running(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server_dsn: str,
    redis_server_url: str,
    airflow_servers: None,
) -> Iterator[Running]:
    home = tmp_path_factory.mktemp("airflow-stack") / "home"
    variables = {"AIRFLOW_VAR_COORD_INPUT_PATHS": str(REAL_SAMPLE), **_shared_config(home.parent)}
    with (
        temporary_database(postgres_server_dsn) as results_dsn,
        airflow_with_postgres_metadata(home, results_dsn, postgres_server_dsn, redis_server_url) as cli,
        airflow_standalone(cli, extra_env=variables) as stack,
    ):
        stack.unpause(DAG_ID)
        yield Running(stack, results_dsn)


def _backfill(stack: AirflowStack, *extra: str) -> list[dict[str, Any]]:
    stack.cli.run("backfill", "create", "--dag-id", DAG_ID, "--from-date", FROM, "--to-date", TO, *extra)
    runs = stack.wait_for_runs(DAG_ID, run_type="backfill", expected=4)
    stack.wait_for_backfills_completed(DAG_ID)
    return runs


def test_backfill_equals_intervals_alone_and_is_idempotent(
    running: Running, postgres_server_dsn: str, redis_server_url: str, tmp_path: Path
) -> None:
    # The same intervals run one at a time, each alone, into a fresh database must give the same
    # rows. They run (the DAG's tasks in one interpreter, interval after interval) while the
    # backfills run: another database; what both write to (the feed folder, the Redis cache) holds
    # the same bytes whichever writes first.
    with temporary_database(postgres_server_dsn) as alone_dsn, ThreadPoolExecutor(1) as background:
        home = tmp_path / "alone-airflow"
        home.mkdir()
        alone = make_airflow_env(
            home,
            alone_dsn,
            redis_server_url,
            **_shared_config(running.stack.cli.home.parent),
        )
        alone_runs = background.submit(
            run_intervals_in_process, alone, INTERVALS, {"input_paths": [str(REAL_SAMPLE)]}
        )

        runs = _backfill(running.stack)
        starts = sorted(datetime.fromisoformat(r["data_interval_start"]) for r in runs)
        ends = sorted(datetime.fromisoformat(r["data_interval_end"]) for r in runs)
        assert len(starts) == 4 and all(
            e - s == timedelta(hours=1) for s, e in zip(starts, ends, strict=True)
        )
        assert list(zip(starts, ends, strict=True)) == INTERVALS
        since, until = starts[0].isoformat(), ends[-1].isoformat()
        backfilled = snapshot(running.results_dsn, since, until)
        in_range = (
            "SELECT count(DISTINCT interval_start) FROM coord.runs "
            "WHERE interval_start >= %s AND interval_end <= %s"
        )
        assert count(running.results_dsn, in_range, since, until) == 4
        assert len(backfilled["sessions"]) > 0

        _backfill(running.stack, "--reprocess-behavior", "completed")
        assert snapshot(running.results_dsn, since, until) == backfilled

        alone_runs.result()
        assert snapshot(alone_dsn, since, until) == backfilled


def test_runs_triggered_through_the_rest_api(running: Running) -> None:
    stack = running.stack
    bad = stack.api(
        "POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"session_slack_minutes": -5}}
    )
    assert bad.status_code == 400
    assert "session_slack_minutes" in bad.json()["detail"]
    bad_window = stack.api(
        "POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"window_start": "yesterday"}}
    )
    assert bad_window.status_code == 400 and "window_start" in bad_window.json()["detail"]

    conf = {
        "window_start": "2025-10-24T08:00:00+00:00",
        "window_end": "2025-10-24T10:00:00+00:00",
        "source": "files",
        "input_paths": [str(REAL_SAMPLE)],
        "critical_failure_threshold": 0.2,
        "alert_confidence": 0.9,
        "llm": False,
    }
    reply = stack.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
    assert reply.status_code == 200, reply.text
    run_id = reply.json()["dag_run_id"]
    stack.wait_for_runs(DAG_ID, [run_id])

    window = ("2025-10-24T08:00:00+00:00", "2025-10-24T10:00:00+00:00")
    dsn = running.results_dsn
    assert (
        count(
            dsn,
            "SELECT count(*) FROM coord.sessions WHERE interval_start = %s AND interval_end = %s",
            *window,
        )
        > 0
    )
    assert count(dsn, "SELECT count(*) FROM coord.analysis_results WHERE interval_start = %s", window[0]) == 1
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT actor, details FROM coord.audit_log WHERE run_id = %s AND action = 'run_started'",
            (run_id,),
        ).fetchone()
        status = conn.execute(
            "SELECT status, run_type, triggered_by FROM coord.runs WHERE run_id = %s", (run_id,)
        ).fetchone()
    assert row is not None and row[0] == "airflow:manual:coord-admin"
    assert row[1]["conf"] == conf
    assert status == ("success", "manual", "coord-admin")
