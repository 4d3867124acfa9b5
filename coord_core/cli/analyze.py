"""`coord analyze`: the analysis of log files, without Airflow or a database.

Inputs are Cowrie JSON-lines files, folders or ``.gz`` archives, or DShield-SIEM NDJSON
documents (one ``_source`` or search hit per line; recognised by their ``@timestamp``). The
output is the contract JSON, byte-identical for identical input and parameters.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    cmd = subparsers.add_parser(
        "analyze", help="analyze Cowrie or DShield-SIEM log files into the result JSON"
    )
    cmd.add_argument("inputs", nargs="+", help="files or folders (Cowrie JSON lines, .gz, SIEM NDJSON)")
    cmd.add_argument("--out", required=True, help="where to write the result JSON ('-' for stdout)")
    cmd.add_argument("--params", default="{}", help="analysis parameter overrides as a JSON object")
    cmd.set_defaults(func=_analyze)


@dataclass(frozen=True)
class InputReadout:
    """What reading the inputs gave: ``read == len(events) + rejected`` always holds."""

    events: list[Any]
    read: int
    rejected: int


def _holds_siem_documents(path: Path) -> bool:
    from coord_core.ingest.line_reader import DEFAULT_MAX_LINE_BYTES
    from coord_core.ingest.siem_files import looks_like_siem

    if path.suffix == ".gz":
        return False
    try:
        with path.open("rb") as handle:
            first = handle.readline(DEFAULT_MAX_LINE_BYTES)
    except OSError:
        return False  # the Cowrie reader reports the unreadable file as a rejected record
    return looks_like_siem(first)


def read_inputs(inputs: list[str]) -> InputReadout:
    """Every record of every input file (Cowrie or DShield-SIEM); each rejected one is logged with why."""
    from coord_core.ingest.cowrie_files import discover_files, read_file
    from coord_core.ingest.siem_files import read_siem_file

    events: list[Any] = []
    read = rejected = 0
    for path in discover_files(inputs):
        records = read_siem_file(path) if _holds_siem_documents(path) else read_file(path)
        for record in records:
            read += 1
            if record.event is None:
                rejected += 1
                log.warning("%s skipped: %s", record.ref, record.error)
                continue
            events.append(record.event)
    return InputReadout(events, read, rejected)


def read_sessions(inputs: list[str]) -> tuple[list[Any], int]:
    """Sessions of all inputs, and how many records could not be used (each logged with why)."""
    from coord_core.ingest.sessionize import sessionize

    readout = read_inputs(inputs)
    return sessionize(readout.events), readout.rejected


def parse_params(text: str, command: str) -> dict[str, Any]:
    """The ``--params`` analysis overrides: a JSON object, else the command stops with why."""
    try:
        overrides = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"coord {command}: --params is not JSON: {exc}") from exc
    if not isinstance(overrides, dict):
        raise SystemExit(f"coord {command}: --params must be a JSON object")
    return overrides


def _analyze(args: argparse.Namespace) -> int:
    from coord_core.pipeline.analyze import analyze_sessions

    overrides = parse_params(args.params, "analyze")
    from coord_core.ingest.sessionize import sessionize

    readout = read_inputs(args.inputs)
    sessions = sessionize(readout.events)
    try:
        result = analyze_sessions(sessions, overrides)
    except ValueError as exc:  # pydantic ValidationError of bad parameters is a ValueError
        raise SystemExit(f"coord analyze: {exc}") from exc
    text = result.to_canonical_json()
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(args.out).write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for c in result.campaigns:
        counts[c.verdict.value] = counts.get(c.verdict.value, 0) + 1
    print(
        f"{readout.read} records read, {readout.rejected} rejected: {len(sessions)} sessions, "
        f"{len(result.campaigns)} groups {counts}, "
        f"{len(result.benign_scanners)} benign scanners -> {args.out}",
        file=sys.stderr,
    )
    return 0
