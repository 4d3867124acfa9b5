"""`coord analyze` streams: sessions close as soon as complete, with the results of reading all at once.

Input files need not be time-ordered nor hold whole sessions, so the sessions must not depend
on how lines are spread over files; memory must follow the sessions still open, not the events.
"""

from __future__ import annotations

import gzip
import json
import random
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coord_core.cli import main
from coord_core.cli.analyze import read_inputs, read_sessions
from coord_core.contracts.events import event_record, parse_event
from coord_core.contracts.sessions import AttackSession, SessionRecord, session_json
from coord_core.ingest.cowrie_files import read_file, read_file_records
from coord_core.ingest.session_stream import SessionCloser, count_lines, cowrie_line_keys, stream_sessions
from coord_core.ingest.sessionize import sessionize
from tests.conftest import REAL_SAMPLE
from tests.ingest.near_schema import near_schema_lines
from tests.ingest.test_fuzz_readers import BUDGET, REAL_LINES, mutated


def _dumped(sessions: list[AttackSession]) -> list[str]:
    return sorted(s.model_dump_json() for s in sessions)


def _scatter(lines: list[str], folder: Path) -> None:
    """The lines shuffled over three files, one of them gzipped."""
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    thirds = [shuffled[i::3] for i in range(3)]
    (folder / "a.json").write_text("\n".join(thirds[0]) + "\n", encoding="utf-8")
    (folder / "b.json").write_text("\n".join(thirds[1]) + "\n", encoding="utf-8")
    with gzip.open(folder / "c.json.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(thirds[2]) + "\n")


def test_sessions_spread_over_unordered_files_are_the_sessions_of_the_whole_read(tmp_path: Path) -> None:
    _scatter(REAL_SAMPLE.read_text(encoding="utf-8").splitlines(), tmp_path)
    expected = sessionize(read_inputs([str(REAL_SAMPLE)]).events)
    streamed, rejected = read_sessions([str(tmp_path)])
    assert rejected == 0
    assert _dumped(streamed) == _dumped(expected)
    assert [(s.start, s.sensor, s.session_id) for s in streamed] == [
        (s.start, s.sensor, s.session_id) for s in expected
    ]


def test_coord_analyze_gives_the_same_result_whatever_the_file_layout(tmp_path: Path) -> None:
    scattered = tmp_path / "scattered"
    scattered.mkdir()
    _scatter(REAL_SAMPLE.read_text(encoding="utf-8").splitlines(), scattered)
    assert main(["analyze", str(REAL_SAMPLE), "--out", str(tmp_path / "whole.json")]) == 0
    assert main(["analyze", str(scattered), "--out", str(tmp_path / "scattered.json")]) == 0
    whole = json.loads((tmp_path / "whole.json").read_text(encoding="utf-8"))
    assert whole["run"]["session_count"] > 100
    assert (tmp_path / "scattered.json").read_bytes() == (tmp_path / "whole.json").read_bytes()


def _line(session: str | int, second: int, eventid: str = "cowrie.command.input", **fields: object) -> str:
    record: dict[str, object] = {
        "eventid": eventid,
        "timestamp": f"2025-10-24T04:{second // 60:02d}:{second % 60:02d}Z",
        "session": session,
        "src_ip": "61.80.142.115",
        "message": "",
        "input": "uname -a",
        **fields,
    }
    return json.dumps(record)


def _max_open(path: Path) -> tuple[int, list[SessionRecord]]:
    closer = SessionCloser(count_lines(cowrie_line_keys(path)))
    most, sessions = 0, list[SessionRecord]()
    for record in read_file(path):
        assert record.event is not None, record.error
        sessions += closer.add(record.event)
        most = max(most, closer.open_sessions)
    return most, sessions + list(closer.rest())


def test_time_ordered_sessions_are_handed_over_one_by_one(tmp_path: Path) -> None:
    # 300 sessions one after another, ids as text and as integers, without a sensor field.
    log = tmp_path / "cowrie.json"
    ids: list[str | int] = [f"s{n}" if n % 2 else n for n in range(300)]
    log.write_text(
        "\n".join(_line(sid, 3 * n + k) for n, sid in enumerate(ids) for k in range(3)) + "\n",
        encoding="utf-8",
    )
    most, sessions = _max_open(log)
    assert most == 1
    assert sorted(s.session_id for s in sessions) == sorted(str(i) for i in ids)
    assert all(s.event_count == 3 for s in sessions)


def test_a_session_with_a_rejected_line_is_kept_open_and_still_delivered(tmp_path: Path) -> None:
    log = tmp_path / "cowrie.json"
    lines = [_line("a", 0), _line("a", 1, src_ip="not an ip"), _line("a", 2), _line("b", 3)]
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = list(read_file(log))
    assert [r.event is None for r in records] == [False, True, False, False]
    sessions = list(stream_sessions(records, count_lines(cowrie_line_keys(log))))
    by_id = {s.session_id: s for s in sessions}
    assert by_id["a"].event_count == 2 and by_id["b"].event_count == 1
    assert [s.session_id for s in sessions] == ["b", "a"]  # "a" waited for its rejected line


_ODD_ID_LINES = [
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"a","session":"b"}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","sess\\u0069on":"c"}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"d","x":{"sensor":"z"}}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":123456789012345678901234}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":true}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"e","sensor":1.0}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"\\ud800"}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"f","n":NaN}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"g","m":"\xff"}',
    b'{"eventid":"x","timestamp":"2025-10-24T04:00:00Z","src_ip":"1.1.1.1","session":"h","sensor":"s\\u00e9"}',
]


@BUDGET
@given(st.lists(near_schema_lines() | mutated(REAL_LINES) | st.sampled_from(_ODD_ID_LINES), max_size=8))
def test_the_count_pass_counts_each_line_read_as_an_event_under_its_key(lines: list[bytes]) -> None:
    # Counted under another key, a line would close its own session early (an error) and hold another.
    folder = Path(tempfile.mkdtemp(prefix="coord-count-"))
    physical = [part for line in lines for part in line.split(b"\n") if part.strip()]
    for n, line in enumerate(physical):
        path = folder / f"{n}.json"
        path.write_bytes(line + b"\n")
        (record,) = read_file_records(path)
        counted = list(cowrie_line_keys(path))
        if record.event is not None:
            assert counted == [(record.event.sensor, record.event.session)], line


def test_an_event_after_its_session_closed_is_an_error_not_a_wrong_session() -> None:
    event = parse_event(json.loads(_line("a", 0)))
    closer = SessionCloser(count_lines([("", "a")]))
    assert len(closer.add(event)) == 1
    with pytest.raises(RuntimeError, match="after it was closed"):
        closer.add(event)


class _OneHash(str):
    """An id whose hash is fixed: keys made of them share one slot (a hash collision, forced)."""

    def __hash__(self) -> int:
        return 7


def test_keys_that_share_a_slot_close_together_each_its_own_session() -> None:
    events = [
        event_record(parse_event(json.loads(_line(session, second, input=f"{session}-{second}"))))
        for second, session in enumerate(["a", "b", "a", "c", "b", "a"])
    ]
    records = [r._replace(session=_OneHash(r.session), sensor=_OneHash(r.sensor)) for r in events]
    keys = [(r.sensor, r.session) for r in records]
    assert len({hash(key) for key in keys}) == 1  # a, b and c share one slot
    closer = SessionCloser(count_lines(keys))
    for n, record in enumerate(records[:-1]):
        assert closer.add(record) == ()  # the slot closes with its last line, whichever key's
        assert closer.open_sessions == len({r.session for r in records[: n + 1]})
    handed = closer.add(records[-1])
    assert [s.session_id for s in handed] == ["a", "b", "c"] and closer.open_sessions == 0
    expected = {s.session_id: s for s in sessionize(events)}
    for session in handed:
        assert session_json(session) == session_json(expected[str(session.session_id)])
    with pytest.raises(RuntimeError, match="after it was closed"):
        closer.add(records[0])
