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
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from coord_airflow.app_support import (
    SECURITY_HEADERS,
    Authorizer,
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
ReportRenderer = Callable[[str, dict[str, Any], dict[str, Any]], str]
_INDEX_LIMIT = 120
_WEEKS_LIMIT = 26
WEEK_PATTERN = re.compile(r"^[0-9]{4}-W[0-9]{2}$")
_STYLE = ".spike{color:#c53030;font-weight:700}.muted{color:#627d98}section{margin-top:1.2rem}"
CAMPAIGN_PAGE = "../coord-campaigns/campaign/{}"
_SPIKE_HEADERS = ["campaign", "metric", "method", "when", "value", "baseline", "threshold"]


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


def _section(key: str, title: str, body: str) -> str:
    """A titled part of a report page; ``key`` is its anchor."""
    return f'<section id="{key}"><h2>{title}</h2>{body}</section>'


def _campaign_state_sections(report: dict[str, Any], describe: Callable[[Any], str]) -> list[str]:
    """The new, returned and dormant campaigns, each entry drawn by ``describe``."""
    sections = []
    for key, title in (
        ("new_campaigns", "New campaigns"),
        ("returned_campaigns", "Returned campaigns"),
        ("dormant_campaigns", "Gone dormant"),
    ):
        entries = report.get(key, [])
        listed = ", ".join(describe(e) for e in entries) if entries else '<span class="muted">none</span>'
        sections.append(_section(key, title, f"<p>{listed}</p>"))
    return sections


def _lineage_section(lineage: dict[str, Any], read_from: str) -> str:
    """Which run built a report, with which code, and from what it read (``read_from``, escaped)."""
    return _section(
        "lineage",
        "Lineage",
        f"<p>Built by {_esc(lineage.get('dag_id'))} / {_esc(lineage.get('run_id'))}, code "
        f"{_esc(lineage.get('code_version'))}, from {read_from}.</p>",
    )


def _spike_cells(spike: dict[str, Any]) -> list[str]:
    """One spike's table cells, the same on the day's and the week's page."""
    return [
        _campaign_link(spike["campaign_id"]),
        _esc(spike["metric"]),
        _esc(spike["method"]),
        _esc(f"{spike['hour']:02d}:00" if "hour" in spike else "day"),
        f'<span class="spike">{_esc(spike["value"])}</span>',
        _esc(spike["baseline"]),
        _esc(spike["threshold"]),
    ]


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
    spike_rows = [_spike_cells(s) for s in report.get("spikes", [])]
    method_note = (
        f"median_iqr: above median + {_esc(params.get('iqr_k'))}·IQR; mean_sigma: above mean + "
        f"{_esc(params.get('sigma_k'))}·σ; of the previous {_esc(params.get('window_days'))} days "
        f"(at least {_esc(params.get('min_history_days'))} days of history, "
        f"count ≥ {_esc(params.get('min_count'))}); seasonal_hourly: an hour of the day above median + "
        f"{_esc(seasonal.get('k'))}·IQR of the same hour on the previous "
        f"{_esc(seasonal.get('window_days'))} days."
    )
    parts.append(
        _section(
            "spikes",
            "Spikes",
            f'<p class="muted">{method_note}</p>' + _table(_SPIKE_HEADERS, spike_rows, "No spike this day."),
        )
    )
    parts.extend(_campaign_state_sections(report, _campaign_link))
    mover_rows = [[_campaign_link(m["campaign_id"]), _esc(m["growth"])] for m in report.get("movers", [])]
    parts.append(
        _section(
            "movers",
            "Movers",
            "<p class=\"muted\">Growth: the day's sessions over the previous 7 days' mean.</p>"
            + _table(["campaign", "growth"], mover_rows, "No mover."),
        )
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
        _section(
            "campaigns",
            "Top campaigns",
            _table(
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
            + (f'<p class="muted">{_esc(more)} more not listed.</p>' if more else ""),
        )
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
        _section(
            "indicators",
            "Indicators",
            '<p class="muted">Values are attacker data.</p>'
            + _table(
                ["class", "movement", "feature", "campaign-days", "previous"], indicator_rows, "No movement."
            ),
        )
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
        _section(
            "correlations",
            "Correlation hypotheses",
            '<p class="muted">Campaigns kept apart that share indicators: side by side (shared_indicators) '
            "or one after the other (succession). Hypotheses with their evidence; nothing is merged.</p>"
            + _table(["kind", "campaigns", "shared", "features", "gap (days)"], correlation_rows, "None."),
        )
    )
    runs = lineage.get("runs_read", [])
    parts.append(
        _lineage_section(
            lineage,
            f"{_esc(len(runs))} runs' intervals {_esc(lineage.get('read', {}).get('since'))} – "
            f"{_esc(lineage.get('read', {}).get('until'))}",
        )
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
        _section(
            "days",
            "Days",
            _table(["day", "sessions", "campaigns active", "new", "spikes"], day_rows, "No daily report."),
        )
    )
    spike_rows = [[_esc(sp["day"]), *_spike_cells(sp)] for sp in report.get("spikes", [])]
    more = report.get("spikes_truncated", 0)
    parts.append(
        _section(
            "spikes",
            "Spikes",
            _table(["day", *_SPIKE_HEADERS], spike_rows, "No spike this week.")
            + (f'<p class="muted">{_esc(more)} more not listed.</p>' if more else ""),
        )
    )
    parts.extend(
        _campaign_state_sections(
            report, lambda entry: f"{_campaign_link(entry['campaign_id'])} ({_esc(entry['day'])})"
        )
    )
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
        _section(
            "campaigns",
            "Top campaigns",
            "<p class=\"muted\">By the week's sessions, among the campaigns a day's report listed (each "
            "lists its 50 busiest).</p>"
            + _table(
                ["campaign", "verdicts", "sessions", "days active", "days"], top_rows, "No campaign active."
            ),
        )
    )
    daily = lineage.get("daily_reports", [])
    parts.append(
        _lineage_section(
            lineage,
            f"{_esc(len(daily))} daily reports (this week and the one before) and the "
            f"{_esc(len(lineage.get('runs_read', [])))} runs this week's read",
        )
    )
    return "".join(parts)


@dataclass(frozen=True)
class _ReportKind:
    """How one kind of stored report (a day's, an ISO week's) is keyed, named and drawn."""

    key: str
    title: str
    render: ReportRenderer
    missing: str  # the 404 page's text; ``{}``: what was asked for, escaped

    def page(self, asked: str, found: dict[str, Any] | None) -> Any:
        """The report's page, or a 404 page that says why there is none."""
        if found is None:
            return html_page(f"No {self.title.lower()}", self.missing.format(_esc(asked)), 404)
        body = self.render(found[self.key], found["report"], found["lineage"])
        return html_page(
            f"{self.title} {found[self.key]}", '<p><a href="./">All reports</a></p>' + body, style=_STYLE
        )

    def json(self, asked: str, found: dict[str, Any] | None) -> Any:
        """The report and its lineage as JSON, or a 404 that says which report is missing."""
        from fastapi import HTTPException
        from fastapi.responses import JSONResponse

        if found is None:
            raise HTTPException(status_code=404, detail=f"no {self.title.lower()} for {asked}")
        return JSONResponse(found, headers=SECURITY_HEADERS)


DAILY_REPORT = _ReportKind(
    "day",
    "Trend report",
    render_report,
    "<p>No trend report is stored for {}: the coord_trends DAG has not run for it.</p>",
)
WEEKLY_REPORT = _ReportKind(
    "week",
    "Weekly trend report",
    render_weekly,
    "<p>No weekly report is stored for {}: the coord_trends DAG has not reported a day of it.</p>",
)


def create_app(db: DbFactory = reader_db, authorize: Authorizer = airflow_authorize) -> "FastAPI":
    """Build the trend report app; Airflow mounts it, tests call it with a ``TestClient``."""
    from fastapi import HTTPException

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
        return DAILY_REPORT.page(day, stored(day))

    @app.get("/report.json", response_model=None)
    def report_json(day: str) -> Any:
        return DAILY_REPORT.json(day, stored(day))

    def stored_week(week: str) -> dict[str, Any] | None:
        if not WEEK_PATTERN.match(week):
            raise HTTPException(status_code=400, detail="week must be an ISO week, YYYY-Www")
        with db() as conn:
            return trend_reports.stored_weekly_report(conn, week)

    @app.get("/week", response_model=None)
    def week_page(week: str) -> Any:
        return WEEKLY_REPORT.page(week, stored_week(week))

    @app.get("/week.json", response_model=None)
    def week_json(week: str) -> Any:
        return WEEKLY_REPORT.json(week, stored_week(week))

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
            _section(
                "weeks",
                "Weeks",
                _table(
                    ["ISO week", "sessions", "against the week before", "new", "spikes"],
                    week_rows,
                    "No weekly report stored yet.",
                ),
            )
            + _section(
                "days",
                "Days",
                _table(
                    ["day", "campaigns active", "sessions", "new", "spikes"],
                    rows,
                    "No trend report stored yet.",
                ),
            ),
            style=_STYLE,
        )

    return app
