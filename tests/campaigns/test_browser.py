"""The campaign pages in a real browser (headless Chromium driven by Playwright) against a real
Airflow API server: the UI session cookie authenticates, the list, a campaign page and a run's
Campaigns tab render and link to each other. Screenshots of each page are kept as test artifacts
(``COORD_SCREENSHOTS``, default ``test-artifacts/screenshots``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest

from tests.campaigns.corpus import DAG_ID
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium package (.ci/run installs it)"
)


def _screenshots() -> Path:
    where = Path(os.environ.get("COORD_SCREENSHOTS", REPO / "test-artifacts" / "screenshots"))
    where.mkdir(parents=True, exist_ok=True)
    return where


def test_campaign_pages_render_and_link_in_a_real_browser(served: tuple[str, str, str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, token, _key, run_id = served
    shots = _screenshots()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            # Airflow's UI keeps the login in this cookie; the plugin pages read the same one.
            context.add_cookies([{"name": "_token", "value": token, "url": base}])
            page = context.new_page()

            listing = page.goto(f"{base}/coord-campaigns/")
            assert listing is not None and listing.status == 200
            assert "30 campaigns" in page.inner_text("body")
            page.screenshot(path=str(shots / "campaign-list.png"), full_page=True)

            first = page.locator("a[href*='campaign/']").first
            first.click()
            page.wait_for_load_state()
            assert "/coord-campaigns/campaign/" in urlsplit(page.url).path
            body = page.inner_text("body")
            assert "Evidence" in body or "evidence" in body
            assert page.locator("svg").count() >= 1  # the session timeline
            page.screenshot(path=str(shots / "campaign-page.png"), full_page=True)

            tab = page.goto(f"{base}/coord-campaigns/run?" + urlencode({"dag_id": DAG_ID, "run_id": run_id}))
            assert tab is not None and tab.status == 200
            assert page.locator("a[href*='coord-dq/report']").count() >= 1
            page.screenshot(path=str(shots / "run-campaigns-tab.png"), full_page=True)

            # Without the cookie the pages refuse, in the browser too.
            anonymous = browser.new_context().new_page()
            refused = anonymous.goto(f"{base}/coord-campaigns/")
            assert refused is not None and refused.status == 401
        finally:
            browser.close()
    for name in ("campaign-list.png", "campaign-page.png", "run-campaigns-tab.png"):
        assert (shots / name).stat().st_size > 10_000, name


def test_a_daily_trend_report_renders_in_a_real_browser_beside_the_campaign_pages(
    served: tuple[str, str, str, str], postgres_dsn: str
) -> None:
    """The trend report of a day of the served corpus, built by the trend stage, from Browse's list
    to the day's page, whose campaign links lead to the campaign pages."""
    from playwright.sync_api import sync_playwright

    from coord_core.pipeline.trends import build_and_store_report

    base, token, _key, _run_id = served
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT min(interval_start) FROM coord.campaign_identity").fetchone()
        assert row is not None and row[0] is not None
        start = row[0]
        day = start.date()
        build_and_store_report(conn, day, dag_id="coord_trends", run_id="manual__browser")
    shots = _screenshots()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "_token", "value": token, "url": base}])
            page = context.new_page()
            listing = page.goto(f"{base}/coord-trends/")
            assert listing is not None and listing.status == 200
            page.locator(f"a[href='report?day={day.isoformat()}']").click()
            page.wait_for_load_state()
            body = page.inner_text("body")
            assert f"Trend report {day.isoformat()}" in body and "Top campaigns" in body and "Spikes" in body
            links = page.locator("#campaigns a[href*='coord-campaigns/campaign/']")
            assert links.count() >= 1
            page.screenshot(path=str(shots / "trend-report.png"), full_page=True)
            links.first.click()
            page.wait_for_load_state()
            assert "/coord-campaigns/campaign/" in urlsplit(page.url).path
            assert page.locator("svg").count() >= 1
            anonymous = browser.new_context().new_page()
            refused = anonymous.goto(f"{base}/coord-trends/report?day={day.isoformat()}")
            assert refused is not None and refused.status == 401
        finally:
            browser.close()
    assert (shots / "trend-report.png").stat().st_size > 10_000
