"""Hourly DShield coordination analysis: extract -> validate -> analyze -> load -> publish (Redis, MISP).

The validate task is the data-quality gate: failing rows are quarantined with their reason, and
a critical expectation failing beyond `critical_failure_threshold` stops the run before analysis
(the report is in the run's "Data quality" tab).

`narrate` (an LLM narrative per campaign, written only when the `llm` param is true) runs on the
Celery queue named by `COORD_GPU_QUEUE` (default `gpu`); every other task on the default queue.

Wiring only: every task body delegates to ``coord_airflow.pipeline_tasks`` (imported inside the
task, so parsing this file imports nothing heavy and opens no connection).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Unpack

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, task

if TYPE_CHECKING:  # the task context's type; Airflow evaluates only the return annotations
    from airflow.sdk import Context

# Airflow Assets the tasks update (logical names of the results stores; OpenLineage events carry
# the real hosts, see coord_core/openlineage_datasets.py). Other DAGs can schedule on them.
RESULTS_DB = "postgres://coord-results:5432/coord/coord"
STAGED_SESSIONS = Asset(f"{RESULTS_DB}/sessions")
CAMPAIGNS = Asset(f"{RESULTS_DB}/campaigns")
CAMPAIGN_CACHE = Asset("redis://coord-cache:6379/0/coord:campaigns:active")
MISP_EVENTS = Asset("misp://coord-misp/events")

# The Celery queue of the workers next to Ollama and the GPU; everything else uses the default.
GPU_QUEUE = os.environ.get("COORD_GPU_QUEUE") or "gpu"

DEFAULT_ARGS = {"retries": 2, "retry_delay": timedelta(seconds=30), "owner": "coord"}

# JSON-schema "format" is not enforced on trigger; a pattern is, so bad windows are refused.
ISO_8601_WITH_ZONE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"

PARAMS = {
    "window_start": Param(
        None,
        type=["null", "string"],
        pattern=ISO_8601_WITH_ZONE,
        description="override interval start (ISO-8601 with timezone; give window_end too)",
    ),
    "window_end": Param(
        None,
        type=["null", "string"],
        pattern=ISO_8601_WITH_ZONE,
        description="override interval end (ISO-8601 with timezone)",
    ),
    "source": Param("files", type="string", enum=["files", "elasticsearch"]),
    "input_paths": Param(
        [], type="array", items={"type": "string"}, description="Cowrie log files/folders (file source)"
    ),
    "index_patterns": Param(
        ["cowrie-*", "cowrie.dshield-*", "cowrie.webhoneypot-*"], type="array", items={"type": "string"}
    ),
    "session_slack_minutes": Param(30, type="integer", minimum=0, maximum=1440),
    "baseline_lookback_hours": Param(
        24, type="integer", minimum=0, maximum=168, description="hours profiled as the drift baseline"
    ),
    "critical_failure_threshold": Param(0.05, type="number", minimum=0, maximum=1),
    "min_publish_confidence": Param(0.5, type="number", minimum=0, maximum=1),
    "alert_confidence": Param(
        0.8, type="number", minimum=0, maximum=1, description="alert on new campaigns at or above"
    ),
    "identity_max_gap_hours": Param(
        24.0, type="number", exclusiveMinimum=0, maximum=720, description="max gap joining a campaign"
    ),
    "llm": Param(False, type="boolean", description="write an LLM narrative (gpu queue)"),
    "analysis": Param({}, type="object", description="analysis parameter overrides"),
}


@dag(
    dag_id="dshield_coordination",
    schedule=CronDataIntervalTimetable("0 * * * *", timezone="UTC"),
    start_date=datetime(2015, 1, 1, tzinfo=UTC),  # backfills reach any archived honeypot data
    catchup=False,
    max_active_runs=4,
    default_args=DEFAULT_ARGS,
    params=PARAMS,
    tags=["dshield", "coordination"],
    doc_md=__doc__,
)
def dshield_coordination() -> None:
    @task
    def migrate_schema() -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.migrate_schema()

    @task(outlets=[STAGED_SESSIONS])
    def extract(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.extract(context)

    @task
    def validate(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.validate(context)

    @task
    def analyze(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.analyze(context)

    @task(outlets=[CAMPAIGNS])
    def load(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.load(context)

    @task(outlets=[CAMPAIGN_CACHE])
    def publish_redis(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.publish_redis(context)

    @task(queue=GPU_QUEUE, execution_timeout=timedelta(hours=2))
    def narrate(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.narrate(context)

    @task(outlets=[MISP_EVENTS])
    def publish_misp(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.publish_misp(context)

    @task
    def publish_elasticsearch(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.publish_elasticsearch(context)

    @task
    def finish(**context: Unpack[Context]) -> dict[str, Any]:
        from coord_airflow import pipeline_tasks

        return pipeline_tasks.finish(context)

    loaded = load()
    migrate_schema() >> extract() >> validate() >> analyze() >> loaded
    loaded >> [publish_redis(), publish_misp(), publish_elasticsearch(), narrate()] >> finish()


dshield_coordination()
