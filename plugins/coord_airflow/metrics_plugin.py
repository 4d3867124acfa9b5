"""Airflow plugin: the project's Prometheus metrics at ``/coord-metrics/metrics`` on the API server."""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow.metrics_app import LazyMetricsApp

URL_PREFIX = "/coord-metrics"


class CoordMetricsPlugin(AirflowPlugin):
    name = "coord_metrics"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        {"app": LazyMetricsApp(), "url_prefix": URL_PREFIX, "name": "Coordination metrics for Prometheus"}
    ]
