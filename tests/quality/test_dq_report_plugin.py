"""The Airflow UI plugin: report pages served from a real PostgreSQL, registered the way Airflow loads it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from coord_airflow.app_support import LazyApp
from coord_airflow.dq_report_app import create_app
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.quality.report import TREND_SLOT
from coord_core.quality.stage import validate_stage
from coord_core.quality.stored_reports import StoredReportReader
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.dags.airflow_env import plugin_app_statuses
from tests.quality.support import END, REAL_SAMPLE, START, sample_run

DAG_ID = "dshield_coordination"
RUN_ID = "scheduled__2025-10-25T00:00:00+00:00"
OLD_RUN_ID = "manual__2025-10-25T01:02:03+00:00"


@pytest.fixture
def stored(postgres_dsn: str) -> Iterator[tuple[str, str]]:
    """A database where a real run of the sample was extracted, validated and reported."""
    window = DataWindow(start=START, end=END)
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        store = ResultsStore(conn)
        store.start_run(window, sample_run(DAG_ID, OLD_RUN_ID))
        store.audit("test", "run_started", dag_id=DAG_ID, run_id=OLD_RUN_ID, window=window)
        store.start_run(window, sample_run(DAG_ID, RUN_ID))  # a later run of the same interval
        extract_interval(store, window, read_paths([REAL_SAMPLE]), slack=timedelta(minutes=30))
        outcome = validate_stage(store, window)
        html = conn.execute("SELECT html FROM coord.dq_reports").fetchone()
        assert html is not None and outcome.gate.passed
        yield postgres_dsn, str(html[0])


def _client(dsn: str) -> TestClient:
    @contextmanager
    def reader() -> Iterator[StoredReportReader]:
        with psycopg.connect(dsn) as conn:
            yield StoredReportReader(conn)

    async def authorize(request: Request) -> None:
        if request.headers.get("X-Test-User") != "engineer":
            raise HTTPException(status_code=401, detail="Not authenticated")

    return TestClient(create_app(reader=reader, authorize=authorize), headers={"X-Test-User": "engineer"})


def _stored_part(page: str) -> str:
    """The served page without its view-time trend section: the stored page."""
    begin = page.index('<section id="trend">')
    end = page.index("</section>", begin) + len("</section>")
    return page[:begin] + TREND_SLOT + page[end:]


def test_report_of_a_run_is_the_stored_page_with_the_current_trend(stored: tuple[str, str]) -> None:
    dsn, html = stored
    client = _client(dsn)
    reply = client.get("/report", params={"dag_id": DAG_ID, "run_id": RUN_ID})
    assert reply.status_code == 200
    assert _stored_part(reply.text) == html
    assert "Trend (last 1 runs)" in reply.text and 'id="trend"' not in html
    assert "Gate PASSED" in reply.text
    assert reply.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in reply.headers["content-security-policy"]
    by_interval = client.get(
        "/report", params={"interval_start": START.isoformat(), "interval_end": END.isoformat()}
    )
    assert by_interval.status_code == 200 and _stored_part(by_interval.text) == html


def test_the_trend_shows_earlier_intervals_stored_later_without_changing_the_stored_page(
    stored: tuple[str, str],
) -> None:
    dsn, html = stored
    earlier = DataWindow(start=START - timedelta(days=1), end=START)
    with psycopg.connect(dsn) as conn:
        store = ResultsStore(conn)
        extract_interval(store, earlier, read_paths([REAL_SAMPLE]))  # an empty day before the sample
        validate_stage(store, earlier)
        assert conn.execute(
            "SELECT html FROM coord.dq_reports WHERE interval_start = %s", (START,)
        ).fetchone() == (html,)
    reply = _client(dsn).get("/report", params={"dag_id": DAG_ID, "run_id": RUN_ID})
    trend = reply.text.split('id="trend"')[1].split("</section>")[0]
    assert "Trend (last 2 runs)" in trend and trend.count("<rect ") == 2
    assert f"{earlier.start.isoformat()} – {earlier.end.isoformat()}" in trend
    assert "<td>no data</td>" in trend  # the empty day is neither passed nor failed
    # The list and the empty day's own page say "no data", not "passed".
    index = _client(dsn).get("/").text
    row = index.split(earlier.start.isoformat())[1].split("</tr>")[0]
    assert '<span class="nodata">no data</span>' in row
    page = _client(dsn).get(
        "/report",
        params={"interval_start": earlier.start.isoformat(), "interval_end": earlier.end.isoformat()},
    )
    assert "NO DATA" in page.text and "Gate PASSED" not in page.text
    summary = _client(dsn).get(
        "/summary",
        params={"interval_start": earlier.start.isoformat(), "interval_end": earlier.end.isoformat()},
    )
    assert summary.json()["gate_outcome"] == "no data" and summary.json()["gate_passed"] is True


def test_an_earlier_run_of_the_interval_finds_the_latest_report_with_a_note(stored: tuple[str, str]) -> None:
    dsn, html = stored
    reply = _client(dsn).get("/report", params={"dag_id": DAG_ID, "run_id": OLD_RUN_ID})
    assert reply.status_code == 200
    assert "was validated again later" in reply.text and RUN_ID in reply.text
    banner = reply.text[reply.text.index("<div") : reply.text.index("</div>") + 6]
    assert _stored_part(reply.text.replace(banner, "")) == html


def test_the_tab_on_another_dags_run_says_what_it_is_for(stored: tuple[str, str]) -> None:
    reply = _client(stored[0]).get("/report", params={"dag_id": "coord_maintenance", "run_id": RUN_ID})
    assert reply.status_code == 200
    assert "does not run the coordination pipeline" in reply.text and DAG_ID in reply.text


def test_a_results_database_no_run_has_reached_says_so(postgres_dsn: str) -> None:
    client = _client(postgres_dsn)  # an empty database: no coord schema
    index = client.get("/")
    assert index.status_code == 200 and "has no coord schema yet" in index.text
    assert client.get("/report", params={"dag_id": DAG_ID, "run_id": RUN_ID}).status_code == 404


def test_unknown_runs_and_bad_queries(stored: tuple[str, str]) -> None:
    client = _client(stored[0])
    missing = client.get("/report", params={"dag_id": DAG_ID, "run_id": "<script>x</script>"})
    assert missing.status_code == 404
    assert "No data-quality report is stored" in missing.text
    assert "<script>x" not in missing.text and "&lt;script&gt;x" in missing.text
    assert client.get("/report").status_code == 400
    assert (
        client.get("/report", params={"interval_start": "yesterday", "interval_end": "today"}).status_code
        == 400
    )
    naive = client.get(
        "/report", params={"interval_start": "2025-10-24T00:00:00", "interval_end": "2025-10-25T00:00:00"}
    )
    assert naive.status_code == 400
    assert client.get("/summary", params={"dag_id": DAG_ID, "run_id": "nope"}).status_code == 404


def test_summary_json_and_index(stored: tuple[str, str]) -> None:
    client = _client(stored[0])
    summary = client.get("/summary", params={"dag_id": DAG_ID, "run_id": RUN_ID}).json()
    assert summary["gate_passed"] is True
    assert summary["interval_start"] == START.isoformat()
    assert summary["summary"]["events"] == 2057
    assert summary["runs"] == [{"dag_id": DAG_ID, "run_id": RUN_ID}]
    index = client.get("/")
    assert index.status_code == 200
    assert 'href="report?interval_start=2025-10-24T00%3A00%3A00%2B00%3A00&amp;interval_end=' in index.text
    assert RUN_ID in index.text and "passed" in index.text


def test_every_route_requires_authorization(stored: tuple[str, str]) -> None:
    client = _client(stored[0])
    for path in ("/", "/report", "/summary"):
        reply = client.get(
            path, params={"dag_id": DAG_ID, "run_id": RUN_ID}, headers={"X-Test-User": "nobody"}
        )
        assert reply.status_code == 401, path


def test_lazy_app_builds_once(stored: tuple[str, str]) -> None:
    built: list[int] = []
    inner = _client(stored[0]).app

    def factory():
        built.append(1)
        return inner

    client = TestClient(LazyApp(factory), headers={"X-Test-User": "engineer"})
    assert client.get("/").status_code == 200
    assert client.get("/summary", params={"dag_id": DAG_ID, "run_id": RUN_ID}).status_code == 200
    assert built == [1]


def test_default_authorization_is_airflows_and_refuses_anonymous_callers(tmp_path: Path) -> None:
    code = (
        "from fastapi.testclient import TestClient\n"
        "from coord_airflow.dq_report_app import create_app\n"
        "def no_db():\n    raise AssertionError('the database must not be reached')\n"
        "client = TestClient(create_app(reader=no_db))\n"
        "print('STATUS', client.get('/report', params={'dag_id': 'd', 'run_id': 'r'}).status_code)\n"
        "print('STATUS', client.get('/').status_code)\n"
    )
    statuses = plugin_app_statuses(tmp_path, code)
    assert statuses == ["401", "401"]


def test_the_route_coord_summary_prints_is_where_the_plugin_mounts_the_report() -> None:
    from coord_airflow.dq_report_plugin import URL_PREFIX

    from coord_core.cli.summary import DQ_REPORT_ROUTE

    assert f"{URL_PREFIX}/report" == DQ_REPORT_ROUTE
