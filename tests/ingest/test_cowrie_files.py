"""Reading Cowrie logs: every line accounted for, each owned by exactly one point in time."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coord_core.ingest.cowrie_files import discover_files, read_paths

T0 = datetime(2025, 10, 24, 5, tzinfo=UTC)


def _line(ts: datetime | str, session: str = "aaaaaaaaaaaa") -> str:
    stamp = ts if isinstance(ts, str) else ts.isoformat().replace("+00:00", "Z")
    return json.dumps({"eventid": "cowrie.session.closed", "timestamp": stamp, "session": session,
                       "src_ip": "198.51.100.1", "sensor": "s", "message": "", "duration": 1})  # fmt: skip


def test_folders_gzip_and_order(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "cowrie.json.2025-10-24").write_text(_line(T0) + "\n")
    with gzip.open(tmp_path / "sub" / "cowrie.json.gz", "wt") as handle:
        handle.write(_line(T0 + timedelta(minutes=1)) + "\n\n")
    (tmp_path / "notes.txt").write_text("not a log")
    files = discover_files([tmp_path])
    assert [f.name for f in files] == ["cowrie.json.2025-10-24", "cowrie.json.gz"]
    records = list(read_paths([tmp_path]))
    assert [r.ok for r in records] == [True, True]


def test_clock_errors_are_errors_but_real_gaps_are_not(tmp_path: Path) -> None:
    log = tmp_path / "cowrie.json"
    lines = [
        _line(T0),
        _line("2099-01-01T00:00:00Z"),  # a spike: far from both neighbours
        _line(T0 + timedelta(seconds=5)),
        _line(T0 + timedelta(days=3)),  # the honeypot was down for three days: a real jump
        _line(T0 + timedelta(days=3, seconds=1)),
    ]
    log.write_text("\n".join(lines) + "\n")
    records = list(read_paths([log]))
    assert [r.ok for r in records] == [True, False, True, True, True]
    assert records[1].time == T0 and "from the records around it" in (records[1].error or "")
    assert records[3].time == T0 + timedelta(days=3)


def test_unusable_lines_take_a_neighbours_time(tmp_path: Path) -> None:
    log = tmp_path / "cowrie.json"
    log.write_bytes(b'{"truncated": \n' + _line(T0).encode() + b"\n\xff\xfe not utf-8\n")
    first, good, third = read_paths([log])
    assert (first.ok, good.ok, third.ok) == (False, True, False)
    assert first.time == good.time == third.time == T0  # leading bad line: the next good time
    assert "not valid JSON" in (first.error or "")
    assert "not valid UTF-8" in (third.error or "")
    assert third.raw.startswith("\\xff\\xfe")  # original bytes kept, escaped


def test_a_file_without_any_timestamp_belongs_to_its_modification_time(tmp_path: Path) -> None:
    log = tmp_path / "cowrie.json"
    log.write_text("garbage\n{}\n")
    os.utime(log, (T0.timestamp(), T0.timestamp()))
    records = list(read_paths([log]))
    assert [r.time for r in records] == [T0, T0]
    assert not any(r.ok for r in records)
