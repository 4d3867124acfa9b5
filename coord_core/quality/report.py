"""A self-contained HTML data-quality report for one run: what passed, what failed, what was quarantined.

No external assets and no script: inline CSS and an inline SVG trend. Every value goes through
``html.escape``; attacker strings are bounded previews first. The same outcome always renders
to the same bytes (nothing depends on the clock, on dict order or on other intervals): that page
is what ``coord.dq_reports.html`` stores. The trend against earlier runs depends on what else
was processed, so it is rendered when the report is viewed (:func:`render_trend`,
:func:`with_trend`), never stored.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from coord_core.contracts.data_quality import QuarantineEntry
from coord_core.contracts.events import KNOWN_EVENT_IDS
from coord_core.quality.bounded import preview, reason_category
from coord_core.quality.frames import hours_between
from coord_core.quality.history import PastRun, parse_history
from coord_core.quality.outcome import NO_DATA, ExpectationResult, QualityOutcome

TREND_RUNS = 12
# Where a viewer inserts the view-time trend section (an HTML comment: inert in the stored page).
TREND_SLOT = "<!-- coord:trend -->"
_EXAMPLES_PER_REASON = 3

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem;color:#1f2933;max-width:1200px}
h1{font-size:1.4rem;margin:0 0 .3rem}
h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #d9e2ec}
table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border:1px solid #d9e2ec;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f0f4f8}td.n{text-align:right;font-variant-numeric:tabular-nums}
.gate{display:inline-block;padding:.35rem .8rem;border-radius:4px;font-weight:700;color:#fff}
.gate.pass{background:#2f855a}.gate.fail{background:#c53030}.gate.nodata{background:#627d98}
.st{font-weight:700}.st.pass{color:#2f855a}.st.fail{color:#c53030}.st.warn{color:#b7791f}
.st.skip{color:#627d98}tr.cur td{font-weight:700}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8rem;word-break:break-all}
ul.ex{margin:0;padding-left:1rem}.muted{color:#627d98}.reason{white-space:pre-wrap}
svg text{font-size:10px;fill:#334e68}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _section(anchor: str, heading: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(heading)}</h2>{body}</section>'


def _num(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def render_report(outcome: QualityOutcome, *, title: str = "Data quality report") -> str:
    """The report page for one validated interval (UTF-8 text)."""
    window = f"{outcome.window_start.isoformat()} – {outcome.window_end.isoformat()}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)} · {_e(window)}</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(outcome, title, window),
        _counts(outcome),
        _expectations(outcome.results),
        _quarantine(outcome.parse_quarantine, outcome.quarantine),
        _event_ids(outcome),
        _sensors(outcome),
        _baseline(outcome),
        _notes(outcome.notes),
        TREND_SLOT,
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _header(outcome: QualityOutcome, title: str, window: str) -> str:
    passed = outcome.gate.passed
    if outcome.gate.no_data:
        badge = '<span class="gate nodata">NO DATA</span>'
        consequence = (
            "Nothing to judge: the interval holds no records; the run goes on and finds nothing."
            if passed
            else "Nothing to judge: the interval holds no records, and this run fails on that."
        )
    elif passed:
        badge = '<span class="gate pass">Gate PASSED</span>'
        consequence = "Analysis may use the valid rows."
    else:
        badge = '<span class="gate fail">Gate FAILED</span>'
        consequence = "Analysis does not run for this interval."
    return (
        f"<header><h1>{_e(title)}</h1><p>Interval <b>{_e(window)}</b></p>"
        f"<p>{badge} {_e(consequence)}</p>"
        f'<p class="reason">{_e(outcome.gate.reason)}</p></header>'
    )


def _counts(outcome: QualityOutcome) -> str:
    c = outcome.counts
    s = outcome.summary
    rows = [
        ("Records read", c.read),
        ("Valid events (analysis input)", c.valid),
        ("Quarantined at parse", c.quarantined_parse),
        ("Quarantined at validation", c.quarantined_validate),
        ("Sessions", int(s.get("sessions", 0))),
        ("Sessions with quarantined events", int(s.get("sessions_quarantined", 0))),
        ("Distinct source addresses", int(s.get("distinct_src_ips", 0))),
    ]
    body = "".join(f'<tr><th>{_e(k)}</th><td class="n">{_num(v)}</td></tr>' for k, v in rows)
    holds = c.read == c.valid + c.quarantined
    check = (
        f"read {c.read:,} = valid {c.valid:,} + quarantined {c.quarantined:,}"
        if holds
        else f"MISMATCH: read {c.read:,} ≠ valid {c.valid:,} + quarantined {c.quarantined:,}"
    )
    return _section("counts", "Counts", f'<table>{body}</table><p class="muted">{_e(check)}</p>')


def _status(result: ExpectationResult) -> tuple[int, str, str]:
    """(sort rank, css class, label) — failures first, then warnings, then passes."""
    if result.error is not None:
        return (0, "fail", "ERROR")
    if not result.success:
        return (0, "fail", "FAIL") if result.critical else (1, "warn", "WARN")
    if result.unexpected_count:
        return (2, "warn", "PASS*")
    if result.element_count == 0 or result.missing_count >= result.element_count:
        return (3, "skip", "NOT JUDGED")
    return (3, "pass", "PASS")


def _expectations(results: Sequence[ExpectationResult]) -> str:
    ordered = sorted(enumerate(results), key=lambda item: (_status(item[1])[0], item[0]))
    rows = []
    for _, r in ordered:
        _, css, label = _status(r)
        examples = "".join(
            "<li>" + "; ".join(f"{_e(k)}=<code>{_e(v)}</code>" for k, v in ex.items()) + "</li>"
            for ex in r.examples
        )
        detail = _e(r.reason)
        if r.error:
            detail += f"<br><b>error:</b> {_e(r.error)}"
        if examples:
            detail += f'<ul class="ex">{examples}</ul>'
        action = "quarantine rows" if r.quarantines else "report"
        rows.append(
            f'<tr><td class="st {css}">{_e(label)}</td><td class="mono">{_e(r.key)}</td>'
            f'<td class="mono">{_e(r.column)}</td><td>{_e(r.severity)}</td><td>{_e(action)}</td>'
            f'<td class="n">{_num(r.threshold * 100)}%</td><td class="n">{_num(r.element_count)}</td>'
            f'<td class="n">{_num(r.unexpected_count)}</td><td class="n">{_num(r.unexpected_percent)}%</td>'
            f"<td>{detail}</td></tr>"
        )
    head = (
        "<tr><th>status</th><th>expectation</th><th>column</th><th>severity</th><th>on failure</th>"
        "<th>threshold</th><th>rows</th><th>unexpected</th><th>%</th><th>what it checks · examples</th></tr>"
    )
    legend = (
        '<p class="muted">PASS* = within threshold but some rows were unexpected; NOT JUDGED = no '
        "value to check (no rows, or no baseline yet). Critical expectations decide the gate; "
        "warnings are reported only.</p>"
    )
    return _section("expectations", "Expectations", f"{legend}<table>{head}{''.join(rows)}</table>")


def _quarantine(parse: Iterable[QuarantineEntry], validate: Iterable[QuarantineEntry]) -> str:
    groups: dict[tuple[str, str], list[QuarantineEntry]] = defaultdict(list)
    for entry in parse:
        groups[("parse", reason_category(entry.reason))].append(entry)
    for entry in validate:
        groups[("validate", " + ".join(entry.expectations) or reason_category(entry.reason))].append(entry)
    if not groups:
        return _section("quarantine", "Quarantine", "<p>Nothing quarantined.</p>")
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    rows = []
    for (stage, category), entries in ordered:
        examples = "".join(
            f'<li><span class="mono">{_e(preview(e.ref, 160))}</span>: {_e(preview(e.reason, 240))}'
            f"<br><code>{_e(e.preview)}</code> ({_num(e.raw_length)} bytes, sha256 "
            f'<span class="mono">{_e(e.raw_sha256[:16])}…</span>)</li>'
            for e in entries[:_EXAMPLES_PER_REASON]
        )
        rows.append(
            f'<tr><td>{_e(stage)}</td><td class="mono">{_e(category)}</td>'
            f'<td class="n">{_num(len(entries))}</td><td><ul class="ex">{examples}</ul></td></tr>'
        )
    head = "<tr><th>stage</th><th>reason</th><th>records</th><th>examples (ref: reason, preview)</th></tr>"
    return _section("quarantine", "Quarantine by reason", f"<table>{head}{''.join(rows)}</table>")


def _event_ids(outcome: QualityOutcome) -> str:
    counts = outcome.summary.get("events_by_eventid", {})
    if not counts:
        return _section("eventids", "Events by event id", "<p>No events.</p>")
    rows = "".join(
        f'<tr><td class="mono">{_e(preview(eid, 128))}</td><td class="n">{_num(int(n))}</td>'
        f"<td>{'' if eid in KNOWN_EVENT_IDS else 'unknown id: kept, reported'}</td></tr>"
        for eid, n in sorted(counts.items(), key=lambda kv: (-int(kv[1]), kv[0]))
    )
    head = "<tr><th>event id</th><th>events</th><th></th></tr>"
    return _section("eventids", "Events by event id", f"<table>{head}{rows}</table>")


def _sensors(outcome: QualityOutcome) -> str:
    now = {str(k): int(v) for k, v in outcome.summary.get("cowrie_sessions_by_sensor", {}).items()}
    hours = hours_between(outcome.window_start, outcome.window_end)
    baseline = outcome.baseline
    names = sorted(set(now) | set(baseline.sensors))
    if not names:
        return _section("sensors", "Sessions by sensor", "<p>No sessions.</p>")
    rows = []
    for name in names:
        rows.append(
            f'<tr><td class="mono">{_e(preview(name or "(no sensor name)", 128))}</td>'
            f'<td class="n">{_num(now.get(name, 0))}</td><td class="n">{_num(now.get(name, 0) / hours)}</td>'
            f'<td class="n">{_num(baseline.sensor_rate(name))}</td></tr>'
        )
    head = (
        "<tr><th>sensor</th><th>Cowrie sessions</th><th>per hour</th>"
        "<th>baseline per hour (median of the source's earlier hours)</th></tr>"
    )
    return _section("sensors", "Sessions by sensor", f"<table>{head}{''.join(rows)}</table>")


def _baseline(outcome: QualityOutcome) -> str:
    baseline = outcome.baseline
    if baseline.lookback_start is None or baseline.lookback_end is None:
        return _section("baseline", "Drift baseline", "<p>No source profile: drift checks not judged.</p>")
    span = f"{baseline.lookback_start.isoformat()} – {baseline.lookback_end.isoformat()}"
    verdict = "judged" if baseline.enough else "not judged (too few hours with events)"
    intro = (
        f"<p>What the source ({_e(baseline.source_kind)}) held in <b>{_e(span)}</b>, hour by hour: "
        f"{_num(len(baseline.hours))} hour(s) with events; drift checks {_e(verdict)}. Medians: "
        f"{_num(baseline.rate(lambda h: h.events))} events/h, "
        f"{_num(baseline.rate(lambda h: h.sessions))} sessions/h, "
        f"{_num(baseline.rate(lambda h: h.login_events))} login events/h.</p>"
    )
    if not baseline.hours:
        return _section("baseline", "Drift baseline", intro)
    rows = "".join(
        f'<tr><td class="mono">{_e(h.start.isoformat())}</td><td class="n">{_num(h.events)}</td>'
        f'<td class="n">{_num(h.sessions)}</td><td class="n">{_num(h.login_events)}</td>'
        f'<td class="n">{_num(h.parse_errors)}</td><td class="n">{_num(len(h.sensors))}</td></tr>'
        for h in baseline.hours
    )
    head = (
        "<tr><th>hour</th><th>events</th><th>sessions</th><th>login events</th><th>parse errors</th>"
        "<th>sensors</th></tr>"
    )
    return _section("baseline", "Drift baseline", f"{intro}<table>{head}{rows}</table>")


def render_trend(current: Mapping[str, object], earlier: Sequence[Mapping[str, object]]) -> str:
    """The trend section: this run's stored summary and earlier runs' summaries (newest first).

    Rendered when a report is viewed: what else has been processed changes, the stored page does not.
    """
    this_run, _ = parse_history([current])
    past, _ = parse_history(earlier)
    if not this_run:
        return ""
    older = sorted(past, key=lambda r: (r.interval_start, r.interval_end))[-(TREND_RUNS - 1) :]
    return _trend([*((r, False) for r in older), (this_run[0], True)])


def with_trend(page: str, section: str) -> str:
    """The stored page with a view-time section in its trend slot (unchanged without a slot)."""
    return page.replace(TREND_SLOT, section, 1)


def _trend(points: Sequence[tuple[PastRun, bool]]) -> str:
    """The chart and table of the runs, oldest first, each flagged when it is the report's own run."""
    width, height, pad = 720, 140, 24
    top = max((p.events_per_hour for p, _ in points), default=0.0) or 1.0
    slot = (width - 2 * pad) / max(len(points), 1)
    bars = []
    for i, (p, current) in enumerate(points):
        bar_h = (height - 2 * pad) * p.events_per_hour / top
        x = pad + i * slot + slot * 0.15
        y = height - pad - bar_h
        colour = "#c53030" if not p.gate_passed else ("#2b6cb0" if current else "#90cdf4")
        if p.gate_outcome == NO_DATA:
            colour = "#9fb3c8"
        tip = f"{p.label}: {p.events_per_hour:.1f} events/h, {p.sessions_per_hour:.1f} sessions/h"
        bars.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{bar_h:.1f}" fill="{colour}">'
            f"<title>{_e(tip)}</title></rect>"
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="events per hour, last {len(points)} runs">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#9fb3c8"/>'
        f'<text x="{pad}" y="{pad - 8}">events per hour (max {_e(_num(top, 1))}); dark blue = this run, '
        f"red = gate failed</text>{''.join(bars)}</svg>"
    )
    rows = "".join(
        ('<tr class="cur">' if current else "<tr>")
        + f'<td class="mono">{_e(p.label)}{" (this run)" if current else ""}</td>'
        f"<td>{_e(_gate_label(p.gate_outcome, p.gate_passed))}</td>"
        f'<td class="n">{_num(p.events)}</td><td class="n">{_num(p.events_per_hour, 1)}</td>'
        f'<td class="n">{_num(p.sessions)}</td><td class="n">{_num(p.login_events)}</td>'
        f'<td class="n">{_num(p.quarantined)}</td></tr>'
        for p, current in reversed(points)
    )
    head = (
        "<tr><th>interval</th><th>gate</th><th>events</th><th>events/h</th><th>sessions</th>"
        "<th>login events</th><th>quarantined</th></tr>"
    )
    return _section("trend", f"Trend (last {len(points)} runs)", f"{svg}<table>{head}{rows}</table>")


def _gate_label(outcome: str, passed: bool) -> str:
    if outcome == NO_DATA:
        return NO_DATA
    return "passed" if passed else "FAILED"


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{_e(preview(n, 400))}</li>" for n in notes)
    return _section("notes", "Notes", f"<ul>{items}</ul>")
