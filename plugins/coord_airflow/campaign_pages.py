"""HTML of the campaign pages, from the dicts ``coord_core.pipeline.results_access`` returns.

Every stored value is escaped here (session ids, URLs, commands and evidence values are attacker
data); long values are cut and long lists shortened, so a page's size is bounded by its limits,
not by what an attacker sent. Links are relative: the pages work behind a path prefix.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

STYLE = (
    "nav{margin:.3rem 0 1rem}nav a{margin-right:1rem}form{margin:.5rem 0 1rem}"
    "form label{margin-right:.8rem;font-size:.85rem}h2{margin-top:1.6rem}"
    ".num{text-align:right}.muted{color:#627d98}.stat{font-family:monospace;font-size:.78rem}"
    "svg{border:1px solid #d9e2ec;background:#fbfcfe}"
)
VALUE_CHARS = 300
LIST_ITEMS = 20
TIMELINE_ROWS = 30

# How the DQ pages and the API are reached from a page at depth 0 (``/coord-campaigns/``, ``/run``)
# and depth 1 (``/coord-campaigns/campaign/{id}``).
_UP = {0: "../", 1: "../../"}


def cut(value: object, limit: int = VALUE_CHARS) -> str:
    """``value`` as text, cut to ``limit`` characters and escaped."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = text[:limit] + f"… ({len(text) - limit} more chars)"
    return escape(text)


def brief(value: Any) -> str:
    """A statistic's value, compact and escaped: numbers rounded, structures as bounded JSON."""
    if isinstance(value, float):
        return escape(f"{value:.4g}")
    if isinstance(value, (str, int, bool)) or value is None:
        return cut(value)
    if isinstance(value, list) and len(value) > LIST_ITEMS:
        value = [*value[:LIST_ITEMS], f"… {len(value) - LIST_ITEMS} more"]
    return cut(json.dumps(value, ensure_ascii=False, default=str, sort_keys=True))


def _confidence(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def campaign_href(campaign_id: str, depth: int) -> str:
    return ("../" if depth else "") + "campaign/" + quote(campaign_id, safe="")


def run_href(dag_id: str, run_id: str, depth: int) -> str:
    return ("../" if depth else "") + "run?" + urlencode({"dag_id": dag_id, "run_id": run_id})


def dq_href(dag_id: str, run_id: str, depth: int) -> str:
    return _UP[depth] + "coord-dq/report?" + urlencode({"dag_id": dag_id, "run_id": run_id})


def _table(headers: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


# -- the list ---------------------------------------------------------------------------------

LIVE_SCRIPT = "live-alerts.js"


def live_alerts_panel() -> str:
    """Where the list page's script (``LIVE_SCRIPT``) adds each alert of the results API's alert
    stream as it arrives; without the script the panel only says so."""
    return (
        f'<section id="live-alerts" data-stream="{_UP[0]}coord-api/v1/alerts/stream" '
        'data-campaign-base="campaign/"><h2>Live alerts</h2>'
        '<p class="muted" id="live-alerts-status">live alerts need JavaScript and the '
        "coord_redis connection</p>"
        "<table><thead><tr><th>emitted</th><th>alert</th><th>campaign</th><th>what</th></tr></thead>"
        f'<tbody id="live-alerts-list"></tbody></table></section><script src="{LIVE_SCRIPT}" defer></script>'
    )


def list_body(
    rows: Sequence[Mapping[str, Any]],
    *,
    total: int,
    page: int,
    page_size: int,
    query: Mapping[str, str],
    verdicts: Sequence[str],
) -> str:
    """The live alerts, the filter form, one page of campaigns with sortable columns, and the pager."""
    form = live_alerts_panel() + _filter_form(query, verdicts)
    pages = max(1, math.ceil(total / page_size))
    if not rows:
        if total:
            return form + f'<p>Page {page} is past the last page ({pages}). <a href="?">first page</a></p>'
        return form + "<p>No campaign matches.</p>"
    lines = [
        "<tr>"
        f'<td><a href="{escape(campaign_href(r["campaign_id"], 0))}">{cut(r["campaign_id"])}</a></td>'
        f"<td>{cut(', '.join(r['verdicts']))}</td>"
        f'<td class="num">{_confidence(r["max_confidence"])}</td>'
        f"<td>{cut(r['first_seen'])}</td><td>{cut(r['last_seen'])}</td>"
        f'<td class="num">{int(r["intervals"])}</td><td class="num">{int(r["sessions"])}</td>'
        f'<td class="num">{int(r["source_ips"])}</td></tr>'
        for r in rows
    ]
    head = ["campaign", "verdicts", _sort_link("confidence", query), "first seen",
            _sort_link("last_seen", query), "intervals", "sessions", "source IPs"]  # fmt: skip
    table = (
        "<table><tr>"
        + "".join(f"<th>{h}</th>" if h.startswith("<a") else f"<th>{escape(h)}</th>" for h in head)
        + "</tr>"
        + "".join(lines)
        + "</table>"
    )
    pager = [f"page {page} of {pages} · {total} campaigns"]
    if page > 1:
        pager.insert(0, f'<a href="?{escape(urlencode({**query, "page": str(page - 1)}))}">previous</a>')
    if page < pages:
        pager.append(f'<a href="?{escape(urlencode({**query, "page": str(page + 1)}))}">next</a>')
    return form + table + f"<p>{' · '.join(pager)}</p>"


def _sort_link(key: str, query: Mapping[str, str]) -> str:
    """A column header that sorts by ``key``, descending first, flipping when already sorted by it."""
    label = {"confidence": "max confidence", "last_seen": "last seen"}[key]
    current = query.get("sort", "last_seen") == key
    descending = query.get("order", "desc") != "asc"
    order = "asc" if current and descending else "desc"
    arrow = (" ▼" if descending else " ▲") if current else ""
    params = {k: v for k, v in query.items() if k != "page"} | {"sort": key, "order": order}
    return f'<a href="?{escape(urlencode(params))}">{escape(label)}{arrow}</a>'


def _filter_form(query: Mapping[str, str], verdicts: Sequence[str]) -> str:
    chosen = query.get("verdict", "")
    options = '<option value="">any</option>' + "".join(
        f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(v)}</option>'
        for v in verdicts
    )

    def field(name: str, label: str, placeholder: str) -> str:
        value = escape(query.get(name, ""))
        return (
            f'<label>{escape(label)} <input name="{name}" value="{value}" '
            f'placeholder="{escape(placeholder)}" size="18"></label>'
        )

    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{escape(query[k])}">'
        for k in ("sort", "order", "page_size")
        if k in query
    )
    return (
        '<form method="get" action="">'
        f'<label>verdict <select name="verdict">{options}</select></label>'
        + field("min_confidence", "min confidence", "0.8")
        + field("since", "seen since", "2025-10-24T00:00:00Z")
        + field("until", "seen until", "2025-10-25T00:00:00Z")
        + field("source_ip", "source IP", "203.0.113.7")
        + field("network", "network", "198.51.100.0/24")
        + field("indicator", "indicator", "IP, hash or URL")
        + hidden
        + '<button type="submit">filter</button> <a href="?">clear</a></form>'
    )


# -- one campaign -----------------------------------------------------------------------------


def campaign_body(detail: Mapping[str, Any]) -> str:
    """Summary, MISP export, narrative, timeline, evidence per occurrence, infrastructure, members
    and sources, signature features and the lineage chain of one campaign."""
    cid = detail["campaign_id"]
    nav = (
        '<nav><a href="../">all campaigns</a>'
        f'<a href="{escape("../../coord-api/v1/campaigns/" + quote(cid, safe=""))}">as JSON (API)</a></nav>'
    )
    parts = [nav, _summary(detail), _misp(detail["misp_exports"])]
    parts.append(_narratives(detail["occurrences"]))
    parts.append("<h2>Timeline</h2>" + timeline_svg(detail["timeline"], detail["timeline_truncated"]))
    parts.append(_evidence(detail["occurrences"]))
    parts.append(_infrastructure(detail["occurrences"]))
    parts.append(_members(detail))
    parts.append(_lineage(detail["occurrences"]))
    return "".join(parts)


def _summary(detail: Mapping[str, Any]) -> str:
    facts = [
        ("campaign id", cut(detail["campaign_id"])),
        ("verdicts", cut(", ".join(detail["verdicts"]))),
        ("max confidence", _confidence(detail["max_confidence"])),
        ("first seen", cut(detail["first_seen"])),
        ("last seen", cut(detail["last_seen"])),
        ("intervals", str(int(detail["intervals"]))),
        ("sessions", str(int(detail["member_count"]))),
        ("source IPs", str(int(detail["source_ip_count"]))),
    ]
    if detail["queried_as"] != detail["campaign_id"]:
        facts.append(("asked for", cut(detail["queried_as"]) + " (an occurrence or retired id)"))
    if detail["aliases"]:
        facts.append(("retired ids", cut(", ".join(detail["aliases"]))))
    return "<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in facts) + "</table>"


def _misp(exports: Sequence[Mapping[str, Any]]) -> str:
    if not exports:
        return "<h2>MISP</h2><p>Not published to MISP (or published before exports were recorded).</p>"
    rows = [
        f"<tr><td>{cut(x['event_uuid'])}</td><td>{cut(x['target'])}</td><td>{cut(x['location'])}</td>"
        f"<td>{cut(x['interval']['start'])} – {cut(x['interval']['end'])}</td></tr>"
        for x in exports
    ]
    return "<h2>MISP</h2>" + _table(["event uuid", "target", "location", "exported with interval"], rows)


def _narratives(occurrences: Sequence[Mapping[str, Any]]) -> str:
    told = [(o, o["narrative"]) for o in occurrences if o.get("narrative")]
    if not told:
        return (
            "<h2>Narrative</h2><p>None stored (the run's <code>narrate</code> step was off or has not "
            "run).</p>"
        )
    items = [
        f"<li><b>{cut(o['interval']['start'])}</b> · {cut(n['status'])}"
        f"{' · ' + cut(n['model']) if n.get('model') else ''}: {cut(n.get('summary') or '', 2000)}"
        f' <span class="muted">({int(n["claims"])} claims, {int(n["rejected_claims"])} rejected'
        f"{'; ' + cut(n['reason']) if n.get('reason') else ''})</span></li>"
        for o, n in told
    ]
    return "<h2>Narrative</h2><ul>" + "".join(items) + "</ul>"


def _evidence(occurrences: Sequence[Mapping[str, Any]]) -> str:
    out = ["<h2>Evidence</h2>"]
    for occ in occurrences:
        out.append(
            f"<h3>{cut(occ['interval']['start'])} – {cut(occ['interval']['end'])} · "
            f"{cut(occ['verdict'])} · confidence {_confidence(occ['confidence'])} · "
            f"occurrence {cut(occ['occurrence_id'])}</h3>"
        )
        rows = []
        for ev in occ["evidence"]:
            statistic = ev.get("statistic") or {}
            stats = "<br>".join(
                f"{cut(k, 64)}: {brief(v)}" for k, v in sorted(statistic.items())[:LIST_ITEMS]
            )
            rows.append(
                f'<tr><td>{cut(ev["factor"])}</td><td class="num">{ev["score"]:.3f}</td>'
                f'<td>{cut(ev["summary"])}</td><td class="stat">{stats}</td></tr>'
            )
        out.append(_table(["factor", "score", "summary", "statistic"], rows) if rows else "<p>none</p>")
    return "".join(out)


def _infrastructure(occurrences: Sequence[Mapping[str, Any]]) -> str:
    keys = ["sources", "prefixes_24", "prefixes_16", "as_organisations", "countries", "top_as",
            "top_as_share", "hosting_share", "shared"]  # fmt: skip
    rows = []
    for occ in occurrences:
        infra = next((e["statistic"] for e in occ["evidence"] if e["factor"] == "infrastructure"), None)
        if infra:
            cells = "".join(f"<td>{brief(infra.get(k))}</td>" for k in keys)
            rows.append(f"<tr><td>{cut(occ['interval']['start'])}</td>{cells}</tr>")
    if not rows:
        return "<h2>Infrastructure</h2><p>No infrastructure facts stored.</p>"
    return "<h2>Infrastructure</h2>" + _table(["interval", *keys], rows)


def _members(detail: Mapping[str, Any]) -> str:
    sources = ", ".join(cut(ip, 64) for ip in detail["source_ips"])
    more_sources = detail["source_ip_count"] - len(detail["source_ips"])
    rows = [
        f"<tr><td>{cut(m['interval_start'])}</td><td>{cut(m['session_id'])}</td><td>{cut(m['src_ip'])}</td></tr>"
        for m in detail["members"]
    ]
    more = detail["member_count"] - len(detail["members"])
    features = ", ".join(cut(f, 120) for f in detail["signature_features"])
    return (
        f"<h2>Source IPs ({int(detail['source_ip_count'])})</h2><p>{sources}"
        + (f" … and {more_sources} more" if more_sources > 0 else "")
        + "</p><h2>Signature features</h2><p>"
        + (features or "none")
        + f"</p><h2>Member sessions ({int(detail['member_count'])})</h2>"
        + _table(["interval", "session", "source IP"], rows)
        + (f"<p>… and {more} more (the API pages through all).</p>" if more > 0 else "")
    )


def _lineage(occurrences: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for occ in occurrences:
        dq = occ.get("data_quality") or {}
        gate = dq.get("gate_passed")
        gate_text = "–" if gate is None else ("passed" if gate else "FAILED")
        for run in occ["runs"] or [{}]:
            links = ""
            if run:
                links = (
                    f'<a href="{escape(run_href(run["dag_id"], run["run_id"], 1))}">campaigns</a> · '
                    f'<a href="{escape(dq_href(run["dag_id"], run["run_id"], 1))}">data quality</a>'
                )
            rows.append(
                f"<tr><td>{cut(occ['interval']['start'])} – {cut(occ['interval']['end'])}</td>"
                f"<td>{cut(run.get('dag_id', '–'))} / {cut(run.get('run_id', '–'))}</td>"
                f"<td>{cut(run.get('status', '–'))}</td><td>{cut(run.get('source_kind', '–'))}</td>"
                f"<td>{cut(run.get('code_version', '–'))}</td><td>{cut(run.get('parameters_hash', '–'))}</td>"
                f"<td>{cut(run.get('input_fingerprint', '–'))}</td>"
                f"<td>{cut(run.get('result_sha256', '–'))}</td>"
                f"<td>{escape(gate_text)}</td><td>{links}</td></tr>"
            )
    headers = ["interval", "DAG / run", "status", "source", "code", "parameters", "input", "result SHA-256",
               "DQ gate", "pages"]  # fmt: skip
    return "<h2>Lineage</h2>" + _table(headers, rows)


def timeline_svg(timeline: Sequence[Mapping[str, Any]], truncated: bool, width: int = 860) -> str:
    """The sessions in time, one row per source IP (the busiest first), as inline SVG."""
    if not timeline:
        return "<p>No member session is stored any more (sessions are kept 180 days).</p>"
    spans = [
        (s["src_ip"], s["session_id"], datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in timeline
    ]
    lo = min(s[2] for s in spans)
    hi = max(s[3] for s in spans)
    extent = max((hi - lo).total_seconds(), 1.0)
    by_ip: dict[str, int] = {}
    for ip, *_ in spans:
        by_ip[ip] = by_ip.get(ip, 0) + 1
    ordered = sorted(by_ip, key=lambda ip: (-by_ip[ip], ip))
    shown = ordered[: TIMELINE_ROWS - 1] if len(ordered) > TIMELINE_ROWS else ordered
    row_of = {ip: i for i, ip in enumerate(shown)}
    others = len(ordered) - len(shown)
    rows = len(shown) + (1 if others else 0)
    left, row_h, top = 150, 14, 18
    plot = width - left - 10
    height = top + rows * row_h + 22
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="sessions over time">'
    ]
    for ip, i in row_of.items():
        parts.append(f'<text x="4" y="{top + i * row_h + 10}" font-size="10">{cut(ip, 40)}</text>')
    if others:
        parts.append(
            f'<text x="4" y="{top + len(shown) * row_h + 10}" font-size="10">{others} more IPs</text>'
        )
    for ip, sid, start, end in spans:
        row = row_of.get(ip, len(shown))
        x = left + plot * (start - lo).total_seconds() / extent
        w = max(plot * (end - start).total_seconds() / extent, 2.0)
        parts.append(
            f'<rect x="{x:.1f}" y="{top + row * row_h + 2}" width="{w:.1f}" height="{row_h - 4}" '
            f'fill="#3182ce" fill-opacity="0.7"><title>{cut(ip, 64)} {cut(sid, 64)} '
            f"{escape(start.isoformat())}</title></rect>"
        )
    axis_y = top + rows * row_h + 14
    parts.append(f'<text x="{left}" y="{axis_y}" font-size="10">{escape(lo.isoformat())}</text>')
    parts.append(
        f'<text x="{width - 10}" y="{axis_y}" font-size="10" text-anchor="end">'
        f"{escape(hi.isoformat())}</text>"
    )
    parts.append("</svg>")
    note = f'<p class="muted">The first {len(spans)} sessions by start time.</p>' if truncated else ""
    return "".join(parts) + note


# -- one run ----------------------------------------------------------------------------------


def run_body(
    dag_id: str, run_id: str, interval: tuple[datetime, datetime], rows: Sequence[Mapping[str, Any]]
) -> str:
    """The campaigns the run's interval holds, with links to each campaign and the run's DQ report."""
    start, end = interval
    head = (
        f'<nav><a href="./">all campaigns</a><a href="{escape(dq_href(dag_id, run_id, 0))}">'
        "this run's data-quality report</a></nav>"
        f"<p>Interval {escape(start.isoformat())} – {escape(end.isoformat())}: the campaign occurrences "
        "its latest analysis stored, strongest first, each under the campaign it belongs to across "
        "intervals.</p>"
    )
    if not rows:
        return head + "<p>No campaign was found in this interval (or its results are not loaded yet).</p>"
    lines = [
        "<tr>"
        + (
            f'<td><a href="{escape(campaign_href(r["campaign_id"], 0))}">{cut(r["campaign_id"])}</a></td>'
            if r["campaign_id"]
            else "<td>–</td>"
        )
        + f"<td>{cut(r['occurrence_id'])}</td><td>{cut(r['verdict'])}</td>"
        f'<td class="num">{_confidence(r["confidence"])}</td><td class="num">{int(r["sessions"])}</td>'
        f'<td class="num">{int(r["source_ips"])}</td><td>{cut(r["first_seen"])}</td>'
        f"<td>{cut(r['last_seen'])}</td></tr>"
        for r in rows
    ]
    headers = ["campaign", "occurrence", "verdict", "confidence", "sessions", "source IPs", "first seen",
               "last seen"]  # fmt: skip
    return head + _table(headers, lines)
