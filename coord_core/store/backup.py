"""Back up the ``coord`` schema to a folder and restore it into an empty database, verified.

A backup is ``manifest.json`` (code version, the applied migrations with their checksums, per
table its columns, row count, content digest and file checksum, the sequences) and one gzipped
``COPY`` text file per table, all read in one repeatable-read snapshot. It goes through psycopg's
``COPY`` rather than ``pg_dump`` so that it works whatever client tools are installed (Debian 12
ships pg_dump 15, which refuses a PostgreSQL 16 server).

Restore refuses a corrupted folder, a dump from a newer schema than this code knows and a
target database that already holds results. It applies the dump's migrations, loads every table,
sets the sequences, checks row counts and digests against the manifest (all in one transaction,
so a failed restore leaves nothing), then applies this code's newer migrations. The workflow
checkpoints (schema ``coord_workflow``) are not backed up: they only live while a task retries.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from coord_core.store.migrations import discover, migrate
from coord_core.version import code_version

SCHEMA = "coord"
FORMAT = 1
MANIFEST = "manifest.json"
_CHUNK = 1 << 20
# Session settings that make COPY text and row digests independent of the connecting client.
_SESSION = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'iso_8601'",
)


class RestoreRefused(RuntimeError):
    """The backup cannot be restored here; the message says why and what to do."""


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    digest: str


@dataclass(frozen=True)
class BackupOutcome:
    folder: Path
    tables: list[TableSummary]
    schema_version: str


@dataclass(frozen=True)
class RestoreOutcome:
    tables: list[TableSummary]
    schema_version: str
    migrated_after: list[str]


def backup(conn: psycopg.Connection[Any], folder: Path) -> BackupOutcome:
    """Write every ``coord`` table of one consistent snapshot to ``folder`` (created, must be empty)."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty; back up into a new folder")
    (folder / "tables").mkdir()
    conn.commit()
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    try:
        with conn.transaction():
            _session_settings(conn)
            migrations = conn.execute(
                "SELECT version, checksum FROM coord.schema_migrations ORDER BY version"
            ).fetchall()
            if not migrations:
                raise RuntimeError("the database has no coord schema to back up (coord db migrate first)")
            tables: dict[str, Any] = {}
            summaries = []
            for table in _tables(conn):
                columns = _columns(conn, table)
                path = folder / "tables" / f"{table}.copy.gz"
                _copy_out(conn, table, columns, path)
                summary = _summarise(conn, table)
                summaries.append(summary)
                tables[table] = {
                    "columns": columns,
                    "rows": summary.rows,
                    "digest": summary.digest,
                    "file": str(path.relative_to(folder)),
                    "sha256": _sha256(path),
                }
            sequences = dict(
                conn.execute(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s ORDER BY 1",
                    (SCHEMA,),
                ).fetchall()
            )
    finally:
        conn.read_only = False
        conn.isolation_level = None
    manifest = {
        "format": FORMAT,
        "schema": SCHEMA,
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": code_version(),
        "migrations": [{"version": v, "checksum": c} for v, c in migrations],
        "tables": tables,
        "sequences": sequences,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return BackupOutcome(folder, summaries, migrations[-1][0])


def restore(conn: psycopg.Connection[Any], folder: Path) -> RestoreOutcome:
    """Restore the backup in ``folder`` into the empty database behind ``conn``, verified."""
    manifest = read_manifest(folder)
    schema_version = _check_schema(manifest)
    _check_target_is_empty(conn)
    conn.commit()
    with conn.transaction():
        _session_settings(conn)
        migrate(conn, until=schema_version)
        tables: dict[str, Any] = manifest["tables"]
        unknown = sorted(set(tables) - set(_tables(conn)))
        if unknown:
            raise RestoreRefused(f"the backup holds tables its schema version does not create: {unknown}")
        # Migrations seed some tables (retention_policy); the backup's rows replace those seeds.
        conn.execute(
            sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(sql.Identifier(SCHEMA, t) for t in tables))
        )
        summaries = []
        for table, entry in sorted(tables.items()):
            _copy_in(conn, table, entry["columns"], folder / entry["file"])
            summary = _summarise(conn, table)
            if (summary.rows, summary.digest) != (entry["rows"], entry["digest"]):
                raise RestoreRefused(
                    f"{table}: restored {summary.rows} rows (digest {summary.digest}), the backup "
                    f"recorded {entry['rows']} (digest {entry['digest']}); nothing was restored"
                )
            summaries.append(summary)
        for name, value in manifest["sequences"].items():
            if value is not None:
                conn.execute("SELECT setval(%s, %s, true)", (f"{SCHEMA}.{name}", value))
    migrated_after = migrate(conn)
    return RestoreOutcome(summaries, schema_version, migrated_after)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The backup's manifest, after checking every table file against its recorded checksum."""
    path = folder / MANIFEST
    if not path.is_file():
        raise RestoreRefused(f"{folder} is not a coord backup: {MANIFEST} is missing")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT or manifest.get("schema") != SCHEMA:
        raise RestoreRefused(
            f"{path}: format {manifest.get('format')} of schema {manifest.get('schema')!r} is not "
            f"format {FORMAT} of {SCHEMA!r}"
        )
    for table, entry in manifest["tables"].items():
        file = folder / entry["file"]
        if not file.is_file() or _sha256(file) != entry["sha256"]:
            raise RestoreRefused(f"{file}: missing or its checksum differs from the manifest ({table})")
    return manifest


def _check_schema(manifest: dict[str, Any]) -> str:
    """The dump's schema version, if this code knows every migration the dump has, unchanged."""
    known = {m.version: m.checksum for m in discover()}
    dumped = manifest["migrations"]
    newer = [m["version"] for m in dumped if m["version"] not in known]
    if newer:
        raise RestoreRefused(
            f"the backup comes from a newer schema (migrations {', '.join(newer)}, code "
            f"{manifest['code_version']}) than this code knows (up to {max(known)}); "
            "restore it with that code version or newer"
        )
    changed = [m["version"] for m in dumped if known[m["version"]] != m["checksum"]]
    if changed:
        raise RestoreRefused(f"migrations {', '.join(changed)} differ from this code's; refusing to restore")
    expected = sorted(known)[: len(dumped)]
    if [m["version"] for m in dumped] != expected:
        raise RestoreRefused(f"the backup's migrations are not a prefix of this code's: {dumped}")
    version: str = dumped[-1]["version"]
    return version


def _check_target_is_empty(conn: psycopg.Connection[Any]) -> None:
    found = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %s AND tablename <> 'schema_migrations'", (SCHEMA,)
    ).fetchone()
    if found and found[0]:
        raise RestoreRefused(
            "the target database already has a coord schema; restore into a new, empty database "
            "(createdb) and point coord_postgres at it"
        )


def _session_settings(conn: psycopg.Connection[Any]) -> None:
    for statement in _SESSION:
        conn.execute(statement)


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename <> 'schema_migrations' "
        "ORDER BY tablename",
        (SCHEMA,),
    ).fetchall()
    return [r[0] for r in rows]


def _columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position",
        (SCHEMA, table),
    ).fetchall()
    return [r[0] for r in rows]


def _summarise(conn: psycopg.Connection[Any], table: str) -> TableSummary:
    """Row count and an order-independent digest of the rows' text (sum of 60-bit row hashes)."""
    query = sql.SQL(
        "SELECT count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)::text "
        "FROM {} AS t"
    ).format(sql.Identifier(SCHEMA, table))
    row = conn.execute(query).fetchone()
    assert row is not None
    return TableSummary(table, int(row[0]), str(row[1]))


def _copy_statement(table: str, columns: list[str], direction: str) -> sql.Composed:
    return sql.SQL("COPY {} ({}) {} (FORMAT text)").format(
        sql.Identifier(SCHEMA, table),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL(direction),
    )


def _copy_out(conn: psycopg.Connection[Any], table: str, columns: list[str], path: Path) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(_copy_statement(table, columns, "TO STDOUT")) as copy,
        gzip.open(path, "wb") as out,
    ):
        for chunk in copy:
            out.write(chunk)


def _copy_in(conn: psycopg.Connection[Any], table: str, columns: list[str], path: Path) -> None:
    with (
        conn.cursor() as cur,
        cur.copy(_copy_statement(table, columns, "FROM STDIN")) as copy,
        gzip.open(path, "rb") as source,
    ):
        for chunk in _chunks(source):
            copy.write(chunk)


def _chunks(source: Any) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        yield chunk


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in _chunks(handle):
            digest.update(chunk)
    return digest.hexdigest()
