"""`coord mcp`: serve the read-only campaign tools to an MCP client (assistant) over stdio, or over
streamable HTTP on a loopback address (the transport has no login of its own: reach it from
another host only through a proxy that authenticates)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    mcp = subparsers.add_parser(
        "mcp",
        help="MCP server (stdio or streamable HTTP) for assistants: campaigns, evidence, indicators, trends",
    )
    mcp.add_argument("--transport", choices=("stdio", "streamable-http"), default="stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="streamable HTTP: a loopback address")
    mcp.add_argument("--port", type=int, default=8765, help="streamable HTTP: the port (default 8765)")
    mcp.add_argument(
        "--role",
        default="coord_reader",
        help="PostgreSQL role to act as (default coord_reader; '' reads as the login role)",
    )
    mcp.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    import ipaddress

    from coord_core.assistant.connection import (
        ConnectionSettingsError,
        connect_read_only,
        dsn_from_environment,
    )
    from coord_core.assistant.server import build_server

    if args.transport == "streamable-http":  # checked before anything is opened
        try:
            loopback = ipaddress.ip_address(args.host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise SystemExit(
                f"coord mcp: --host {args.host} is not a loopback address; the MCP transport has no "
                "login, so serve it on 127.0.0.1 behind a proxy that authenticates"
            )
    try:
        dsn = dsn_from_environment()
        # Fail at start, not at the first tool call, when the database or role is unusable.
        connect_read_only(dsn, args.role or None).close()
    except ConnectionSettingsError as exc:
        raise SystemExit(f"coord mcp: {exc}") from exc
    server = build_server(lambda: connect_read_only(dsn, args.role or None))
    if args.transport == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host=args.host, port=args.port)
    return 0
