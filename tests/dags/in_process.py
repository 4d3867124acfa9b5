"""Run the main DAG's tasks for a few data intervals in one fresh interpreter, without Airflow's
processes or metadata database: what `airflow dags test` runs for each, task by task in the DAG's
order, for the per-interval expectations of a backfill at a fraction of the cost. The trend DAG's
tasks run the same way, once per report day (its ``day`` param).

The tasks are the DAG's own callables, read from the DAG file; connections and Variables come from
the environment (``AIRFLOW_CONN_*``, ``AIRFLOW_VAR_*``) as for the Airflow CLI. After a task succeeds
its ``on_success_callback`` runs with the task's return value as its XCom, as the task runner runs
it; the DAG's own callbacks (run failed) are Airflow's, tested with ``airflow dags test``.

With ``tries`` a task is run as Airflow's task runner runs its tries (``run_with_tries``): each try
under the task's ``execution_timeout`` through the task runner's own ``timeout`` (SIGALRM in the
task's process: Airflow 3 enforces it there, in ``task_runner._execute_task``, not in the scheduler),
a failed try followed by the task's ``on_retry_callback`` and, ``retry_delay`` after the failure,
the next try (the callback does not delay it: Airflow reports the state before running callbacks),
the last failed try by ``on_failure_callback``. Each try is reported on stdout as a ``TRY_EVENT``
line (JSON with wall-clock times) for the caller to time. Without ``tries`` each task's wall time is
reported as a ``TASK_TIME`` line (JSON: interval index, task id, seconds), e.g. for a backfill's
per-interval time curve (``task_times``).
"""

from __future__ import annotations

import inspect
import json
import logging
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
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
    """The attributes of a task instance the tasks, their callbacks and lineage reports read."""

    task_id: str
    dag_id: str = DAG_ID
    try_number: int = 1
    # What each task of the run returned so far (Airflow keeps it as the task's XCom).
    returned: Mapping[str, Any] = field(default_factory=dict)

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value") -> Any:
        """A task's return value, as Airflow's XCom gives it to a callback."""
        assert key == "return_value", key
        return self.returned.get(task_ids or self.task_id)


TRENDS_DAG_ID = "coord_trends"
TRY_EVENT = "coord-try-event "
TASK_TIME = "coord-task-time "


def _request(
    intervals: Sequence[tuple[datetime, datetime]], conf: Mapping[str, Any], tasks: Sequence[str], **more: Any
) -> str:
    return json.dumps(
        {
            "intervals": [[start.isoformat(), end.isoformat()] for start, end in intervals],
            "conf": dict(conf),
            "tasks": list(tasks),
            **more,
        }
    )


def _env(airflow: AirflowEnv) -> dict[str, str]:
    return {**airflow.env, "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}


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
    extra = {"interval_confs": [dict(c) for c in interval_confs]}
    return _run(airflow, _request(intervals, conf, tasks, **extra), timeout_s)


def task_times(output: str) -> list[dict[str, float]]:
    """Per interval (in run order) each task's wall seconds, read from the ``TASK_TIME`` lines."""
    times: list[dict[str, float]] = []
    for line in output.splitlines():
        if line.startswith(TASK_TIME):
            event = json.loads(line[len(TASK_TIME) :])
            while len(times) <= event["interval"]:
                times.append({})
            times[event["interval"]][event["task"]] = event["seconds"]
    return times


def run_trend_days_in_process(airflow: AirflowEnv, days: Sequence[date], *, timeout_s: int = 900) -> str:
    """Run the trend DAG's tasks once per day in ``days`` (its ``day`` param), in order."""
    confs = [{"day": d.isoformat()} for d in days]
    run_ids = [f"manual__{d.isoformat()}" for d in days]
    return run_dag_in_process(airflow, TRENDS_DAG_ID, confs, run_ids, timeout_s=timeout_s)


def run_dag_in_process(
    airflow: AirflowEnv,
    dag_id: str,
    confs: Sequence[Mapping[str, Any]],
    run_ids: Sequence[str] = (),
    *,
    timeout_s: int = 900,
) -> str:
    """Run every task of a DAG without data intervals (trends, maintenance) once per conf, in order."""
    ids = list(run_ids) or [f"manual__{number}" for number in range(len(confs))]
    request = json.dumps({"dag_id": dag_id, "confs": [dict(c) for c in confs], "run_ids": ids})
    return _run(airflow, request, timeout_s)


def _run(airflow: AirflowEnv, request: str, timeout_s: int = 900) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tests.dags.in_process"],
        input=request,
        env=_env(airflow),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    return output


def start_with_tries(
    airflow: AirflowEnv,
    interval: tuple[datetime, datetime],
    conf: Mapping[str, Any],
    *,
    retry_delay_s: float | None = None,
) -> subprocess.Popen[str]:
    """Start the DAG's tasks for one interval with tries, retries and their callbacks (see the
    module doc); ``retry_delay_s`` replaces the tasks' ``retry_delay`` (a drill scaled down). The
    caller reads the combined output line by line (``TRY_EVENT`` lines time each try)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.dags.in_process"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_env(airflow),
        cwd=REPO,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(_request([interval], conf, (), tries=True, retry_delay_s=retry_delay_s))
    process.stdin.close()
    return process


def _dag(dag_id: str = DAG_ID) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.dags[dag_id]


def _call(task: Any, context: dict[str, Any]) -> Any:
    """The task's callable, then its success callbacks: a task run without tries."""
    value = _execute(task, context)
    _succeeded(task, context, value)
    return value


def _execute(task: Any, context: dict[str, Any]) -> Any:
    if inspect.signature(task.python_callable).parameters:
        return task.python_callable(**context)
    return task.python_callable()


def _succeeded(task: Any, context: dict[str, Any], value: Any) -> None:
    """The task's success callbacks, as the task runner runs them after the task (outside its
    timeout), with the returned value as the task's XCom."""
    ti = context["ti"]
    returned = {**ti.returned, task.task_id: value}
    context = {**context, "ti": _TaskInstance(ti.task_id, ti.dag_id, ti.try_number, returned)}
    for callback in _callbacks(task, "on_success_callback"):
        callback(context)


def _callbacks(task: Any, name: str) -> list[Any]:
    found = getattr(task, name, None)
    if not found:
        return []
    return list(found) if isinstance(found, (list, tuple)) else [found]


def _report(**event: Any) -> None:
    print(TRY_EVENT + json.dumps(event), flush=True)


def run_with_tries(task: Any, context: dict[str, Any], retry_delay_s: float | None) -> Any:
    """One task as the task runner runs its tries (module doc): its return value, or the last
    try's error."""
    from airflow.sdk.execution_time.timeout import timeout

    delay = retry_delay_s if retry_delay_s is not None else task.retry_delay.total_seconds()
    tries = (task.retries or 0) + 1
    for number in range(1, tries + 1):
        ti = _TaskInstance(task.task_id, try_number=number, returned=context["ti"].returned)
        this_try = {**context, "ti": ti}
        started = time.time()
        _report(task=task.task_id, try_number=number, event="started", at=started)
        try:
            if task.execution_timeout:
                with timeout(task.execution_timeout.total_seconds()):  # type: ignore[no-untyped-call]
                    value = _execute(task, this_try)
            else:
                value = _execute(task, this_try)
        except Exception as exc:
            failed = time.time()
            _report(
                task=task.task_id, try_number=number, event="failed", at=failed,
                error=f"{type(exc).__name__}: {exc}",
            )  # fmt: skip
            final = number == tries
            for callback in _callbacks(task, "on_failure_callback" if final else "on_retry_callback"):
                callback({**this_try, "exception": exc})
            _report(task=task.task_id, try_number=number, event="recorded", at=time.time())
            if final:
                raise
            time.sleep(max(0.0, failed + delay - time.time()))
            continue
        _report(task=task.task_id, try_number=number, event="succeeded", at=time.time())
        _succeeded(task, this_try, value)
        return value
    raise AssertionError("unreachable: the last try returns or raises")


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    request = json.loads(sys.stdin.read())
    if "confs" in request:
        _runs_of(request["dag_id"], request["confs"], request["run_ids"])
        return
    dag = _dag()
    tasks = [t for t in dag.topological_sort() if t.task_id in request["tasks"] or not request["tasks"]]
    assert {t.task_id for t in tasks} >= set(request["tasks"]), request["tasks"]
    overlays = request.get("interval_confs") or [{}] * len(request["intervals"])
    for number, ((start, end), overlay) in enumerate(zip(request["intervals"], overlays, strict=True)):
        conf = {**request["conf"], **overlay, "window_start": start, "window_end": end}
        run = _DagRun(DAG_ID, f"manual__{end}", conf)
        params = {**dag.params.dump(), **conf}
        returned: dict[str, Any] = {}
        for task in tasks:
            context = {
                "params": params,
                "data_interval_start": datetime.fromisoformat(start),
                "data_interval_end": datetime.fromisoformat(end),
                "dag_run": run,
                "ti": _TaskInstance(task.task_id, returned=dict(returned)),
            }
            if request.get("tries"):
                returned[task.task_id] = run_with_tries(task, context, request.get("retry_delay_s"))
            else:
                started = time.perf_counter()
                returned[task.task_id] = _call(task, context)
                seconds = round(time.perf_counter() - started, 4)
                print(
                    TASK_TIME + json.dumps({"interval": number, "task": task.task_id, "seconds": seconds}),
                    flush=True,
                )


def _runs_of(dag_id: str, confs: Sequence[dict[str, Any]], run_ids: Sequence[str]) -> None:
    dag = _dag(dag_id)
    for run_id, conf in zip(run_ids, confs, strict=True):
        run = _DagRun(dag_id, run_id, conf)
        params = {**dag.params.dump(), **conf}
        returned: dict[str, Any] = {}
        for task in dag.topological_sort():
            ti = _TaskInstance(task.task_id, dag_id, returned=dict(returned))
            returned[task.task_id] = _call(task, {"params": params, "dag_run": run, "ti": ti})


if __name__ == "__main__":
    main()
