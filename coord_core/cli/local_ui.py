"""`coord local-ui`: a working Airflow UI on the embedded servers, in one command (`make ui`).

Starts (or reuses) the embedded PostgreSQL and Redis of ``coord local-run``, migrates Airflow's
metadata database (on that PostgreSQL) and the results database (so the campaign pages and the
results API, which read as the reader role the migrations create, answer before the first run
has written anything), registers the project's connections in it (so the API
server's plugins and the tasks read the same ones), then starts ``airflow standalone``
(API server, scheduler, dag-processor, triggerer) in its own process session, waits until it is
healthy and prints one line with the URL and the login. ``coord local-stop`` stops it by the PID
it recorded (SIGINT to its session, as Ctrl-C would; then SIGTERM, SIGKILL), never by name.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from coord_core.cli.local_airflow import REPO, airflow_env, ensure_metadata_db, run_airflow
from coord_core.embedded_services import process_alive

USER = "admin"
DEFAULT_PORT = 8080
HEALTHY_PARTS = ("metadatabase", "scheduler", "dag_processor")
START_TIMEOUT_S = 420


def register(subparsers: Any) -> None:
    ui = subparsers.add_parser("local-ui", help="start the Airflow UI (API server, scheduler, ...) locally")
    ui.add_argument(
        "--port", type=int, default=None, help=f"API server port (default {DEFAULT_PORT}, else free)"
    )
    ui.add_argument("--state-dir", default=str(REPO / ".local"), help="embedded servers, logs, login")
    ui.set_defaults(func=_local_ui)


def _files(state: Path) -> dict[str, Path]:
    return {
        "pid": state / "airflow-ui.pid",
        "url": state / "airflow-ui.url",
        "log": state / "airflow-ui.log",
        "passwords": state / "airflow-ui-passwords.json",
    }


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as reply:  # noqa: S310 (loopback)
            health = json.loads(reply.read())
    except (OSError, ValueError):
        return False
    return all(health.get(part, {}).get("status") == "healthy" for part in HEALTHY_PARTS)


def _our_process(pid: int) -> bool:
    """Whether ``pid`` is alive and still the ``airflow standalone`` this command started."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"standalone" in cmdline and any(part.endswith(b"airflow") for part in cmdline)


def running_ui(state: Path) -> str | None:
    """The URL of the UI ``coord local-ui`` started from ``state``, when it is up and healthy."""
    files = _files(state)
    if not (files["pid"].exists() and files["url"].exists()):
        return None
    if not _our_process(int(files["pid"].read_text().strip() or 0)):
        return None
    url = files["url"].read_text().strip()
    return url if _healthy(url) else None


def _port(wanted: int | None) -> int:
    def free(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            return sock.connect_ex(("127.0.0.1", port)) != 0

    if wanted is not None:
        if not free(wanted):
            raise SystemExit(f"port {wanted} is in use: choose another with --port")
        return wanted
    if free(DEFAULT_PORT):
        return DEFAULT_PORT
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _password(path: Path) -> str:
    """The admin's password: generated once, kept in the state folder (readable by its owner only)."""
    if path.exists():
        return str(json.loads(path.read_text())[USER])
    password = secrets.token_urlsafe(12)
    path.write_text(json.dumps({USER: password}))
    path.chmod(0o600)
    return password


def _register_connections(env: dict[str, str], state: Path) -> dict[str, str]:
    """Write the embedded servers' connections into the metadata database (overwriting ours) and
    return the environment without them, so every Airflow process reads the stored ones."""
    ours = {
        key.removeprefix("AIRFLOW_CONN_").lower(): value
        for key, value in env.items()
        if key.startswith("AIRFLOW_CONN_COORD_") and key not in os.environ
    }
    if not ours:
        return env
    listing = state / "airflow-ui-connections.json"
    listing.write_text(json.dumps(ours))
    listing.chmod(0o600)
    try:
        run_airflow(
            env,
            "connections",
            "import",
            "--overwrite",
            str(listing),
            log=state / "airflow-ui-connections.log",
        )
    finally:
        listing.unlink()
    print(f"connections registered in Airflow's metadata database: {', '.join(sorted(ours))}")
    return {k: v for k, v in env.items() if k.removeprefix("AIRFLOW_CONN_").lower() not in ours}


def _migrate_results_db(dsn: str) -> None:
    """The results schema and the ``coord_reader`` role (idempotent): without them the campaign
    pages answer 503 until a DAG run has migrated the database."""
    import psycopg

    from coord_core.store.migrations import migrate

    with psycopg.connect(dsn, autocommit=True) as conn:
        applied = migrate(conn)
    if applied:
        print(f"results database migrated: {', '.join(applied)}")


def _local_ui(args: argparse.Namespace) -> int:
    started = time.monotonic()
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    files = _files(state)
    existing = running_ui(state)
    if existing:
        print(f"Airflow UI already running: {existing}  login {USER} / {_password(files['passwords'])}")
        return 0
    env, results_dsn = airflow_env(state)
    ensure_metadata_db(env, state)
    _migrate_results_db(results_dsn)
    env = _register_connections(env, state)
    port = _port(args.port)
    url = f"http://127.0.0.1:{port}"
    env.update(
        AIRFLOW__API__PORT=str(port),
        AIRFLOW__API__HOST="127.0.0.1",
        AIRFLOW__API__BASE_URL=url,
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{url}/execution/",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
        AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(files["passwords"].resolve()),
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '/usr/bin:/bin')}",
    )
    password = _password(files["passwords"])
    with files["log"].open("w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("airflow")), "standalone"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own session: stopped as a whole, by this PID
        )
    files["pid"].write_text(str(process.pid))
    files["url"].write_text(url)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _healthy(url):
        if process.poll() is not None:
            raise SystemExit(f"airflow standalone exited ({process.returncode}); log: {files['log']}")
        if time.monotonic() > deadline:
            stop_ui(state)
            raise SystemExit(f"Airflow UI not healthy after {START_TIMEOUT_S} s; log: {files['log']}")
        time.sleep(1)
    print(
        f"Airflow UI: {url}  login {USER} / {password}  "
        f"(ready in {time.monotonic() - started:.0f} s; log {files['log']}; `make stop` stops it)"
    )
    return 0


def stop_ui(state: Path) -> bool:
    """Stop the ``airflow standalone`` session ``coord local-ui`` started; False if none runs."""
    files = _files(state)
    if not files["pid"].exists():
        return False
    pid = int(files["pid"].read_text().strip() or 0)
    stopped = False
    if pid > 0 and _our_process(pid):
        # SIGINT to the leader alone (it shuts its components down in order), then the session.
        steps = (
            (os.kill, signal.SIGINT, 60.0),
            (os.killpg, signal.SIGTERM, 15.0),
            (os.killpg, signal.SIGKILL, 5.0),
        )
        for kill, sig, grace in steps:
            try:
                kill(pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and process_alive(pid, group=True):
                time.sleep(0.3)
            if not process_alive(pid, group=True):
                break
        stopped = True
    files["pid"].unlink(missing_ok=True)
    files["url"].unlink(missing_ok=True)
    return stopped
