"""Stored campaigns for the campaign pages and the results API: the synthetic corpus of
``coord_core.scenarios.stored_campaigns`` written through the store, one run per interval."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg

from coord_core.contracts.window import DataWindow
from coord_core.scenarios.stored_campaigns import StoredInterval, campaign_intervals
from coord_core.store.campaign_identity import rebuild_campaign_identity
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore, RunRecord

DAG_ID = "dshield_coordination"


def run_id_of(window: DataWindow) -> str:
    return f"scheduled__{window.start.isoformat()}"


def store_corpus(
    conn: psycopg.Connection[Any], campaigns: int, *, intervals: int, seed: int
) -> list[DataWindow]:
    """Migrate, then store each interval's run, sessions, result and campaigns; identity once at the end."""
    return store_intervals(conn, campaign_intervals(campaigns, intervals=intervals, seed=seed))


def store_intervals(conn: psycopg.Connection[Any], items: Iterable[StoredInterval]) -> list[DataWindow]:
    """Migrate, then store each interval as a successful run of the main DAG; identity at the end."""
    migrate(conn)
    store = ResultsStore(conn)
    windows = []
    for item in items:
        run = RunRecord(DAG_ID, run_id_of(item.window), 1, "files", ["synthetic"], None, "synthetic", {})
        store.start_run(item.window, run)
        store.replace_sessions(item.window, item.sessions)
        digest = store.save_analysis_result(item.window, item.result, parameters_hash="synthetic")
        store.replace_campaigns(item.window, item.result)
        store.update_run(DAG_ID, item.window, status="success", result_sha256=digest, dq_gate_passed=True)
        windows.append(item.window)
    rebuild_campaign_identity(conn)
    return windows
