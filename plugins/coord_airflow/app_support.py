"""What the project's web apps on the Airflow API server share: Airflow's authentication, the
reader-role database session, the HTML page shell and its security headers, lazy building.

Importing this module imports neither FastAPI nor Airflow: Airflow loads every file in
``plugins/`` in every component, and only the API server needs the apps.
"""

# No ``from __future__ import annotations``: FastAPI reads the ``Request`` annotations at runtime.
import html
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
    from fastapi import FastAPI, Request

log = logging.getLogger(__name__)

Authorizer = Callable[["Request"], Awaitable[None]]

# Pages hold escaped values only; the policy makes sure nothing in them could ever run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# A page with a live part: its own scripts (served by its app, never inline) and event streams of
# its own origin; nothing else may run or be fetched.
LIVE_PAGE_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
}
PAGE_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1f2933}"
    "table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #d9e2ec;padding:.3rem .5rem;"
    "text-align:left}th{background:#f0f4f8}.fail{color:#c53030;font-weight:700}"
    ".pass{color:#2f855a;font-weight:700}.nodata{color:#627d98;font-weight:700}"
)
# The section of the Airflow configuration (``AIRFLOW__COORD_API__*``) the campaign apps read.
CONFIG_SECTION = "coord_api"
READER_STATEMENT_TIMEOUT = "30s"


async def airflow_user(request: "Request") -> "BaseUser":
    """Airflow's own check: an authenticated user (bearer JWT or the UI's cookie) allowed to read
    DAG runs; 401 without a valid token, 403 without the permission.

    Plugin apps are mounted outside the core API's dependencies, so this is not optional.
    """
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag
    from fastapi.concurrency import run_in_threadpool
    from fastapi.security import HTTPBearer

    bearer = await HTTPBearer(auto_error=False)(request)
    user = await get_user(request, None, bearer)
    await run_in_threadpool(requires_access_dag("GET", DagAccessEntity.RUN), request, user)
    return user


async def airflow_authorize(request: "Request") -> None:
    """``airflow_user`` for apps that need only the yes or no."""
    await airflow_user(request)


async def airflow_caller(request: "Request") -> str:
    """``airflow_user``'s id: whom a rate limit counts."""
    return str((await airflow_user(request)).get_id())


def configured_reader_role() -> str | None:
    """``[coord_api] reader_role`` (default ``coord_reader``; empty: the connection's login role)."""
    from airflow.configuration import conf

    from coord_core.pipeline.results_access import READER_ROLE

    return conf.get(CONFIG_SECTION, "reader_role", fallback=READER_ROLE) or None


@contextmanager
def reader_db() -> Iterator["psycopg.Connection[Any]"]:
    """The ``coord_postgres`` connection, read-only as the reader role, closed after the request."""
    from coord_airflow import connections
    from coord_core.pipeline.results_access import read_only_as

    conn = connections.results_db()
    try:
        read_only_as(conn, configured_reader_role(), statement_timeout=READER_STATEMENT_TIMEOUT)
        yield conn
    finally:
        conn.close()


def html_page(title: str, body: str, status: int = 200, *, style: str = "", live: bool = False) -> Any:
    """A whole HTML page (title escaped here; ``body`` must be escaped by the caller); ``live``: its
    own scripts and event streams are allowed (``LIVE_PAGE_HEADERS``)."""
    from fastapi.responses import HTMLResponse

    doc = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{PAGE_STYLE}{style}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=LIVE_PAGE_HEADERS if live else SECURITY_HEADERS)


def guarded_app(title: str, authorize: Authorizer) -> "FastAPI":
    """A FastAPI app whose every route is behind ``authorize`` and that serves no docs of itself."""
    from fastapi import Depends, FastAPI, Request

    async def authorized(request: Request) -> None:
        await authorize(request)

    return FastAPI(
        title=title, dependencies=[Depends(authorized)], docs_url=None, redoc_url=None, openapi_url=None
    )


def answer_missing_schema(
    app: "FastAPI", title: str, status_of: Callable[["Request"], int] = lambda _: 200, style: str = ""
) -> None:
    """A results database no run has migrated yet holds nothing: the pages say so, not a bare 500."""
    from fastapi import Request
    from psycopg.errors import UndefinedTable

    @app.exception_handler(UndefinedTable)
    async def no_schema_yet(request: Request, exc: UndefinedTable) -> Any:
        log.info("results database has no coord schema yet: %s", exc)
        return html_page(
            title,
            "<p>The results database (connection coord_postgres) has no coord schema yet: no run of "
            "the pipeline has reached it. A DAG run (or <code>make run</code>) creates it.</p>",
            status_of(request),
            style=style,
        )


def parse_time(name: str, value: str) -> datetime:
    """An ISO-8601 instant with its zone from a query parameter (``+`` may arrive as a space); 400
    otherwise."""
    from fastapi import HTTPException

    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as exc:
        raise HTTPException(status_code=400, detail=f"{name} is not an ISO-8601 time") from exc
    if moment.tzinfo is None:
        raise HTTPException(status_code=400, detail=f"{name} must carry a timezone")
    return moment


class LazyApp:
    """An ASGI app that builds its FastAPI app on its first request (keeps plugin import cheap)."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._app: Any = None

    def __repr__(self) -> str:
        return f"{self._factory.__module__}:{self._factory.__qualname__} (built on first request)"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = self._factory()
        await self._app(scope, receive, send)
