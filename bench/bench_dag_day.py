"""Benchmark: one generated day through the main DAG's tasks, each in its own process as an Airflow
worker runs it: per task its wall seconds and peak RSS.

The day is ``coord generate --scenario mixed --seed 5 --sessions N`` (default 5,000 sessions;
``--sessions 200000`` is issue 11's 200k-session day: 1.27M events, 560 MB), read from its file
as ``coord local-run --input`` reads it, on embedded PostgreSQL and Redis in a temporary state
folder (started as ``coord local-run`` starts them; a MISP feed folder; no LLM, no Elasticsearch).
Each task runs in a fresh interpreter through ``tests/dags/in_process.py`` (the DAG's own callables
and success callbacks, read from the DAG file): ``task_seconds`` is the callable's own time (its
``TASK_TIME`` line), ``process_seconds`` adds the interpreter start and the DAG's parse, and
``peak_rss_mb`` is the process's own ``ru_maxrss`` (``os.wait4``). Generating the day is not timed.
Targets (issue 11): every task at most 3 GB peak RSS; the day's tasks in at most 3 minutes.

    .venv/bin/python bench/bench_dag_day.py                     # 5,000 sessions (make bench)
    .venv/bin/python bench/bench_dag_day.py --sessions 200000   # the 200k-session day
    .venv/bin/python bench/bench_dag_day.py --repo DIR          # another checkout's code, this venv
    .venv/bin/python bench/bench_dag_day.py --llm               # narrate with llm true (no Ollama)
    .venv/bin/python bench/bench_dag_day.py --day DIR           # generate the day once into DIR, reuse it

``--day DIR`` keeps the generated day (its log and window, ``window.json``) in ``DIR`` and reuses it
on later runs with the same sessions and seed (the 200k-session day takes minutes to generate).

Prints one JSON document and writes ``bench/results/dag_day_<sessions>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import REPO, RESULTS, progress, write_result
from coord_core.cli.local_airflow import airflow_env
from coord_core.embedded_services import EmbeddedPostgres, EmbeddedRedis

TASKS = (
    "migrate_schema",
    "extract",
    "validate",
    "analyze",
    "load",
    "publish_redis",
    "publish_misp",
    "publish_elasticsearch",
    "narrate",
    "finish",
)
TASK_TIME = "coord-task-time "  # tests/dags/in_process.py reports each task's own seconds so
TARGET_TASK_RSS_MB = 3 * 1024
TARGET_DAY_SECONDS = 180.0


def generate_day(sessions: int, seed: int, folder: Path) -> tuple[Path, str, str]:
    """The generated day's log and its window (start, end), as ``coord generate`` prints it."""
    coord = str(Path(sys.executable).with_name("coord"))
    options = ["--scenario", "mixed", "--seed", str(seed), "--sessions", str(sessions), "--out", str(folder)]
    done = subprocess.run([coord, "generate", *options], check=True, capture_output=True, text=True)
    found = re.search(r"window (\S+)/(\S+)", done.stdout)
    if found is None:
        raise RuntimeError(f"coord generate printed no window:\n{done.stdout}")
    return folder / "cowrie.json", found.group(1), found.group(2)


def reuse_day(sessions: int, seed: int, folder: Path) -> tuple[Path, str, str]:
    """The day kept in ``folder`` when it was generated there with these options, else generated
    there now (its window written beside it)."""
    kept = folder / "window.json"
    wanted = {"sessions": sessions, "seed": seed}
    if kept.is_file() and (folder / "cowrie.json").is_file():
        saved = json.loads(kept.read_text())
        if {k: saved.get(k) for k in wanted} == wanted:
            return folder / "cowrie.json", saved["start"], saved["end"]
    shutil.rmtree(folder, ignore_errors=True)
    log, start, end = generate_day(sessions, seed, folder)
    kept.write_text(json.dumps({**wanted, "start": start, "end": end}))
    return log, start, end


def run_task(
    repo: Path, env: dict[str, str], request: dict[str, Any], task: str, logs: Path | None = None
) -> dict[str, Any]:
    """One task in a fresh interpreter; its own seconds, the process's seconds and peak RSS (with
    ``logs``, its output is kept there as ``<task>.log``)."""
    body = json.dumps({**request, "tasks": [task]}).encode()
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.dags.in_process"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=repo,
            env={**env, "PYTHONPATH": f"{repo / 'plugins'}:{repo}"},
        )
        assert child.stdin is not None
        child.stdin.write(body)
        child.stdin.close()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"{task}.log").write_text(text)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"task {task} failed:\n{text[-4000:]}")
    seconds = [
        json.loads(line[len(TASK_TIME) :])["seconds"]
        for line in text.splitlines()
        if line.startswith(TASK_TIME)
    ]
    return {
        "task": task,
        "task_seconds": round(seconds[-1], 2) if seconds else None,
        "process_seconds": round(wall, 2),
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout whose tasks run")
    parser.add_argument("--keep", type=Path, help="keep the state folder (embedded servers, feed) here")
    parser.add_argument(
        "--llm", action="store_true", help="run with llm true (no Ollama: narratives without a model)"
    )
    parser.add_argument("--day", type=Path, help="generate the day into this folder once and reuse it")
    parser.add_argument("--logs", type=Path, help="keep each task's output in this folder")
    parser.add_argument("--tasks", help="comma-separated: only these tasks (on a --keep state of a full run)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coord-dag-day-"))
    state = args.keep or work / "state"
    try:
        if args.day is not None:
            log, start, end = reuse_day(args.sessions, args.seed, args.day)
        else:
            log, start, end = generate_day(args.sessions, args.seed, work / "day")
        input_mb = round(log.stat().st_size / 2**20, 1)
        env, _ = airflow_env(state)
        env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)  # the tasks need no metadata database
        env.update(
            AIRFLOW_HOME=str(state / "airflow-home"),
            AIRFLOW__CORE__DAGS_FOLDER=str(args.repo / "dags"),
            AIRFLOW__CORE__PLUGINS_FOLDER=str(args.repo / "plugins"),
            AIRFLOW_VAR_COORD_INPUT_BASES=json.dumps([str(log.parent)]),
            AIRFLOW_VAR_COORD_MISP_FEED_DIR=str(state / "misp-feed"),
        )
        conf: dict[str, Any] = {"input_paths": [str(log)], **({"llm": True} if args.llm else {})}
        request = {"intervals": [[start, end]], "conf": conf}
        wanted = args.tasks.split(",") if args.tasks else TASKS
        tasks = [progress(run_task(args.repo.resolve(), env, request, task, args.logs)) for task in wanted]
    finally:
        if args.keep is None:
            EmbeddedPostgres(state / "pgdata").stop()
            EmbeddedRedis(state / "redis").stop()
        shutil.rmtree(work, ignore_errors=True)
    peak = max(t["peak_rss_mb"] for t in tasks)
    day_seconds = round(sum(t["task_seconds"] or 0.0 for t in tasks), 1)
    write_result(
        "dag_day",
        {
            "command": " ".join(["bench/bench_dag_day.py", *sys.argv[1:]]),
            "sessions": args.sessions,
            "llm": args.llm,
            "seed": args.seed,
            "window": [start, end],
            "input_mb": input_mb,
            "tasks": tasks,
            "task_seconds_total": day_seconds,
            "process_seconds_total": round(sum(t["process_seconds"] for t in tasks), 1),
            "peak_rss_mb_max": peak,
            "targets": {"task_peak_rss_mb": TARGET_TASK_RSS_MB, "day_seconds": TARGET_DAY_SECONDS},
            "meets_rss_target": peak <= TARGET_TASK_RSS_MB,
            "meets_time_target": day_seconds <= TARGET_DAY_SECONDS,
        },
        RESULTS / f"dag_day_{args.sessions}.json",
    )


if __name__ == "__main__":
    main()
