"""Plain event records read exactly as the event models: same records, same rejections, same sessions.

The CLI's streaming read turns each line into an :class:`EventRecord` without a pydantic model
(orjson, then checks of plain values, the model only for the rest). These tests hold it to the
model path: for hostile and mutated lines the two readers give the same records, reasons and
values, and sessions built from either are identical.
"""

from __future__ import annotations

import json
import math
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from coord_core.cli import main
from coord_core.contracts.events import KNOWN_EVENT_IDS, CowrieEvent, EventRecord, event_record, parse_event
from coord_core.contracts.sessions import (
    AttackSession,
    Download,
    DownloadRecord,
    LoginAttempt,
    LoginRecord,
    SessionRecord,
    TcpipRequest,
    TunnelRecord,
    Upload,
    UploadRecord,
    session_json,
    session_model,
)
from coord_core.ingest.cowrie_files import read_file, read_file_events, read_file_records
from coord_core.ingest.line_reader import parse_json_line, parse_json_line_checked
from coord_core.ingest.records import ReadRecord
from coord_core.ingest.session_stream import count_lines, cowrie_line_keys, stream_sessions
from coord_core.ingest.sessionize import EVENT_ROLES, event_digest, session_from_events, sessionize
from tests.conftest import REAL_SAMPLE
from tests.ingest.near_schema import near_schema_lines
from tests.ingest.test_fuzz_readers import BUDGET, REAL_LINES, _lines, _write, events, mutated

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"
_BASE: dict[str, Any] = {
    "timestamp": "2025-10-24T04:00:00Z",
    "session": "s1",
    "src_ip": "10.0.0.1",
    "sensor": "x",
    "message": "",
}
_KINDS: list[tuple[str, dict[str, Any]]] = [
    ("cowrie.session.connect", {"src_port": 1, "dst_ip": "10.0.0.2", "dst_port": 22, "protocol": "ssh"}),
    ("cowrie.client.version", {"version": "SSH-2.0-Go"}),
    ("cowrie.client.kex", {"hassh": "h", "hasshAlgorithms": "a;b", "kexAlgs": ["k"], "keyAlgs": [],
                           "encCS": ["e"], "macCS": ["m"], "compCS": ["none"], "langCS": [""]}),
    ("cowrie.client.size", {"width": 80, "height": 24}),
    ("cowrie.client.var", {"name": "LANG", "value": "C"}),
    ("cowrie.login.failed", {"username": "root", "password": "x", "fingerprint": None, "key": None,
                             "type": None}),
    ("cowrie.login.success", {"username": "root", "password": None, "fingerprint": "f", "key": "k",
                              "type": "ssh-rsa"}),
    ("cowrie.command.input", {"input": "uname -a"}),
    ("cowrie.command.failed", {"input": "foo"}),
    ("cowrie.session.file_download", {"url": "http://x/a", "outfile": "o", "shasum": "AB" * 32,
                                      "destfile": "d", "duplicate": False}),
    ("cowrie.session.file_download.failed", {"url": "http://x/a", "error": "timeout"}),
    ("cowrie.session.file_upload", {"filename": "f", "shasum": "", "outfile": "o"}),
    ("cowrie.session.params", {"arch": "linux-x64-lsb", "message": ["a", "b"]}),
    ("cowrie.direct-tcpip.request", {"dst_ip": "example.com", "dst_port": 80, "src_port": 5}),
    ("cowrie.direct-tcpip.data", {"dst_ip": "example.com", "dst_port": 80, "data": "b'GET /'", "id": 1}),
    ("cowrie.session.closed", {"duration": "1.6"}),
    ("cowrie.log.closed", {"ttylog": "t", "size": 5, "shasum": "ab" * 32, "duplicate": True,
                           "duration": 3.5}),
]  # fmt: skip
_EVERY_KIND = [{**_BASE, "eventid": eventid, **fields} for eventid, fields in _KINDS]


def _same_reading(path: Path) -> list[EventRecord]:
    """Read ``path`` both ways; assert record by record that they agree; the plain records."""
    models, plain = list(read_file(path)), list(read_file_records(path))
    assert len(models) == len(plain)
    for model, record in zip(models, plain, strict=True):
        assert (record.ref, record.raw, record.time, record.error) == (
            model.ref,
            model.raw,
            model.time,
            model.error,
        )
        assert (record.full_sha256, record.full_length) == (model.full_sha256, model.full_length)
        if model.event is None:
            assert record.event is None
            continue
        assert record.event is not None
        expected = event_record(model.event)
        assert record.event[:6] == expected[:6]  # all but the source each was made from
        assert record.event.timestamp.utcoffset() == expected.timestamp.utcoffset()
    _same_as_bare_events(path, plain)
    return [r.event for r in plain if r.event is not None]


def _same_as_bare_events(path: Path, plain: list[ReadRecord[EventRecord]]) -> None:
    """``read_file_events`` gives the records in the same order, a valid line's as its bare event."""
    items: list[EventRecord | ReadRecord[EventRecord]] = []
    reader = read_file_events(path)
    try:
        while True:
            items.append(next(reader))
    except StopIteration as stop:
        bare = stop.value
    assert len(items) == len(plain)
    for item, record in zip(items, plain, strict=True):
        if isinstance(item, EventRecord):
            assert record.event is not None
            assert (item[:6], record.error, record.time) == (record.event[:6], None, item.timestamp)
            assert isinstance(item.source, bytes)  # the line's bytes: its text is decoded only if needed
            assert item.source.decode() == record.raw == record.event.source
        else:
            assert item == record
    assert bare == sum(isinstance(item, EventRecord) for item in items)


def _sessions_json(sessions: list[Any]) -> list[str]:
    """Each session's model JSON, sorted; a plain record's JSON written directly must be its model's."""
    texts = []
    for session in sessions:
        model = session_model(session) if isinstance(session, SessionRecord) else session
        text = model.model_dump_json()
        assert session_json(session) == text.encode()
        texts.append(text)
    return sorted(texts)


def test_every_modelled_event_id_adds_to_a_session_in_its_own_way() -> None:
    assert set(EVENT_ROLES) == KNOWN_EVENT_IDS


@BUDGET
@given(st.lists(events, max_size=8), st.lists(mutated(REAL_LINES), max_size=6))
def test_plain_records_hold_and_reject_what_the_models_do(
    event_dicts: list[dict[str, Any]], raw: list[bytes]
) -> None:
    path, _ = _write([*REAL_LINES[:3], *_lines(event_dicts, raw)], "cowrie.json")
    _same_reading(path)
    _same_sessions(path)


@BUDGET
@given(st.lists(near_schema_lines(), min_size=1, max_size=10))
def test_lines_near_the_schema_read_as_the_models_read_them(lines: list[bytes]) -> None:
    path, _ = _write(lines, "cowrie.json")
    _same_reading(path)
    _same_sessions(path)


def test_the_compiled_schema_takes_lines_of_every_modelled_cowrie_event(tmp_path: Path) -> None:
    # The real log has no line of some kinds: one valid line each, every own field set.
    lines = [json.dumps(line) for line in _EVERY_KIND]
    path = tmp_path / "cowrie.json"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = _same_reading(path)
    assert len(records) == len(lines) and all(isinstance(r.source, str) for r in records)
    assert {r.eventid for r in records} == {e for e in KNOWN_EVENT_IDS if e.startswith("cowrie.")}


def _same_sessions(path: Path) -> list[SessionRecord]:
    """The streamed plain sessions of ``path`` are the model path's, their JSON byte for byte."""
    from_models = sessionize(r.event for r in read_file(path) if r.event is not None)
    streamed = list(stream_sessions(read_file_records(path), count_lines(cowrie_line_keys(path))))
    assert _sessions_json(streamed) == _sessions_json(from_models)
    # as the CLI streams them: valid lines as bare events, which keep the line's bytes
    bare = list(stream_sessions(read_file_events(path), count_lines(cowrie_line_keys(path))))
    assert _sessions_json(bare) == _sessions_json(from_models)
    return streamed


def test_the_hostile_corpus_reads_the_same_both_ways() -> None:
    files = sorted(p for p in HOSTILE.iterdir() if p.is_file() and p.suffix in {".json", ".gz"})
    assert len(files) >= 5
    for path in files:
        _same_reading(path)
        _same_sessions(path)


def test_plain_sessions_have_the_models_fields_in_their_order() -> None:
    # The direct JSON writes a record's fields in its own order: it must be the model's.
    pairs: list[tuple[Any, type[BaseModel]]] = [
        (SessionRecord, AttackSession),
        (LoginRecord, LoginAttempt),
        (DownloadRecord, Download),
        (UploadRecord, Upload),
        (TunnelRecord, TcpipRequest),
    ]
    for record, model in pairs:
        assert record._fields == tuple(model.model_fields)


def test_generated_sessions_write_the_models_json(tmp_path: Path) -> None:
    options = ["--scenario", "mixed", "--seed", "5", "--sessions", "400", "--out", str(tmp_path)]
    assert main(["generate", *options]) == 0
    streamed = _same_sessions(tmp_path / "cowrie.json")
    assert len(streamed) >= 400
    assert any(s.logins for s in streamed) and any(s.downloads for s in streamed)


def test_real_lines_take_the_plain_path_and_make_the_same_sessions() -> None:
    records = _same_reading(REAL_SAMPLE)
    # Every line of the real log is taken by the compiled schema (the record keeps the line's text).
    assert records and all(isinstance(r.source, str) for r in records)
    _same_sessions(REAL_SAMPLE)


def test_copies_of_schema_lines_count_once_as_with_the_models(tmp_path: Path) -> None:
    # Copies are told apart by the digest of their models, rebuilt from the lines' text.
    lines = REAL_SAMPLE.read_text(encoding="utf-8").splitlines()[:300]
    altered = [line.replace('"message":"', '"message":"x', 1) for line in lines[::7]]
    path = tmp_path / "cowrie.json"
    path.write_text("\n".join(lines + lines + altered) + "\n", encoding="utf-8")
    records = _same_reading(path)
    assert all(isinstance(r.source, str) for r in records)
    streamed = _same_sessions(path)  # the bare events' copies are told apart from the lines' bytes
    assert len(lines) < sum(s.event_count for s in streamed) < 2 * len(lines)  # the copies counted once


def test_odd_values_read_as_the_model_reads_them(tmp_path: Path) -> None:
    base = {"timestamp": "2025-10-24T04:00:00Z", "session": "s1", "src_ip": "10.0.0.1"}
    odd: list[dict[str, Any]] = [
        {"eventid": "cowrie.session.closed", "duration": "1.6"},
        {"eventid": "cowrie.session.closed", "duration": 7},
        {"eventid": "cowrie.session.closed", "duration": " 2.5"},
        {"eventid": "cowrie.session.closed", "duration": "1e3"},
        {"eventid": "cowrie.session.closed", "duration": -1.0},
        {"eventid": "cowrie.session.closed", "duration": True},
        {"eventid": "cowrie.session.connect", "src_port": "22", "dst_ip": "10.0.0.2", "dst_port": 22.0},
        {"eventid": "cowrie.session.connect", "src_port": True, "dst_ip": "10.0.0.2", "dst_port": 2},
        {"eventid": "cowrie.session.connect", "src_port": 1, "dst_ip": "::ffff:10.0.0.2", "dst_port": 70000},
        {"eventid": "cowrie.login.failed", "username": 1234, "password": 12.5},
        {"eventid": "cowrie.login.failed", "username": None, "password": None},
        {"eventid": "cowrie.session.file_download", "url": "http://x/a", "shasum": "AB" * 32},
        {"eventid": "cowrie.session.file_download", "url": "http://x/a", "shasum": "ab" * 31},
        {"eventid": "cowrie.client.kex", "hassh": "h", "kexAlgs": ["a", 1]},
        {"eventid": "cowrie.log.closed", "size": 2**64 + 1, "shasum": ""},
        {"eventid": "cowrie.custom", "session": 12345678901234567890123, "sensor": 7},
        {"eventid": "cowrie.custom", "session": "a\x00b"},
        {"eventid": "cowrie.custom", "sensor": 1.5},
        {"eventid": "dshield.firewall", "dst_port": 22},
        {"eventid": "cowrie.custom", "message": ["a", "b"], "model_dump": 1},
    ]
    path = tmp_path / "cowrie.json"
    lines = [json.dumps({**base, **fields}) for fields in odd]
    lines.append(
        '{"eventid":"cowrie.custom","timestamp":"2025-10-24T04:00:01Z","session":"\\ud800","src_ip":"1.1.1.1"}'
    )
    lines.append(
        '{"eventid":"cowrie.custom","timestamp":"2025-10-24T04:00:01Z","session":"s","src_ip":"1.1.1.1","n":NaN}'
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = _same_reading(path)
    assert 0 < len(records) < len(lines)


def test_orjson_reading_is_json_reading() -> None:
    rng = random.Random(5)
    floats = [rng.uniform(-1e6, 1e6) for _ in range(2000)] + [
        rng.random() * 10.0 ** rng.randint(-300, 300) for _ in range(2000)
    ]
    texts = [json.dumps({"d": value, "r": repr(value), "n": [value, -value]}) for value in floats]
    texts += [
        '{"a": 123456789012345678901234567890}',  # beyond 64 bits: orjson would give a float
        '{"a": -9223372036854775809, "b": 1.5}',
        '{"a": 18446744073709551615}',
        '{"a": 1e400}',
        '{"a": NaN}',
        '{"a": "\\ud800"}',
        '{"a": "\\uD83D\\uDE00"}',
        '{"a": 1E+2, "b": -0, "c": -0.0, "d": 2.2250738585072011e-308}',
        *(line.decode() for line in REAL_LINES),
    ]
    for text in texts:
        obj, error = parse_json_line(text)
        assert error is None
        expected = json.loads(text)
        assert repr(obj) == repr(expected), text
        try:  # the compiled line schema decodes numbers with msgspec: where it takes them, as json does
            taken = msgspec.json.decode(text)
        except msgspec.DecodeError:
            continue
        assert repr(taken) == repr(expected), text
        if isinstance(expected, dict) and any(
            isinstance(v, float) and not math.isfinite(v) for v in expected.values()
        ):
            assert not parse_json_line_checked(text)[1]  # json's reading, not orjson's


def _copies_dropped_first(events: list[CowrieEvent]) -> list[CowrieEvent]:
    """The earlier rule, as a reference: drop identical copies in input order, before sorting."""
    first: dict[tuple[str, datetime], CowrieEvent] = {}
    digests: dict[tuple[str, datetime], set[bytes]] = {}
    kept: list[CowrieEvent] = []
    for event in events:
        key = (event.eventid, event.timestamp)
        earlier = first.setdefault(key, event)
        if earlier is not event:
            seen = digests.setdefault(key, {event_digest(earlier)})
            digest = event_digest(event)
            if digest in seen:
                continue
            seen.add(digest)
        kept.append(event)
    return kept


def test_copies_dropped_after_the_sort_leave_what_dropping_them_first_left() -> None:
    rng = random.Random(17)
    for n in range(200):
        raws: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 12)):
            raw = {
                "eventid": rng.choice(
                    ["cowrie.command.input", "cowrie.command.failed", "cowrie.login.failed", "x.y"]
                ),
                "timestamp": f"2025-10-24T04:00:0{rng.randint(0, 3)}Z",
                "session": f"s{n}",
                "src_ip": "10.0.0.1",
                "input": rng.choice(["ls", "id"]),
                "password": rng.choice(["a", "b"]),
                **({"extra": rng.choice([1, "z", [1]])} if rng.random() < 0.3 else {}),
            }
            raws.append(raw)
            if rng.random() < 0.4:
                raws.append(dict(reversed(list(raw.items()))))  # the same event, keys reordered
        rng.shuffle(raws)
        events = [parse_event(raw) for raw in raws]
        expected = session_from_events(_copies_dropped_first(events))
        assert session_from_events(events).model_dump_json() == expected.model_dump_json()
        assert expected.event_count == len(_copies_dropped_first(events))
