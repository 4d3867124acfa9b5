"""A generated 10-day history through the main DAG's tasks (daily intervals) and the trend DAG's: the
stored reports find the generated waves' spike days and flag nothing on the steady campaigns.

The full 30-day run is ``make trend-history`` (``tests/trends/history_run.py``); its figures are in
the README.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from coord_airflow.trend_report_app import create_app
from fastapi import Request
from fastapi.testclient import TestClient

from coord_core.pipeline.results_access import read_only_as
from coord_core.scenarios.history import HistorySpec
from tests.trends.history_run import run_history

SPEC = HistorySpec(days=10, base_rate=12, background=40)


def test_a_generated_history_through_both_dags_reports_its_spike_days(
    postgres_dsn: str, redis_server_url: str, tmp_path: Path
) -> None:
    result = run_history(postgres_dsn, redis_server_url, 1, SPEC, 24, tmp_path)

    # Every day has a stored report, with lineage to the runs it read.
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute("SELECT day, lineage FROM coord.trend_reports ORDER BY day").fetchall()
    assert [d for d, _ in rows] == [date(2025, 11, 3 + i) for i in range(10)]
    assert all(lineage["dag_id"] == "coord_trends" and lineage["runs_read"] for _, lineage in rows)
    assert len(rows[-1][1]["runs_read"]) == 10  # the last day read all ten daily runs

    # Each generated campaign is one stored campaign across the ten intervals.
    assert all(c["stored_campaign_ids"] == 1 for c in result["generated_campaigns"].values())
    either = result["methods"]["any"]
    # Both waves rise on day 9 (2x) and 10 (3x): four true spike campaign-days, all found.
    assert either["true_spike_days"] == 4 and either["recall"] == 1.0
    assert either["false_alarms"] == 0 and either["judged_quiet_days"] == 8
    assert result["methods"]["mean_sigma"]["found"] == 4
    assert result["methods"]["median_iqr"]["found"] >= 3

    # The spike day's page on the API server lists the wave campaigns' spikes.
    def db() -> Any:
        from contextlib import contextmanager

        @contextmanager
        def reader() -> Any:
            with psycopg.connect(postgres_dsn) as conn:
                read_only_as(conn, None)
                yield conn

        return reader()

    async def anyone(request: Request) -> None:
        return None

    page = TestClient(create_app(db=db, authorize=anyone)).get("/report", params={"day": "2025-11-12"})
    assert page.status_code == 200
    spikes = page.text[page.text.index('id="spikes"') : page.text.index('id="new_campaigns"')]
    assert spikes.count("coord-campaigns/campaign/") >= 2
