"""Airflow UI plugin: the daily trend reports, next to the data-quality reports under Browse.

Registers the trend report app (``trend_report_app``) under ``/coord-trends`` on the API server
and a "Trend reports" entry under Browse (``plugin_entries``).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow import trend_report_app
from coord_airflow.plugin_entries import browse_entry, mounted_app

URL_PREFIX = "/coord-trends"


class TrendReportPlugin(AirflowPlugin):
    name = "coord_trend_reports"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        mounted_app(trend_report_app.create_app, URL_PREFIX, "Coordination trend reports")
    ]
    external_views: list[Any] = [browse_entry("Trend reports", URL_PREFIX)]  # noqa: RUF012
