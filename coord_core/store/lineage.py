"""The provenance chain of a campaign: every occurrence back to its run, source, data quality,
code, parameters and models — what a researcher cites to defend a coordination claim."""

from __future__ import annotations

from typing import Any

import psycopg

from coord_core.store.campaign_identity import resolve_campaign_id
from coord_core.store.narratives import load_llm_runs


def campaign_lineage(conn: psycopg.Connection[Any], any_id: str) -> dict[str, Any] | None:
    """Lineage of the campaign named by a campaign id, an occurrence id or a retired alias."""
    campaign_id = resolve_campaign_id(conn, any_id)
    if campaign_id is None:
        return None
    track = conn.execute(
        "SELECT first_seen, last_seen, intervals, sessions, max_confidence, verdicts "
        "FROM coord.campaign_tracks WHERE campaign_id = %s",
        (campaign_id,),
    ).fetchone()
    aliases = [r[0] for r in conn.execute(
        "SELECT alias_id FROM coord.campaign_aliases WHERE campaign_id = %s ORDER BY alias_id", (campaign_id,)
    )]  # fmt: skip
    occurrences = []
    for row in conn.execute(
        """SELECT c.interval_start, c.interval_end, c.campaign_id, c.verdict, c.confidence,
                  c.session_count, c.source_ip_count, c.first_seen, c.last_seen
           FROM coord.campaign_identity i JOIN coord.campaigns c
             ON c.interval_start = i.interval_start AND c.interval_end = i.interval_end
            AND c.campaign_id = i.occurrence_id
           WHERE i.campaign_id = %s ORDER BY c.interval_start""",
        (campaign_id,),
    ).fetchall():
        start, end, occurrence_id = row[0], row[1], row[2]
        occurrences.append(
            {
                "interval": {"start": start.isoformat(), "end": end.isoformat()},
                "occurrence_id": occurrence_id,
                "verdict": row[3],
                "confidence": row[4],
                "sessions": row[5],
                "source_ips": row[6],
                "first_seen": row[7].isoformat(),
                "last_seen": row[8].isoformat(),
                "runs": _runs(conn, start, end),
                "data_quality": _data_quality(conn, start, end),
                "evidence": _evidence(conn, start, end, occurrence_id),
                "narrative": _narrative(conn, start, end, occurrence_id),
                "llm_runs": load_llm_runs(conn, start, end),
            }
        )
    return {
        "campaign_id": campaign_id,
        "queried_as": any_id,
        "aliases": aliases,
        "first_seen": track[0].isoformat() if track else None,
        "last_seen": track[1].isoformat() if track else None,
        "intervals": int(track[2]) if track else 0,
        "sessions": int(track[3]) if track else 0,
        "max_confidence": float(track[4]) if track else None,
        "verdicts": list(track[5]) if track else [],
        "occurrences": occurrences,
    }


def _runs(conn: psycopg.Connection[Any], start: Any, end: Any) -> list[dict[str, Any]]:
    rows = conn.execute(
        """SELECT dag_id, run_id, try_number, run_type, triggered_by, status, source_kind,
                  source_locations, source_query, document_count, event_count, quarantined_count,
                  input_fingerprint, analysis_input_fingerprint, code_version, parameters,
                  parameters_hash, result_sha256, analysis_cache_hit, dq_gate_passed, models, updated_at
           FROM coord.runs WHERE interval_start = %s AND interval_end = %s ORDER BY dag_id""",
        (start, end),
    ).fetchall()
    names = [
        "dag_id", "run_id", "try_number", "run_type", "triggered_by", "status", "source_kind",
        "source_locations", "source_query", "document_count", "event_count", "quarantined_count",
        "input_fingerprint", "analysis_input_fingerprint", "code_version", "parameters",
        "parameters_hash", "result_sha256", "analysis_cache_hit", "dq_gate_passed", "models", "updated_at",
    ]  # fmt: skip
    runs = []
    for row in rows:
        record = dict(zip(names, row, strict=True))
        record["updated_at"] = record["updated_at"].isoformat()
        runs.append(record)
    return runs


def _data_quality(conn: psycopg.Connection[Any], start: Any, end: Any) -> dict[str, Any] | None:
    report = conn.execute(
        "SELECT gate_passed, gate_reason FROM coord.dq_reports "
        "WHERE interval_start = %s AND interval_end = %s",
        (start, end),
    ).fetchone()
    failed = [
        {"suite": s, "expectation": e, "column": c, "critical": crit, "unexpected": n}
        for s, e, c, crit, n in conn.execute(
            """SELECT suite, expectation, column_name, critical, unexpected_count FROM coord.dq_results
               WHERE interval_start = %s AND interval_end = %s AND NOT success
               ORDER BY suite, expectation, column_name""",
            (start, end),
        )
    ]
    quarantined = dict(
        conn.execute(
            "SELECT stage, count(*) FROM coord.quarantine WHERE interval_start = %s AND interval_end = %s "
            "GROUP BY stage ORDER BY stage",
            (start, end),
        ).fetchall()
    )
    if report is None and not failed and not quarantined:
        return None
    return {
        "gate_passed": report[0] if report else None,
        "gate_reason": report[1] if report else None,
        "failed_expectations": failed,
        "quarantined": quarantined,
    }


def _evidence(
    conn: psycopg.Connection[Any], start: Any, end: Any, occurrence_id: str
) -> list[dict[str, Any]]:
    return [
        {"evidence_id": eid, "factor": factor, "score": score, "summary": summary}
        for eid, factor, score, summary in conn.execute(
            """SELECT evidence_id, factor, score, summary FROM coord.evidence
               WHERE interval_start = %s AND interval_end = %s AND campaign_id = %s ORDER BY evidence_id""",
            (start, end, occurrence_id),
        )
    ]


def _narrative(
    conn: psycopg.Connection[Any], start: Any, end: Any, occurrence_id: str
) -> dict[str, Any] | None:
    row = conn.execute(
        """SELECT llm_status, status_reason, model, model_digest, narrative, rejected_claims, prompt_sha256
           FROM coord.narratives WHERE interval_start = %s AND interval_end = %s AND campaign_id = %s""",
        (start, end, occurrence_id),
    ).fetchone()
    if row is None:
        return None
    status, reason, model, digest, narrative, rejected, prompt_sha256 = row
    return {
        "status": status,
        "reason": reason,
        "model": model,
        "model_digest": digest,
        "source": narrative.get("source"),
        "summary": narrative.get("summary"),
        "claims": len(narrative.get("claims", [])),
        "rejected_claims": len(rejected),
        "prompt_sha256": prompt_sha256,
    }
