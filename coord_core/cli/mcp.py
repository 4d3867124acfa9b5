"""`coord mcp`: serve the read-only campaign tools to an MCP client (assistant) over stdio."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    mcp = subparsers.add_parser(
        "mcp",
        help="MCP server (stdio) for assistants: campaigns, evidence, indicators, trends (read-only)",
    )
    mcp.add_argument(
        "--role",
        default="coord_reader",
        help="PostgreSQL role to act as (default coord_reader; '' reads as the login role)",
    )
    mcp.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    from coord_core.assistant.connection import (
        ConnectionSettingsError,
        connect_read_only,
        dsn_from_environment,
    )
    from coord_core.assistant.server import build_server

    try:
        dsn = dsn_from_environment()
        # Fail at start, not at the first tool call, when the database or role is unusable.
        connect_read_only(dsn, args.role or None).close()
    except ConnectionSettingsError as exc:
        raise SystemExit(f"coord mcp: {exc}") from exc
    build_server(lambda: connect_read_only(dsn, args.role or None)).run("stdio")
    return 0
