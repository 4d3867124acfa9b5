"""Run the main DAG's tasks for a few data intervals in one fresh interpreter, without Airflow's
processes or metadata database: what `airflow dags test` runs for each, task by task in the DAG's
order, for the per-interval expectations of a backfill at a fraction of the cost.

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
from datetime import datetime
from typing import Any

from tests.dags.airflow_env import DAG_ID, REPO, AirflowEnv


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
) -> str:
    """Run the DAG's tasks (``tasks`` only, when given) for each interval, one after another, with
    ``conf`` plus the interval as its window; returns the log, fails with it if any task raises."""
    request = {
        "intervals": [[start.isoformat(), end.isoformat()] for start, end in intervals],
        "conf": dict(conf),
        "tasks": list(tasks),
    }
    env = {**airflow.env, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.dags.in_process"],
        input=json.dumps(request),
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def _dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / f"{DAG_ID}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[DAG_ID]


def _call(task: Any, context: dict[str, Any]) -> None:
    if inspect.signature(task.python_callable).parameters:
        task.python_callable(**context)
    else:
        task.python_callable()


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    request = json.loads(sys.stdin.read())
    dag = _dag()
    tasks = [t for t in dag.topological_sort() if t.task_id in request["tasks"] or not request["tasks"]]
    assert {t.task_id for t in tasks} >= set(request["tasks"]), request["tasks"]
    for start, end in request["intervals"]:
        conf = {**request["conf"], "window_start": start, "window_end": end}
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


if __name__ == "__main__":
    main()
