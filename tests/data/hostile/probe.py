"""Probe every hostile corpus file through the three readers and print one table row per file.

``python tests/data/hostile/probe.py [postgres DSN]``: for each file, what the file reader
yields (valid/quarantined, or the exception that escaped), whether ``coord analyze`` exits 0,
and, with a DSN, whether extracting the interval into PostgreSQL succeeds (a throwaway
database is created and dropped).
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
_CLI = "import sys; from coord_core.cli import main; sys.exit(main(sys.argv[1:]))"
WINDOW = (datetime(2025, 10, 24, 5, tzinfo=UTC), datetime(2025, 10, 24, 6, tzinfo=UTC))


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:60]}".replace("\n", " ")


def _reader(path: Path) -> str:
    from coord_core.ingest.cowrie_files import read_paths

    try:
        if path.name.startswith("siem"):
            from coord_core.ingest.siem_files import read_siem_file

            records = list(read_siem_file(path))
        else:
            records = list(read_paths([path]))
    except BaseException as exc:
        return _short(exc)
    good = sum(r.ok for r in records)
    return f"{good} valid + {len(records) - good} quarantined"


def _analyze(path: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _CLI, "analyze", str(path), "--out", "/dev/null"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    if done.returncode == 0:
        return "ok: " + done.stderr.strip().splitlines()[-1].split("->")[0].strip()[:70]
    last = (done.stderr.strip().splitlines() or ["?"])[-1]
    return f"rc={done.returncode} {last[:70]}"


def _extract(path: Path, server_dsn: str) -> str:
    import psycopg

    from coord_core.contracts.window import DataWindow
    from coord_core.ingest.cowrie_files import read_paths
    from coord_core.pipeline.extract import extract_interval
    from coord_core.store.migrations import migrate
    from coord_core.store.results import ResultsStore

    name = f"coord_probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(server_dsn, dbname=name)) as conn:
            migrate(conn)
            outcome = extract_interval(
                ResultsStore(conn), DataWindow(start=WINDOW[0], end=WINDOW[1]), read_paths([path])
            )
            return f"ok: {outcome.staged_events} staged + {outcome.quarantined} quarantined"
    except BaseException as exc:
        return _short(exc)
    finally:
        with psycopg.connect(server_dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main(argv: list[str]) -> None:
    dsn = argv[1] if len(argv) > 1 else None
    sys.setrecursionlimit(1000)
    print("| file | reader | coord analyze | extract (PostgreSQL) |")
    print("|---|---|---|---|")
    for path in sorted(HERE.iterdir()):
        if path.suffix == ".py" or path.name.endswith(".md"):
            continue
        extract = _extract(path, dsn) if dsn and not path.name.startswith("siem") else "-"
        print(f"| {path.name} | {_reader(path)} | {_analyze(path)} | {extract} |", flush=True)


if __name__ == "__main__":
    main(sys.argv)
