"""Retention prunes only old staging/DQ rows; the reader role reads everything and writes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from coord_core.store.retention import apply_retention, retention_policy, set_retention

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _window(days_ago: int) -> DataWindow:
    start = NOW - timedelta(days=days_ago)
    return DataWindow(start=start, end=start + timedelta(hours=1))


def _session(window: DataWindow) -> AttackSession:
    return AttackSession(session_id=uuid.uuid4().hex[:12], sensor="s", src_ip="192.0.2.9", start=window.start,
                         end=window.start)  # fmt: skip


def test_retention_deletes_only_what_policy_allows(pg_conn: psycopg.Connection) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    old, recent = _window(400), _window(2)
    for window in (old, recent):
        store.replace_sessions(window, [_session(window)])
    pg_conn.execute(
        "INSERT INTO coord.campaigns (interval_start, interval_end, campaign_id, verdict, confidence, "
        "first_seen, last_seen, session_count, source_ip_count) "
        "VALUES (%s, %s, 'c1', 'coincidental', 0.1, %s, %s, 1, 1)",
        (old.start, old.end, old.start, old.end),
    )
    assert retention_policy(pg_conn)["sessions"] == 180
    deleted = apply_retention(pg_conn, NOW)
    assert deleted["sessions"] == 1
    remaining = pg_conn.execute("SELECT interval_start FROM coord.sessions").fetchall()
    assert remaining == [(recent.start,)]
    assert pg_conn.execute("SELECT count(*) FROM coord.campaigns").fetchone() == (1,)  # results are kept
    set_retention(pg_conn, "sessions", 1)
    assert apply_retention(pg_conn, NOW)["sessions"] == 1
    with pytest.raises(ValueError, match="not prunable"):
        set_retention(pg_conn, "campaigns", 1)


def test_reader_role_can_read_but_not_write(pg_conn: psycopg.Connection, postgres_dsn: str) -> None:
    migrate(pg_conn)
    user = f"coord_reader_test_{uuid.uuid4().hex[:8]}"
    pg_conn.execute(f'CREATE ROLE "{user}" LOGIN IN ROLE coord_reader')
    pg_conn.commit()
    info = psycopg.conninfo.conninfo_to_dict(postgres_dsn)
    info["user"] = user
    try:
        with psycopg.connect(
            psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})
        ) as reader:
            assert reader.execute("SELECT count(*) FROM coord.campaigns").fetchone() == (0,)
            assert reader.execute("SELECT count(*) FROM coord.campaign_tracks").fetchone() == (0,)
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("INSERT INTO coord.audit_log (actor, action) VALUES ('x', 'y')")
            reader.rollback()
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute("DELETE FROM coord.campaigns")
    finally:
        pg_conn.execute(f'DROP ROLE "{user}"')
        pg_conn.commit()
