"""Run the main DAG's tasks for a few data intervals in one fresh interpreter, without Airflow's
processes or metadata database: what `airflow dags test` runs for each, task by task in the DAG's
order, for the per-interval expectations of a backfill at a fraction of the cost. The trend DAG's
tasks run the same way, once per report day (its ``day`` param).

The tasks are the DAG's own callables, read from the DAG file; connections and Variables come from
the environment (``AIRFLOW_CONN_*``, ``AIRFLOW_VAR_*``) as for the Airflow CLI.
"""

from __future__ import annotations

import inspect
import json
import logging
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tests.dags.airflow_env import DAG_ID, REPO, AirflowEnv

TRENDS_DAG_ID = "coord_trends"


@dataclass(frozen=True)
class _DagRun:
    """The attributes of a DAG run the tasks read."""

    dag_id: str
    run_id: str
    conf: dict[str, Any] = field(default_factory=dict)
    run_type: str = "manual"
    triggering_user_name: str | None = None


@dataclass(frozen=True)
class _TaskInstance:
    """The attributes of a task instance the tasks (and their lineage reports) read."""

    task_id: str
    dag_id: str = DAG_ID
    try_number: int = 1


def run_intervals_in_process(
    airflow: AirflowEnv,
    intervals: Sequence[tuple[datetime, datetime]],
    conf: Mapping[str, Any],
    *,
    tasks: Sequence[str] = (),
    interval_confs: Sequence[Mapping[str, Any]] = (),
    timeout_s: int = 900,
) -> str:
    """Run the DAG's tasks (``tasks`` only, when given) for each interval, one after another, with
    ``conf`` plus the interval as its window (plus the interval's entry of ``interval_confs``, when
    given: e.g. each interval's own input files); returns the log, fails with it if any task raises."""
    if interval_confs and len(interval_confs) != len(intervals):
        raise ValueError("interval_confs needs one entry per interval")
    request = {
        "intervals": [[start.isoformat(), end.isoformat()] for start, end in intervals],
        "conf": dict(conf),
        "tasks": list(tasks),
        "interval_confs": [dict(c) for c in interval_confs],
    }
    return _run(airflow, request, timeout_s)


def run_trend_days_in_process(airflow: AirflowEnv, days: Sequence[date]) -> str:
    """Run the trend DAG's tasks once per day in ``days`` (its ``day`` param), in order."""
    return _run(airflow, {"dag_id": TRENDS_DAG_ID, "days": [d.isoformat() for d in days]})


def _run(airflow: AirflowEnv, request: Mapping[str, Any], timeout_s: int = 900) -> str:
    env = {**airflow.env, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.dags.in_process"],
        input=json.dumps(request),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def _dag(dag_id: str = DAG_ID) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def _call(task: Any, context: dict[str, Any]) -> None:
    if inspect.signature(task.python_callable).parameters:
        task.python_callable(**context)
    else:
        task.python_callable()


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    request = json.loads(sys.stdin.read())
    if request.get("dag_id") == TRENDS_DAG_ID:
        _trend_days(request["days"])
        return
    dag = _dag()
    tasks = [t for t in dag.topological_sort() if t.task_id in request["tasks"] or not request["tasks"]]
    assert {t.task_id for t in tasks} >= set(request["tasks"]), request["tasks"]
    overlays = request.get("interval_confs") or [{}] * len(request["intervals"])
    for (start, end), overlay in zip(request["intervals"], overlays, strict=True):
        conf = {**request["conf"], **overlay, "window_start": start, "window_end": end}
        run = _DagRun(DAG_ID, f"manual__{end}", conf)
        params = {**dag.params.dump(), **conf}
        for task in tasks:
            context = {
                "params": params,
                "data_interval_start": datetime.fromisoformat(start),
                "data_interval_end": datetime.fromisoformat(end),
                "dag_run": run,
                "ti": _TaskInstance(task.task_id),
            }
            _call(task, context)


def _trend_days(days: Sequence[str]) -> None:
    dag = _dag(TRENDS_DAG_ID)
    for day in days:
        run = _DagRun(TRENDS_DAG_ID, f"manual__{day}", {"day": day})
        params = {**dag.params.dump(), "day": day}
        for task in dag.topological_sort():
            context = {"params": params, "dag_run": run, "ti": _TaskInstance(task.task_id, TRENDS_DAG_ID)}
            _call(task, context)


if __name__ == "__main__":
    main()
