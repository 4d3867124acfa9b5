"""Campaign trends: after each load of campaigns, the daily report (activity, spikes, indicators)
and its ISO week's report.

Runs when ``dshield_coordination`` updates the campaigns asset; or trigger it with ``day``
(YYYY-MM-DD) to (re)build one day's report. Spikes found for the first time are alerted (Redis
alert channel and stream, webhook). Wiring only; the work is in ``coord_core.pipeline.trends``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Unpack

from airflow.sdk import Asset, Param, dag, task
from coord_airflow.notifiers import SpikesWebhook

if TYPE_CHECKING:  # the task context's type; Airflow evaluates only the return annotations
    from airflow.sdk import Context

# The asset dshield_coordination's load task updates (same URI as CAMPAIGNS there).
CAMPAIGNS = Asset("postgres://coord-results:5432/coord/coord/campaigns")
TREND_REPORTS = Asset("postgres://coord-results:5432/coord/coord/trend_reports")
TREND_WEEKLY_REPORTS = Asset("postgres://coord-results:5432/coord/coord/trend_weekly_reports")
# The spikes the task alerted for the first time (also on the Redis alert channel and stream) go to
# the coord_webhook receiver, when one is configured.
SPIKES_WEBHOOK = SpikesWebhook()


@dag(
    dag_id="coord_trends",
    schedule=[CAMPAIGNS],
    start_date=datetime(2025, 10, 24, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=2), "owner": "coord"},
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="UTC day to report (YYYY-MM-DD); empty: the days of the triggering loads",
        )
    },
    tags=["dshield", "trends"],
    doc_md=__doc__,
)
def coord_trends() -> None:
    @task(outlets=[TREND_REPORTS, TREND_WEEKLY_REPORTS], on_success_callback=SPIKES_WEBHOOK)
    def build_trend_reports(**context: Unpack[Context]) -> list[dict[str, Any]]:
        from coord_airflow import trend_tasks

        return trend_tasks.build_reports(context)

    build_trend_reports()


coord_trends()
