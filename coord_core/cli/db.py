"""`coord db migrate | backup | restore`: the results database's schema, backups and restores."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="results database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    mig = db_sub.add_parser("migrate", help="apply pending migrations from sql/")
    _dsn_argument(mig)
    mig.set_defaults(func=_migrate)
    back = db_sub.add_parser("backup", help="write the coord schema (one snapshot) to a new folder")
    _dsn_argument(back)
    back.add_argument("folder", type=Path, help="new or empty folder for manifest.json and the tables")
    back.set_defaults(func=_backup)
    rest = db_sub.add_parser("restore", help="restore a backup folder into an empty database, verified")
    _dsn_argument(rest)
    rest.add_argument("folder", type=Path, help="a folder written by `coord db backup`")
    rest.set_defaults(func=_restore)


def _dsn_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dsn",
        default=os.environ.get("COORD_POSTGRES_DSN"),
        help="libpq DSN of the results database (default: $COORD_POSTGRES_DSN)",
    )


def _require_dsn(args: argparse.Namespace) -> str:
    if not args.dsn:
        raise SystemExit(f"coord db {args.db_command}: give --dsn or set COORD_POSTGRES_DSN")
    dsn: str = args.dsn
    return dsn


def _migrate(args: argparse.Namespace) -> int:
    from coord_core.store.migrations import migrate
    from coord_core.store.session_limits import connect

    with connect(_require_dsn(args)) as conn:
        applied = migrate(conn)
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


def _backup(args: argparse.Namespace) -> int:
    import psycopg

    from coord_core.store.backup import backup

    with psycopg.connect(_require_dsn(args)) as conn:
        outcome = backup(conn, args.folder)
    rows = sum(t.rows for t in outcome.tables)
    print(
        f"backed up {len(outcome.tables)} tables, {rows} rows, "
        f"schema {outcome.schema_version} to {args.folder}"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    import psycopg

    from coord_core.store.backup import RestoreRefused, restore

    try:
        with psycopg.connect(_require_dsn(args)) as conn:
            outcome = restore(conn, args.folder)
    except RestoreRefused as refused:
        raise SystemExit(f"coord db restore: {refused}") from refused
    rows = sum(t.rows for t in outcome.tables)
    after = ", ".join(outcome.migrated_after) or "none"
    print(
        f"restored {len(outcome.tables)} tables, {rows} rows (counts and digests verified), "
        f"schema {outcome.schema_version}; migrations applied afterwards: {after}"
    )
    return 0
