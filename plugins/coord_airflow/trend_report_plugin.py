"""Airflow UI plugin: the daily trend reports, next to the data-quality reports under Browse.

Registers the trend report app (``trend_report_app``) under ``/coord-trends`` on the API server
and a "Trend reports" entry under Browse. ``href`` values carry no leading slash so they resolve
against the UI's base URL. The app is built on its first request.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow.trend_report_app import LazyTrendReportApp

URL_PREFIX = "/coord-trends"


class TrendReportPlugin(AirflowPlugin):
    name = "coord_trend_reports"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        {"app": LazyTrendReportApp(), "url_prefix": URL_PREFIX, "name": "Coordination trend reports"}
    ]
    external_views: list[Any] = [  # noqa: RUF012
        {
            "name": "Trend reports",
            "href": "coord-trends/",
            "destination": "nav",
            "category": "browse",
            "url_route": "coord-trends",
        },
    ]
