"""The web app behind the daily trend report pages (``trend_report_plugin`` mounts it at ``/coord-trends``).

Routes (all read-only, all authenticated, reading as the reader role):
- ``GET /``: the stored daily reports, newest first, with their totals.
- ``GET /report?day=YYYY-MM-DD``: one day's report as HTML: totals, spikes (with each method's
  baseline and threshold), new, returned and dormant campaigns, movers, top campaigns, indicator
  movement, and the runs it read.
- ``GET /report.json?day=...``: the stored report and its lineage as JSON.
- ``GET /week?week=YYYY-Www``: one ISO week's report (its days' reports aggregated): per day,
  against the previous week, spikes, new, returned and dormant campaigns, top campaigns, lineage.
- ``GET /week.json?week=...``: the stored weekly report and its lineage as JSON.

Campaign ids link to the campaign pages (``/coord-campaigns``). Feature values in the indicator
section are attacker text: escaped, and the page's policy lets nothing run. Importing this
module imports neither FastAPI nor Airflow.
"""

# No ``from __future__ import annotations``: FastAPI reads annotations at runtime.
import html
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from coord_airflow.app_support import (
    SECURITY_HEADERS,
    Authorizer,
    LazyApp,
    airflow_authorize,
    answer_missing_schema,
    guarded_app,
    html_page,
    reader_db,
)

if TYPE_CHECKING:
    import psycopg
    from fastapi import FastAPI

DbFactory = Callable[[], AbstractContextManager["psycopg.Connection[Any]"]]
_INDEX_LIMIT = 120
_WEEKS_LIMIT = 26
WEEK_PATTERN = re.compile(r"^[0-9]{4}-W[0-9]{2}$")
_STYLE = ".spike{color:#c53030;font-weight:700}.muted{color:#627d98}section{margin-top:1.2rem}"
CAMPAIGN_PAGE = "../coord-campaigns/campaign/{}"


def _esc(value: object) -> str:
    return html.escape(str(value))


def _campaign_link(campaign_id: str) -> str:
    return f'<a href="{_esc(CAMPAIGN_PAGE.format(quote(campaign_id, safe="")))}">{_esc(campaign_id)}</a>'


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="muted">{_esc(empty)}</p>'
    head = "".join(f"<th>{_esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _spark(daily: dict[str, int]) -> str:
    """The last 28 days' sessions as a bar chart in text (no script, no image)."""
    bars = "▁▂▃▄▅▆▇█"
    values = list(daily.values())
    top = max(values, default=0)
    if top <= 0:
        return ""
    return "".join(bars[min(len(bars) - 1, (v * (len(bars) - 1)) // top)] if v else " " for v in values)


def render_report(day: str, report: dict[str, Any], lineage: dict[str, Any]) -> str:
    """The body of one day's report page (every value escaped)."""
    totals = report.get("totals", {})
    params = report.get("parameters", {}).get("spikes", {})
    seasonal = report.get("parameters", {}).get("seasonal", {})
    parts = [
        f"<p>UTC day <b>{_esc(day)}</b>: {_esc(totals.get('campaigns_active', 0))} campaigns active, "
        f"{_esc(totals.get('sessions', 0))} campaign sessions, {_esc(totals.get('new_campaigns', 0))} new, "
        f'<span class="spike">{_esc(totals.get("spikes", 0))} spikes</span>. '
        '<a href="report.json?day=' + _esc(day) + '">JSON</a></p>'
    ]
    spike_rows = [
        [
            _campaign_link(s["campaign_id"]),
            _esc(s["metric"]),
            _esc(s["method"]),
            _esc(f"{s['hour']:02d}:00" if "hour" in s else "day"),
            f'<span class="spike">{_esc(s["value"])}</span>',
            _esc(s["baseline"]),
            _esc(s["threshold"]),
        ]
        for s in report.get("spikes", [])
    ]
    method_note = (
        f"median_iqr: above median + {_esc(params.get('iqr_k'))}·IQR; mean_sigma: above mean + "
        f"{_esc(params.get('sigma_k'))}·σ; of the previous {_esc(params.get('window_days'))} days "
        f"(at least {_esc(params.get('min_history_days'))} days of history, "
        f"count ≥ {_esc(params.get('min_count'))}); seasonal_hourly: an hour of the day above median + "
        f"{_esc(seasonal.get('k'))}·IQR of the same hour on the previous "
        f"{_esc(seasonal.get('window_days'))} days."
    )
    parts.append(
        '<section id="spikes"><h2>Spikes</h2>'
        f'<p class="muted">{method_note}</p>'
        + _table(
            ["campaign", "metric", "method", "value", "baseline", "threshold"],
            spike_rows,
            "No spike this day.",
        )
        + "</section>"
    )
    for key, title in (
        ("new_campaigns", "New campaigns"),
        ("returned_campaigns", "Returned campaigns"),
        ("dormant_campaigns", "Gone dormant"),
    ):
        ids = report.get(key, [])
        listed = ", ".join(_campaign_link(c) for c in ids) if ids else '<span class="muted">none</span>'
        parts.append(f'<section id="{key}"><h2>{title}</h2><p>{listed}</p></section>')
    mover_rows = [[_campaign_link(m["campaign_id"]), _esc(m["growth"])] for m in report.get("movers", [])]
    parts.append(
        '<section id="movers"><h2>Movers</h2><p class="muted">Growth: the day\'s sessions over the '
        "previous 7 days' mean.</p>" + _table(["campaign", "growth"], mover_rows, "No mover.") + "</section>"
    )
    top_rows = [
        [
            _campaign_link(c["campaign_id"]),
            _esc(c["state"]),
            _esc(", ".join(c.get("verdicts_today", []))),
            _esc(c["today"]["sessions"]),
            _esc(c["today"]["sources"]),
            _esc(c["today"]["new_sources"]),
            _esc(c["today"]["sensors"]),
            _esc("" if c["growth"] is None else c["growth"]),
            f'<span title="sessions a day, 28 days">{_esc(_spark(c.get("daily_sessions") or {}))}</span>',
        ]
        for c in report.get("campaigns", [])
    ]
    more = report.get("campaigns_truncated", 0)
    parts.append(
        '<section id="campaigns"><h2>Top campaigns</h2>'
        + _table(
            [
                "campaign",
                "state",
                "verdicts",
                "sessions",
                "sources",
                "new sources",
                "sensors",
                "growth",
                "28 days",
            ],
            top_rows,
            "No campaign active.",
        )
        + (f'<p class="muted">{_esc(more)} more not listed.</p>' if more else "")
        + "</section>"
    )
    indicator_rows = [
        [
            _esc(klass),
            _esc(move),
            f"<code>{_esc(e['feature'])}</code>",
            _esc(e["campaign_days"]),
            _esc(e["previous"]),
        ]
        for klass, moves in sorted(report.get("indicators", {}).items())
        for move, entries in moves.items()
        for e in entries
    ]
    parts.append(
        '<section id="indicators"><h2>Indicators</h2><p class="muted">Values are attacker data.</p>'
        + _table(
            ["class", "movement", "feature", "campaign-days", "previous"], indicator_rows, "No movement."
        )
        + "</section>"
    )
    correlation_rows = [
        [
            _esc(h["kind"]),
            " → ".join(_campaign_link(c) for c in h["campaigns"]),
            _esc(h["evidence"]["shared_features"]),
            "<br>".join(f"<code>{_esc(f['feature'])}</code>" for f in h["evidence"]["features"]),
            _esc(h["evidence"]["gap_days"]),
        ]
        for h in report.get("correlations", [])
    ]
    parts.append(
        '<section id="correlations"><h2>Correlation hypotheses</h2><p class="muted">Campaigns kept apart '
        "that share indicators: side by side (shared_indicators) or one after the other (succession). "
        "Hypotheses with their evidence; nothing is merged.</p>"
        + _table(["kind", "campaigns", "shared", "features", "gap (days)"], correlation_rows, "None.")
        + "</section>"
    )
    runs = lineage.get("runs_read", [])
    parts.append(
        '<section id="lineage"><h2>Lineage</h2>'
        f"<p>Built by {_esc(lineage.get('dag_id'))} / {_esc(lineage.get('run_id'))}, code "
        f"{_esc(lineage.get('code_version'))}, from {_esc(len(runs))} runs' intervals "
        f"{_esc(lineage.get('read', {}).get('since'))} – {_esc(lineage.get('read', {}).get('until'))}.</p>"
        "</section>"
    )
    return "".join(parts)


def render_weekly(week: str, report: dict[str, Any], lineage: dict[str, Any]) -> str:
    """The body of one ISO week's report page (every value escaped)."""
    totals = report.get("totals", {})
    growth = totals.get("growth")
    missing = report.get("days_missing", [])
    parts = [
        f"<p>ISO week <b>{_esc(week)}</b> ({_esc(report.get('first_day'))} – {_esc(report.get('last_day'))}, "
        f"UTC): {_esc(totals.get('sessions', 0))} campaign sessions against "
        f"{_esc(totals.get('previous_week_sessions', 0))} the week before"
        + (f" (×{_esc(growth)})" if growth is not None else "")
        + f", {_esc(totals.get('new_campaigns', 0))} new campaigns, "
        f'<span class="spike">{_esc(totals.get("spikes", 0))} spikes</span>. '
        + (f'<span class="muted">No daily report for {_esc(", ".join(missing))}.</span> ' if missing else "")
        + f'<a href="week.json?week={_esc(week)}">JSON</a></p>'
    ]
    day_rows = [
        [
            f'<a href="report?day={_esc(d["day"])}">{_esc(d["day"])}</a>',
            _esc(d["sessions"]),
            _esc(d["campaigns_active"]),
            _esc(d["new_campaigns"]),
            _esc(d["spikes"]),
        ]
        for d in report.get("per_day", [])
    ]
    parts.append(
        '<section id="days"><h2>Days</h2>'
        + _table(["day", "sessions", "campaigns active", "new", "spikes"], day_rows, "No daily report.")
        + "</section>"
    )
    spike_rows = [
        [
            _esc(sp["day"]),
            _campaign_link(sp["campaign_id"]),
            _esc(sp["metric"]),
            _esc(sp["method"]),
            _esc(f"{sp['hour']:02d}:00" if "hour" in sp else "day"),
            f'<span class="spike">{_esc(sp["value"])}</span>',
            _esc(sp["baseline"]),
            _esc(sp["threshold"]),
        ]
        for sp in report.get("spikes", [])
    ]
    more = report.get("spikes_truncated", 0)
    parts.append(
        '<section id="spikes"><h2>Spikes</h2>'
        + _table(
            ["day", "campaign", "metric", "method", "when", "value", "baseline", "threshold"],
            spike_rows,
            "No spike this week.",
        )
        + (f'<p class="muted">{_esc(more)} more not listed.</p>' if more else "")
        + "</section>"
    )
    for key, title in (
        ("new_campaigns", "New campaigns"),
        ("returned_campaigns", "Returned campaigns"),
        ("dormant_campaigns", "Gone dormant"),
    ):
        entries = report.get(key, [])
        listed = (
            ", ".join(f"{_campaign_link(e['campaign_id'])} ({_esc(e['day'])})" for e in entries)
            if entries
            else '<span class="muted">none</span>'
        )
        parts.append(f'<section id="{key}"><h2>{title}</h2><p>{listed}</p></section>')
    top_rows = [
        [
            _campaign_link(c["campaign_id"]),
            _esc(", ".join(c["verdicts"])),
            _esc(c["sessions"]),
            _esc(c["days_active"]),
            f'<span title="sessions a day">{_esc(_spark(c.get("daily_sessions") or {}))}</span>',
        ]
        for c in report.get("top_campaigns", [])
    ]
    parts.append(
        '<section id="campaigns"><h2>Top campaigns</h2><p class="muted">By the week\'s sessions, among the '
        "campaigns a day's report listed (each lists its 50 busiest).</p>"
        + _table(["campaign", "verdicts", "sessions", "days active", "days"], top_rows, "No campaign active.")
        + "</section>"
    )
    daily = lineage.get("daily_reports", [])
    parts.append(
        '<section id="lineage"><h2>Lineage</h2>'
        f"<p>Built by {_esc(lineage.get('dag_id'))} / {_esc(lineage.get('run_id'))}, code "
        f"{_esc(lineage.get('code_version'))}, from {_esc(len(daily))} daily reports (this week and the one "
        f"before) and the {_esc(len(lineage.get('runs_read', [])))} runs this week's read.</p></section>"
    )
    return "".join(parts)


def create_app(db: DbFactory = reader_db, authorize: Authorizer = airflow_authorize) -> "FastAPI":
    """Build the trend report app; Airflow mounts it, tests call it with a ``TestClient``."""
    from fastapi import HTTPException
    from fastapi.responses import JSONResponse

    from coord_core.pipeline import trends as trend_reports

    app = guarded_app("DShield coordination: trend reports", authorize)
    answer_missing_schema(app, "No trend report yet", lambda r: 404 if "/report" in r.url.path else 200)

    def parse_day(day: str) -> date:
        try:
            return date.fromisoformat(day)
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="day must be a date, YYYY-MM-DD") from exc

    def stored(day: str) -> dict[str, Any] | None:
        with db() as conn:
            return trend_reports.stored_trend_report(conn, parse_day(day))

    @app.get("/report", response_model=None)
    def report(day: str) -> Any:
        found = stored(day)
        if found is None:
            return html_page(
                "No trend report",
                f"<p>No trend report is stored for {_esc(day)}: the coord_trends DAG has not run for it.</p>",
                404,
            )
        body = render_report(found["day"], found["report"], found["lineage"])
        return html_page(
            f"Trend report {found['day']}", '<p><a href="./">All reports</a></p>' + body, style=_STYLE
        )

    @app.get("/report.json", response_model=None)
    def report_json(day: str) -> Any:
        found = stored(day)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no trend report for {day}")
        return JSONResponse(found, headers=SECURITY_HEADERS)

    def stored_week(week: str) -> dict[str, Any] | None:
        if not WEEK_PATTERN.match(week):
            raise HTTPException(status_code=400, detail="week must be an ISO week, YYYY-Www")
        with db() as conn:
            return trend_reports.stored_weekly_report(conn, week)

    @app.get("/week", response_model=None)
    def week_page(week: str) -> Any:
        found = stored_week(week)
        if found is None:
            return html_page(
                "No weekly trend report",
                f"<p>No weekly report is stored for {_esc(week)}: the coord_trends DAG has not reported a "
                "day of it.</p>",
                404,
            )
        body = render_weekly(found["week"], found["report"], found["lineage"])
        return html_page(
            f"Weekly trend report {found['week']}", '<p><a href="./">All reports</a></p>' + body, style=_STYLE
        )

    @app.get("/week.json", response_model=None)
    def week_json(week: str) -> Any:
        found = stored_week(week)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no weekly trend report for {week}")
        return JSONResponse(found, headers=SECURITY_HEADERS)

    @app.get("/", response_model=None)
    def index() -> Any:
        with db() as conn:
            weeks = trend_reports.stored_weekly_totals(conn, _WEEKS_LIMIT)
            listings = trend_reports.stored_report_totals(conn, _INDEX_LIMIT)
        week_rows = [
            [
                f'<a href="week?week={_esc(week)}">{_esc(week)}</a>',
                _esc(totals.get("sessions", 0)),
                _esc("" if totals.get("growth") is None else totals["growth"]),
                _esc(totals.get("new_campaigns", 0)),
                _esc(totals.get("spikes", 0)),
            ]
            for week, totals in weeks
        ]
        rows = [
            [
                f'<a href="report?day={_esc(day)}">{_esc(day)}</a>',
                _esc(totals.get("campaigns_active", 0)),
                _esc(totals.get("sessions", 0)),
                _esc(totals.get("new_campaigns", 0)),
                _esc(totals.get("spikes", 0)),
            ]
            for day, totals in listings
        ]
        return html_page(
            "Trend reports",
            '<section id="weeks"><h2>Weeks</h2>'
            + _table(
                ["ISO week", "sessions", "against the week before", "new", "spikes"],
                week_rows,
                "No weekly report stored yet.",
            )
            + '</section><section id="days"><h2>Days</h2>'
            + _table(
                ["day", "campaigns active", "sessions", "new", "spikes"], rows, "No trend report stored yet."
            )
            + "</section>",
            style=_STYLE,
        )

    return app


class LazyTrendReportApp(LazyApp):
    """The trend report app, built on its first request."""

    def __init__(self, factory: Callable[[], Any] = create_app) -> None:
        super().__init__(factory)
