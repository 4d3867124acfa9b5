"""Fuzzing the readers: whatever a line holds, it is one event or one quarantined record.

Hypothesis draws events over the Cowrie schema (hostile timestamps, addresses, identifiers,
nested extras) and byte-level mutations of real lines; for the Cowrie file reader, the SIEM
reader and ``coord analyze``, nothing escapes and read = valid + quarantined. The budget is
small so that it runs in the unit tier; a failure prints the file that broke a reader.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coord_core.cli import main
from coord_core.cli.analyze import read_inputs
from coord_core.contracts.events import KNOWN_EVENT_IDS
from coord_core.ingest.cowrie_files import read_paths
from coord_core.ingest.siem_files import read_siem_file
from coord_core.scenarios.siem_writer import event_to_siem_document
from tests.conftest import REAL_SAMPLE

BUDGET = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REAL_LINES = REAL_SAMPLE.read_bytes().splitlines()[:200]
REAL_SIEM_LINES = [
    json.dumps(event_to_siem_document(json.loads(line)).source).encode() for line in REAL_LINES[:100]
]

json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
timestamps = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "", "2025-13-45T99:00Z"]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    json_value,
)
addresses = st.one_of(
    st.ip_addresses().map(str),
    st.sampled_from(["fe80::1%eth0", "::ffff:1.2.3.4", "999.1.1.1", "", " 10.0.0.1 "]),
    json_value,
)
identifiers = st.one_of(st.text(max_size=16), st.integers(), json_value)
events = st.fixed_dictionaries(
    {
        "eventid": st.sampled_from(sorted(KNOWN_EVENT_IDS)) | st.text(max_size=12),
        "timestamp": timestamps,
        "session": identifiers,
        "src_ip": addresses,
        "sensor": identifiers,
    },
    optional={
        "dst_ip": addresses,
        "src_port": st.integers() | json_value,
        "dst_port": st.integers() | json_value,
        "shasum": st.text(alphabet="0123456789abcdefABCDEF./", max_size=70) | json_value,
        "duration": st.floats() | st.text(max_size=6) | json_value,
        "username": json_value,
        "password": json_value,
        "input": json_value,
        "url": json_value,
        "extra": json_value,
    },
)


@st.composite
def mutated(draw: st.DrawFn, lines: list[bytes]) -> bytes:
    """A real line with a few bytes flipped, inserted, deleted or cut."""
    line = bytearray(draw(st.sampled_from(lines)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "cut"]))
        at = draw(st.integers(min_value=0, max_value=max(len(line) - 1, 0)))
        if kind == "flip" and line:
            line[at] = draw(st.integers(min_value=0, max_value=255))
        elif kind == "insert":
            line[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del line[at : at + draw(st.integers(min_value=1, max_value=16))]
        else:
            del line[at:]
    return bytes(line)


def _lines(event_dicts: list[dict[str, Any]], raw: list[bytes]) -> list[bytes]:
    return [json.dumps(e).encode() for e in event_dicts] + raw


def _non_blank(data: bytes) -> int:
    lines = data.split(b"\n")
    lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
    return sum(1 for line in lines if line.strip())


def _write(lines: list[bytes], name: str) -> tuple[Path, bytes]:
    folder = Path(tempfile.mkdtemp(prefix="coord-fuzz-"))
    data = b"\n".join(lines) + b"\n"
    path = folder / name
    path.write_bytes(data)
    return path, data


@BUDGET
@given(st.lists(events, max_size=6), st.lists(mutated(REAL_LINES), max_size=6))
def test_cowrie_reader_accounts_for_every_line(event_dicts: list[dict[str, Any]], raw: list[bytes]) -> None:
    path, data = _write([*REAL_LINES[:3], *_lines(event_dicts, raw)], "cowrie.json")
    records = list(read_paths([path]))
    assert len(records) == _non_blank(data)
    assert all(r.time is not None and (r.ok or r.error) for r in records)


@BUDGET
@given(st.lists(events, max_size=6), st.lists(mutated(REAL_SIEM_LINES), max_size=6))
def test_siem_reader_accounts_for_every_line(event_dicts: list[dict[str, Any]], raw: list[bytes]) -> None:
    path, data = _write(_lines(event_dicts, raw), "siem.ndjson")
    records = list(read_siem_file(path))
    assert len(records) == _non_blank(data)
    assert all(r.ok or r.error for r in records)


@settings(BUDGET, max_examples=15)  # each example runs the analysis twice
@given(st.lists(events, max_size=4), st.lists(mutated(REAL_LINES + REAL_SIEM_LINES), max_size=4))
def test_coord_analyze_accounts_for_every_line(event_dicts: list[dict[str, Any]], raw: list[bytes]) -> None:
    # The first line decides the format, as for a real input: a SIEM document or a Cowrie event.
    for first in (REAL_LINES[0], REAL_SIEM_LINES[0]):
        path, data = _write([first, *_lines(event_dicts, raw)], "input.json")
        readout = read_inputs([str(path)])
        assert readout.read == len(readout.events) + readout.rejected == _non_blank(data)
        assert main(["analyze", str(path), "--out", str(path.with_suffix(".result"))]) == 0
