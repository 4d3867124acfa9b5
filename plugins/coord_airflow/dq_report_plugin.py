"""Airflow UI plugin: each run's data-quality report, one click from the run and its task instances.

Registers the report app (``dq_report_app``) under ``/coord-dq`` on the API server and adds a
"Data quality" tab to DAG-run and task-instance pages (an iframe on the run's report) plus a
"Data quality reports" entry under Browse listing recent reports (``plugin_entries``).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow import dq_report_app
from coord_airflow.plugin_entries import browse_entry, mounted_app, page_tab

URL_PREFIX = "/coord-dq"
RUN_REPORT_HREF = "coord-dq/report?dag_id={DAG_ID}&run_id={RUN_ID}"


class DataQualityReportPlugin(AirflowPlugin):
    name = "coord_data_quality"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        mounted_app(dq_report_app.create_app, URL_PREFIX, "Coordination data-quality reports")
    ]
    external_views: list[Any] = [  # noqa: RUF012
        page_tab("Data quality", RUN_REPORT_HREF, "dag_run", "coord-dq-run"),
        page_tab("Data quality", RUN_REPORT_HREF, "task_instance", "coord-dq-task-instance"),
        browse_entry("Data quality reports", URL_PREFIX),
    ]
