"""A real Airflow with CeleryExecutor: API server, scheduler, dag-processor and one Celery
worker per queue, with a real Redis broker. Each worker gets ``COORD_WORKER_NAME`` so a task can
say which worker ran it. Every process is started in its own session and stopped by PID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from coord_core.embedded_services import free_port
from tests.dags.airflow_env import AIRFLOW, AirflowEnv
from tests.dags.airflow_stack import (
    ADMIN_USER,
    AirflowStack,
    _wait_healthy,
    api_server_env,
    stop_session,
)


def _celery_result_backend(metadata_url: str) -> str:
    # Celery's database backend takes a SQLAlchemy URL prefixed with "db+".
    return "db+" + metadata_url


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("w") as handle:
        process = subprocess.Popen(
            args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        stop_session(process, ((signal.SIGTERM, 30),))


@contextmanager
def airflow_celery_cluster(cli: AirflowEnv, broker_url: str, queues: list[str]) -> Iterator[AirflowStack]:
    port = free_port()
    password = "pw-" + os.urandom(8).hex()
    passwords_file = cli.home / "passwords.json"
    passwords_file.write_text(f'{{"{ADMIN_USER}": "{password}"}}')
    metadata_url = cli.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    env = dict(cli.env)
    env.update(
        PATH=f"{Path(AIRFLOW).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        AIRFLOW__CORE__EXECUTOR="CeleryExecutor",
        AIRFLOW__CELERY__BROKER_URL=broker_url,
        AIRFLOW__CELERY__RESULT_BACKEND=_celery_result_backend(metadata_url.replace("+psycopg", "")),
        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
        **api_server_env(port, passwords_file),
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
    )
    logs = cli.home / "cluster-logs"
    logs.mkdir(exist_ok=True)
    stack = AirflowStack(
        base_url=f"http://127.0.0.1:{port}",
        password=password,
        cli=AirflowEnv(home=cli.home, env=env),
        log_path=logs,
    )
    with ExitStack() as processes:
        api = processes.enter_context(_process([AIRFLOW, "api-server"], env, logs / "api-server.log"))
        processes.enter_context(_process([AIRFLOW, "scheduler"], env, logs / "scheduler.log"))
        processes.enter_context(_process([AIRFLOW, "dag-processor"], env, logs / "dag-processor.log"))
        for queue in queues:
            worker_env = {
                **env,
                "COORD_WORKER_NAME": f"{queue}-worker",
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            }
            args = [AIRFLOW, "celery", "worker", "--queues", queue, "--celery-hostname", f"{queue}@%h"]
            processes.enter_context(_process(args, worker_env, logs / f"worker-{queue}.log"))
        _wait_healthy(stack, api)
        yield stack


def ran_on(stack: AirflowStack, dag_id: str, run_id: str, task_ids: list[str]) -> dict[str, str]:
    """Which worker ran each task, as each task reported it in its XCom return value."""
    workers = {}
    for task_id in task_ids:
        reply = stack.api(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value"
        )
        reply.raise_for_status()
        value = reply.json()["value"]
        workers[task_id] = (json.loads(value) if isinstance(value, str) else value)["worker"]
    return workers
