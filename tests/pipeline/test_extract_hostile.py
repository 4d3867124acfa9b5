"""Extract of the hostile corpus: every record staged or quarantined, quarantine keeps no record whole."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from coord_core.contracts.data_quality import QUARANTINE_PREVIEW_CHARS
from coord_core.contracts.window import DataWindow
from coord_core.ingest.cowrie_files import read_paths
from coord_core.pipeline.extract import extract_interval
from coord_core.quality.stage import validate_stage
from coord_core.store.migrations import SQL_DIR, migrate
from coord_core.store.results import ResultsStore
from tests.ingest.test_hostile_input import COWRIE_CORPUS, HOSTILE

WINDOW = DataWindow(start=datetime(2025, 10, 24, 5, tzinfo=UTC), end=datetime(2025, 10, 24, 6, tzinfo=UTC))


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    return ResultsStore(pg_conn)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The Cowrie corpus, each file modified inside the window (a file that cannot be read at all
    belongs to the interval of its modification time)."""
    inside = (WINDOW.start.timestamp() + 600,) * 2
    for name in COWRIE_CORPUS:
        shutil.copyfile(HOSTILE / name, tmp_path / name)
        os.utime(tmp_path / name, inside)
    return tmp_path


def test_the_hostile_corpus_extracts_and_validates(store: ResultsStore, corpus: Path) -> None:
    outcome = extract_interval(store, WINDOW, read_paths([corpus]))
    valid = sum(v for v, _, _ in COWRIE_CORPUS.values())
    quarantined = sum(q for _, q, _ in COWRIE_CORPUS.values())
    assert (outcome.staged_events, outcome.quarantined) == (valid, quarantined)
    assert outcome.read == valid + quarantined
    assert outcome.sessions == sum(1 for v, _, _ in COWRIE_CORPUS.values() if v)  # one per file
    quality = validate_stage(store, WINDOW)
    assert quality.counts.read == quality.counts.valid + quality.counts.quarantined == outcome.read


def test_quarantine_keeps_a_bounded_preview_hash_and_length(store: ResultsStore, corpus: Path) -> None:
    extract_interval(store, WINDOW, read_paths([corpus]))
    columns = {
        r[0]
        for r in store.conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'coord' AND table_name = 'quarantine'"
        )
    }
    assert "raw" not in columns
    rows = store.conn.execute("SELECT ref, preview, raw_sha256, raw_length FROM coord.quarantine").fetchall()
    assert all(len(preview) <= QUARANTINE_PREVIEW_CHARS and len(sha) == 64 for _, preview, sha, _ in rows)
    long_line = next(r for r in rows if r[0].endswith("long_line.json.gz:3"))
    assert long_line[3] > 4 << 20
    assert long_line[1].startswith('{"eventid": "cowrie.command.input"')
    nul = next(r for r in rows if r[0].endswith("nul_identifiers.json:3"))
    assert "\\x00" not in nul[1] and "\\u0000" in nul[1]  # escaped as the line wrote it


def test_the_migration_keeps_only_a_preview_of_rows_stored_before(postgres_dsn: str, tmp_path: Path) -> None:
    for migration in sorted(SQL_DIR.glob("00[1-7]_*.sql")):  # the schema before quarantine previews
        shutil.copyfile(migration, tmp_path / migration.name)
    secret = "fernet_key = " + "s" * 500
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        migrate(conn, tmp_path)
        conn.execute(
            "INSERT INTO coord.quarantine (interval_start, interval_end, stage, ref, record_key, reason, "
            "raw) "
            "VALUES (%s, %s, 'parse', 'x:1', 'k', 'not valid JSON', %s)",
            (WINDOW.start, WINDOW.end, secret + "\x1b"),
        )
        migrate(conn)
        row = conn.execute("SELECT preview, raw_sha256, raw_length FROM coord.quarantine").fetchone()
    assert row is not None
    preview, sha, length = row
    assert preview == secret[:160] and length == len(secret) + 1
    assert sha == hashlib.sha256((secret + "\x1b").encode()).hexdigest()
