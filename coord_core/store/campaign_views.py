"""What the campaign pages and the results API show: one campaign whole, an interval's campaigns,
the runs. Read-only SELECTs with bound parameters and limits; nothing here writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from coord_core.store.campaign_queries import campaign_detail

_RUN_COLUMNS = (
    "dag_id", "run_id", "interval_start", "interval_end", "try_number", "run_type", "triggered_by",
    "status", "failure_reason", "source_kind", "document_count", "event_count", "session_count",
    "quarantined_count", "campaign_count", "input_fingerprint", "code_version", "parameters_hash",
    "result_sha256", "analysis_cache_hit", "dq_gate_passed", "updated_at",
)  # fmt: skip


def campaign_page(
    conn: psycopg.Connection[Any], any_id: str, *, member_limit: int, timeline_limit: int
) -> dict[str, Any] | None:
    """A campaign's detail and lineage (``campaign_detail``) plus every occurrence's evidence with
    the statistic behind each score, its sessions in time (at most ``timeline_limit``) and the MISP
    events it was exported as."""
    detail = campaign_detail(conn, any_id, member_limit=member_limit)
    if detail is None:
        return None
    campaign_id = detail["campaign_id"]
    evidence: dict[str, list[dict[str, Any]]] = {}
    for occurrence, eid, factor, score, statistic, summary in conn.execute(
        """SELECT e.campaign_id, e.evidence_id, e.factor, e.score, e.statistic, e.summary
           FROM coord.campaign_identity i JOIN coord.evidence e
             ON e.interval_start = i.interval_start AND e.interval_end = i.interval_end
            AND e.campaign_id = i.occurrence_id
           WHERE i.campaign_id = %s ORDER BY e.interval_start, e.evidence_id""",
        (campaign_id,),
    ):
        evidence.setdefault(occurrence, []).append(
            {"evidence_id": eid, "factor": factor, "score": score, "statistic": statistic, "summary": summary}
        )
    for occ in detail["occurrences"]:
        occ["evidence"] = evidence.get(occ["occurrence_id"], [])
    timeline = [
        {"src_ip": ip, "session_id": sid, "start": start.isoformat(), "end": end.isoformat()}
        for ip, sid, start, end in conn.execute(
            """SELECT host(m.src_ip), m.session_id, s.start_ts, s.end_ts
               FROM coord.campaign_identity i JOIN coord.campaign_members m
                 ON m.interval_start = i.interval_start AND m.interval_end = i.interval_end
                AND m.campaign_id = i.occurrence_id
               JOIN coord.sessions s ON s.interval_start = m.interval_start
                AND s.interval_end = m.interval_end AND s.session_id = m.session_id
               WHERE i.campaign_id = %s ORDER BY s.start_ts, m.session_id LIMIT %s""",
            (campaign_id, timeline_limit),
        )
    ]
    misp = [
        {
            "interval": {"start": start.isoformat(), "end": end.isoformat()},
            "target": target,
            "location": location,
            "event_uuid": event,
        }
        for start, end, target, location, event in conn.execute(
            """SELECT interval_start, interval_end, target, location, items->'events'->>%(id)s
               FROM coord.exports WHERE target IN ('misp', 'misp_feed')
                AND jsonb_exists(items->'events', %(id)s)
               ORDER BY interval_start, target""",
            {"id": campaign_id},
        )
    ]
    return {
        **detail,
        "timeline": timeline,
        "timeline_truncated": detail["member_count"] > len(timeline),
        "misp_exports": misp,
    }


def run_campaigns(conn: psycopg.Connection[Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The campaign occurrences an interval's analysis found, strongest first, with the
    cross-interval campaign each belongs to."""
    rows = conn.execute(
        """SELECT c.campaign_id, i.campaign_id, c.verdict, c.confidence, c.session_count,
                  c.source_ip_count, c.first_seen, c.last_seen
           FROM coord.campaigns c LEFT JOIN coord.campaign_identity i
             ON i.interval_start = c.interval_start AND i.interval_end = c.interval_end
            AND i.occurrence_id = c.campaign_id
           WHERE c.interval_start = %s AND c.interval_end = %s
           ORDER BY c.confidence DESC, c.campaign_id""",
        (start, end),
    ).fetchall()
    return [
        {
            "occurrence_id": occurrence,
            "campaign_id": campaign,
            "verdict": verdict,
            "confidence": float(confidence),
            "sessions": int(sessions),
            "source_ips": int(sources),
            "first_seen": first.isoformat(),
            "last_seen": last.isoformat(),
        }
        for occurrence, campaign, verdict, confidence, sessions, sources, first, last in rows
    ]


def list_runs(
    conn: psycopg.Connection[Any],
    *,
    limit: int,
    dag_id: str | None = None,
    status: str | None = None,
    after: tuple[datetime, str] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """The latest run of each interval, newest interval first, and whether more follow; ``after``
    (the interval start and DAG id of the previous page's last row) pages by keyset."""
    clauses: list[str] = []
    args: dict[str, Any] = {"limit": limit + 1}
    if dag_id is not None:
        clauses.append("dag_id = %(dag_id)s")
        args["dag_id"] = dag_id
    if status is not None:
        clauses.append("status = %(status)s")
        args["status"] = status
    if after is not None:
        clauses.append("(interval_start, dag_id) < (%(after_start)s, %(after_dag)s)")
        args.update(after_start=after[0], after_dag=after[1])
    rows = conn.execute(
        f"SELECT {', '.join(_RUN_COLUMNS)} FROM coord.runs"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY interval_start DESC, dag_id DESC LIMIT %(limit)s",
        args,
    ).fetchall()
    runs = []
    for row in rows[:limit]:
        record = dict(zip(_RUN_COLUMNS, row, strict=True))
        for name in ("interval_start", "interval_end", "updated_at"):
            record[name] = record[name].isoformat()
        runs.append(record)
    return runs, len(rows) > limit
