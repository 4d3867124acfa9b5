"""Read-only questions about stored campaigns (list, members, indicators) for the assistant server.

Every query is a SELECT with bound parameters and a LIMIT; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
import pydantic_core

from coord_core.store.campaign_identity import resolve_campaign_id
from coord_core.store.lineage import campaign_lineage

# The occurrences of a campaign (campaign_identity joined to its interval rows).
_OCCURRENCE_JOIN = """coord.campaign_identity i
    JOIN coord.campaign_members m ON m.interval_start = i.interval_start
     AND m.interval_end = i.interval_end AND m.campaign_id = i.occurrence_id"""


@dataclass(frozen=True)
class CampaignFilter:
    """What ``list_campaigns`` narrows by; ``None`` means no restriction."""

    verdict: str | None = None
    min_confidence: float | None = None
    seen_since: datetime | None = None
    seen_until: datetime | None = None
    source_ip: str | None = None
    campaign_ids: tuple[str, ...] | None = None


def list_campaigns(
    conn: psycopg.Connection[Any], where: CampaignFilter, *, limit: int, offset: int = 0
) -> tuple[list[dict[str, Any]], bool]:
    """One page of cross-interval campaigns, newest activity first, and whether more follow."""
    conditions: list[tuple[str, Any]] = [
        ("%s = ANY(t.verdicts)", where.verdict),
        ("t.max_confidence >= %s", where.min_confidence),
        ("t.last_seen >= %s", where.seen_since),
        ("t.first_seen < %s", where.seen_until),
        (
            f"EXISTS (SELECT 1 FROM {_OCCURRENCE_JOIN} WHERE i.campaign_id = t.campaign_id "
            "AND m.src_ip = %s::inet)",
            where.source_ip,
        ),
        ("t.campaign_id = ANY(%s)", None if where.campaign_ids is None else list(where.campaign_ids)),
    ]
    given = [(clause, value) for clause, value in conditions if value is not None]
    clauses = [clause for clause, _ in given]
    args = [value for _, value in given]
    sql = (
        "SELECT t.campaign_id, t.verdicts, t.max_confidence, t.first_seen, t.last_seen, t.intervals, "
        "t.sessions FROM coord.campaign_tracks t"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + " ORDER BY t.last_seen DESC, t.campaign_id LIMIT %s OFFSET %s"
    )
    rows = conn.execute(sql, (*args, limit + 1, offset)).fetchall()
    page = [
        {
            "campaign_id": cid,
            "verdicts": list(verdicts),
            "max_confidence": float(confidence),
            "first_seen": first.isoformat(),
            "last_seen": last.isoformat(),
            "intervals": int(intervals),
            "sessions": int(sessions),
        }
        for cid, verdicts, confidence, first, last, intervals, sessions in rows[:limit]
    ]
    return page, len(rows) > limit


def campaign_detail(
    conn: psycopg.Connection[Any], any_id: str, *, member_limit: int
) -> dict[str, Any] | None:
    """Lineage (occurrences, runs, DQ, evidence with scores) plus members and signature features."""
    lineage = campaign_lineage(conn, any_id)
    if lineage is None:
        return None
    campaign_id = lineage["campaign_id"]
    members = [
        {"interval_start": start.isoformat(), "session_id": sid, "src_ip": ip}
        for start, sid, ip in conn.execute(
            f"""SELECT m.interval_start, m.session_id, host(m.src_ip) FROM {_OCCURRENCE_JOIN}
                WHERE i.campaign_id = %s ORDER BY m.interval_start, m.session_id LIMIT %s""",
            (campaign_id, member_limit),
        )
    ]
    totals = conn.execute(
        f"SELECT count(*), count(DISTINCT m.src_ip) FROM {_OCCURRENCE_JOIN} WHERE i.campaign_id = %s",
        (campaign_id,),
    ).fetchone()
    sources = [
        ip
        for (ip,) in conn.execute(
            f"""SELECT DISTINCT host(m.src_ip) AS ip FROM {_OCCURRENCE_JOIN}
                WHERE i.campaign_id = %s ORDER BY ip LIMIT %s""",
            (campaign_id, member_limit),
        )
    ]
    features = [
        feature
        for (feature,) in conn.execute(
            """SELECT DISTINCT f.feature FROM coord.campaign_identity i JOIN coord.campaign_features f
                 ON f.interval_start = i.interval_start AND f.interval_end = i.interval_end
                AND f.campaign_id = i.occurrence_id
               WHERE i.campaign_id = %s ORDER BY f.feature LIMIT %s""",
            (campaign_id, member_limit),
        )
    ]
    member_count, source_count = (int(totals[0]), int(totals[1])) if totals else (0, 0)
    return {
        **lineage,
        "member_count": member_count,
        "members": members,
        "members_truncated": member_count > len(members),
        "source_ip_count": source_count,
        "source_ips": sources,
        "signature_features": features,
    }


def resolve(conn: psycopg.Connection[Any], any_id: str) -> str | None:
    """The current campaign id of a campaign id, occurrence id or retired alias."""
    return resolve_campaign_id(conn, any_id)


def campaigns_of_source_ip(conn: psycopg.Connection[Any], ip: str, *, limit: int) -> list[dict[str, Any]]:
    """Campaigns with a member session from this source address."""
    return _matches(
        conn,
        f"SELECT i.campaign_id, m.interval_start, m.session_id FROM {_OCCURRENCE_JOIN} "
        "WHERE m.src_ip = %(v)s::inet",
        {"v": ip},
        limit,
    )


def campaigns_of_hash(conn: psycopg.Connection[Any], digest: str, *, limit: int) -> list[dict[str, Any]]:
    """Campaigns with a member session that downloaded, uploaded or logged a file of this hash."""
    value = pydantic_core.to_json(digest.lower()).decode()
    return _document_matches(conn, [f'"shasum":{value}', f'"ttylog_shasum":{value}'], limit)


def campaigns_of_url(conn: psycopg.Connection[Any], url: str, *, limit: int) -> list[dict[str, Any]]:
    """Campaigns with a member session that fetched this exact URL."""
    return _document_matches(conn, [f'"url":{pydantic_core.to_json(url).decode()}'], limit)


def _document_matches(
    conn: psycopg.Connection[Any], fragments: list[str], limit: int
) -> list[dict[str, Any]]:
    """Member sessions whose stored document holds one of the ``"key":value`` fragments.

    Matched in the document's JSON text, written by the same serializer (pydantic, no spaces):
    PostgreSQL's JSON operators would have to decode every string of the document, and attacker
    strings may hold ``\\u0000``, which it refuses to decode.
    """
    return _matches(
        conn,
        f"""SELECT i.campaign_id, m.interval_start, m.session_id FROM {_OCCURRENCE_JOIN}
            JOIN coord.sessions s ON s.interval_start = m.interval_start
             AND s.interval_end = m.interval_end AND s.session_id = m.session_id
            WHERE EXISTS (SELECT 1 FROM unnest(%(fragments)s::text[]) f
                          WHERE strpos(s.doc::text, f) > 0)""",
        {"fragments": fragments},
        limit,
    )


def _matches(
    conn: psycopg.Connection[Any], matching_sql: str, args: dict[str, Any], limit: int
) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"""SELECT x.campaign_id, count(*) AS sessions, min(x.interval_start), max(x.interval_start),
                   t.max_confidence, t.verdicts
            FROM ({matching_sql}) x JOIN coord.campaign_tracks t ON t.campaign_id = x.campaign_id
            GROUP BY x.campaign_id, t.max_confidence, t.verdicts
            ORDER BY max(x.interval_start) DESC, x.campaign_id LIMIT %(limit)s""",
        {**args, "limit": limit},
    ).fetchall()
    return [
        {
            "campaign_id": cid,
            "matching_sessions": int(sessions),
            "first_interval": first.isoformat(),
            "last_interval": last.isoformat(),
            "max_confidence": float(confidence),
            "verdicts": list(verdicts),
        }
        for cid, sessions, first, last, confidence, verdicts in rows
    ]
