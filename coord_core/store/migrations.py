"""Apply the ordered SQL migrations in ``sql/`` exactly once each, safely under concurrency."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
# Any constant works; it only has to be the same for every process migrating this database.
_ADVISORY_LOCK_ID = 0x434F4F5244  # "COORD"


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    files = sorted(sql_dir.glob("[0-9][0-9][0-9]_*.sql"))
    return [Migration(version=f.stem, path=f) for f in files]


def _up_to_date(conn: psycopg.Connection, migrations: list[Migration]) -> bool:
    """Every migration is already recorded with its content: one query, no lock and no DDL (what
    every run pays once the deployment is migrated). A changed one is left to ``migrate`` to refuse."""
    try:
        with conn.transaction():
            rows = conn.execute("SELECT version, checksum FROM coord.schema_migrations").fetchall()
    except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
        return False  # a fresh database
    done: dict[str, str] = dict(rows)
    return all(done.get(m.version) == m.checksum for m in migrations)


def migrate(conn: psycopg.Connection, sql_dir: Path = SQL_DIR, until: str | None = None) -> list[str]:
    """Apply pending migrations in order (up to and including ``until`` if given); return those applied.

    A migration already applied with different content is an error: history is never rewritten.
    """
    migrations = discover(sql_dir)
    if until is not None:
        versions = [m.version for m in migrations]
        if until not in versions:
            raise ValueError(f"unknown migration {until!r}; this code knows {', '.join(versions)}")
        migrations = migrations[: versions.index(until) + 1]
    if _up_to_date(conn, migrations):
        return []
    applied_now: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_ADVISORY_LOCK_ID,))
        conn.execute("CREATE SCHEMA IF NOT EXISTS coord")
        conn.execute(
            """CREATE TABLE IF NOT EXISTS coord.schema_migrations (
                   version text PRIMARY KEY,
                   checksum text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        rows = conn.execute("SELECT version, checksum FROM coord.schema_migrations").fetchall()
        done: dict[str, str] = dict(rows)
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"migration {migration.version} was changed after it was applied; "
                        "add a new migration instead"
                    )
                continue
            log.info("applying migration %s", migration.version)
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO coord.schema_migrations (version, checksum) VALUES (%s, %s)",
                (migration.version, migration.checksum),
            )
            applied_now.append(migration.version)
    return applied_now
