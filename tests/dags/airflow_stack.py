"""A real Airflow (api-server, scheduler, dag-processor, triggerer) via `airflow standalone`.

Started in its own process session on free loopback ports with its own AIRFLOW_HOME; stopped
by signalling that session (SIGTERM, then SIGKILL if it does not finish in time). Only
processes this fixture started are signalled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from coord_core.embedded_services import free_port
from tests.dags.airflow_env import AIRFLOW, AirflowEnv, make_airflow_env

ADMIN_USER = "coord-admin"


@dataclass
class AirflowStack:
    base_url: str
    password: str
    cli: AirflowEnv
    log_path: Path
    _token: str | None = field(default=None, repr=False)

    def token(self) -> str:
        if self._token is None:
            reply = httpx.post(
                f"{self.base_url}/auth/token",
                json={"username": ADMIN_USER, "password": self.password},
                timeout=30,
            )
            reply.raise_for_status()
            self._token = str(reply.json()["access_token"])
        return self._token

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.request(method, f"{self.base_url}/api/v2{path}", headers=headers, timeout=60, **kwargs)

    def wait_for_backfills_completed(self, dag_id: str, timeout: float = 120) -> None:
        """The scheduler closes a backfill a loop after its last run; only then may another start."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = self.api("GET", "/backfills", params={"dag_id": dag_id, "limit": 100})
            reply.raise_for_status()
            if all(b.get("completed_at") for b in reply.json()["backfills"]):
                return
            time.sleep(1)
        raise AssertionError(f"backfills of {dag_id} not completed after {timeout}s")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False}).raise_for_status()

    def dag_runs(self, dag_id: str, page: int = 100) -> list[dict[str, Any]]:
        """Every run of the DAG (the API answers a page at a time)."""
        runs: list[dict[str, Any]] = []
        while True:
            reply = self.api("GET", f"/dags/{dag_id}/dagRuns", params={"limit": page, "offset": len(runs)})
            reply.raise_for_status()
            batch = reply.json()["dag_runs"]
            runs.extend(batch)
            if len(batch) < page:
                return runs

    def wait_for_runs(
        self,
        dag_id: str,
        run_ids: list[str] | None = None,
        *,
        run_type: str | None = None,
        expected: int | None = None,
        timeout: float = 420,
    ) -> list[dict[str, Any]]:
        """Poll until the selected runs are finished; fail on a failed run or timeout."""
        deadline = time.monotonic() + timeout
        runs: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            runs = [
                r
                for r in self.dag_runs(dag_id)
                if (run_ids is None or r["dag_run_id"] in set(run_ids))
                and (run_type is None or r["run_type"] == run_type)
            ]
            failed = [r for r in runs if r["state"] == "failed"]
            if failed:
                raise AssertionError(f"runs failed: {[r['dag_run_id'] for r in failed]}; log {self.log_path}")
            done = [r for r in runs if r["state"] == "success"]
            if runs and len(done) == len(runs) and (expected is None or len(done) >= expected):
                return runs
            time.sleep(2)
        states = [(r["dag_run_id"], r["state"]) for r in runs]
        raise AssertionError(f"runs not finished in {timeout}s: {states}; log {self.log_path}")


def api_server_env(port: int, passwords_file: Path) -> dict[str, str]:
    """An API server on ``127.0.0.1:port`` that task processes reach, with the admin's password file."""
    return {
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
    }


@contextmanager
def airflow_standalone(cli: AirflowEnv, *, extra_env: dict[str, str] | None = None) -> Iterator[AirflowStack]:
    port = free_port()
    password = "pw-" + os.urandom(8).hex()
    passwords_file = cli.home / "passwords.json"
    passwords_file.write_text(json.dumps({ADMIN_USER: password}))
    env = dict(cli.env)
    env.update(
        PATH=f"{Path(AIRFLOW).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        **api_server_env(port, passwords_file),
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
        AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="2",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        # As `coord local-ui` runs it: task processes forked from workers with the pipeline imported.
        AIRFLOW__CORE__EXECUTOR="coord_airflow.warm_executor.WarmLocalExecutor",
    )
    env.update(extra_env or {})
    log_path = cli.home / "standalone.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [AIRFLOW, "standalone"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    stack = AirflowStack(
        base_url=f"http://127.0.0.1:{port}",
        password=password,
        cli=AirflowEnv(home=cli.home, env=env),
        log_path=log_path,
    )
    try:
        _wait_healthy(stack, process)
        yield stack
    finally:
        # SIGTERM to the session: after SIGINT (to the leader or the session) it was still running
        # a minute later in two of three runs on the development machine (then SIGTERM stopped it
        # within 15 s); SIGTERM first took 14-24 s.
        stop_session(process, ((signal.SIGTERM, 30),))


def _wait_healthy(stack: AirflowStack, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"airflow standalone exited ({process.returncode}); log {stack.log_path}")
        try:
            health = httpx.get(f"{stack.base_url}/api/v2/monitor/health", timeout=5).json()
            parts = ("metadatabase", "scheduler", "dag_processor")
            if all(health.get(p, {}).get("status") == "healthy" for p in parts):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(1)
    raise AssertionError(f"airflow standalone not healthy after {timeout}s; log {stack.log_path}")


def stop_session(
    process: subprocess.Popen[bytes],
    escalation: tuple[tuple[signal.Signals, float], ...] = ((signal.SIGINT, 60), (signal.SIGTERM, 15)),
) -> None:
    """Signal the process session we started, escalating (finally SIGKILL) until it is gone."""
    pgid = process.pid  # start_new_session: the process leads its own group
    started = time.monotonic()
    for sig, grace in (*escalation, (signal.SIGKILL, 5)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(pgid, 0)
            except ProcessLookupError:
                print(f"process session {pgid} stopped by {sig.name} in {time.monotonic() - started:.1f}s")
                return
            time.sleep(0.3)


@contextmanager
def api_server_alone(cli: AirflowEnv, log_path: Path, user: str, password: str) -> Iterator[tuple[str, str]]:
    """``airflow api-server`` alone on ``AIRFLOW__API__PORT``: (base URL, a JWT for ``user``);
    stopped by its process session."""
    port = cli.env["AIRFLOW__API__PORT"]
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [AIRFLOW, "api-server"], env=cli.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-3000:]
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        token = httpx.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=30)
        token.raise_for_status()
        yield base, str(token.json()["access_token"])
    finally:
        stop_session(process, ((signal.SIGINT, 30),))


@contextmanager
def api_server_for(
    root: Path, postgres_dsn: str, redis_url: str, user: str, role: str, **extra: str
) -> Iterator[tuple[str, str]]:
    """``api_server_alone`` on the test's databases (SQLite metadata, migrated) for one user of the
    simple auth manager with ``role`` and a generated password: (base URL, a JWT for the user)."""
    password = "pw-" + os.urandom(6).hex()
    (root / "passwords.json").write_text(json.dumps({user: password}))
    cli = make_airflow_env(
        root / "airflow",
        postgres_dsn,
        redis_url,
        AIRFLOW__API__PORT=str(free_port()),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{user}:{role}",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(root / "passwords.json"),
        **extra,
    )
    cli.home.mkdir()
    cli.run("db", "migrate")
    with api_server_alone(cli, root / "api-server.log", user, password) as served:
        yield served
