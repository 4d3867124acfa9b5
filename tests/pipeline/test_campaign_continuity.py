"""A generated campaign running across two consecutive intervals keeps one campaign id."""

from __future__ import annotations

from pathlib import Path

import psycopg

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.analyze import analyze_interval
from coord_core.pipeline.extract import extract_interval
from coord_core.pipeline.load import load_interval
from coord_core.scenarios.catalogue import generate
from coord_core.scenarios.cowrie_writer import write_scenario
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore


def test_two_consecutive_intervals_of_one_botnet_are_one_campaign(
    pg_conn: psycopg.Connection, tmp_path: Path
) -> None:
    scenario = generate("dropper_botnet", 3, size="small")
    truth = scenario.truth()
    log_path, _ = write_scenario(scenario.plans, truth, tmp_path / "botnet")
    (botnet,) = [a.actor_id for a in truth.actors if a.multi_source]
    bot_sessions = {s.session_id for s in truth.sessions if s.actor_id == botnet}
    day = scenario.window
    middle = day.start + (day.end - day.start) / 2
    halves = [DataWindow(start=day.start, end=middle), DataWindow(start=middle, end=day.end)]
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    for window in halves:
        extract_interval(store, window, read_paths([log_path]))
        analyze_interval(store, window, {})
        load_interval(store, window)

    occurrences = pg_conn.execute(
        "SELECT DISTINCT m.interval_start, m.campaign_id, i.campaign_id FROM coord.campaign_members m "
        "JOIN coord.campaign_identity i ON i.interval_start = m.interval_start "
        "AND i.interval_end = m.interval_end AND i.occurrence_id = m.campaign_id "
        "WHERE m.session_id = ANY(%s) ORDER BY m.interval_start",
        (sorted(bot_sessions),),
    ).fetchall()
    # One occurrence per interval, each with its own occurrence id, both under one campaign id:
    # the earliest occurrence's.
    assert [start for start, _, _ in occurrences] == [h.start for h in halves]
    assert occurrences[0][1] != occurrences[1][1]
    assert {campaign for _, _, campaign in occurrences} == {occurrences[0][1]}
    track = pg_conn.execute(
        "SELECT intervals, sessions, first_seen, last_seen FROM coord.campaign_tracks WHERE campaign_id = %s",
        (occurrences[0][1],),
    ).fetchone()
    assert track is not None
    intervals, sessions, first_seen, last_seen = track
    assert intervals == 2 and first_seen < middle < last_seen
    members = pg_conn.execute(
        "SELECT count(DISTINCT m.session_id) FROM coord.campaign_members m JOIN coord.campaign_identity i "
        "ON i.interval_start = m.interval_start AND i.interval_end = m.interval_end "
        "AND i.occurrence_id = m.campaign_id WHERE i.campaign_id = %s",
        (occurrences[0][1],),
    ).fetchone()
    assert members is not None and members[0] == sessions
    assert bot_sessions <= {
        sid
        for (sid,) in pg_conn.execute(
            "SELECT m.session_id FROM coord.campaign_members m JOIN coord.campaign_identity i "
            "ON i.interval_start = m.interval_start AND i.interval_end = m.interval_end "
            "AND i.occurrence_id = m.campaign_id WHERE i.campaign_id = %s",
            (occurrences[0][1],),
        )
    }
