"""Hourly DShield coordination analysis: which honeypot attackers acted together, with evidence.

One run = one data interval (hourly; backfill any period; or trigger with `window_start` /
`window_end` in the conf):

    migrate_schema -> extract -> validate -> analyze -> load
        -> publish_redis | publish_misp | publish_elasticsearch | narrate -> finish

* **extract** reads Cowrie log files (`input_paths`, inside the folders the Airflow Variable
  `coord_input_bases` allows) or the DShield-SIEM Elasticsearch (`coord_elasticsearch`) and
  stages the interval's events and sessions in PostgreSQL (`coord_postgres`).
* **validate** is the data-quality gate (Great Expectations): bad rows are quarantined with
  their reason; a critical expectation failing beyond `critical_failure_threshold` stops the
  run; an interval with no events is reported as "no data" (`empty_interval`: succeed or fail).
  The report is in the run's **Data quality** tab.
* **analyze** runs the coordination analysis (checkpointed: a retry resumes), **load** writes
  campaigns with their evidence and lineage, the **publish** tasks export to Redis, MISP (or a
  MISP feed folder) and Elasticsearch, **narrate** writes LLM narratives when `llm` is true
  (Celery queue `COORD_GPU_QUEUE`, default `gpu`).

With the `coord_webhook` connection, signed webhooks (HMAC-SHA256) report new campaigns at or
above `alert_confidence`, a failed data-quality gate and a failed run; each delivery attempt is in
`coord.audit_log`.

Run parameters are checked when the run is triggered (REST API and this form): unknown keys,
bad timestamps, a window whose end is not after its start, input paths outside the allowed
folders and oversized values are refused with a 400 and a readable message.

Wiring only: every task body delegates to `coord_airflow.pipeline_tasks` (imported inside the
task, so parsing this file imports nothing heavy and opens no connection).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Unpack

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, task
from coord_airflow.notifiers import GateFailedWebhook, NewCampaignsWebhook, RunFailedWebhook

from coord_core.pipeline.params import airflow_param_specs

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


def _mark_run_failed(context: Context) -> None:
    """A task failed for good: the interval's run row says so, with the reason."""
    from coord_airflow import pipeline_tasks

    pipeline_tasks.mark_run_failed(context)


def _record_failed_try(context: Context) -> None:
    """A try failed and will be retried: the run row's ``failed_tries`` says which and why."""
    from coord_airflow import pipeline_tasks

    pipeline_tasks.record_failed_try(context)


# Signed webhooks through the `coord_webhook` connection (off without it): a failed run, a failed
# data-quality gate, and new campaigns at or above `alert_confidence` once Redis tracking flags them.
RUN_FAILED_WEBHOOK = RunFailedWebhook()
GATE_FAILED_WEBHOOK = GateFailedWebhook()
NEW_CAMPAIGNS_WEBHOOK = NewCampaignsWebhook()


# Every task has a time bound, so a frozen dependency fails the try and the retry recovers. Sized
# for hourly intervals with room to spare; database statements are bounded far below these (see
# coord_core.store.session_limits), and a statement on a PostgreSQL that stops answering fails
# within the connection's liveness bound (30 s by default, coord_core.store.liveness). The retry
# comes two minutes later: past a restart or a freeze of a minute or two, so the retry recovers
# instead of failing again on a server that is still down.
DEFAULT_ARGS = {
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "owner": "coord",
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": _mark_run_failed,
    "on_retry_callback": _record_failed_try,
}
SHORT_TASK = timedelta(minutes=10)

# One definition of the run parameters: the Params are derived from coord_core's PipelineParams
# (light to import: pydantic only), so the form, Airflow's trigger-time check and the tasks agree.
PARAMS = {
    name: Param(spec["default"], description=spec["description"], **spec["schema"])
    for name, spec in airflow_param_specs().items()
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
    on_failure_callback=RUN_FAILED_WEBHOOK,
    description="Hourly coordination analysis of DShield honeypot data: extract, data-quality gate, "
    "campaigns with evidence, publish to PostgreSQL, Redis, MISP and Elasticsearch",
    doc_md=__doc__,
)
def dshield_coordination() -> None:
    @task(execution_timeout=SHORT_TASK)
    def migrate_schema() -> dict[str, Any]:
        """Apply the results database's pending migrations (`sql/`, idempotent) on `coord_postgres`."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.migrate_schema()

    @task(outlets=[STAGED_SESSIONS])
    def extract(**context: Unpack[Context]) -> dict[str, Any]:
        """Read the interval (plus `session_slack_minutes` each side) from the run's `source`, stage
        events and sessions in PostgreSQL, quarantine unparseable lines, profile the drift baseline.
        Input paths outside `coord_input_bases` fail the task without retry."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.extract(context)

    @task(on_failure_callback=[_mark_run_failed, GATE_FAILED_WEBHOOK])
    def validate(**context: Unpack[Context]) -> dict[str, Any]:
        """Data-quality gate (Great Expectations): quarantine failing rows, store results and the
        report (run tab **Data quality**); a critical failure stops the run (and sends the
        `dq_gate_failed` webhook), an empty interval is reported as "no data"."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.validate(context)

    @task(execution_timeout=timedelta(hours=2))
    def analyze(**context: Unpack[Context]) -> dict[str, Any]:
        """Coordination analysis of the staged sessions (LangGraph workflow, checkpointed in
        PostgreSQL: a retry resumes); the result is cached in Redis."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.analyze(context)

    @task(outlets=[CAMPAIGNS])
    def load(**context: Unpack[Context]) -> dict[str, Any]:
        """Write campaigns, members, evidence and lineage to PostgreSQL (upserts keyed by the
        interval) and keep campaign identities across intervals."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.load(context)

    @task(outlets=[CAMPAIGN_CACHE], on_success_callback=NEW_CAMPAIGNS_WEBHOOK)
    def publish_redis(**context: Unpack[Context]) -> dict[str, Any]:
        """Publish the interval's campaigns and alerts (at or above `alert_confidence`) to Redis;
        Redis down is a warning, not a failure. New alerts also go out as a signed webhook
        (`coord_webhook`)."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.publish_redis(context)

    @task(queue=GPU_QUEUE, execution_timeout=timedelta(hours=2))
    def narrate(**context: Unpack[Context]) -> dict[str, Any]:
        """LLM narrative per campaign through `coord_ollama` (gpu queue) when `llm` is true; records
        that it was off otherwise."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.narrate(context)

    @task(outlets=[MISP_EVENTS])
    def publish_misp(**context: Unpack[Context]) -> dict[str, Any]:
        """Export campaigns at or above `min_publish_confidence` to MISP (`coord_misp`), or to a
        MISP feed folder without it."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.publish_misp(context)

    @task
    def publish_elasticsearch(**context: Unpack[Context]) -> dict[str, Any]:
        """Write per-session and per-campaign enrichment documents when `coord_elasticsearch`
        exists; skipped otherwise."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.publish_elasticsearch(context)

    @task(execution_timeout=SHORT_TASK)
    def finish(**context: Unpack[Context]) -> dict[str, Any]:
        """Mark the run successful in `coord.runs` and the audit log."""

        from coord_airflow import pipeline_tasks

        return pipeline_tasks.finish(context)

    loaded = load()
    migrate_schema() >> extract() >> validate() >> analyze() >> loaded
    loaded >> [publish_redis(), publish_misp(), publish_elasticsearch(), narrate()] >> finish()


dshield_coordination()
