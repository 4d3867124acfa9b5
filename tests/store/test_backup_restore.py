"""Backup and restore drill: a pipeline-written database survives backup, drop and restore unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from coord_core.cli import main
from coord_core.store.backup import MANIFEST, RestoreRefused, backup, restore
from coord_core.store.lineage import campaign_lineage
from coord_core.store.migrations import discover, migrate
from tests.conftest import temporary_database
from tests.observability.pipeline_run import PipelineRun

# What a researcher cites (campaigns, their identity and evidence) and what proves it (runs, audit).
COMPARED_TABLES = (
    "runs",
    "campaigns",
    "campaign_identity",
    "campaign_members",
    "evidence",
    "dq_reports",
    "quarantine",
    "exports",
    "audit_log",
)


def _snapshot(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        tables = {
            table: [r[0] for r in conn.execute(f"SELECT t::text FROM coord.{table} AS t ORDER BY 1")]
            for table in COMPARED_TABLES
        }
        ids = [
            r[0] for r in conn.execute("SELECT DISTINCT campaign_id FROM coord.campaign_identity ORDER BY 1")
        ]
        lineage = {campaign_id: campaign_lineage(conn, campaign_id) for campaign_id in ids}
        audit_seq = conn.execute("SELECT last_value FROM coord.audit_log_id_seq").fetchone()
    return {"tables": tables, "lineage": lineage, "audit_seq": audit_seq}


def test_backup_drop_restore_gives_back_every_row_and_lineage(
    pipeline_run: PipelineRun, postgres_server_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _snapshot(pipeline_run.dsn)
    assert before["lineage"] and all(before["lineage"].values())
    assert all(before["tables"][t] for t in ("runs", "campaigns", "campaign_identity", "audit_log"))
    folder = tmp_path / "backup"
    assert main(["db", "backup", "--dsn", pipeline_run.dsn, str(folder)]) == 0
    assert "backed up" in capsys.readouterr().out
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["migrations"][-1]["version"] == discover()[-1].version
    assert manifest["tables"]["campaigns"]["rows"] == len(before["tables"]["campaigns"])

    dbname = psycopg.conninfo.conninfo_to_dict(pipeline_run.dsn)["dbname"]
    with psycopg.connect(postgres_server_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')

    with temporary_database(postgres_server_dsn, prefix="coord_restored") as fresh:
        assert main(["db", "restore", "--dsn", fresh, str(folder)]) == 0
        assert "counts and digests verified" in capsys.readouterr().out
        after = _snapshot(fresh)
        assert after == before
        # The restored database goes on: the audit log's ids continue after the restored ones.
        with psycopg.connect(fresh) as conn:
            new_id = conn.execute(
                "INSERT INTO coord.audit_log (actor, action) VALUES ('test', 'restored') RETURNING id"
            ).fetchone()
        assert new_id is not None and before["audit_seq"] is not None and new_id[0] > before["audit_seq"][0]
        # A second restore into the same, no longer empty, database is refused.
        with pytest.raises(SystemExit, match="already has a coord schema"):
            main(["db", "restore", "--dsn", fresh, str(folder)])


def test_an_older_backup_is_restored_then_migrated(postgres_dsn: str, tmp_path: Path) -> None:
    versions = [m.version for m in discover()]
    with psycopg.connect(postgres_dsn) as conn:
        migrate(conn, until=versions[-2])
        conn.execute("UPDATE coord.retention_policy SET keep_days = 7 WHERE table_name = 'staged_events'")
        conn.commit()
        backup(conn, tmp_path / "old")
    with temporary_database(postgres_dsn, prefix="coord_restored") as fresh, psycopg.connect(fresh) as conn:
        outcome = restore(conn, tmp_path / "old")
        assert (outcome.schema_version, outcome.migrated_after) == (versions[-2], [versions[-1]])
        kept = conn.execute(
            "SELECT keep_days FROM coord.retention_policy WHERE table_name = 'staged_events'"
        ).fetchone()
        assert kept == (7,)


def test_restore_refuses_a_newer_schema_and_a_corrupted_file(
    pg_conn: psycopg.Connection, tmp_path: Path
) -> None:
    migrate(pg_conn)
    pg_conn.commit()
    folder = tmp_path / "backup"
    backup(pg_conn, folder)
    manifest = json.loads((folder / MANIFEST).read_text())

    newer = dict(manifest, migrations=[*manifest["migrations"], {"version": "999_future", "checksum": "x"}])
    (folder / MANIFEST).write_text(json.dumps(newer))
    with pytest.raises(RestoreRefused, match=r"newer schema \(migrations 999_future"):
        restore(pg_conn, folder)

    (folder / MANIFEST).write_text(json.dumps(manifest))
    campaigns = folder / manifest["tables"]["campaigns"]["file"]
    campaigns.write_bytes(campaigns.read_bytes() + b"\0")
    with pytest.raises(RestoreRefused, match="checksum differs"):
        restore(pg_conn, folder)
