"""`coord`: the command line for researchers (analyze files) and operators (database, lineage).

Each subcommand lives in its own module with ``register(subparsers)``; this module only
assembles them, importing heavy dependencies lazily inside the command functions.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

from coord_core.embedded_services import EmbeddedServersMissing

# Modules under coord_core.cli that contribute a subcommand, in help order.
COMMAND_MODULES = (
    "analyze",
    "db",
    "summary",
    "local_run",
    "local_ui",
    "lineage",
    "generate",
    "evaluate",
    "eval_real",
    "mcp",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coord", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"coord_core.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("pgserver", "great_expectations", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    try:
        result: int = args.func(args)
    except EmbeddedServersMissing as missing:
        raise SystemExit(f"coord {args.command}: {missing}") from missing
    return result


if __name__ == "__main__":
    raise SystemExit(main())
