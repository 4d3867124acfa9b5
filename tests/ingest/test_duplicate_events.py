"""Identical events count once, whichever way the copies arrive (issue 9, task A).

A folder holding the same log twice (``x.json`` and ``x.json.gz``), a shipper that repeats
lines, or the same event with its keys in another order must give the sessions, and therefore
the byte-identical analysis result, of the events read once.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from coord_core.cli.analyze import read_sessions
from coord_core.contracts.events import parse_event
from coord_core.contracts.sessions import AttackSession
from coord_core.ingest.sessionize import event_digest, session_from_events, sessionize
from coord_core.pipeline.analyze import analyze_sessions
from tests.conftest import REAL_SAMPLE

BASE = {"session": "fb05c07d0cd4", "src_ip": "61.80.142.115", "sensor": "37e2115ebaeb"}


def _event(eventid: str, ts: str, **fields: object) -> dict[str, object]:
    return {"eventid": eventid, "timestamp": f"2025-10-24T04:28:{ts}Z", "message": "", **BASE, **fields}


def _dumped(sessions: list[AttackSession]) -> list[str]:
    return [s.model_dump_json() for s in sessions]


@pytest.fixture(scope="module")
def once() -> tuple[list[AttackSession], str]:
    sessions, rejected = read_sessions([str(REAL_SAMPLE)])
    assert rejected == 0
    return sessions, analyze_sessions(sessions, {}).to_canonical_json()


def test_a_log_and_its_gz_copy_in_one_folder_analyse_as_the_log_once(
    tmp_path: Path, once: tuple[list[AttackSession], str]
) -> None:
    sessions_once, result_once = once
    shutil.copyfile(REAL_SAMPLE, tmp_path / "x.json")
    with REAL_SAMPLE.open("rb") as src, gzip.open(tmp_path / "x.json.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    sessions, rejected = read_sessions([str(tmp_path)])
    assert rejected == 0
    assert _dumped(sessions) == _dumped(sessions_once)
    assert analyze_sessions(sessions, {}).to_canonical_json() == result_once


def test_lines_repeated_within_one_file_analyse_as_the_lines_once(
    tmp_path: Path, once: tuple[list[AttackSession], str]
) -> None:
    sessions_once, result_once = once
    lines = REAL_SAMPLE.read_text(encoding="utf-8").splitlines()
    # Every line twice in a row, and the first hundred again at the end (a shipper's replay).
    doubled = [line for line in lines for _ in range(2)] + lines[:100]
    log = tmp_path / "cowrie.json"
    log.write_text("\n".join(doubled) + "\n", encoding="utf-8")
    sessions, rejected = read_sessions([str(log)])
    assert rejected == 0
    assert sum(s.event_count for s in sessions) == len(lines)
    assert _dumped(sessions) == _dumped(sessions_once)
    assert analyze_sessions(sessions, {}).to_canonical_json() == result_once


def test_the_same_event_with_keys_reordered_is_one_event() -> None:
    login = _event("cowrie.login.failed", "00.100000", username="root", password="admin")
    reordered = json.loads(json.dumps(dict(reversed(list(login.items())))))
    a, b = parse_event(login), parse_event(reordered)
    assert event_digest(a) == event_digest(b)
    session = session_from_events([a, b])
    assert session.event_count == 1 and len(session.logins) == 1


def test_distinct_events_are_all_kept() -> None:
    """Only identical events merge: a repeated command at another time, or another value at the
    same time, is a different event."""
    raw = [
        _event("cowrie.command.input", "01.000000", input="uname -a"),
        _event("cowrie.command.input", "02.000000", input="uname -a"),
        _event("cowrie.command.input", "02.000000", input="id"),
        _event("cowrie.login.failed", "03.000000", username="root", password="admin"),
        _event("cowrie.login.failed", "03.000000", username="root", password="Admin"),
        _event("cowrie.future.event", "04.000000", detail="a"),
        _event("cowrie.future.event", "04.000000", detail="b"),
    ]
    events = [parse_event(e) for e in raw]
    assert len({event_digest(e) for e in events}) == len(events)
    session = session_from_events(events + events)
    assert session.event_count == len(raw)
    assert session.commands == ["uname -a", "uname -a", "id"]
    assert [login.password for login in session.logins] == ["admin", "Admin"]
    assert session.event_ids["cowrie.future.event"] == 2


def test_sessionize_drops_copies_in_any_order() -> None:
    raw = [
        _event("cowrie.session.connect", "00.000000", src_port=4000, dst_ip="10.0.0.1", dst_port=22),
        _event("cowrie.command.input", "01.000000", input="uname -a"),
        _event("cowrie.session.closed", "02.000000", duration="2.0"),
    ]
    events = [parse_event(e) for e in raw]
    assert _dumped(sessionize(events[::-1] + events)) == _dumped(sessionize(events))
