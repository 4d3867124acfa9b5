"""The campaign pages (mounted by ``campaigns_plugin`` under ``/coord-campaigns``).

Routes (all read-only, all authenticated by Airflow):
- ``GET /``: campaigns across intervals; filters ``verdict``, ``min_confidence``, ``since`` /
  ``until`` (ISO-8601 with zone), ``source_ip``, ``network`` (a CIDR prefix a source lies in),
  ``indicator`` (IP, hash or URL); ``sort``
  (``last_seen`` | ``confidence``), ``order`` (``desc`` | ``asc``), ``page``, ``page_size``.
- ``GET /campaign/{id}``: one campaign (id, occurrence id or retired id).
- ``GET /run?dag_id=..&run_id=..``: the campaigns of a run's interval (the run's "Campaigns" tab).
- ``GET /live-alerts.js``: the list's script: it follows the results API's alert stream
  (``/coord-api/v1/alerts/stream``) and adds each new alert to the page without a reload.

The database session (``reader``) and the check of the caller (``authorize``) are injected, so
tests use a real PostgreSQL and Airflow the ``coord_postgres`` connection as the reader role.
Importing this module imports neither FastAPI nor Airflow.
"""

# No ``from __future__ import annotations``: FastAPI reads the dependency's ``Request`` annotation.
import html
import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coord_airflow import app_support as web
from coord_airflow import campaign_pages

if TYPE_CHECKING:
    import psycopg
    from fastapi import FastAPI

log = logging.getLogger(__name__)

ConnectionFactory = Callable[[], AbstractContextManager["psycopg.Connection[Any]"]]
PAGE_SIZES = (20, 50, 100, 200)
MEMBER_LIMIT = 200
TIMELINE_LIMIT = 2000


class BadFilter(ValueError):
    """A filter value the list cannot use; the page says which and why."""


LIVE_SCRIPT_PATH = Path(__file__).with_name("live_alerts.js")


def _page(title: str, body: str, status: int = 200, *, live: bool = False) -> Any:
    return web.html_page(title, body, status, style=campaign_pages.STYLE, live=live)


def create_app(
    reader: ConnectionFactory = web.reader_db, authorize: web.Authorizer = web.airflow_authorize
) -> "FastAPI":
    """Build the pages app; Airflow mounts it, tests call it with a ``TestClient``."""
    from fastapi import Request

    from coord_core.pipeline.results_access import ReaderAccessError

    app = web.guarded_app("DShield coordination: campaigns", authorize)
    web.answer_missing_schema(app, "No campaigns yet", style=campaign_pages.STYLE)

    @app.exception_handler(ReaderAccessError)
    async def no_reader_role(request: Request, exc: ReaderAccessError) -> Any:
        log.error("campaign pages cannot read as the reader role: %s", exc)
        return _page(
            "Campaigns unavailable",
            f"<p>{html.escape(str(exc))}. Or set <code>[coord_api] reader_role</code> to read as the "
            "connection's login role (read-only).</p>",
            status=503,
        )

    @app.exception_handler(BadFilter)
    async def bad_filter(request: Request, exc: BadFilter) -> Any:
        return _page(
            "Campaigns", f'<p class="fail">{html.escape(str(exc))}</p><p><a href="?">clear</a></p>', 400
        )

    @app.get("/", response_model=None)
    def index(request: Request) -> Any:
        from coord_core.pipeline import results_access as results

        query = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
        where, indicator = _filter_of(query)
        order = results.CampaignOrder(key=_sort_of(query), descending=query.get("order", "desc") != "asc")
        page_size = _int_in(query, "page_size", 50, PAGE_SIZES)
        page = _page_number(query)
        with reader() as conn:
            if indicator is not None:
                where = results.narrowed_to_indicator(conn, where, *indicator)
            total = results.count_campaigns(conn, where)
            rows, _ = results.list_campaigns(
                conn, where, limit=page_size, offset=(page - 1) * page_size, order=order
            )
        body = campaign_pages.list_body(
            rows, total=total, page=page, page_size=page_size, query=query, verdicts=results.VERDICTS
        )
        return _page("Campaigns", body, live=True)

    script = LIVE_SCRIPT_PATH.read_text(encoding="utf-8")

    @app.get("/" + campaign_pages.LIVE_SCRIPT, response_model=None)
    def live_script() -> Any:
        from fastapi.responses import Response

        headers = {**web.SECURITY_HEADERS, "Cache-Control": "no-cache"}
        return Response(script, media_type="text/javascript", headers=headers)

    @app.get("/campaign/{campaign_id}", response_model=None)
    def campaign(campaign_id: str) -> Any:
        from coord_core.pipeline.results_access import campaign_page

        if len(campaign_id) > 200:
            raise BadFilter("a campaign id is at most 200 characters")
        with reader() as conn:
            detail = campaign_page(
                conn, campaign_id, member_limit=MEMBER_LIMIT, timeline_limit=TIMELINE_LIMIT
            )
        if detail is None:
            return _page(
                "No such campaign",
                f"<p>No campaign, occurrence or retired id {html.escape(repr(campaign_id))} is stored.</p>"
                '<p><a href="../">all campaigns</a></p>',
                status=404,
            )
        return _page(f"Campaign {detail['campaign_id']}", campaign_pages.campaign_body(detail))

    @app.get("/run", response_model=None)
    def run(dag_id: str, run_id: str) -> Any:
        from coord_airflow import PIPELINE_DAG_IDS
        from coord_core.pipeline.results_access import run_campaigns
        from coord_core.pipeline.stores import StoredReportReader

        if dag_id not in PIPELINE_DAG_IDS:
            # Airflow 3.3 shows a plugin's run tab on every DAG: say what the tab is for, not 404.
            ours = ", ".join(sorted(PIPELINE_DAG_IDS))
            return _page(
                "No campaigns",
                f"<p>DAG {html.escape(repr(dag_id))} does not run the coordination pipeline, so it finds "
                f"no campaigns. This tab shows the campaigns of {html.escape(ours)}.</p>",
            )
        with reader() as conn:
            interval = StoredReportReader(conn).interval_of_run(dag_id, run_id)
            rows = run_campaigns(conn, *interval) if interval else []
        if interval is None:
            return _page(
                "No campaigns",
                f"<p>No run {html.escape(repr(run_id))} of {html.escape(dag_id)} is stored in the results "
                "database: it has not started its extract task yet.</p>",
                status=404,
            )
        return _page(
            f"Campaigns of {dag_id} / {run_id}", campaign_pages.run_body(dag_id, run_id, interval, rows)
        )

    return app


def _filter_of(query: dict[str, str]) -> tuple[Any, Any]:
    """The list's ``CampaignFilter`` from the form's fields, and the indicator (kind, value) to
    narrow it by; ``BadFilter`` names a wrong field."""
    from coord_core.pipeline import results_access as results

    verdict = query.get("verdict")
    if verdict is not None and verdict not in results.VERDICTS:
        raise BadFilter(f"verdict must be one of {', '.join(results.VERDICTS)}")
    confidence = None
    if "min_confidence" in query:
        try:
            confidence = float(query["min_confidence"])
        except ValueError:
            confidence = -1.0
        if not 0.0 <= confidence <= 1.0:
            raise BadFilter("min confidence must be a number from 0 to 1")
    since, until = (_time(query, name) for name in ("since", "until"))
    try:
        source_ip = results.classify_indicator(query["source_ip"], "ip")[1] if "source_ip" in query else None
        network = results.parse_network(query["network"]) if "network" in query else None
        indicator = results.classify_indicator(query["indicator"]) if "indicator" in query else None
    except ValueError as exc:
        raise BadFilter(str(exc)) from exc
    where = results.CampaignFilter(
        verdict=verdict,
        min_confidence=confidence,
        seen_since=since,
        seen_until=until,
        source_ip=source_ip,
        network=network,
    )
    return where, indicator


def _time(query: dict[str, str], name: str) -> Any:
    from fastapi import HTTPException

    if name not in query:
        return None
    try:
        return web.parse_time(name, query[name])
    except HTTPException as exc:
        raise BadFilter(str(exc.detail)) from exc


def _sort_of(query: dict[str, str]) -> Any:
    sort = query.get("sort", "last_seen")
    if sort not in ("last_seen", "confidence"):
        raise BadFilter("sort must be last_seen or confidence")
    return sort


def _int_in(query: dict[str, str], name: str, default: int, allowed: tuple[int, ...]) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) not in allowed:
        raise BadFilter(f"{name} must be one of {', '.join(map(str, allowed))}")
    return int(raw)


def _page_number(query: dict[str, str]) -> int:
    raw = query.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise BadFilter("page must be a whole number from 1")
    return int(raw)
