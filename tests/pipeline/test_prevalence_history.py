"""The prevalence history in PostgreSQL: each interval's analysis adds its days, later ones read them."""

from __future__ import annotations

import random
from datetime import timedelta

import psycopg
import pytest

from coord_core.contracts.campaigns import Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.pipeline.analyze import analyze_interval
from coord_core.store.migrations import migrate
from coord_core.store.prevalence import history_before
from coord_core.store.results import ResultsStore
from tests.analysis.builders import PUBLIC_SCRIPT, T0, background, random_ip, session

pytestmark = pytest.mark.integration


def _day(rng: random.Random, day: int) -> tuple[list[AttackSession], list[str]]:
    """Five unrelated networks running one public script that day (all before midnight UTC)."""
    users = [random_ip(rng) for _ in range(5)]
    sessions = [
        session(ip, day * 86_400 + rng.uniform(0, 50_000), logins=[("root", "admin")], commands=PUBLIC_SCRIPT)
        for ip in users
    ]
    noise = [
        s.model_copy(update={"start": s.start + timedelta(days=day), "end": s.end + timedelta(days=day)})
        for s in background(rng, 8, span_s=50_000)
    ]
    return sessions + noise, users


def _merged(store: ResultsStore, window: DataWindow, ips: list[str]) -> int:
    result = store.load_analysis_result(window)
    assert result is not None
    return sum(
        len(set(c.source_ips) & set(ips))
        for c in result.campaigns
        if c.verdict is not Verdict.COINCIDENTAL and len(set(c.source_ips) & set(ips)) >= 2
    )


def test_a_value_unrelated_networks_share_every_day_stops_linking_once_history_shows_it(
    pg_conn: psycopg.Connection,
) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    rng = random.Random(31)
    merged_by_day = []
    for day in range(5):
        window = DataWindow(start=T0 + timedelta(days=day), end=T0 + timedelta(days=day + 1))
        sessions, users = _day(rng, day)
        store.replace_sessions(window, sessions)
        summary = analyze_interval(store, window, {})
        assert summary["history"]["days_observed"] == day  # every earlier day, none of its own
        assert summary["history"]["values_stored"] > 0
        merged_by_day.append(_merged(store, window, users))
    # With no history the script looks like one toolkit; from the third day on it is endemic.
    assert merged_by_day[0] == 5
    assert merged_by_day[3:] == [0, 0]
    history = history_before(pg_conn, DataWindow(start=T0 + timedelta(days=5), end=T0 + timedelta(days=6)))
    assert history.days_observed == 5 and len(history.endemic_keys()) >= 1
    # Rerunning an interval replaces its own rows only: the history is unchanged.
    rows = pg_conn.execute("SELECT count(*) FROM coord.feature_prevalence").fetchone()
    analyze_interval(store, DataWindow(start=T0 + timedelta(days=2), end=T0 + timedelta(days=3)), {})
    assert pg_conn.execute("SELECT count(*) FROM coord.feature_prevalence").fetchone() == rows
