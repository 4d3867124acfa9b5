"""Run rows tell the truth: each try's own counts, failed with the reason, one run of an interval at once."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

import psycopg
import pytest

from coord_core.contracts.window import DataWindow
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore, RunRecord
from coord_core.store.session_limits import connect
from tests.dags.airflow_env import airflow_conn_uri

if TYPE_CHECKING:
    from airflow.sdk import Context

WINDOW = DataWindow(start=datetime(2025, 10, 24, 4, tzinfo=UTC), end=datetime(2025, 10, 24, 5, tzinfo=UTC))
DAG = "dshield_coordination"


def _run(run_id: str, try_number: int = 1) -> RunRecord:
    return RunRecord(
        dag_id=DAG, run_id=run_id, try_number=try_number, source_kind="files", source_locations=["/x"],
        source_query=None, code_version="c", parameters={},
    )  # fmt: skip


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    return ResultsStore(pg_conn)


def _row(store: ResultsStore) -> dict[str, Any]:
    cur = store.conn.execute("SELECT * FROM coord.runs WHERE dag_id = %s", (DAG,))
    names = [c.name for c in cur.description or ()]
    row = cur.fetchone()
    assert row is not None
    return dict(zip(names, row, strict=True))


def test_a_new_try_does_not_inherit_an_earlier_runs_counts(store: ResultsStore) -> None:
    store.start_run(WINDOW, _run("scheduled__1"))
    store.update_run(DAG, WINDOW, event_count=10, quarantined_count=2, session_count=3, campaign_count=1,
                     input_fingerprint="f1", result_sha256="r1", dq_gate_passed=True)  # fmt: skip
    store.start_run(WINDOW, _run("manual__2"))
    row = _row(store)
    assert (row["run_id"], row["status"]) == ("manual__2", "running")
    for column in ("event_count", "quarantined_count", "session_count", "campaign_count",
                   "input_fingerprint", "result_sha256", "dq_gate_passed", "failure_reason"):  # fmt: skip
        assert row[column] is None, column


def test_a_failed_run_is_marked_with_its_reason_and_never_another_runs_row(store: ResultsStore) -> None:
    store.start_run(WINDOW, _run("manual__2"))
    assert not store.mark_run_failed(DAG, WINDOW, "manual__other", "extract: OSError: gone")
    assert _row(store)["status"] == "running"
    assert store.mark_run_failed(DAG, WINDOW, "manual__2", "extract: OSError: gone")
    row = _row(store)
    assert (row["status"], row["failure_reason"]) == ("failed", "extract: OSError: gone")


def test_a_concurrent_run_of_the_interval_waits_for_the_one_holding_it(postgres_dsn: str) -> None:
    with connect(postgres_dsn) as setup:
        migrate(setup)
    order: list[str] = []
    first_holds = threading.Event()

    def first() -> None:
        with connect(postgres_dsn) as conn, ResultsStore(conn).interval_lock(DAG, WINDOW):
            order.append("first in")
            first_holds.set()
            time.sleep(0.5)
            order.append("first out")

    def second() -> None:
        first_holds.wait(10)
        with connect(postgres_dsn) as conn, ResultsStore(conn).interval_lock(DAG, WINDOW, poll_seconds=0.05):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert order == ["first in", "first out", "second in"]
    other = DataWindow(start=WINDOW.end, end=datetime(2025, 10, 24, 6, tzinfo=UTC))
    with (  # other intervals never wait
        connect(postgres_dsn) as a,
        connect(postgres_dsn) as b,
        ResultsStore(a).interval_lock(DAG, WINDOW),
        ResultsStore(b).interval_lock(DAG, other),
    ):
        pass


def _failed_task_context(run_id: str, try_number: int, task_id: str, error: BaseException) -> dict[str, Any]:
    """What Airflow hands a failure callback: the run, the task's try and its exception."""
    return {
        "params": {},
        "dag_run": SimpleNamespace(dag_id=DAG, run_id=run_id, conf={}, run_type="manual"),
        "ti": SimpleNamespace(try_number=try_number, task_id=task_id),
        "data_interval_start": WINDOW.start,
        "data_interval_end": WINDOW.end,
        "exception": error,
    }


def test_the_failure_callback_marks_the_run_failed_with_the_task_and_error(
    store: ResultsStore, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coord_airflow import pipeline_tasks

    store.start_run(WINDOW, _run("manual__2"))
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    error = OSError("Compressed file ended before the end-of-stream marker was reached")
    context = _failed_task_context("manual__2", 3, "extract", error)
    pipeline_tasks.mark_run_failed(cast("Context", context))
    row = _row(store)
    assert row["status"] == "failed"
    assert row["failure_reason"] == (
        "extract: OSError: Compressed file ended before the end-of-stream marker was reached"
    )


def test_failed_tries_are_kept_through_the_runs_retries_and_dropped_by_a_new_run(
    store: ResultsStore, postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coord_airflow import pipeline_tasks

    store.start_run(WINDOW, _run("manual__2"))
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    context = _failed_task_context("manual__2", 1, "extract", OSError("server gone"))
    pipeline_tasks.record_failed_try(cast("Context", context))
    pipeline_tasks.record_failed_try(cast("Context", context))  # recorded once
    store.start_run(WINDOW, _run("manual__2", try_number=2))  # the retry of the same run
    row = _row(store)
    assert row["status"] == "running" and row["failure_reason"] is None
    assert [(t["task"], t["try_number"], t["reason"]) for t in row["failed_tries"]] == [
        ("extract", 1, "extract: OSError: server gone")
    ]
    context["ti"] = SimpleNamespace(try_number=2, task_id="load")
    context["exception"] = ValueError("bad")
    pipeline_tasks.mark_run_failed(cast("Context", context))
    row = _row(store)
    assert (row["status"], row["failure_reason"]) == ("failed", "load: ValueError: bad")
    assert [(t["task"], t["try_number"]) for t in row["failed_tries"]] == [("extract", 1), ("load", 2)]
    # Another run's callback never writes into this run's row; a new run starts with no failed tries.
    context["dag_run"] = SimpleNamespace(dag_id=DAG, run_id="manual__other", conf={}, run_type="manual")
    pipeline_tasks.record_failed_try(cast("Context", context))
    assert len(_row(store)["failed_tries"]) == 2
    store.start_run(WINDOW, _run("manual__3"))
    assert _row(store)["failed_tries"] == []
