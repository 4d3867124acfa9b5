"""The trend report pages on the Airflow API server: a stored daily report as HTML and JSON, from a real
PostgreSQL, behind authentication, with attacker text escaped; registered as Airflow loads plugins."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from coord_airflow.trend_report_app import create_app
from fastapi import HTTPException, Request
from fastapi.testclient import TestClient

from coord_core.pipeline.results_access import read_only_as
from coord_core.store.migrations import migrate
from coord_core.store.trends import save_trend_report
from coord_core.trends.report import build_daily_report
from coord_core.trends.series import ActivityPoint

DAY = date(2025, 11, 20)
ATTACKER_FEATURE = "cred:root/<script>alert(1)</script>"


def _points() -> list[ActivityPoint]:
    """Two campaigns over 15 days: ``steady`` at 10 sessions a day, ``surge`` at 10 then 60 on DAY."""
    points = []
    for offset in range(15):
        day = DAY - timedelta(days=14 - offset)
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        for campaign, sessions in (
            ("steady", 10 + offset % 2),
            ("surge", 60 if day == DAY else 10 + offset % 3),
        ):
            points.append(
                ActivityPoint(
                    campaign,
                    start,
                    start + timedelta(days=1),
                    sessions,
                    sessions,
                    1,
                    2,
                    0.9,
                    "coordinated_campaign",
                )
            )
    return points


@pytest.fixture
def stored(postgres_dsn: str) -> str:
    report = build_daily_report(DAY, _points(), [(ATTACKER_FEATURE, DAY, 2)])
    lineage = {
        "dag_id": "coord_trends",
        "run_id": "manual__x",
        "code_version": "test",
        "read": {},
        "runs_read": [],
    }
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn)
        save_trend_report(conn, DAY, report, lineage)
    return postgres_dsn


def _client(dsn: str) -> TestClient:
    @contextmanager
    def db() -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(dsn) as conn:
            read_only_as(conn, None)
            yield conn

    async def authorize(request: Request) -> None:
        if request.headers.get("X-Test-User") != "engineer":
            raise HTTPException(status_code=401, detail="Not authenticated")

    return TestClient(create_app(db=db, authorize=authorize), headers={"X-Test-User": "engineer"})


def test_a_days_report_page_shows_its_spikes_top_campaigns_and_movers(stored: str) -> None:
    client = _client(stored)
    page = client.get("/report", params={"day": DAY.isoformat()})
    assert page.status_code == 200 and "Content-Security-Policy" in page.headers
    text = page.text
    spikes = text[text.index('id="spikes"') : text.index('id="new_campaigns"')]
    assert (
        'href="../coord-campaigns/campaign/surge"' in spikes
        and "median_iqr" in spikes
        and "mean_sigma" in spikes
    )
    assert "steady" not in spikes  # no spike on the flat campaign
    movers = text[text.index('id="movers"') : text.index('id="campaigns"')]
    assert movers.index("surge") < movers.index("steady")  # 60 against ~11: the top mover
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "2 spikes" not in text and "4 spikes" in text  # two metrics x two methods on surge

    index = client.get("/")
    assert index.status_code == 200 and f'href="report?day={DAY.isoformat()}"' in index.text

    as_json = client.get("/report.json", params={"day": DAY.isoformat()}).json()
    assert as_json["day"] == DAY.isoformat() and as_json["report"]["totals"]["spikes"] == 4
    assert as_json["lineage"]["dag_id"] == "coord_trends"


def test_missing_days_bad_days_and_anonymous_callers(stored: str) -> None:
    client = _client(stored)
    assert client.get("/report", params={"day": "2025-01-01"}).status_code == 404
    assert client.get("/report.json", params={"day": "2025-01-01"}).status_code == 404
    bad = client.get("/report", params={"day": "<b>"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.text
    for path in ("/", "/report?day=2025-11-20", "/report.json?day=2025-11-20"):
        assert client.get(path, headers={"X-Test-User": ""}).status_code == 401


def test_a_database_no_run_has_reached_says_so(postgres_dsn: str) -> None:
    page = _client(postgres_dsn).get("/")
    assert page.status_code == 200 and "has no coord schema yet" in page.text
