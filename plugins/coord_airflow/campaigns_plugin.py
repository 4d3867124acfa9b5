"""Airflow plugin: campaigns in the UI and the results API for programs, on the API server.

Mounts the campaign pages (``campaigns_app``) under ``/coord-campaigns`` and the results API
(``results_api``) under ``/coord-api/v1``; adds a "Campaigns" tab to DAG-run pages beside "Data
quality" and a "Campaigns" entry under Browse. ``href`` values carry no leading slash so they
resolve against the UI's base URL. Both apps are built on their first request.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from coord_airflow import campaigns_app, results_api
from coord_airflow.app_support import LazyApp

PAGES_PREFIX = "/coord-campaigns"
API_PREFIX = "/coord-api/v1"
RUN_CAMPAIGNS_HREF = "coord-campaigns/run?dag_id={DAG_ID}&run_id={RUN_ID}"


class CampaignsPlugin(AirflowPlugin):
    name = "coord_campaigns"
    fastapi_apps: list[Any] = [  # noqa: RUF012 (Airflow reads these class attributes)
        {
            "app": LazyApp(campaigns_app.create_app),
            "url_prefix": PAGES_PREFIX,
            "name": "Coordination campaigns",
        },
        {
            "app": LazyApp(results_api.create_app),
            "url_prefix": API_PREFIX,
            "name": "Coordination results API v1",
        },
    ]
    external_views: list[Any] = [  # noqa: RUF012
        {
            "name": "Campaigns",
            "href": RUN_CAMPAIGNS_HREF,
            "destination": "dag_run",
            "url_route": "coord-campaigns-run",
        },
        {
            "name": "Campaigns",
            "href": "coord-campaigns/",
            "destination": "nav",
            "category": "browse",
            "url_route": "coord-campaigns",
        },
    ]
