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
from collections.abc import Iterator
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


def _is_siem(first_line: bytes) -> bool:
    try:
        doc = json.loads(first_line)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    source = doc.get("_source", doc)
    return isinstance(source, dict) and "@timestamp" in source and "eventid" not in source


def _siem_events(path: Path) -> Iterator[Any]:
    from coord_core.contracts.events import EventParseError
    from coord_core.ingest.siem_mapping import SiemMappingError, siem_hit_to_event

    with path.open("rb") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
                hit = (
                    doc
                    if "_source" in doc
                    else {"_index": "cowrie-file", "_id": f"{path.name}:{number}", "_source": doc}
                )
                hit.setdefault("_index", "cowrie-file")
                hit.setdefault("_id", f"{path.name}:{number}")
                yield siem_hit_to_event(hit)
            except (ValueError, SiemMappingError, EventParseError) as exc:
                log.warning("%s:%d skipped: %s", path, number, str(exc)[:300])


def read_sessions(inputs: list[str]) -> tuple[list[Any], int]:
    """Sessions of all inputs, and how many records could not be used (each logged with why)."""
    from coord_core.ingest.cowrie_files import discover_files, read_paths
    from coord_core.ingest.sessionize import sessionize

    events: list[Any] = []
    rejected = 0
    cowrie_files: list[Path] = []
    for path in discover_files(inputs):
        if path.suffix != ".gz":
            with path.open("rb") as handle:
                first = handle.readline()
            if _is_siem(first):
                events.extend(_siem_events(path))
                continue
        cowrie_files.append(path)
    for record in read_paths(cowrie_files):
        if record.event is None:
            rejected += 1
            log.warning("%s skipped: %s", record.ref, record.error)
            continue
        events.append(record.event)
    return sessionize(events), rejected


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
    sessions, rejected = read_sessions(args.inputs)
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
        f"{len(sessions)} sessions ({rejected} records rejected): {len(result.campaigns)} groups {counts}, "
        f"{len(result.benign_scanners)} benign scanners -> {args.out}",
        file=sys.stderr,
    )
    return 0
