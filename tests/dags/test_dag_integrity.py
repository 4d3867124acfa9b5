"""Every DAG file imports cleanly, parses fast, and opens no connection at parse time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

from tests.dags.airflow_env import REPO

PARSE_PROBE = textwrap.dedent(
    """
    import json, socket, sys, time
    def refuse(*args, **kwargs):
        raise AssertionError("a DAG file opened a network connection at parse time")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    from airflow.dag_processing.dagbag import DagBag
    start, cpu_start = time.perf_counter(), time.process_time()
    bag = DagBag(dag_folder=sys.argv[1])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    heavy = sorted(m for m in ("great_expectations", "pandas", "langgraph", "pymisp", "ollama",
                               "elasticsearch", "psycopg", "redis", "numpy", "scipy")
                   if m in sys.modules)
    print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                      "dags": sorted(bag.dag_ids), "seconds": elapsed, "cpu_seconds": cpu, "heavy": heavy,
                      "stats": [[s.file, s.duration.total_seconds()] for s in bag.dagbag_stats]}))
    """
)


def _probe(home: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(REPO / "dags")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "PATH": "/usr/bin:/bin",
        },
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_dags_import_parse_fast_and_stay_offline(tmp_path: Path) -> None:
    probe = _probe(tmp_path)
    assert probe["errors"] == {}
    assert "dshield_coordination" in probe["dags"]  # type: ignore[operator]
    # CPU seconds, not wall: the bound is about the work parsing does, which a loaded machine
    # (other test workers) stretches in wall time but not in CPU time.
    assert probe["cpu_seconds"] < 2.0, f"parsing dags/ took {probe['cpu_seconds']:.2f} CPU seconds"  # type: ignore[operator]
    assert probe["heavy"] == [], f"DAG parsing imported heavy modules: {probe['heavy']}"


def test_main_dag_shape() -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["dshield_coordination"]
    assert dag.catchup is False
    order = [t.task_id for t in dag.topological_sort()]  # type: ignore[no-untyped-call]
    assert order.index("extract") < order.index("validate") < order.index("analyze") < order.index("load")
    assert "publish_redis" in order
    # Every publish step runs after load, in parallel with the others, all before finish.
    tasks = dag.task_dict
    for publish in ("publish_redis", "publish_misp", "publish_elasticsearch"):
        assert tasks[publish].upstream_task_ids == {"load"}
        assert tasks[publish].downstream_task_ids == {"finish"}
    for task in dag.tasks:
        assert (task.retries or 0) >= 1

    # Webhooks: the run's failure, the gate's failure (beside marking the run failed), new campaigns.
    def names(callbacks: object) -> list[str]:
        listed = callbacks if isinstance(callbacks, list) else [callbacks]
        return [getattr(c, "__name__", f"{type(c).__module__}.{type(c).__name__}") for c in listed]

    notifiers = "coord_airflow.notifiers."
    assert names(dag.on_failure_callback) == [notifiers + "RunFailedWebhook"]
    assert names(tasks["validate"].on_failure_callback) == [
        "_mark_run_failed",
        notifiers + "GateFailedWebhook",
    ]
    assert names(tasks["publish_redis"].on_success_callback) == [notifiers + "NewCampaignsWebhook"]
    outlets = {t.task_id: [a.uri for a in t.outlets] for t in dag.tasks if t.outlets}
    assert outlets["load"] == ["postgres://coord-results:5432/coord/coord/campaigns"]
    assert outlets["publish_redis"] == ["redis://coord-cache:6379/0/coord:campaigns:active"]
    assert outlets["publish_misp"] == ["misp://coord-misp/events"]


def test_every_task_is_bounded_in_time() -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    for dag_id in ("dshield_coordination", "coord_maintenance"):
        for task in bag.dags[dag_id].tasks:
            assert task.execution_timeout is not None, f"{dag_id}.{task.task_id} has no execution_timeout"
            assert task.execution_timeout <= timedelta(hours=2)
