"""The HTML report: self-contained, escaped, deterministic, and it shows what a data engineer needs."""

from __future__ import annotations

import re
from datetime import timedelta

from coord_core.ingest.records import ReadRecord
from coord_core.quality.report import TREND_SLOT, render_report, render_trend, with_trend
from coord_core.quality.validate import validate_interval
from tests.quality.support import (
    END,
    HOSTILE,
    REAL_SAMPLE,
    START,
    hostile_records,
    read,
    sessions_of,
    steady_profile,
    summary_entry,
)


def test_every_value_is_escaped_and_nothing_external_is_loaded() -> None:
    records = hostile_records()
    records.append(
        ReadRecord(ref=f"{HOSTILE}:bad", raw=HOSTILE, time=START, error=f"not valid JSON {HOSTILE}")
    )
    outcome = validate_interval(records, sessions_of(records), START, END)
    assert outcome.counts.quarantined_validate == 2 and outcome.counts.quarantined_parse == 1
    page = render_report(outcome)
    assert "<img" not in page and "onerror=alert(1)>" not in page
    assert "\x1b" not in page and "\u202e" not in page  # control and bidi characters shown escaped
    assert "\\x1b[2J" in page
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "p",
        "b",
        "span",
        "section",
        "table",
        "tr",
        "th",
        "td",
        "ul",
        "li",
        "code",
        "br",
        "svg",
        "line",
        "text",
        "rect",
    }
    for tag in re.findall(r"<[a-zA-Z][^<>]*>", page):
        assert not re.search(r"\s(src|href|on[a-z]+)=", tag), tag  # no external asset, no handler
    assert "<script" not in page


def test_same_outcome_same_bytes_and_validation_is_reproducible() -> None:
    real = read(REAL_SAMPLE)
    baseline = steady_profile(START, 24, events=86, sessions_by_sensor={"37e2115ebaeb": 20}, login_events=15)
    first = validate_interval(real, sessions_of(real), START, END, baseline=baseline)
    second = validate_interval(list(real), sessions_of(real), START, END, baseline=baseline)
    assert render_report(first) == render_report(first)
    assert render_report(first) == render_report(second)
    assert first.summary == second.summary


def test_report_sections_show_results_quarantine_and_baseline() -> None:
    real = read(REAL_SAMPLE)
    dup = [*real, real[5]._replace(ref="dup:1")]
    baseline = steady_profile(START, 5, events=90, sessions_by_sensor={"37e2115ebaeb": 17}, login_events=14)
    outcome = validate_interval(dup, sessions_of(real), START, END, baseline=baseline)
    page = render_report(outcome)
    assert "Gate PASSED" in page
    assert "read 2,058 = valid 2,057 + quarantined 1" in page
    assert 'id="quarantine"' in page and "events.record_not_duplicated" in page and "dup:1" in page
    assert "cowrie.direct-tcpip.data" in page and "unknown id: kept, reported" not in page
    # Sensor table with its baseline (median of the source's five earlier hours: 17 per hour).
    assert "17.00" in page.split('id="sensors"')[1].split("</section>")[0]
    # The baseline section lists the source's hours it is made of, oldest first.
    section = page.split('id="baseline"')[1].split("</section>")[0]
    hours = re.findall(r'<tr><td class="mono">([^<]+)</td>', section)
    assert hours == [(START - timedelta(hours=h)).isoformat() for h in range(5, 0, -1)]
    assert "5 hour(s) with events; drift checks judged" in section
    # No trend in the stored page: it would depend on which other intervals were processed.
    assert 'id="trend"' not in page and TREND_SLOT in page


def test_trend_is_rendered_at_view_time_from_stored_summaries() -> None:
    real = read(REAL_SAMPLE)
    outcome = validate_interval(real, sessions_of(real), START, END)
    earlier = [
        summary_entry(
            START - timedelta(days=d),
            24,
            events=1000 * d,
            sessions_by_sensor={"37e2115ebaeb": 400},
            login_events=300,
            gate_passed=d != 2,
        )
        for d in range(1, 6)
    ]
    page = with_trend(render_report(outcome), render_trend(outcome.summary, earlier))
    # Trend: the five earlier runs and this one, newest first in the table, one bar each.
    assert page.count("<rect ") == 6
    assert "Trend (last 6 runs)" in page
    assert "(this run)" in page and "FAILED" in page  # the run of day 2 failed its gate
    rows = re.findall(r'<tr(?: class="cur")?><td class="mono">([^<]+)</td>', page.split('id="trend"')[1])
    assert rows[0].startswith("2025-10-24T00:00:00+00:00") and rows[-1].startswith(
        "2025-10-19T00:00:00+00:00"
    )
    assert TREND_SLOT not in page
    assert with_trend(render_report(outcome), render_trend(outcome.summary, [])).count("<rect ") == 1


def test_failed_gate_page_names_the_failure() -> None:
    real = read(REAL_SAMPLE)
    doubled = real + [r._replace(ref=r.ref + "#2") for r in real]
    page = render_report(validate_interval(doubled, sessions_of(real), START, END))
    assert "Gate FAILED" in page and "Analysis does not run for this interval." in page
    assert "events.record_not_duplicated failed on column &#x27;record_copy&#x27;" in page
    first_row = page.split("<th>what it checks · examples</th></tr>")[1].split("</tr>")[0]
    assert ">FAIL<" in first_row and "events.record_not_duplicated" in first_row  # failures listed first
