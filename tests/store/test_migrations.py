"""Migrations apply once, in order, and refuse a rewritten history."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from coord_core.store.migrations import _ADVISORY_LOCK_ID, SQL_DIR, discover, migrate


def test_migrations_apply_once(pg_conn: psycopg.Connection) -> None:
    versions = [m.version for m in discover()]
    assert migrate(pg_conn) == versions
    assert migrate(pg_conn) == []
    tables = {
        row[0]
        for row in pg_conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'coord'"
        )
    }
    assert {
        "runs",
        "sessions",
        "campaigns",
        "campaign_members",
        "evidence",
        "quarantine",
        "audit_log",
    } <= tables


def test_changed_migration_is_refused(pg_conn: psycopg.Connection, tmp_path: Path) -> None:
    for migration in discover():
        (tmp_path / migration.path.name).write_text(migration.sql)
    migrate(pg_conn, tmp_path)
    first = sorted(tmp_path.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(RuntimeError, match="was changed after it was applied"):
        migrate(pg_conn, tmp_path)
    assert SQL_DIR.is_dir()


def test_up_to_date_check_takes_no_lock(
    pg_conn: psycopg.Connection, postgres_dsn: str, tmp_path: Path
) -> None:
    """Once migrated, a run's check is one read: it neither waits for the migration lock nor runs DDL."""
    migrate(pg_conn)
    pg_conn.commit()
    for migration in discover():
        (tmp_path / migration.path.name).write_text(migration.sql)
    (tmp_path / "999_pending.sql").write_text("CREATE TABLE coord.pending_example (x int);")
    with psycopg.connect(postgres_dsn, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (_ADVISORY_LOCK_ID,))
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '2s'")
            conn.execute("SET statement_timeout = '2s'")
            assert migrate(conn) == []
            # A pending migration still takes the lock (and here times out waiting for it).
            with pytest.raises(psycopg.errors.QueryCanceled):
                migrate(conn, tmp_path)
        holder.execute("SELECT pg_advisory_unlock(%s)", (_ADVISORY_LOCK_ID,))
