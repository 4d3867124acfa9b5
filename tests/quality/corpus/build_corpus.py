"""Write the bad-input corpus files next to this script (deterministic; the outputs are committed).

    .venv/bin/python tests/quality/corpus/build_corpus.py

Every file mixes good Cowrie lines (which must survive) with one kind of bad input; what each bad
line must become is listed in ``expected.json`` (line number -> stage and reason or expectation).
All good lines fall inside the interval 2025-10-24T00:00Z .. 2025-10-25T00:00Z.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SENSOR = "corpus-sensor-1"


def _ev(eventid: str, session: str, ts: str, src_ip: str = "45.155.205.10", **fields: Any) -> dict[str, Any]:
    return {
        "eventid": eventid,
        "timestamp": f"2025-10-24T{ts}Z" if "T" not in ts else ts,
        "session": session,
        "src_ip": src_ip,
        "sensor": SENSOR,
        "message": "",
        **fields,
    }


def _connect(session: str, ts: str, src_ip: str = "45.155.205.10", **over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"src_port": 40000, "dst_ip": "172.29.0.2", "dst_port": 22, "protocol": "ssh"}
    fields.update(over)
    return _ev("cowrie.session.connect", session, ts, src_ip, **fields)


def _closed(session: str, ts: str, src_ip: str = "45.155.205.10") -> dict[str, Any]:
    return _ev("cowrie.session.closed", session, ts, src_ip, duration=3.2)


def _login(session: str, ts: str, src_ip: str = "45.155.205.10", **over: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"username": "root", "password": "123456"}
    fields.update(over)
    return _ev("cowrie.login.failed", session, ts, src_ip, **fields)


def _line(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def build() -> dict[str, list[bytes]]:
    files: dict[str, list[bytes]] = {}
    login = _line(_login("c1a000000001", "01:00:01.000000"))
    files["truncated_json.jsonl"] = [
        _line(_connect("c1a000000001", "01:00:00.000000")),
        login[: len(login) // 2],
        _line(_closed("c1a000000001", "01:00:03.200000")),
    ]
    files["wrong_types.jsonl"] = [
        _line(_connect("c2a000000001", "02:00:00.000000")),
        _line(_connect("c2b000000001", "02:00:01.000000", src_port="abc")),
        _line({**_login("c2a000000001", "02:00:02.000000"), "timestamp": [2025, 10, 24]}),
        _line({**_login("c2a000000001", "02:00:03.000000"), "eventid": 42}),
        _line([1, 2, 3]),
        _line({**_closed("c2a000000001", "02:00:04.000000"), "duration": "1.6"}),
    ]
    good = _line(_login("c3a000000001", "03:00:01.000000"))
    files["non_utf8.jsonl"] = [
        _line(_connect("c3a000000001", "03:00:00.000000")),
        good.replace(b'"root"', b'"r\xff\xfeot"'),
        _line(_closed("c3a000000001", "03:00:03.200000")),
    ]
    files["huge_command.jsonl.gz"] = [
        _line(_connect("c4a000000001", "04:00:00.000000")),
        _line(_ev("cowrie.command.input", "c4a000000001", "04:00:01.000000", input="A" * 1_048_576)),
        _line(_ev("cowrie.command.input", "c4a000000001", "04:00:02.000000", input="echo " + "B" * 40_000)),
        _line(_ev("cowrie.command.input", "c4a000000001", "04:00:03.000000", input="uname -a")),
        _line(_closed("c4a000000001", "04:00:04.000000")),
    ]
    files["timestamps.jsonl"] = [
        _line(_connect("c5a000000001", "05:00:00.000000")),
        _line(_connect("c5b000000001", "2099-01-01T00:00:00.000000Z", src_ip="45.155.205.11")),
        _line(_connect("c5c000000001", "1970-01-01T00:00:00.000000Z", src_ip="45.155.205.12")),
        _line({**_login("c5a000000001", "05:00:01.000000"), "timestamp": "yesterday at noon"}),
        _line(_closed("c5a000000001", "05:00:03.200000")),
    ]
    files["invalid_ips.jsonl"] = [
        _line(_connect("c6a000000001", "06:00:00.000000")),
        _line(_connect("c6b000000001", "06:00:01.000000", src_ip="999.1.1.1")),
        _line(_connect("c6c000000001", "06:00:02.000000", src_ip="not-an-ip")),
        _line(_connect("c6d000000001", "06:00:03.000000", src_ip="0.0.0.0")),
        _line(_connect("c6e000000001", "06:00:04.000000", src_ip="224.0.0.1")),
        _line(_connect("c6f000000001", "06:00:05.000000", src_ip="10.0.0.5")),
        _line(_connect("c6g000000001", "06:00:06.000000", src_ip="::")),
        _line(_closed("c6a000000001", "06:00:07.000000")),
    ]
    dup = _line(_login("c7a000000001", "07:00:01.000000"))
    files["duplicates.jsonl"] = [
        _line(_connect("c7a000000001", "07:00:00.000000")),
        dup,
        dup,
        dup,
        _line(_closed("c7a000000001", "07:00:03.200000")),
    ]
    no_session = _login("c8a000000001", "08:00:02.000000")
    del no_session["session"]
    files["missing_session.jsonl"] = [
        _line(_connect("c8a000000001", "08:00:00.000000")),
        _line(no_session),
        _line({**_login("c8a000000001", "08:00:03.000000"), "session": ""}),
        _line({**_login("c8a000000001", "08:00:04.000000"), "session": None}),
        _line(_closed("c8a000000001", "08:00:05.000000")),
    ]
    files["foreign_mapping.jsonl"] = [
        _line(_connect("c9a000000001", "09:00:00.000000")),
        _line(
            {
                "message": "<script>alert('dq')</script>",
                "@timestamp": "2025-10-24T09:00:01.000Z",
                "http": {"request": {"method": "GET"}, "response": {"status_code": 404}},
                "url": {"original": "/wp-login.php"},
                "user_agent": {"original": "Mozilla/5.0"},
                "source": {"ip": "198.51.100.7"},
            }
        ),
        _line(
            {
                "_index": "winlogbeat-2025.10.24",
                "_id": "x1",
                "_source": {"event": {"code": 4625}, "winlog": {"channel": "Security"}},
            }
        ),
        _line(_closed("c9a000000001", "09:00:03.200000")),
    ]
    files["ports.jsonl"] = [
        _line(_connect("c10a00000001", "10:00:00.000000")),
        _line(_connect("c10b00000001", "10:00:01.000000", src_port=0)),
        _line(_connect("c10c00000001", "10:00:02.000000", dst_port=70000)),
        _line(_closed("c10a00000001", "10:00:03.200000")),
    ]
    files["unknown_event.jsonl"] = [
        _line(_connect("c11a00000001", "11:00:00.000000")),
        _line(_ev("cowrie.session.file_download.tampered", "c11a00000001", "11:00:01.000000", url="x")),
        _line(_closed("c11a00000001", "11:00:03.200000")),
    ]
    files["session_collision.jsonl"] = [
        _line(_connect("c12a00000001", "12:00:00.000000", src_ip="45.155.205.20")),
        _line(_login("c12a00000001", "12:00:01.000000", src_ip="80.94.95.30")),
        _line(_connect("c12b00000001", "12:00:02.000000", src_ip="45.155.205.21")),
        _line(_closed("c12b00000001", "12:00:03.000000", src_ip="45.155.205.21")),
    ]
    files["overlong_username.jsonl"] = [
        _line(_connect("c13a00000001", "13:00:00.000000")),
        _line(_login("c13a00000001", "13:00:01.000000", username="u" * 600)),
        _line(_login("c13a00000001", "13:00:02.000000", username="admin\x1b[31m<script>alert(1)</script>")),
        _line(_closed("c13a00000001", "13:00:03.200000")),
    ]
    return files


def write(target: Path = HERE) -> list[Path]:
    written = []
    for name, lines in build().items():
        data = b"".join(line + b"\n" for line in lines)
        path = target / name
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(data, mtime=0))
        else:
            path.write_bytes(data)
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write():
        print(p)
