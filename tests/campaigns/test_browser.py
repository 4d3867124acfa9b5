"""The Airflow UI in a real browser (headless Chromium driven by Playwright) against one real
Airflow API server per module: Airflow's own login form, the DAG's trigger form refusing conf that
can only fail and queueing a good one, a run's "Data quality" tab inside the Airflow app (a report,
and "no data" for an empty interval), and the campaign pages and their links. Screenshots of each
page are kept as test artifacts (``COORD_SCREENSHOTS``, default ``test-artifacts/screenshots``)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

import httpx
import psycopg
import pytest

from coord_core.contracts.window import DataWindow
from coord_core.embedded_services import free_port
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.quality.stage import validate_stage
from coord_core.store.results import ResultsStore, RunRecord
from tests.campaigns.conftest import NEEDS_CHROMIUM
from tests.campaigns.corpus import DAG_ID, run_id_of, store_corpus
from tests.conftest import REAL_SAMPLE, REPO, temporary_database
from tests.dags.airflow_env import home_from_template, make_airflow_env
from tests.dags.airflow_stack import api_server_alone
from tests.quality.support import END, START

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Locator, Page

pytestmark = NEEDS_CHROMIUM

USER = "coord-engineer"
LINK = re.compile(r'<a href="campaign/([^"]+)">')
SAMPLE_DAY = DataWindow(start=START, end=END)
EMPTY_DAY = DataWindow(start=SAMPLE_DAY.start - timedelta(days=1), end=SAMPLE_DAY.start)
REPORT_RUN = "manual__dq_sample_day"
EMPTY_RUN = "manual__dq_empty_day"


@dataclass(frozen=True)
class Cockpit:
    base: str
    password: str
    token: str
    campaign_run: str  # a run whose interval holds stored campaigns
    results_dsn: str

    def api(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.get(f"{self.base}/api/v2{path}", headers=headers, timeout=30)


def _screenshots() -> Path:
    where = Path(os.environ.get("COORD_SCREENSHOTS", REPO / "test-artifacts" / "screenshots"))
    where.mkdir(parents=True, exist_ok=True)
    return where


def _stored_report(store: ResultsStore, window: DataWindow, run_id: str) -> None:
    """What the pipeline's extract and validate tasks store for a run: its record, the interval's
    events and sessions from the real sample, and the data-quality report."""
    run = RunRecord(DAG_ID, run_id, 1, "files", [str(REAL_SAMPLE)], None, "test", {})
    store.start_run(window, run)
    extract_interval(store, window, read_paths([REAL_SAMPLE]), slack=timedelta(minutes=30))
    validate_stage(store, window)


@pytest.fixture(scope="module")
def cockpit(
    tmp_path_factory: pytest.TempPathFactory,
    airflow_home_template: Path,
    postgres_server_dsn: str,
    redis_server_url: str,
    airflow_servers: None,
) -> Iterator[Cockpit]:
    """One ``airflow api-server`` for the module, on a copy of the migrated metadata template with
    the DAGs serialized into it; the results database holds 30 campaigns over 3 hourly intervals
    and the data-quality reports of the sample's day and of the empty day before it, each with an
    Airflow run of the same id. No scheduler: a triggered run stays queued."""
    root = tmp_path_factory.mktemp("cockpit")
    password = "pw-" + os.urandom(6).hex()
    (root / "passwords.json").write_text(json.dumps({USER: password}))
    with temporary_database(postgres_server_dsn) as results:
        with psycopg.connect(results, autocommit=True) as conn:
            windows = store_corpus(conn, 30, intervals=3, seed=5)
            store = ResultsStore(conn)
            _stored_report(store, SAMPLE_DAY, REPORT_RUN)
            _stored_report(store, EMPTY_DAY, EMPTY_RUN)
        cli = make_airflow_env(
            home_from_template(airflow_home_template, root / "airflow"),
            results,
            redis_server_url,
            AIRFLOW__API__PORT=str(free_port()),
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(root / "passwords.json"),
        )
        cli.run("dags", "reserialize")
        with api_server_alone(cli, root / "api-server.log", USER, password) as (base, token):
            bearer = {"Authorization": f"Bearer {token}"}
            for run_id, window in ((REPORT_RUN, SAMPLE_DAY), (EMPTY_RUN, EMPTY_DAY)):
                body = {
                    "dag_run_id": run_id,
                    "logical_date": window.start.isoformat(),
                    "data_interval_start": window.start.isoformat(),
                    "data_interval_end": window.end.isoformat(),
                    "conf": {},
                }
                made = httpx.post(
                    f"{base}/api/v2/dags/{DAG_ID}/dagRuns", json=body, headers=bearer, timeout=60
                )
                assert made.status_code == 200, made.text[:500]
            yield Cockpit(base, password, token, run_id_of(windows[0]), results)


def _signed_in(browser: Browser, cockpit: Cockpit) -> Page:
    """A page whose context carries the login Airflow's UI keeps in its ``_token`` cookie."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "_token", "value": cockpit.token, "url": cockpit.base}])
    return context.new_page()


def test_airflow_login_form_signs_in_and_the_plugin_pages_accept_its_session(
    browser: Browser, cockpit: Cockpit
) -> None:
    shots = _screenshots()
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{cockpit.base}/")
    page.wait_for_url("**/auth/login**")  # the SPA sends an anonymous visitor to its login form
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", "not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Invalid credentials").wait_for()
    assert "/auth/login" in page.url
    assert "_token" not in {c["name"] for c in page.context.cookies()}
    page.screenshot(path=str(shots / "login-refused.png"))

    page.fill("input[name=password]", cockpit.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url)
    page.get_by_role("link", name="Dags").first.wait_for()
    assert "_token" in {c["name"] for c in page.context.cookies()}
    page.screenshot(path=str(shots / "login-landed.png"))
    # The session the form made is the one the project's pages accept.
    listing = page.goto(f"{cockpit.base}/coord-campaigns/")
    assert listing is not None and listing.status == 200
    assert "30 campaigns" in page.inner_text("body")


def _open_trigger_form(page: Page, cockpit: Cockpit) -> None:
    page.goto(f"{cockpit.base}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    page.get_by_role("dialog").get_by_text(f"Trigger Dag - {DAG_ID}").wait_for()


def _field(page: Page, section: str, selector: str) -> Locator:
    """A field of the trigger form, its section opened first (the form keeps one section open; a
    click on the open one closes it)."""
    dialog = page.get_by_role("dialog")
    field = dialog.locator(selector)
    if not field.is_visible():
        dialog.get_by_role("button", name=section).click()
    return field


def _fill_window(page: Page, start: str, end: str) -> None:
    _field(page, "Data window", "#element_window_start").fill(start)
    _field(page, "Data window", "#element_window_end").fill(end)


def _fill_input_paths(page: Page, *paths: str) -> None:
    _field(page, "Source", "#element_input_paths").fill("\n".join(paths))


def _submit(page: Page) -> None:
    """Press the form's Trigger button from the keyboard: the error toasts of earlier refusals
    stack over it for a few seconds and would take a pointer's click."""
    page.get_by_role("dialog").locator("[data-testid=trigger-dag-submit]").press("Enter")


def _refusal(page: Page, shot: Path) -> str:
    """Submit the form; the dialog stays open with Airflow's error box holding the 400's detail."""
    dialog = page.get_by_role("dialog")
    _submit(page)
    message = dialog.get_by_text("invalid run parameters:")
    message.wait_for()
    dialog.get_by_text("400 Bad Request").scroll_into_view_if_needed()
    page.screenshot(path=str(shot))
    assert dialog.get_by_text("400 Bad Request").is_visible()
    assert page.locator("[data-scope=toast]").get_by_text("Failed to Trigger Dag").last.is_visible()
    return message.inner_text()


def test_trigger_form_refuses_conf_that_can_only_fail_and_queues_a_good_one(
    browser: Browser, cockpit: Cockpit
) -> None:
    shots = _screenshots()
    page = _signed_in(browser, cockpit)
    _open_trigger_form(page, cockpit)
    page.screenshot(path=str(shots / "trigger-form.png"))

    _fill_window(page, "2025-10-24T08:00:00Z", "2025-10-24T10:00:00Z")
    _fill_input_paths(page, "/etc/passwd")
    outside = _refusal(page, shots / "trigger-refused-input-path.png")
    assert "input_paths[0] '/etc/passwd' is outside the allowed input folders" in outside

    _fill_input_paths(page)
    _fill_window(page, "2025-13-45T08:00:00Z", "2025-10-24T10:00:00Z")
    malformed = _refusal(page, shots / "trigger-refused-window.png")
    assert "window_start: must be an ISO-8601 timestamp with a timezone" in malformed
    assert outside not in malformed  # the box shows the latest refusal, not a stale one

    _fill_window(page, "2025-10-24T10:00:00Z", "2025-10-24T08:00:00Z")
    backwards = _refusal(page, shots / "trigger-refused-end-before-start.png")
    assert "is not after start" in backwards
    runs = cockpit.api(f"/dags/{DAG_ID}/dagRuns").json()["dag_runs"]
    assert {r["dag_run_id"] for r in runs} == {REPORT_RUN, EMPTY_RUN}  # nothing refused was stored

    _fill_window(page, "2025-10-24T08:00:00Z", "2025-10-24T10:00:00Z")
    _fill_input_paths(page, str(REAL_SAMPLE.parent))
    dialog = page.get_by_role("dialog")
    _field(page, "Advanced Options", "input[name=dagRunId]").fill("manual__from_the_form")
    _submit(page)
    dialog.wait_for(state="hidden")
    run = cockpit.api(f"/dags/{DAG_ID}/dagRuns/manual__from_the_form").json()
    assert run["state"] == "queued"  # no scheduler here: accepted, waiting
    assert run["conf"]["window_start"] == "2025-10-24T08:00:00Z"
    assert run["conf"]["input_paths"] == [str(REAL_SAMPLE.parent)]
    page.goto(f"{cockpit.base}/dags/{DAG_ID}/runs/manual__from_the_form")
    page.get_by_text("Queued").first.wait_for()
    page.screenshot(path=str(shots / "trigger-queued-run.png"))


def _data_quality_tab(page: Page, cockpit: Cockpit, run_id: str, shot: Path) -> str:
    """Open the run in the Airflow app, click its "Data quality" tab, return the iframe's text."""
    page.goto(f"{cockpit.base}/dags/{DAG_ID}/runs/{quote(run_id, safe='')}")
    page.get_by_role("link", name="Data quality").click()
    page.wait_for_url("**/plugin/coord-dq-run")
    frame = page.frame_locator("iframe")
    heading = frame.locator("h1").first
    heading.wait_for()
    text = frame.locator("body").inner_text()
    page.screenshot(path=str(shot))
    return text


def test_data_quality_tab_inside_the_airflow_app_shows_the_report_and_no_data(
    browser: Browser, cockpit: Cockpit
) -> None:
    shots = _screenshots()
    page = _signed_in(browser, cockpit)
    report = _data_quality_tab(page, cockpit, REPORT_RUN, shots / "run-data-quality-tab.png")
    assert "Gate PASSED" in report and "NO DATA" not in report
    assert f"Interval {SAMPLE_DAY.start.isoformat()} – {SAMPLE_DAY.end.isoformat()}" in report  # its own
    empty = _data_quality_tab(page, cockpit, EMPTY_RUN, shots / "run-data-quality-tab-no-data.png")
    assert "NO DATA" in empty and "Gate PASSED" not in empty
    assert f"Interval {EMPTY_DAY.start.isoformat()} – {EMPTY_DAY.end.isoformat()}" in empty


def test_campaign_pages_render_and_link_in_a_real_browser(browser: Browser, cockpit: Cockpit) -> None:
    shots = _screenshots()
    page = _signed_in(browser, cockpit)
    listing = page.goto(f"{cockpit.base}/coord-campaigns/")
    assert listing is not None and listing.status == 200
    assert "30 campaigns" in page.inner_text("body")
    page.screenshot(path=str(shots / "campaign-list.png"), full_page=True)
    # The filter form narrows by network prefix; the API answers the same set.
    page.fill("input[name=network]", "0.0.0.0/2")
    page.get_by_role("button", name="filter").click()
    page.wait_for_url("**network=0.0.0.0%2F2**")
    shown = set(LINK.findall(page.content()))
    api = httpx.get(
        f"{cockpit.base}/coord-api/v1/campaigns",
        params={"network": "0.0.0.0/2", "limit": 500},
        headers={"Authorization": f"Bearer {cockpit.token}"},
        timeout=30,
    ).json()["campaigns"]
    assert 0 < len(shown) < 30 and shown == {r["campaign_id"] for r in api}
    assert f"{len(shown)} campaigns" in page.inner_text("body")
    page.screenshot(path=str(shots / "campaign-list-by-network.png"), full_page=True)
    page.goto(f"{cockpit.base}/coord-campaigns/")

    page.locator("a[href*='campaign/']").first.click()
    page.wait_for_load_state()
    assert "/coord-campaigns/campaign/" in urlsplit(page.url).path
    body = page.inner_text("body")
    assert "Evidence" in body or "evidence" in body
    assert page.locator("svg").count() >= 1  # the session timeline
    page.screenshot(path=str(shots / "campaign-page.png"), full_page=True)

    query = urlencode({"dag_id": DAG_ID, "run_id": cockpit.campaign_run})
    tab = page.goto(f"{cockpit.base}/coord-campaigns/run?{query}")
    assert tab is not None and tab.status == 200
    assert page.locator("a[href*='coord-dq/report']").count() >= 1
    page.screenshot(path=str(shots / "run-campaigns-tab.png"), full_page=True)

    # Without the cookie the pages refuse, in the browser too.
    anonymous = browser.new_context().new_page()
    refused = anonymous.goto(f"{cockpit.base}/coord-campaigns/")
    assert refused is not None and refused.status == 401
    for name in ("campaign-list.png", "campaign-page.png", "run-campaigns-tab.png"):
        assert (shots / name).stat().st_size > 10_000, name


def test_a_daily_trend_report_renders_in_a_real_browser_beside_the_campaign_pages(
    cockpit: Cockpit, browser: Browser
) -> None:
    """The trend report of a day of the served corpus, built by the trend stage, from Browse's list
    to the day's page, whose campaign links lead to the campaign pages."""
    from coord_core.pipeline.trends import build_and_store_report

    base, token = cockpit.base, cockpit.token
    with psycopg.connect(cockpit.results_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT min(interval_start) FROM coord.campaign_identity").fetchone()
        assert row is not None and row[0] is not None
        start = row[0]
        day = start.date()
        build_and_store_report(conn, day, dag_id="coord_trends", run_id="manual__browser")
    shots = _screenshots()
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
    assert (shots / "trend-report.png").stat().st_size > 10_000
