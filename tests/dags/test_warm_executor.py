"""The warm LocalExecutor: its workers import the task modules once, and only import (no thread,
connection or file is left open to be shared by the tasks forked from them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.dags.airflow_env import REPO, plugin_env

CHECK_IMPORTS = """
import sys, threading
from coord_airflow.warm_executor import TASK_MODULES, warm_task_modules
from coord_core.pipeline.preload import STAGE_MODULES
threads = threading.active_count()
warm_task_modules()
missing = [m for m in TASK_MODULES + STAGE_MODULES if m not in sys.modules]
assert not missing, missing
assert threading.active_count() == threads == 1, [t.name for t in threading.enumerate()]
import os, psutil
files = [f.path for f in psutil.Process().open_files()]
assert not files, files
assert not psutil.Process().net_connections(), psutil.Process().net_connections()
print("OK")
"""

START_AND_STOP = """
import sys, time
from coord_airflow.warm_executor import WarmLocalExecutor
executor = WarmLocalExecutor(parallelism=2)
executor.start()
assert "coord_core.pipeline.analyze" in sys.modules and "great_expectations" in sys.modules
workers = dict(executor.workers)
assert len(workers) == 2 and all(p.is_alive() for p in workers.values()), workers
executor.end()
print("OK", len(workers))
"""


def _run(code: str, home: Path) -> str:
    env = {**plugin_env(home), "PYTHONPATH": f"{REPO / 'plugins'}:{REPO}"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_task_modules_import_and_leave_nothing_open(tmp_path: Path) -> None:
    assert _run(CHECK_IMPORTS, tmp_path).strip().endswith("OK")


def test_executor_preloads_then_forks_workers_and_stops_them(tmp_path: Path) -> None:
    out = _run(START_AND_STOP, tmp_path)
    assert out.strip().endswith("OK 2")
