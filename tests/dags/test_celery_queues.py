"""CeleryExecutor with a real Redis broker and two workers: every task runs on its own queue,
``narrate`` on the ``gpu`` worker (against the Ollama emulator), everything else on ``default``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from coord_core.embedded_services import EmbeddedRedis
from tests.conftest import REAL_SAMPLE, temporary_database
from tests.dags.airflow_celery import airflow_celery_cluster, ran_on
from tests.dags.airflow_env import DAG_ID, ollama_connection
from tests.dags.airflow_stack import AirflowStack
from tests.dags.conftest import airflow_with_postgres_metadata
from tests.dags.snapshot import count
from tests.emulators.ollama import EmulatedModel, OllamaEmulator

DEFAULT_QUEUE_TASKS = [
    "migrate_schema",
    "extract",
    "validate",
    "analyze",
    "load",
    "publish_redis",
    "publish_misp",
    "publish_elasticsearch",
    "finish",
]
GPU_QUEUE_TASKS = ["narrate"]
MODEL = "llama3.2:3b"


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_server_dsn: str, redis_server_url: str, airflow_servers: None
) -> Iterator[tuple[AirflowStack, str, OllamaEmulator]]:
    broker = EmbeddedRedis(tmp_path / "broker")
    broker_url = broker.start().rsplit("/", 1)[0] + "/0"
    try:
        with (
            OllamaEmulator([EmulatedModel(MODEL)]) as ollama,
            temporary_database(postgres_server_dsn) as results_dsn,
            airflow_with_postgres_metadata(
                tmp_path / "home", results_dsn, postgres_server_dsn, redis_server_url
            ) as cli,
        ):
            cli.env["AIRFLOW_CONN_COORD_OLLAMA"] = ollama_connection(ollama.host, [MODEL])
            with airflow_celery_cluster(cli, broker_url, queues=["default", "gpu"]) as stack:
                stack.unpause(DAG_ID)
                yield stack, results_dsn, ollama
    finally:
        broker.stop()


def test_each_task_runs_on_its_queue(cluster: tuple[AirflowStack, str, OllamaEmulator]) -> None:
    stack, results_dsn, ollama = cluster
    conf = {
        "window_start": "2025-10-24T03:00:00+00:00",
        "window_end": "2025-10-24T05:00:00+00:00",
        "input_paths": [str(REAL_SAMPLE)],
        "llm": True,
    }
    reply = stack.api("POST", f"/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
    assert reply.status_code == 200, reply.text
    run_id = reply.json()["dag_run_id"]
    stack.wait_for_runs(DAG_ID, [run_id], timeout=480)
    instances = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    queues = {ti["task_id"]: ti["queue"] for ti in instances}
    assert sorted(queues) == sorted(DEFAULT_QUEUE_TASKS + GPU_QUEUE_TASKS)
    workers = ran_on(stack, DAG_ID, run_id, DEFAULT_QUEUE_TASKS + GPU_QUEUE_TASKS)
    for task_id in DEFAULT_QUEUE_TASKS:
        assert queues[task_id] == "default"
        assert workers[task_id] == "default-worker"
    assert queues["narrate"] == "gpu"
    assert workers["narrate"] == "gpu-worker"
    # The gpu worker reached Ollama and wrote one narrative per stored campaign.
    campaigns = count(results_dsn, "SELECT count(*) FROM coord.campaigns")
    assert campaigns >= 1
    digest = ollama.models[MODEL].digest
    narrated = (
        "SELECT count(*) FROM coord.narratives WHERE llm_status = 'ok' AND model = %s AND model_digest = %s"
    )
    assert count(results_dsn, narrated, MODEL, digest) == campaigns
    assert len(ollama.chat_requests()) == campaigns
    assert (
        count(
            results_dsn, "SELECT count(*) FROM coord.llm_runs WHERE status = 'ok' AND worker = 'gpu-worker'"
        )
        == 1
    )
