"""Hostile and broken input: every record is an event or a quarantined record with its reason.

The corpus in ``tests/data/hostile/`` holds one kind of bad record per file between the four
good events of one session; a reader that survives the bad one must still count the good ones.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from coord_core.cli import main
from coord_core.cli.analyze import read_inputs
from coord_core.contracts.events import EventParseError, parse_event
from coord_core.ingest.cowrie_files import read_paths
from coord_core.ingest.records import MAX_REASON_CHARS
from coord_core.ingest.siem_files import read_siem_file

HOSTILE = Path(__file__).resolve().parents[1] / "data" / "hostile"

# file -> (valid events, quarantined records, words every quarantine reason of the file contains)
COWRIE_CORPUS: dict[str, tuple[int, int, str]] = {
    "ts_year_0001.json": (4, 1, "outside the representable range"),
    "ts_year_9999.json": (4, 1, "outside the representable range"),
    "ts_1e300.json": (4, 1, "not a representable time"),
    "ts_infinity.json": (4, 1, "not a representable time"),
    "ts_nan.json": (4, 1, "not a representable time"),
    "ts_1e18.json": (4, 1, "not a representable time"),
    "deep_nesting.json": (4, 1, "nested deeper than"),
    "huge_int.json": (4, 1, "4300 digits"),
    "scoped_ipv6.json": (4, 1, "zone index"),
    "shasum_path.json": (4, 1, "64 hexadecimal digits"),
    "nul_identifiers.json": (4, 2, "NUL characters"),
    "scalar_lines.json": (4, 5, "expected an object"),
    "bom.json": (4, 0, ""),
    "long_line.json.gz": (4, 1, "over the 2,097,152-byte limit"),
    "truncated.json.gz": (2, 1, "could not read the file from line 3 on (EOFError"),
    "corrupt.json.gz": (0, 1, "could not read the file (error: Error -3"),
    "not_gzip.json.gz": (0, 1, "could not read the file (BadGzipFile"),
    "bad_deflate.json.gz": (0, 1, "could not read the file (EOFError"),
}


def test_the_corpus_is_complete() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.suffix != ".py"}
    assert files == {*COWRIE_CORPUS, "siem_hostile.ndjson"}


@pytest.mark.parametrize("name", sorted(COWRIE_CORPUS))
def test_each_hostile_file_becomes_events_and_quarantined_records(name: str) -> None:
    valid, quarantined, reason = COWRIE_CORPUS[name]
    records = list(read_paths([HOSTILE / name]))
    good = [r for r in records if r.ok]
    bad = [r for r in records if not r.ok]
    assert (len(good), len(bad)) == (valid, quarantined)
    assert all(r.time is not None for r in records)  # every record is owned by one interval
    for record in bad:
        assert record.error is not None and reason in record.error
        assert len(record.error) <= MAX_REASON_CHARS


def test_a_line_over_the_cap_is_not_kept_but_its_digest_is() -> None:
    (bad,) = [r for r in read_paths([HOSTILE / "long_line.json.gz"]) if not r.ok]
    with gzip.open(HOSTILE / "long_line.json.gz", "rb") as handle:
        whole = handle.read().splitlines()[2]
    assert bad.length == len(whole) > 4 << 20
    assert bad.sha256 == __import__("hashlib").sha256(whole).hexdigest()
    assert len(bad.raw) <= 4096


def test_a_small_cap_quarantines_long_lines_and_keeps_counting(tmp_path: Path) -> None:
    log = tmp_path / "cowrie.json"
    log.write_bytes((HOSTILE / "ts_nan.json").read_bytes())
    records = list(read_paths([log], max_line_bytes=200))
    assert len(records) == 5
    lengths = [len(line) for line in log.read_bytes().splitlines()]
    assert [r.length for r in records] == lengths == [255, 217, 148, 196, 193]
    assert [r.ok for r in records] == [False, False, False, True, True]
    assert ["200-byte limit" in (r.error or "") for r in records] == [True, True, False, False, False]


def test_an_unreadable_file_is_one_quarantined_record_and_the_good_files_still_count(tmp_path: Path) -> None:
    unreadable = Path("/proc/self/mem")  # opens, but reading offset 0 fails (EIO), even for root
    if not unreadable.is_file():
        pytest.skip("needs Linux /proc")
    good = tmp_path / "cowrie.json"
    good.write_bytes((HOSTILE / "bom.json").read_bytes())
    records = list(read_paths([unreadable, good]))
    assert sum(r.ok for r in records) == 4
    (bad,) = [r for r in records if not r.ok]
    assert bad.ref == "/proc/self/mem:1" and bad.time is not None
    assert "could not read the file (OSError" in (bad.error or "")


def test_a_corrupt_archive_beside_good_files_loses_only_itself(tmp_path: Path) -> None:
    for name in ("corrupt.json.gz", "truncated.json.gz", "bom.json"):
        (tmp_path / name).write_bytes((HOSTILE / name).read_bytes())
    records = list(read_paths([tmp_path]))
    assert sum(r.ok for r in records) == 0 + 2 + 4
    assert len(records) - sum(r.ok for r in records) == 2


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("shasum", "../../etc/passwd", "64 hexadecimal digits"),
        ("shasum", "A" * 63, "64 hexadecimal digits"),
        ("src_ip", "fe80::1%eth0", "zone index"),
        ("session", "ab\x00cd", "NUL characters"),
        ("timestamp", "0001-01-01T00:00:00+01:00", "representable range"),
    ],
)
def test_identifiers_are_checked_for_their_format(field: str, value: str, why: str) -> None:
    event = {"eventid": "cowrie.session.file_download", "timestamp": "2025-10-24T05:00:00Z",
             "session": "s1", "src_ip": "198.51.100.7", "url": "http://203.0.113.9/x"}  # fmt: skip
    event[field] = value
    with pytest.raises(EventParseError, match=why):
        parse_event(event)


def test_a_valid_shasum_is_kept_in_lower_case_and_an_empty_one_is_none() -> None:
    base = {"eventid": "cowrie.session.file_download", "timestamp": "2025-10-24T05:00:00Z",
            "session": "s1", "src_ip": "fe80::1", "url": "http://203.0.113.9/x"}  # fmt: skip
    assert parse_event({**base, "shasum": "AB" * 32}).shasum == "ab" * 32  # type: ignore[attr-defined]
    assert parse_event({**base, "shasum": ""}).shasum is None  # type: ignore[attr-defined]


def test_siem_reader_counts_every_line() -> None:
    records = list(read_siem_file(HOSTILE / "siem_hostile.ndjson"))
    good = [r for r in records if r.ok]
    bad = [r for r in records if not r.ok]
    assert (len(good), len(bad)) == (4, 8)
    reasons = [r.error or "" for r in bad]
    assert "the hit is a JSON number, not an object" in reasons[0]
    assert "the hit is a JSON null, not an object" in reasons[1]
    assert any("zone index" in r for r in reasons)
    assert any("nested deeper than" in r for r in reasons)
    assert all(len(r) <= MAX_REASON_CHARS for r in reasons)


@pytest.mark.parametrize("name", [*sorted(COWRIE_CORPUS), "siem_hostile.ndjson"])
def test_coord_analyze_reads_every_hostile_file(name: str, tmp_path: Path, capsys) -> None:
    readout = read_inputs([str(HOSTILE / name)])
    assert readout.read == len(readout.events) + readout.rejected
    out = tmp_path / "result.json"
    assert main(["analyze", str(HOSTILE / name), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["schema_version"]
    assert f"{readout.read} records read, {readout.rejected} rejected" in capsys.readouterr().err


def test_coord_analyze_counts_rejected_siem_lines() -> None:
    readout = read_inputs([str(HOSTILE / "siem_hostile.ndjson")])
    assert (readout.read, len(readout.events), readout.rejected) == (12, 4, 8)


def test_the_whole_corpus_at_once() -> None:
    readout = read_inputs([str(HOSTILE)])
    valid = sum(v for v, _, _ in COWRIE_CORPUS.values()) + 4
    quarantined = sum(q for _, q, _ in COWRIE_CORPUS.values()) + 8
    assert (len(readout.events), readout.rejected) == (valid, quarantined)
