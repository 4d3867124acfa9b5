"""Narratives and LLM-run records in PostgreSQL (``coord.narratives``, ``coord.llm_runs``).

The interval's narratives are replaced together in one transaction, so a rerun leaves one row
per campaign of the current result and none for campaigns that no longer exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.types.json import Json, Jsonb

from coord_core.contracts.narratives import NarrativeRecord
from coord_core.contracts.window import DataWindow
from coord_core.store.pg_text import pg_text


@dataclass(frozen=True)
class LlmRunRecord:
    dag_id: str
    run_id: str
    try_number: int
    status: str  # ok | degraded | unavailable | off | no_campaigns
    reason: str = ""
    worker: str | None = None
    server: str | None = None
    server_version: str | None = None
    model: str | None = None
    model_digest: str | None = None
    model_details: dict[str, Any] = field(default_factory=dict)
    candidates: list[dict[str, str]] = field(default_factory=list)
    narratives: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    usage: dict[str, int] = field(default_factory=dict)
    gpu: dict[str, Any] = field(default_factory=dict)


def replace_narratives(
    conn: psycopg.Connection[Any],
    window: DataWindow,
    records: Sequence[NarrativeRecord],
    *,
    result_sha256: str | None,
) -> int:
    with conn.transaction():
        conn.execute(
            "DELETE FROM coord.narratives WHERE interval_start = %s AND interval_end = %s",
            (window.start, window.end),
        )
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO coord.narratives (interval_start, interval_end, campaign_id, llm_status,
                       status_reason, model, model_digest, narrative, rejected_claims, result_sha256,
                       prompt_sha256)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                [
                    (
                        window.start,
                        window.end,
                        r.campaign_id,
                        r.status,
                        pg_text(r.reason),
                        r.model,
                        r.model_digest,
                        Json(r.narrative()),
                        Json(r.rejected_claims()),
                        result_sha256,
                        r.prompt_sha256,
                    )
                    for r in records
                ],
            )
    return len(records)


def save_llm_run(conn: psycopg.Connection[Any], window: DataWindow, run: LlmRunRecord) -> None:
    with conn.transaction():
        conn.execute(
            """INSERT INTO coord.llm_runs (dag_id, interval_start, interval_end, run_id, try_number,
                   status, reason, worker, server, server_version, model, model_digest, model_details,
                   candidates, narratives, counts, usage, gpu)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (dag_id, interval_start, interval_end) DO UPDATE SET
                   run_id = EXCLUDED.run_id, try_number = EXCLUDED.try_number, status = EXCLUDED.status,
                   reason = EXCLUDED.reason, worker = EXCLUDED.worker, server = EXCLUDED.server,
                   server_version = EXCLUDED.server_version, model = EXCLUDED.model,
                   model_digest = EXCLUDED.model_digest, model_details = EXCLUDED.model_details,
                   candidates = EXCLUDED.candidates, narratives = EXCLUDED.narratives,
                   counts = EXCLUDED.counts, usage = EXCLUDED.usage, gpu = EXCLUDED.gpu,
                   updated_at = now()""",
            (
                run.dag_id,
                window.start,
                window.end,
                run.run_id,
                run.try_number,
                run.status,
                pg_text(run.reason),
                run.worker,
                run.server,
                run.server_version,
                run.model,
                run.model_digest,
                Jsonb(run.model_details),
                Jsonb(run.candidates),
                run.narratives,
                Jsonb(run.counts),
                Jsonb(run.usage),
                Jsonb(run.gpu),
            ),
        )


def load_narratives(conn: psycopg.Connection[Any], window: DataWindow) -> list[dict[str, Any]]:
    rows = conn.execute(
        """SELECT campaign_id, llm_status, status_reason, model, model_digest, narrative,
                  rejected_claims, result_sha256, prompt_sha256
           FROM coord.narratives WHERE interval_start = %s AND interval_end = %s ORDER BY campaign_id""",
        (window.start, window.end),
    ).fetchall()
    names = (
        "campaign_id", "llm_status", "status_reason", "model", "model_digest", "narrative",
        "rejected_claims", "result_sha256", "prompt_sha256",
    )  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]


def load_llm_runs(conn: psycopg.Connection[Any], start: Any, end: Any) -> list[dict[str, Any]]:
    """Every DAG's LLM-run record for the interval ``[start, end)``."""
    rows = conn.execute(
        """SELECT dag_id, run_id, try_number, status, reason, worker, server, server_version, model,
                  model_digest, model_details, candidates, narratives, counts, usage, gpu
           FROM coord.llm_runs WHERE interval_start = %s AND interval_end = %s ORDER BY dag_id""",
        (start, end),
    ).fetchall()
    names = (
        "dag_id", "run_id", "try_number", "status", "reason", "worker", "server", "server_version",
        "model", "model_digest", "model_details", "candidates", "narratives", "counts", "usage", "gpu",
    )  # fmt: skip
    return [dict(zip(names, row, strict=True)) for row in rows]
