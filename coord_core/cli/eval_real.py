"""`coord eval-real` (alias `coord validate`): check the analysis on your own logs with silver groups.

Reads the same inputs as ``coord analyze``. Groups sources that share one strong signal
(payload hash, download URL, injected SSH key, miner wallet, a long identical command list, a
random-looking password), then analyses the logs once with every signal on and once per signal
with that signal switched off, and prints per group the pair recall and the conflicts. The logic
is in ``coord_core.evaluation.silver``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser(
        "eval-real",
        aliases=["validate"],
        help="check the analysis on your own logs: silver groups, each signal switched off in turn",
    )
    cmd.add_argument("inputs", nargs="+", help="files or folders (Cowrie JSON lines, .gz, SIEM NDJSON)")
    cmd.add_argument("--out", type=Path, default=None, help="write the JSON report here")
    cmd.add_argument("--params", default="{}", help="analysis parameter overrides as a JSON object")
    cmd.set_defaults(func=_eval_real)


def _eval_real(args: argparse.Namespace) -> int:
    from coord_core.cli.analyze import parse_params, read_sessions
    from coord_core.evaluation.silver import render, validate_sessions

    overrides = parse_params(args.params, "eval-real")
    sessions, rejected = read_sessions(args.inputs)
    print(f"{len(sessions)} sessions ({rejected} records rejected)", file=sys.stderr)
    try:
        report = validate_sessions(sessions, overrides, progress=lambda m: print(m, file=sys.stderr))
    except ValueError as exc:  # bad analysis parameters
        raise SystemExit(f"coord eval-real: {exc}") from exc
    print(render(report))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report.to_json(), encoding="utf-8")
        print(f"report: {args.out}")
    return 0
