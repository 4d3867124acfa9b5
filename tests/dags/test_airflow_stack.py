"""Against a real Airflow (`airflow standalone`: API server, scheduler, dag-processor): a backfill
over several hourly intervals and a run triggered through the REST API, scheduled together once
for the module (the scheduler's waits overlap); the tests read what they wrote."""

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
from tests.dags.airflow_env import DAG_ID, AirflowEnv, make_airflow_env
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
# The run triggered through the REST API: a window of its own, outside the backfill's.
REST_CONF = {
    "window_start": "2025-10-24T08:00:00+00:00",
    "window_end": "2025-10-24T10:00:00+00:00",
    "source": "files",
    "input_paths": [str(REAL_SAMPLE)],
    "critical_failure_threshold": 0.2,
    "alert_confidence": 0.9,
    "llm": False,
}


@dataclass
class Scheduled:
    stack: AirflowStack
    results_dsn: str
    backfill_runs: list[dict[str, Any]]
    rest_run_id: str
    # The backfill's intervals ran one at a time, each alone, in one interpreter into another
    # database while the scheduler ran them (what both write to besides, the feed folder and the
    # Redis cache, holds the same bytes whichever writes first).
    alone_dsn: str
    # The same in-process runs, writing into the scheduler's results database.
    rerun: AirflowEnv


def _shared_config(folder: Path) -> dict[str, str]:
    """Configuration both the backfill and the one-interval-at-a-time runs share (same output places)."""
    return {"AIRFLOW_VAR_COORD_MISP_FEED_DIR": str(folder / "misp-feed")}


@pytest.fixture(scope="module")
def scheduled(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server_dsn: str,
    redis_server_url: str,
    airflow_servers: None,
) -> Iterator[Scheduled]:
    """The backfill and the REST-triggered run, scheduled together and finished."""
    home = tmp_path_factory.mktemp("airflow-stack") / "home"
    variables = {
        "AIRFLOW_VAR_COORD_INPUT_PATHS": str(REAL_SAMPLE),
        # Only the runs the tests ask for: unpausing the DAG would otherwise also schedule its
        # latest hourly interval (ten more task processes reading an empty window).
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        **_shared_config(home.parent),
    }
    with (
        temporary_database(postgres_server_dsn) as results_dsn,
        temporary_database(postgres_server_dsn) as alone_dsn,
        airflow_with_postgres_metadata(home, results_dsn, postgres_server_dsn, redis_server_url) as cli,
        airflow_standalone(cli, extra_env=variables) as stack,
        ThreadPoolExecutor(1) as background,
    ):
        (home.parent / "alone-airflow").mkdir()
        alone = make_airflow_env(
            home.parent / "alone-airflow", alone_dsn, redis_server_url, **_shared_config(home.parent)
        )
        alone_runs = background.submit(
            run_intervals_in_process, alone, INTERVALS, {"input_paths": [str(REAL_SAMPLE)]}
        )
        stack.unpause(DAG_ID)
        stack.cli.run("backfill", "create", "--dag-id", DAG_ID, "--from-date", FROM, "--to-date", TO)
        reply = stack.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": REST_CONF})
        assert reply.status_code == 200, reply.text
        rest_run_id = str(reply.json()["dag_run_id"])
        backfill_runs = stack.wait_for_runs(DAG_ID, run_type="backfill", expected=len(INTERVALS))
        stack.wait_for_runs(DAG_ID, [rest_run_id])
        alone_runs.result()
        yield Scheduled(
            stack,
            results_dsn,
            backfill_runs,
            rest_run_id,
            alone_dsn,
            make_airflow_env(alone.home, results_dsn, redis_server_url, **_shared_config(home.parent)),
        )


def test_backfill_equals_intervals_alone_and_is_idempotent(scheduled: Scheduled) -> None:
    runs = scheduled.backfill_runs
    starts = sorted(datetime.fromisoformat(r["data_interval_start"]) for r in runs)
    ends = sorted(datetime.fromisoformat(r["data_interval_end"]) for r in runs)
    assert len(starts) == len(INTERVALS) and all(
        e - s == timedelta(hours=1) for s, e in zip(starts, ends, strict=True)
    )
    assert list(zip(starts, ends, strict=True)) == INTERVALS
    since, until = starts[0].isoformat(), ends[-1].isoformat()
    backfilled = snapshot(scheduled.results_dsn, since, until)
    in_range = (
        "SELECT count(DISTINCT interval_start) FROM coord.runs "
        "WHERE interval_start >= %s AND interval_end <= %s"
    )
    assert count(scheduled.results_dsn, in_range, since, until) == len(INTERVALS)
    assert len(backfilled["sessions"]) > 0
    assert snapshot(scheduled.alone_dsn, since, until) == backfilled

    # Rerunning a backfilled interval (the DAG's tasks, as a reprocessing backfill runs them) over
    # what the scheduler wrote changes no row (the busiest one: every interval runs the same code).
    run_intervals_in_process(scheduled.rerun, INTERVALS[:1], {"input_paths": [str(REAL_SAMPLE)]})
    assert snapshot(scheduled.results_dsn, since, until) == backfilled


def test_runs_triggered_through_the_rest_api(scheduled: Scheduled) -> None:
    stack = scheduled.stack
    bad = stack.api(
        "POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"session_slack_minutes": -5}}
    )
    assert bad.status_code == 400
    assert "session_slack_minutes" in bad.json()["detail"]
    bad_window = stack.api(
        "POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": {"window_start": "yesterday"}}
    )
    assert bad_window.status_code == 400 and "window_start" in bad_window.json()["detail"]

    run_id = scheduled.rest_run_id
    window = (REST_CONF["window_start"], REST_CONF["window_end"])
    dsn = scheduled.results_dsn
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
    assert row[1]["conf"] == REST_CONF
    assert status == ("success", "manual", "coord-admin")
