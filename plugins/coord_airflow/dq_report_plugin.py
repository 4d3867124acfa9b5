"""Airflow UI plugin: each run's data-quality report, one click from the run and its task instances.

Registers the report app (``dq_report_app``) under ``/coord-dq`` on the API server and adds a
"Data quality" tab to DAG-run and task-instance pages (an iframe on the run's report) plus a
"Data quality reports" entry under Browse listing recent reports. ``href`` values carry no
leading slash so they resolve against the UI's base URL (Airflow behind a path prefix works).
The app is built on its first request: loading this file in a scheduler or worker costs nothing.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow.dq_report_app import LazyReportApp

URL_PREFIX = "/coord-dq"
RUN_REPORT_HREF = "coord-dq/report?dag_id={DAG_ID}&run_id={RUN_ID}"


class DataQualityReportPlugin(AirflowPlugin):
    name = "coord_data_quality"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        {"app": LazyReportApp(), "url_prefix": URL_PREFIX, "name": "Coordination data-quality reports"}
    ]
    external_views: list[Any] = [  # noqa: RUF012
        {
            "name": "Data quality",
            "href": RUN_REPORT_HREF,
            "destination": "dag_run",
            "url_route": "coord-dq-run",
        },
        {
            "name": "Data quality",
            "href": RUN_REPORT_HREF,
            "destination": "task_instance",
            "url_route": "coord-dq-task-instance",
        },
        {
            "name": "Data quality reports",
            "href": "coord-dq/",
            "destination": "nav",
            "category": "browse",
            "url_route": "coord-dq",
        },
    ]
