"""Airflow plugin: campaigns in the UI and the results API for programs, on the API server.

Mounts the campaign pages (``campaigns_app``) under ``/coord-campaigns`` and the results API
(``results_api``) under ``/coord-api/v1``; adds a "Campaigns" tab to DAG-run pages beside "Data
quality" and a "Campaigns" entry under Browse (``plugin_entries``).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow import campaigns_app, results_api
from coord_airflow.plugin_entries import browse_entry, mounted_app, page_tab

PAGES_PREFIX = "/coord-campaigns"
API_PREFIX = "/coord-api/v1"
RUN_CAMPAIGNS_HREF = "coord-campaigns/run?dag_id={DAG_ID}&run_id={RUN_ID}"


class CampaignsPlugin(AirflowPlugin):
    name = "coord_campaigns"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        mounted_app(campaigns_app.create_app, PAGES_PREFIX, "Coordination campaigns"),
        mounted_app(results_api.create_app, API_PREFIX, "Coordination results API v1"),
    ]
    external_views: list[Any] = [  # noqa: RUF012
        page_tab("Campaigns", RUN_CAMPAIGNS_HREF, "dag_run", "coord-campaigns-run"),
        browse_entry("Campaigns", PAGES_PREFIX),
    ]
