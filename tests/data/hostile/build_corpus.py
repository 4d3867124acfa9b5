"""Regenerate the hostile-input corpus beside this file (``python tests/data/hostile/build_corpus.py``).

Each file holds one kind of hostile or broken record between good records of one real-looking
session, so a reader that survives it must still count the good ones.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any

from coord_core.scenarios.siem_writer import event_to_siem_document

HERE = Path(__file__).resolve().parent
T0 = "2025-10-24T05:00:{:02d}.000000Z"


def _event(eventid: str, second: int, session: str = "a1b2c3d4e5f6", **fields: Any) -> dict[str, Any]:
    return {
        "eventid": eventid,
        "timestamp": T0.format(second),
        "session": session,
        "src_ip": "198.51.100.7",
        "sensor": "hostile-sensor",
        "message": "",
        **fields,
    }


def _good(session: str = "a1b2c3d4e5f6") -> list[dict[str, Any]]:
    return [
        _event("cowrie.session.connect", 1, session, src_port=40000, dst_ip="172.29.0.2", dst_port=22,
               protocol="ssh"),
        _event("cowrie.login.failed", 2, session, username="root", password="hunter2"),
        _event("cowrie.command.input", 3, session, input="uname -a"),
        _event("cowrie.session.closed", 4, session, duration=3.0),
    ]  # fmt: skip


def _lines(bad: list[str]) -> bytes:
    good = [json.dumps(e) for e in _good()]
    return ("\n".join([*good[:2], *bad, *good[2:]]) + "\n").encode("utf-8")


def _with(field: str, raw_value: str, eventid: str = "cowrie.login.failed", **extra: Any) -> str:
    """An event line whose ``field`` holds ``raw_value`` verbatim (not JSON-encoded by Python)."""
    event = _event(eventid, 2, **extra)
    event[field] = "@@"
    return json.dumps(event).replace('"@@"', raw_value)


def _own(name: str, data: bytes) -> bytes:
    """The file's good events in a session of their own, so that files are not copies of each other."""
    return data.replace(b"a1b2c3d4e5f6", hashlib.sha256(name.encode()).hexdigest()[:12].encode())


def build() -> None:
    files: dict[str, bytes] = {
        "ts_year_0001.json": _lines([_with("timestamp", '"0001-01-01T00:00:00+01:00"')]),
        "ts_year_9999.json": _lines([_with("timestamp", '"9999-12-31T23:59:59-01:00"')]),
        "ts_1e300.json": _lines([_with("timestamp", "1e300")]),
        "ts_infinity.json": _lines([_with("timestamp", "Infinity")]),
        "ts_nan.json": _lines([_with("timestamp", "NaN")]),
        "ts_1e18.json": _lines([_with("timestamp", "1e18")]),
        "deep_nesting.json": _lines([_with("message", "[" * 10_000 + "]" * 10_000)]),
        "huge_int.json": _lines([_with("size", "9" * 5_000, eventid="cowrie.log.closed")]),
        "scoped_ipv6.json": _lines([_with("src_ip", '"fe80::1%eth0"')]),
        "shasum_path.json": _lines(
            [
                _with(
                    "shasum",
                    '"../../etc/passwd"',
                    eventid="cowrie.session.file_download",
                    url="http://203.0.113.9/x.sh",
                )
            ]
        ),
        "nul_identifiers.json": _lines([_with("session", '"ab\\u0000cd"'), _with("sensor", '"s\\u0000"')]),
        "scalar_lines.json": _lines(["5", "null", "[]", '"text"', "true"]),
        "bom.json": b"\xef\xbb\xbf" + _lines([]),
    }
    good_text = _lines([])
    # A 4 MiB line: far beyond any real Cowrie record; stored compressed.
    long_line = _lines([_with("input", '"' + "A" * (4 << 20) + '"', eventid="cowrie.command.input")])
    files["long_line.json.gz"] = gzip.compress(_own("long_line.json.gz", long_line), mtime=0)
    being_written = gzip.compress(_own("truncated.json.gz", good_text * 50), mtime=0)
    files["truncated.json.gz"] = being_written[: len(being_written) // 2]  # a rotation still being written
    whole = gzip.compress(good_text * 50, mtime=0)
    corrupt = bytearray(whole)
    corrupt[len(corrupt) // 2 : len(corrupt) // 2 + 16] = b"\x00" * 16
    files["corrupt.json.gz"] = bytes(corrupt)
    files["not_gzip.json.gz"] = good_text  # plain text under a .gz name
    files["bad_deflate.json.gz"] = gzip.compress(b"", mtime=0)[:10] + zlib.compress(good_text)[2:40]

    siem_good = [event_to_siem_document(e).source for e in _good("f6e5d4c3b2a1")]
    siem_bad_ts = dict(siem_good[1], **{"@timestamp": "9999-12-31T23:59:59-01:00"})
    siem_scoped = dict(siem_good[2], **{"source.address": "fe80::1%eth0", "source.ip": "fe80::1%eth0"})
    siem_lines = [
        json.dumps(siem_good[0]),
        "5",
        "null",
        "[]",
        '"text"',
        json.dumps({"_index": "cowrie-2025.10.24", "_id": "x", "_source": 5}),
        json.dumps(siem_bad_ts),
        json.dumps(siem_scoped),
        '{"@timestamp": ' + "[" * 10_000 + "]" * 10_000 + "}",
        *(json.dumps(doc) for doc in siem_good[1:]),
    ]
    files["siem_hostile.ndjson"] = ("\n".join(siem_lines) + "\n").encode("utf-8")
    for name, data in files.items():
        (HERE / name).write_bytes(data if name.endswith(".gz") else _own(name, data))


if __name__ == "__main__":
    build()
