"""`coord db migrate`: apply the SQL migrations to the results database."""

from __future__ import annotations

import argparse
import os
from typing import Any


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="results database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    mig = db_sub.add_parser("migrate", help="apply pending migrations from sql/")
    mig.add_argument(
        "--dsn",
        default=os.environ.get("COORD_POSTGRES_DSN"),
        help="libpq DSN of the results database (default: $COORD_POSTGRES_DSN)",
    )
    mig.set_defaults(func=_migrate)


def _migrate(args: argparse.Namespace) -> int:
    from coord_core.store.migrations import migrate
    from coord_core.store.session_limits import connect

    if not args.dsn:
        raise SystemExit("coord db migrate: give --dsn or set COORD_POSTGRES_DSN")
    with connect(args.dsn) as conn:
        applied = migrate(conn)
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0
