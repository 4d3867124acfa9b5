"""`coord analyze`: the analysis of log files, without Airflow or a database.

Inputs are Cowrie JSON-lines files, folders or ``.gz`` archives, or DShield-SIEM NDJSON
documents (one ``_source`` or search hit per line; recognised by their ``@timestamp``). The
output is the contract JSON, byte-identical for identical input and parameters.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import sys
from collections.abc import Iterator
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


def _input_files(inputs: list[str]) -> list[tuple[Path, bool]]:
    """The log files under ``inputs``, each with whether it holds DShield-SIEM documents."""
    from coord_core.ingest.cowrie_files import discover_files

    return [(path, _holds_siem_documents(path)) for path in discover_files(inputs)]


def _records(files: list[tuple[Path, bool]]) -> Iterator[Any]:
    from coord_core.ingest.cowrie_files import read_file
    from coord_core.ingest.siem_files import read_siem_file

    for path, siem in files:
        yield from read_siem_file(path) if siem else read_file(path)


def read_inputs(inputs: list[str]) -> InputReadout:
    """Every record of every input file (Cowrie or DShield-SIEM); each rejected one is logged with why."""
    events: list[Any] = []
    read = rejected = 0
    for record in _records(_input_files(inputs)):
        read += 1
        if record.event is None:
            rejected += 1
            log.warning("%s skipped: %s", record.ref, record.error)
            continue
        events.append(record.event)
    return InputReadout(events, read, rejected)


class Tally:
    """Counts the records as they stream by and logs each rejected one with why."""

    def __init__(self) -> None:
        self.read = 0
        self.rejected = 0

    def __call__(self, record: Any) -> None:
        self.read += 1
        if record.event is None:
            self.rejected += 1
            log.warning("%s skipped: %s", record.ref, record.error)


def stream_input_sessions(inputs: list[str], tally: Tally) -> Iterator[Any]:
    """Sessions of all inputs (plain records), each as soon as it is complete, in bounded memory (two
    passes: see ``coord_core.ingest.session_stream``); ``tally`` counts the records read and rejected."""
    from coord_core.ingest.session_stream import count_lines, cowrie_line_keys, event_keys, stream_sessions
    from coord_core.ingest.siem_files import read_siem_file

    files = _input_files(inputs)
    expected: dict[int, int] = {}
    for path, siem in files:
        count_lines(event_keys(read_siem_file(path)) if siem else cowrie_line_keys(path), expected)
    return stream_sessions(_plain_records(files, tally), expected, on_record=tally)


def _plain_records(files: list[tuple[Path, bool]], tally: Tally) -> Iterator[Any]:
    """The records of ``files``; Cowrie events as plain records (no event model per line), those of
    lines the compiled schema takes as bare events, counted into ``tally`` here."""
    from coord_core.ingest.cowrie_files import read_file_events
    from coord_core.ingest.siem_files import read_siem_file

    for path, siem in files:
        if siem:
            yield from read_siem_file(path)
        else:
            bare = yield from read_file_events(path)
            tally.read += bare  # not `tally.read += yield from`: that reads tally.read before the file


def read_sessions(inputs: list[str]) -> tuple[list[Any], int]:
    """Sessions of all inputs, by (start, sensor, session id), and how many records could not be
    used (each logged with why)."""
    from coord_core.contracts.sessions import session_model

    tally = Tally()
    sessions = sorted(stream_input_sessions(inputs, tally), key=lambda s: (s.start, s.sensor, s.session_id))
    return [session_model(s) for s in sessions], tally.rejected


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
    from coord_core import cycle_collection
    from coord_core.analysis.frame import FrameBuilder
    from coord_core.analysis.parameters import AnalysisParameters
    from coord_core.pipeline.analyze import InputFingerprint, analyze_frame

    overrides = parse_params(args.params, "analyze")
    try:
        AnalysisParameters.from_overrides(overrides)  # bad parameters stop before any reading
    except ValueError as exc:  # pydantic ValidationError of bad parameters is a ValueError
        raise SystemExit(f"coord analyze: {exc}") from exc
    tally = Tally()
    fingerprint = InputFingerprint()
    builder = FrameBuilder()
    with cycle_collection.paused():
        for session in stream_input_sessions(args.inputs, tally):
            fingerprint.add(session)
            builder.add(session)
        frame = builder.finish()
        result = analyze_frame(frame, overrides, input_fingerprint=fingerprint.hexdigest())
        # The frame's millions of objects are alive here: a collection pass over them per few
        # hundred dicts of the result's dump would cost more than the dump itself.
        text = result.to_canonical_json()
        # Left to reference counting: the collection that turning the collector back on starts at
        # once would scan every object made above (millions, acyclic) to free none of them.
        gc.freeze()
    gc.unfreeze()
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(args.out).write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for c in result.campaigns:
        counts[c.verdict.value] = counts.get(c.verdict.value, 0) + 1
    print(
        f"{tally.read} records read, {tally.rejected} rejected: {frame.n_sessions} sessions, "
        f"{len(result.campaigns)} groups {counts}, "
        f"{len(result.benign_scanners)} benign scanners -> {args.out}",
        file=sys.stderr,
    )
    return 0
