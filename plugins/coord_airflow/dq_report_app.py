"""The web app behind the data-quality report pages (mounted by ``dq_report_plugin`` under ``/coord-dq``).

Routes (all read-only, all authenticated):
- ``GET /``: the most recent reports with their gate decisions.
- ``GET /report?dag_id=..&run_id=..`` or ``?interval_start=..&interval_end=..``: a run's HTML report,
  with the trend against the earlier runs stored at the time of viewing (never stored itself).
- ``GET /summary?...``: the same lookup as JSON (gate, reason, summary) for API callers.

Where reports come from (``reader``) and who may see them (``authorize``) are injected, so
tests use a real PostgreSQL database and Airflow uses the ``coord_postgres`` connection and its
own authentication. Importing this module imports neither FastAPI nor Airflow: Airflow loads
every file in ``plugins/`` in every component, and only the API server needs the app.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency's ``Request`` annotation
# at runtime, and FastAPI itself is imported only inside ``create_app``.
import html
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from coord_airflow.app_support import (
    SECURITY_HEADERS,
    Authorizer,
    airflow_authorize,
    answer_missing_schema,
    guarded_app,
)
from coord_airflow.app_support import html_page as _page
from coord_airflow.app_support import parse_time as _parse_time

if TYPE_CHECKING:
    from fastapi import FastAPI

    from coord_core.pipeline.stores import StoredReport, StoredReportReader

log = logging.getLogger(__name__)

ReaderFactory = Callable[[], AbstractContextManager["StoredReportReader"]]

_INDEX_LIMIT = 100


@contextmanager
def airflow_reader() -> Iterator["StoredReportReader"]:
    """A reader on the ``coord_postgres`` Airflow connection, closed after the request."""
    from coord_airflow import connections
    from coord_core.pipeline.stores import StoredReportReader

    conn = connections.results_db()
    try:
        yield StoredReportReader(conn)
    finally:
        conn.close()


@dataclass(frozen=True)
class ReportQuery:
    """Which stored report a request asks for (query parameters of ``/report`` and ``/summary``):
    a run by ``dag_id`` and ``run_id``, or an interval by its start and end."""

    dag_id: str | None = None
    run_id: str | None = None
    interval_start: str | None = None
    interval_end: str | None = None


def _banner(text: str) -> str:
    return (
        '<div style="background:#fefcbf;border:1px solid #d69e2e;padding:.5rem;margin:.5rem 1.5rem">'
        f"{html.escape(text)}</div>"
    )


def create_app(
    reader: ReaderFactory = airflow_reader, authorize: Authorizer = airflow_authorize
) -> "FastAPI":
    """Build the report app; Airflow mounts it, tests call it with a ``TestClient``."""
    from fastapi import Depends, HTTPException
    from fastapi.responses import HTMLResponse, JSONResponse

    app = guarded_app("DShield coordination: data-quality reports", authorize)
    answer_missing_schema(
        app,
        "No data-quality report yet",
        lambda request: 404 if request.url.path.endswith(("/report", "/summary")) else 200,
    )

    def lookup(query: ReportQuery, *, with_trend: bool = False) -> "tuple[StoredReport | None, str, str]":
        """The stored report, what was asked for, and the page (with the view-time trend if asked)."""
        dag_id, run_id = query.dag_id, query.run_id
        interval_start, interval_end = query.interval_start, query.interval_end
        if dag_id and run_id:
            what = f"DAG {dag_id!r} run {run_id!r}"
            with reader() as source:
                found = source.for_run(dag_id, run_id)
                return found, what, _page_of(source, found, with_trend)
        if interval_start and interval_end:
            start = _parse_time("interval_start", interval_start)
            end = _parse_time("interval_end", interval_end)
            what = f"interval {start.isoformat()} – {end.isoformat()}"
            with reader() as source:
                found = source.for_interval(start, end)
                return found, what, _page_of(source, found, with_trend)
        raise HTTPException(
            status_code=400, detail="give dag_id and run_id, or interval_start and interval_end"
        )

    @app.get("/report", response_model=None)
    def report(query: Annotated[ReportQuery, Depends()]) -> Any:
        from coord_airflow import PIPELINE_DAG_IDS

        dag_id, run_id = query.dag_id, query.run_id
        if dag_id and dag_id not in PIPELINE_DAG_IDS:
            # Airflow 3.3 shows a plugin's run tab on every DAG: say what the tab is for, not 404.
            ours = ", ".join(sorted(PIPELINE_DAG_IDS))
            return _page(
                "No data-quality report",
                f"<p>DAG {html.escape(repr(dag_id))} does not run the coordination pipeline, so it has "
                f"no data-quality report. This tab shows the reports of {html.escape(ours)}.</p>",
            )
        found, what, page = lookup(query, with_trend=True)
        if found is None:
            return _page(
                "No data-quality report",
                f"<p>No data-quality report is stored for {html.escape(what)}. The validate task may "
                "not have run yet for it, or it failed before writing its report.</p>",
                status=404,
            )
        if run_id and dag_id and found.latest_runs and (dag_id, run_id) not in found.latest_runs:
            latest = ", ".join(f"{d} / {r}" for d, r in found.latest_runs)
            note = _banner(
                f"The interval of run {run_id} was validated again later ({latest}); "
                "this is the latest report for the interval."
            )
            page = page.replace("<body>", "<body>" + note, 1)
        return HTMLResponse(page, headers=SECURITY_HEADERS)

    @app.get("/summary", response_model=None)
    def summary(query: Annotated[ReportQuery, Depends()]) -> Any:
        found, what, _ = lookup(query)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no data-quality report for {what}")
        return JSONResponse(found.summary_document(), headers={"Cache-Control": "no-store"})

    @app.get("/", response_model=None)
    def index() -> Any:
        from urllib.parse import urlencode

        with reader() as source:
            listings = source.recent(_INDEX_LIMIT)
        if not listings:
            return _page("Data-quality reports", "<p>No data-quality report has been stored yet.</p>")
        rows = []
        for item in listings:
            start, end = item.interval_start.isoformat(), item.interval_end.isoformat()
            query = urlencode({"interval_start": start, "interval_end": end})
            gate = {
                "passed": '<span class="pass">passed</span>',
                "no data": '<span class="nodata">no data</span>',
            }.get(item.gate_outcome, '<span class="fail">FAILED</span>')
            reason = item.gate_reason if len(item.gate_reason) <= 200 else item.gate_reason[:199] + "…"
            run = f"{item.dag_id} / {item.run_id}" if item.dag_id else "–"
            rows.append(
                f'<tr><td><a href="report?{html.escape(query)}">{html.escape(start)} – {html.escape(end)}</a>'
                f"</td><td>{gate}</td>"
                f"<td>{html.escape(run)}</td><td>{html.escape(reason)}</td></tr>"
            )
        table = (
            "<table><tr><th>interval</th><th>gate</th><th>latest run</th><th>reason</th></tr>"
            + "".join(rows)
            + "</table>"
        )
        return _page("Data-quality reports", table)

    return app


def _page_of(source: "StoredReportReader", found: "StoredReport | None", with_trend: bool) -> str:
    if found is None:
        return ""
    return source.page_with_trend(found) if with_trend else found.html
