"""Benchmark: a week of hourly intervals backfilled through the real Airflow scheduler.

The week is the real T-Pot sample (``include/sample_data``, 12 busy hours) replayed: copy k is the
sample with every timestamp moved 11·k hours later, so each of the 168 hours holds events (a copy's
quiet first hour lands on the previous copy's last; an hour with almost nothing in it would fail the
data-quality gate's volume check, as it should on a live sensor). ``airflow standalone`` (API server,
scheduler, DAG processor, triggerer) runs on embedded PostgreSQL and Redis, as `coord local-ui` starts
it, with the executor under test (``--executor warm``: ``coord_airflow.warm_executor``; ``local``:
Airflow's LocalExecutor); ``airflow backfill create`` queues the 168 runs (4 at a time: the DAG's
``max_active_runs``) and the clock runs until the last one succeeds. Every run must succeed.

Side by side in the same run, the floor that no scheduler can beat: the same tasks for the same
intervals one after another in one interpreter (``tests/dags/in_process.py``: no task processes, no
scheduling), into a second database. Its tables must equal the backfill's row for row (each interval
run alone gives what the backfill gave), and so must the MISP feed folders, file for file.

    .venv/bin/python bench/bench_backfill.py                   # 168 hours, warm executor
    .venv/bin/python bench/bench_backfill.py --executor local  # Airflow's LocalExecutor
    .venv/bin/python bench/bench_backfill.py --hours 24        # a shorter backfill

Prints one JSON document and writes ``bench/results/backfill_<hours>h_<executor>.json``. Target
(issue 11): 168 intervals in at most 20 minutes on the 2-core machine (7 s per interval).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psutil
import psycopg

from bench.harness import REPO, progress, write_result
from coord_core.cli.local_airflow import airflow_env, ensure_metadata_db, postgres_conn_uri
from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis
from tests.dags.airflow_env import DAG_ID, AirflowEnv
from tests.dags.airflow_stack import airflow_standalone
from tests.dags.in_process import run_intervals_in_process
from tests.dags.snapshot import snapshot

SAMPLE = REPO / "include" / "sample_data" / "tpot-cowrie-2025-10-24.json"
FIRST_HOUR = datetime(2025, 10, 24, 2, tzinfo=UTC)  # the sample's first event's hour
COPY_STEP = timedelta(hours=11)  # the sample spans 12 hours: copies overlap by one
EXECUTORS = {"warm": "coord_airflow.warm_executor.WarmLocalExecutor", "local": "LocalExecutor"}
TARGET_SECONDS = 20 * 60.0
PUBLISH_TIMES = frozenset({"timestamp", "publish_timestamp"})
TARGET_HOURS = 168


def replay_week(hours: int, folder: Path) -> list[Path]:
    """Copies of the sample, each 11 hours after the previous, covering ``hours`` from its first hour.
    Lines that are not JSON objects with a timestamp (the sample has none) would be copied as they are."""
    lines = SAMPLE.read_bytes().splitlines()
    copies = hours // int(COPY_STEP.total_seconds() // 3600) + 1
    folder.mkdir(parents=True)
    paths = []
    for k in range(copies):
        shift = COPY_STEP * k
        out = []
        for line in lines:
            try:
                event = orjson.loads(line)
                moved = datetime.fromisoformat(event["timestamp"]) + shift
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                out.append(line)
                continue
            event["timestamp"] = moved.isoformat(timespec="microseconds").replace("+00:00", "Z")
            out.append(orjson.dumps(event))
        path = folder / f"cowrie-copy-{k:02d}.json"
        path.write_bytes(b"\n".join(out) + b"\n")
        paths.append(path)
    return paths


# Airflow's processes by what their command line (or process title) names.
COMPONENTS = ("LocalExecutor", "api-server", "dag-processor", "triggerer", "scheduler")


def _cpu_by_component(root: psutil.Process) -> dict[str, float]:
    """CPU seconds of ``root`` and every live descendant (with the children each has reaped), by
    Airflow component: an executor worker's reaped children are its tasks."""
    totals: dict[str, float] = collections.defaultdict(float)
    for process in [root, *root.children(recursive=True)]:
        try:
            cpu = process.cpu_times()
            title = " ".join(process.cmdline())
        except psutil.Error:
            continue
        component = next((c for c in COMPONENTS if c in title), "other")
        totals[component] += cpu.user + cpu.system + cpu.children_user + cpu.children_system
    return dict(totals)


def _process_tree_cpu(root: psutil.Process) -> float:
    return sum(_cpu_by_component(root).values())


def _postgres_cpu(data_dir: Path) -> float:
    """CPU seconds of the embedded PostgreSQL's processes (its postmaster and backends)."""
    pid_file = data_dir / "postmaster.pid"
    postmaster = psutil.Process(int(pid_file.read_text().split()[0]))
    return _process_tree_cpu(postmaster)


def _database(socket_dir: Path, name: str) -> str:
    with psycopg.connect(f"host={socket_dir} dbname=postgres user=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"host={socket_dir} dbname={name} user=postgres"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=int, default=TARGET_HOURS)
    parser.add_argument("--executor", choices=sorted(EXECUTORS), default="warm")
    parser.add_argument("--keep", type=Path, help="keep the work folder (servers' data, logs) here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="coord-backfill-"))
    state = work / "state"
    first, last = FIRST_HOUR, FIRST_HOUR + timedelta(hours=args.hours)
    try:
        inputs = replay_week(args.hours, work / "week")
        env, _ = airflow_env(state)
        # Airflow's processes write and reuse the bytecode cache, as in a deployment (the image ships
        # it compiled): a task process that compiled every module it imports would measure that.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        socket_dir = (state / "pgdata").resolve()
        home = work / "airflow-home"
        home.mkdir()
        env.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(REPO / "plugins"),
            AIRFLOW_VAR_COORD_INPUT_BASES=json.dumps([str(work / "week")]),
            AIRFLOW_VAR_COORD_INPUT_PATHS=str(work / "week"),
            AIRFLOW_VAR_COORD_MISP_FEED_DIR=str(work / "feed-backfill"),
            # Only the backfill's runs: an unpaused DAG would also schedule its latest interval.
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
        )
        ensure_metadata_db(env, state)
        cli = AirflowEnv(home=home, env=env)
        # The executor under test: extra_env is applied after airflow_standalone's own settings.
        executor = {"AIRFLOW__CORE__EXECUTOR": EXECUTORS[args.executor]}
        with airflow_standalone(cli, extra_env=executor) as stack:
            stack.unpause(DAG_ID)
            standalone = psutil.Process(_standalone_pid(home))
            parts_before, pg_before = _cpu_by_component(standalone), _postgres_cpu(socket_dir)
            started = time.monotonic()
            stack.cli.run(
                "backfill", "create", "--dag-id", DAG_ID,
                "--from-date", first.isoformat(),
                "--to-date", (last - timedelta(hours=1)).isoformat(),
            )  # fmt: skip
            runs = stack.wait_for_runs(DAG_ID, run_type="backfill", expected=args.hours, timeout=6 * 3600)
            wall = time.monotonic() - started
            parts = {
                name: seconds - parts_before.get(name, 0.0)
                for name, seconds in _cpu_by_component(standalone).items()
            }
            airflow_cpu = sum(parts.values())
            postgres_cpu = _postgres_cpu(socket_dir) - pg_before
            durations = _task_durations(stack, runs)
        progress({"backfill_seconds": round(wall, 1), "runs": len(runs)})

        results_dsn = f"host={socket_dir} dbname=postgres user=postgres"
        alone_dsn = _database(socket_dir, "coord_alone")
        alone_env = dict(env)
        alone_env.update(
            AIRFLOW_CONN_COORD_POSTGRES=postgres_conn_uri(socket_dir).rsplit("/", 1)[0] + "/coord_alone",
            AIRFLOW_VAR_COORD_MISP_FEED_DIR=str(work / "feed-alone"),
        )
        intervals = [(first + timedelta(hours=h), first + timedelta(hours=h + 1)) for h in range(args.hours)]
        alone_started = time.monotonic()
        run_intervals_in_process(
            AirflowEnv(home=home, env=alone_env), intervals, {"input_paths": [str(work / "week")]},
            timeout_s=6 * 3600,
        )  # fmt: skip
        alone_wall = time.monotonic() - alone_started
        since, until = first.isoformat(), last.isoformat()
        backfilled, alone = snapshot(results_dsn, since, until), snapshot(alone_dsn, since, until)
        # The one value that differs by construction: where each wrote its feed.
        alone["exports"] = [
            tuple(v.replace(str(work / "feed-alone"), str(work / "feed-backfill")) for v in row)
            for row in alone["exports"]
        ]
        differing = sorted(table for table in backfilled if backfilled[table] != alone[table])
        history_only = _history_only_differences(results_dsn, alone_dsn, since, until)
        if history_only and differing == ["analysis_results"]:
            differing = []  # the results differ in the history they record, and in nothing else
        feed_differences = _feed_differences(work / "feed-backfill", work / "feed-alone")
        feed_files = len([p for p in (work / "feed-backfill").iterdir() if not p.name.startswith(".")])
    finally:
        if args.keep is None:
            EmbeddedPostgres(state / "pgdata").stop()
            EmbeddedRedis(state / "redis").stop()
            shutil.rmtree(work, ignore_errors=True)
    result = {
        "benchmark": "backfill",
        "command": f"bench/bench_backfill.py --hours {args.hours} --executor {args.executor}",
        "executor": EXECUTORS[args.executor],
        "intervals": args.hours,
        "input": f"{len(inputs)} replayed copies of {SAMPLE.name}",
        "backfill_seconds": round(wall, 1),
        "seconds_per_interval": round(wall / args.hours, 2),
        "airflow_cpu_seconds_per_interval": round(airflow_cpu / args.hours, 2),
        "postgres_cpu_seconds_per_interval": round(postgres_cpu / args.hours, 2),
        "airflow_cpu_seconds_per_interval_by_process": {
            ("executor workers and tasks" if name == "LocalExecutor" else name): round(s / args.hours, 2)
            for name, s in sorted(parts.items())
        },
        "task_mean_seconds": durations,
        "in_process_seconds": round(alone_wall, 1),
        "backfill_to_in_process": round(wall / alone_wall, 2),
        "tables_differing_from_alone": differing,
        "intervals_whose_recorded_history_differs": history_only,
        "rows_compared": sum(len(rows) for rows in backfilled.values()),
        "feed_files_compared": feed_files,
        "feed_files_differing": feed_differences,
        "targets": {"backfill_seconds": TARGET_SECONDS, "intervals": TARGET_HOURS},
        "meets_time_target": args.hours == TARGET_HOURS and wall <= TARGET_SECONDS,
    }
    write_result(f"backfill_{args.hours}h_{args.executor}", result)
    if differing or feed_differences:
        raise SystemExit(f"backfill differs from the intervals run alone: {differing} {feed_differences}")


def _without_publish_times(value: Any) -> Any:
    """A feed file's JSON without the times of publishing (when it was written, not what)."""
    if isinstance(value, dict):
        return {k: _without_publish_times(v) for k, v in value.items() if k not in PUBLISH_TIMES}
    if isinstance(value, list):
        return [_without_publish_times(v) for v in value]
    return value


def _feed_content(path: Path) -> Any:
    """What a feed file holds: JSON without publish times, any other file as its bytes."""
    data = path.read_bytes()
    return _without_publish_times(orjson.loads(data)) if path.suffix == ".json" else data


def _feed_differences(left: Path, right: Path) -> list[str]:
    """Names of the feed files (its lock file aside) that only one folder has or whose content
    differs (publish times aside)."""
    names = {p.name for folder in (left, right) for p in folder.iterdir() if not p.name.startswith(".")}
    return sorted(
        name
        for name in names
        if not ((left / name).exists() and (right / name).exists())
        or _feed_content(left / name) != _feed_content(right / name)
    )


def _results_without_history(dsn: str, since: str, until: str) -> dict[str, Any]:
    """Each interval's stored result with ``run.history`` (what the history changed) taken out."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT interval_start, result FROM coord.analysis_results "
            "WHERE interval_start >= %s AND interval_end <= %s",
            (since, until),
        ).fetchall()
    results = {}
    for start, result in rows:
        history = result["run"].pop("history", None)
        results[start.isoformat()] = (result, history)
    return results


def _history_only_differences(backfilled_dsn: str, alone_dsn: str, since: str, until: str) -> list[str]:
    """Intervals whose stored result differs from the one run alone only in the history it records
    (it ran before an interval of an earlier day had stored that day's observations); an empty list
    when any other part of any result differs."""
    backfilled = _results_without_history(backfilled_dsn, since, until)
    alone = _results_without_history(alone_dsn, since, until)
    if backfilled.keys() != alone.keys() or any(backfilled[k][0] != alone[k][0] for k in backfilled):
        return []
    return sorted(k for k in backfilled if backfilled[k][1] != alone[k][1])


def _standalone_pid(home: Path) -> int:
    """The PID of the ``airflow standalone`` process this benchmark started (its AIRFLOW_HOME)."""
    for process in psutil.process_iter(["cmdline", "environ"]):
        try:
            if process.info["cmdline"][-1:] == ["standalone"] and (process.info["environ"] or {}).get(
                "AIRFLOW_HOME"
            ) == str(home):
                return int(process.pid)
        except (psutil.Error, TypeError, IndexError):
            continue
    raise RuntimeError("airflow standalone not found")


def _task_durations(stack: Any, runs: list[dict[str, Any]]) -> dict[str, float]:
    """Mean seconds of each task over the runs (Airflow's own start-to-end of the task)."""
    seconds: dict[str, list[float]] = collections.defaultdict(list)
    for run in runs:
        reply = stack.api("GET", f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances")
        reply.raise_for_status()
        for instance in reply.json()["task_instances"]:
            if instance["duration"] is not None:
                seconds[instance["task_id"]].append(instance["duration"])
    return {task: round(sum(v) / len(v), 2) for task, v in seconds.items()}


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
