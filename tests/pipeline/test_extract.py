"""Extract stages exactly one interval: edges, out-of-order events, bad records and reruns."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.conftest import REAL_SAMPLE

HOUR = DataWindow(start=datetime(2025, 10, 24, 3, tzinfo=UTC), end=datetime(2025, 10, 24, 4, tzinfo=UTC))


def _event(eventid: str, ts: datetime, session: str, **fields: object) -> str:
    base = {
        "eventid": eventid,
        "timestamp": ts.isoformat().replace("+00:00", "Z"),
        "session": session,
        "src_ip": "198.51.100.7",
        "sensor": "s1",
        "message": "",
    }
    return json.dumps({**base, **fields})


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    return ResultsStore(pg_conn)


def test_real_sample_counts_add_up(store: ResultsStore) -> None:
    whole_day = DataWindow(start=datetime(2025, 10, 24, tzinfo=UTC), end=datetime(2025, 10, 25, tzinfo=UTC))
    outcome = extract_interval(store, whole_day, read_paths([REAL_SAMPLE]))
    assert outcome.read == 2057
    assert outcome.staged_events == 2057
    assert outcome.quarantined == 0
    assert outcome.sessions == 474
    sessions = store.load_sessions(whole_day)
    assert len({s.src_ip for s in sessions}) == 69
    # The analysis streams them through a server-side cursor: same sessions, same order.
    assert list(store.iter_sessions(whole_day, batch=50)) == sessions
    assert [s.start for s in sessions] == sorted(s.start for s in sessions)


def test_hourly_windows_partition_the_sample(store: ResultsStore) -> None:
    """Every session is owned by exactly one hourly interval, however the hours are cut."""
    total_sessions = 0
    total_events = 0
    for hour in range(24):
        start = datetime(2025, 10, 24, hour, tzinfo=UTC)
        outcome = extract_interval(
            store, DataWindow(start=start, end=start + timedelta(hours=1)), read_paths([REAL_SAMPLE])
        )
        total_sessions += outcome.sessions
        total_events += outcome.staged_events
    assert total_sessions == 474
    assert total_events == 2057


def test_edges_out_of_order_and_bad_lines(store: ResultsStore, tmp_path: Path) -> None:
    t0 = HOUR.start
    lines = [
        # a session that started before the window and closes inside it: owned by the previous hour
        _event("cowrie.session.connect", t0 - timedelta(seconds=30), "aaaa00000001",
               src_port=1, dst_ip="10.0.0.1", dst_port=22, protocol="ssh"),
        _event("cowrie.session.closed", t0 + timedelta(seconds=30), "aaaa00000001", duration="60.0"),
        # out of order: the close is logged before the connect; starts inside, ends after the window
        _event("cowrie.session.closed", HOUR.end + timedelta(seconds=5), "bbbb00000002", duration=10),
        _event("cowrie.session.connect", HOUR.end - timedelta(seconds=5), "bbbb00000002",
               src_port=2, dst_ip="10.0.0.1", dst_port=2222, protocol="ssh"),
        '{"eventid": "cowrie.session.connect", "timestamp": "2025-10-24T03:10:00Z", "sess',
        # only connect and close, no login
        _event("cowrie.session.connect", t0 + timedelta(minutes=20), "cccc00000003",
               src_port=3, dst_ip="10.0.0.1", dst_port=23, protocol="telnet"),
        _event("cowrie.session.closed", t0 + timedelta(minutes=21), "cccc00000003", duration=60),
        _event("cowrie.future.event", t0 + timedelta(minutes=22), "cccc00000003", extra="kept"),
        _event("cowrie.session.connect", t0 + timedelta(minutes=23), "dddd00000004",
               src_port="not-a-port", dst_ip="10.0.0.1", dst_port=22),
    ]  # fmt: skip
    log = tmp_path / "cowrie.json"
    log.write_text("\n".join(lines) + "\n")
    outcome = extract_interval(store, HOUR, read_paths([log]))
    sessions = {s.session_id: s for s in store.load_sessions(HOUR)}
    assert set(sessions) == {"bbbb00000002", "cccc00000003"}
    assert sessions["bbbb00000002"].has_connect and sessions["bbbb00000002"].has_close
    assert sessions["bbbb00000002"].duration == 10.0
    assert sessions["cccc00000003"].unknown_event_ids == ["cowrie.future.event"]
    assert outcome.quarantined == 2
    assert outcome.read == outcome.staged_events + outcome.quarantined == 7
    reasons = [r[0] for r in store.conn.execute("SELECT reason FROM coord.quarantine ORDER BY ref")]
    assert any("not valid JSON" in r for r in reasons)
    assert any("src_port" in r for r in reasons)


def test_rerun_leaves_identical_rows(store: ResultsStore) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        return store.conn.execute(
            "SELECT sensor, session_id, doc::text FROM coord.sessions ORDER BY sensor, session_id"
        ).fetchall()

    first = extract_interval(store, HOUR, read_paths([REAL_SAMPLE]))
    rows = snapshot()
    second = extract_interval(store, HOUR, read_paths([REAL_SAMPLE]))
    assert first == second
    assert snapshot() == rows


def test_the_same_events_read_twice_stage_the_sessions_of_once(store: ResultsStore, tmp_path: Path) -> None:
    """A log and its .gz copy in one input: the DAG path builds the very sessions the files give
    once, before validate (which quarantines the copies) and after its rebuild (issue 9)."""
    import gzip
    import shutil

    from coord_core.cli.analyze import read_sessions
    from coord_core.quality.stage import validate_stage

    whole_day = DataWindow(start=datetime(2025, 10, 24, tzinfo=UTC), end=datetime(2025, 10, 25, tzinfo=UTC))
    shutil.copyfile(REAL_SAMPLE, tmp_path / "x.json")
    with REAL_SAMPLE.open("rb") as src, gzip.open(tmp_path / "x.json.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    once, _ = read_sessions([str(REAL_SAMPLE)])
    expected = sorted(s.model_dump_json() for s in once)

    outcome = extract_interval(store, whole_day, read_paths([tmp_path]))
    assert outcome.staged_events == 2 * 2057  # every record is staged; the copies are data quality's
    assert outcome.sessions == 474
    assert sorted(s.model_dump_json() for s in store.load_sessions(whole_day)) == expected

    validate_stage(store, whole_day)
    assert sorted(s.model_dump_json() for s in store.load_sessions(whole_day)) == expected


def test_staging_statistics_are_fresh_before_the_interval_is_trimmed(store: ResultsStore) -> None:
    """Planned on statistics older than the COPY, removing other intervals' sessions turns quadratic
    (5k events 7 s, 10k 34 s); analysed first, it takes well under a second."""
    store.conn.execute("ANALYZE coord.staged_events")  # statistics of an empty table
    staged = store.replace_staged_events(HOUR, (r for r in read_paths([REAL_SAMPLE]) if r.ok))
    row = store.conn.execute(
        "SELECT reltuples FROM pg_class WHERE oid = 'coord.staged_events'::regclass"
    ).fetchone()
    assert row is not None and row[0] == staged == 2057  # the planner knows what the COPY staged
