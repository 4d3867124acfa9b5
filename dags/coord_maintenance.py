"""Daily maintenance of the results database: apply the retention policy, record it in the audit log.

Wiring only; the work is in ``coord_core.store.retention``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Unpack

from airflow.sdk import Param, dag, task

if TYPE_CHECKING:  # the task context's type; Airflow evaluates only the return annotations
    from airflow.sdk import Context


@dag(
    dag_id="coord_maintenance",
    schedule="@daily",
    start_date=datetime(2025, 10, 24, tzinfo=UTC),
    catchup=False,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "owner": "coord",
        "execution_timeout": timedelta(hours=1),  # a frozen database fails the try, not the day
    },
    params={
        "keep_days": Param(
            {},
            type="object",
            additionalProperties={"type": "integer", "minimum": 1},
            description='override retention per table, e.g. {"staged_events": 7}',
        )
    },
    tags=["dshield", "maintenance"],
    doc_md=__doc__,
)
def coord_maintenance() -> None:
    @task
    def apply_retention(**context: Unpack[Context]) -> dict[str, int]:
        from coord_airflow import maintenance_tasks

        return maintenance_tasks.apply_retention(context)

    apply_retention()


coord_maintenance()
