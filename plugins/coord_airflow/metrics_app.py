"""The Prometheus endpoint (mounted by ``metrics_plugin`` under ``/coord-metrics``): ``GET /metrics``.

Each scrape reads the results database through ``coord_postgres`` (nothing is kept between
scrapes). Who may scrape: a bearer token equal to the password of the ``coord_metrics``
connection (what Prometheus sends), else any user Airflow lets read DAG runs. Importing this
module imports neither FastAPI nor Airflow: only the API server builds the app.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency's ``Request`` annotation.
import hmac
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from coord_airflow.app_support import Authorizer, airflow_authorize, guarded_app

if TYPE_CHECKING:
    import psycopg
    from fastapi import FastAPI, Request

METRICS_CONN_ID = "coord_metrics"
ConnectionFactory = Callable[[], AbstractContextManager["psycopg.Connection[Any]"]]


@contextmanager
def airflow_results_db() -> Iterator["psycopg.Connection[Any]"]:
    """The ``coord_postgres`` connection for one scrape, closed afterwards."""
    from coord_airflow import connections

    conn = connections.results_db()
    try:
        yield conn
    finally:
        conn.close()


def scrape_token() -> str | None:
    """The password of the ``coord_metrics`` connection, or None when it is not defined."""
    from coord_airflow import connections

    if not connections.connection_is_defined(METRICS_CONN_ID):
        return None
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(METRICS_CONN_ID).password or None


def token_or_airflow(
    token: Callable[[], str | None] = scrape_token, fallback: Authorizer | None = None
) -> Authorizer:
    """Admit the scrape token, else defer to Airflow's own authentication (``fallback``)."""

    async def authorize(request: "Request") -> None:
        from fastapi.concurrency import run_in_threadpool

        presented = request.headers.get("authorization", "")
        expected = await run_in_threadpool(token)
        if expected and hmac.compare_digest(presented.encode(), f"Bearer {expected}".encode()):
            return
        if fallback is None:
            await airflow_authorize(request)
        else:
            await fallback(request)

    return authorize


def create_app(
    connect: ConnectionFactory = airflow_results_db, authorize: Authorizer | None = None
) -> "FastAPI":
    """Build the metrics app; Airflow mounts it, tests call it with a ``TestClient``."""
    from fastapi.responses import Response
    from prometheus_client import CONTENT_TYPE_LATEST

    from coord_core.observability.collector import CoordMetricsCollector, render

    check = authorize or token_or_airflow()

    app = guarded_app("DShield coordination: Prometheus metrics", check)
    collector = CoordMetricsCollector(connect)

    @app.get("/metrics", response_model=None)
    def metrics() -> Any:
        return Response(
            render(collector), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"}
        )

    return app
