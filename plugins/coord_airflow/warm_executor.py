"""A LocalExecutor whose worker processes import the pipeline's task modules once, before any work.

Airflow 3 runs every task in a process forked from one of the executor's long-lived workers. A
cold task process imports Great Expectations, pandas, SciPy, LangGraph and ``coord_core`` again:
seconds per task, most of an hourly interval's run when a backfill runs thousands of small ones. A
task forked from a warm worker inherits those modules (copy-on-write) and starts on its work.

The modules are imported once, in the scheduler's executor before it forks its workers (they and
their tasks share those pages; a worker that replaces a dead one is forked from it too). Under the
``spawn`` start method (not Linux's default) there is nothing to inherit and it runs as LocalExecutor.
Use it with ``AIRFLOW__CORE__EXECUTOR=coord_airflow.warm_executor.WarmLocalExecutor`` (`coord
local-ui` sets it); it schedules exactly as LocalExecutor does. Only imports happen: no connection,
thread or file is opened by them (a test holds this), so nothing unsafe is shared across the fork.
"""

from __future__ import annotations

import importlib
import logging
import time

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

# What a task process of the main DAG imports besides what the worker already has: the task runner's
# DAG parse, the DAG file's own imports and ``coord_airflow.pipeline_tasks`` with the hooks it opens;
# the stages' own modules come from ``coord_core.pipeline.preload``. A test imports each, so the
# lists cannot rot.
TASK_MODULES = (
    "airflow.sdk.execution_time.task_runner",
    "airflow.dag_processing.dagbag",
    "airflow.providers.standard.decorators.python",
    "airflow.providers.postgres.hooks.postgres",
    "airflow.providers.redis.hooks.redis",
    "coord_airflow.notifiers",
    "coord_airflow.pipeline_tasks",
    "coord_airflow.connections",
)


def warm_task_modules() -> float:
    """Import :data:`TASK_MODULES` and the pipeline stages' modules; returns the seconds it took."""
    from coord_core.pipeline.preload import import_stage_modules

    started = time.monotonic()
    for name in TASK_MODULES:
        importlib.import_module(name)
    import_stage_modules()
    return time.monotonic() - started


def _warm() -> None:
    """:func:`warm_task_modules`; a module that fails to import is logged and the workers run cold
    (the task that needs it then reports the error itself)."""
    try:
        seconds = warm_task_modules()
    except Exception:
        log.exception("task modules not preloaded; the tasks import them themselves")
    else:
        log.info("task modules preloaded in %.1f s", seconds)


class WarmLocalExecutor(LocalExecutor):
    """LocalExecutor with warm workers (see the module docstring)."""

    def start(self) -> None:
        if self.is_mp_using_fork:
            _warm()
        super().start()
