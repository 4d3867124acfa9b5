"""The whole-interval statements on staging keep plans that scale: on a large staged interval, after
the statistics refresh extract does after its COPY, no statement joins staging to itself by a
nested loop that rescans it (quadratic: what hung the 200k-session day's first extract for over
ten minutes) and every estimate is within reach of the interval's real size.

``COORD_PLAN_ROWS`` sets the staged rows (default 300,000; 10,000,000 checks the plans at the
scale of a large day, by hand: about 4 GB of staging, minutes to stage).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from coord_core.contracts.window import DataWindow
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from coord_core.store.staging_sql import STAGING_STATEMENTS
from tests.conftest import temporary_database

ROWS = int(os.environ.get("COORD_PLAN_ROWS", "300000"))
EVENTS_PER_SESSION = 6
WINDOW = DataWindow(start=datetime(2026, 6, 2, tzinfo=UTC), end=datetime(2026, 6, 3, tzinfo=UTC))


def _stage(conn: psycopg.Connection, rows: int) -> None:
    """``rows`` staged events in sessions of six over three sensors, spread over the window and its
    slack (a few sessions start outside it), with checks filled as extract fills them."""
    conn.execute(
        """
        INSERT INTO coord.staged_events (interval_start, interval_end, ref, record_key, ts, eventid,
            sensor, session, src_ip, raw, src_ip_text, src_port, dst_port)
        SELECT %(s)s, %(e)s, 'day.json:' || i, md5(i::text),
               %(s)s - interval '20 minutes' + (i / %(per)s) * (interval '86400 seconds' / %(sessions)s)
                   + (i %% %(per)s) * interval '1 second',
               'cowrie.command.input', 'sensor-' || (i / %(per)s) %% 3, 's' || (i / %(per)s),
               ('10.' || (i / %(per)s / 65536) %% 256 || '.' || (i / %(per)s / 256) %% 256 || '.'
                   || (i / %(per)s) %% 256)::inet,
               repeat('x', 200), '10.0.0.1', 40000, 22
        FROM generate_series(0, %(rows)s - 1) AS i
        """,
        {"s": WINDOW.start, "e": WINDOW.end, "rows": rows, "per": EVENTS_PER_SESSION,
         "sessions": rows // EVENTS_PER_SESSION},
    )  # fmt: skip


@pytest.fixture(scope="module")
def staged(postgres_server_dsn: str) -> Iterator[psycopg.Connection]:
    with temporary_database(postgres_server_dsn) as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        migrate(conn)
        _stage(conn, ROWS)
        ResultsStore(conn).refresh_staging_statistics()  # as replace_staged_events does after its COPY
        yield conn


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _scans_staging(plan: dict[str, Any]) -> bool:
    return any(n.get("Relation Name") == "staged_events" for n in _nodes(plan))


def _plan(conn: psycopg.Connection, statement: str) -> dict[str, Any]:
    params = {
        "s": WINDOW.start,
        "e": WINDOW.end,
        "sensors": ["sensor-1", "sensor-2"],
        "sessions": ["s10", "s11"],
        "stage": "validate",
        "refs": ["day.json:10", "day.json:11"],
    }
    row = conn.execute(f"EXPLAIN (FORMAT JSON) {statement}", params).fetchone()
    assert row is not None
    document = row[0] if isinstance(row[0], list) else json.loads(row[0])
    plan: dict[str, Any] = document[0]["Plan"]
    return plan


@pytest.mark.parametrize("name", sorted(STAGING_STATEMENTS))
def test_no_statement_rescans_staging_per_row(staged: psycopg.Connection, name: str) -> None:
    plan = _plan(staged, STAGING_STATEMENTS[name])
    for node in _nodes(plan):
        if node["Node Type"] != "Nested Loop":
            continue
        outer, inner = node["Plans"][0], node["Plans"][1]
        # A nested loop may probe staging through an index for a handful of outer rows (the few
        # sessions validation rebuilds); never once per staged row, never by scanning it whole.
        if _scans_staging(inner):
            assert outer["Plan Rows"] <= 1000, f"{name}: nested loop over {outer['Plan Rows']} rows"
            assert not any(
                n["Node Type"] in ("Seq Scan", "Sort") and n.get("Relation Name") == "staged_events"
                for n in _nodes(inner)
            ), f"{name}: nested loop rescans staging: {json.dumps(node)[:2000]}"


def test_estimates_know_the_interval_is_large(staged: psycopg.Connection) -> None:
    """The statistics refresh is what the plans rest on: the planner sees the staged rows."""
    for name in ("staged_by_time", "event_rows"):
        rows = _plan(staged, STAGING_STATEMENTS[name])["Plan Rows"]
        assert ROWS / 2 <= rows <= ROWS * 2, (name, rows)


def test_the_outside_sessions_are_found_by_one_pass(staged: psycopg.Connection) -> None:
    """The DELETE of sessions starting outside the window joins by hash or merge, not per session."""
    joins = {
        n["Node Type"] for n in _nodes(_plan(staged, STAGING_STATEMENTS["drop_sessions_starting_outside"]))
    }
    assert joins & {"Hash Join", "Merge Join"}, joins
