"""Airflow plugin: the project's Prometheus metrics at ``/coord-metrics/metrics`` on the API server."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow import metrics_app
from coord_airflow.plugin_entries import mounted_app

URL_PREFIX = "/coord-metrics"


class CoordMetricsPlugin(AirflowPlugin):
    name = "coord_metrics"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        mounted_app(metrics_app.create_app, URL_PREFIX, "Coordination metrics for Prometheus")
    ]
