"""Read-only questions about stored campaigns (list, members, indicators) for the assistant server,
the campaign pages and the results API.

Every query is a SELECT with bound parameters and a LIMIT; nothing here writes.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import psycopg
import pydantic_core

from coord_core.store.campaign_identity import resolve_campaign_id
from coord_core.store.lineage import campaign_lineage

# The occurrences of a campaign (campaign_identity joined to its interval rows).
_OCCURRENCE_JOIN = """coord.campaign_identity i
    JOIN coord.campaign_members m ON m.interval_start = i.interval_start
     AND m.interval_end = i.interval_end AND m.campaign_id = i.occurrence_id"""

IndicatorKind = Literal["ip", "hash", "url"]
SortKey = Literal["last_seen", "confidence"]
_SORT_COLUMNS: dict[str, str] = {"last_seen": "t.last_seen", "confidence": "t.max_confidence"}
_HASH = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")
MAX_INDICATOR_CHARS = 2048


def classify_indicator(value: str, kind: IndicatorKind | None = None) -> tuple[IndicatorKind, str]:
    """The indicator's kind (given, or recognised: an IP, an MD5/SHA-1/SHA-256 hex digest, a URL)
    and its normalised value; ``ValueError`` says why a value is none of them."""
    value = value.strip()
    if not value or len(value) > MAX_INDICATOR_CHARS:
        raise ValueError(f"indicator must be 1-{MAX_INDICATOR_CHARS} characters")
    if kind is None:
        kind = _kind_of(value)
    if kind == "ip":
        try:
            return kind, str(ipaddress.ip_address(value))
        except ValueError as exc:
            raise ValueError("source_ip is not an IPv4 or IPv6 address") from exc
    if kind == "hash" and not _HASH.match(value):
        raise ValueError("a hash indicator must be 32, 40 or 64 hexadecimal characters")
    return kind, value


def parse_network(value: str) -> str:
    """A network prefix in CIDR form (``198.51.100.0/24``, ``2001:db8::/32``; a bare address is its
    own /32 or /128), normalised to the network's address; host bits are dropped. ``ValueError``
    says why a value is not one.

    The store keeps no AS numbers: the offline ASN data names an AS's organisation and announced
    prefix only, inside each interval's result. Filtering by the prefix that the stored member
    addresses fall in is what answers "campaigns from this network" from indexed columns."""
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError as exc:
        raise ValueError("network is not an IPv4 or IPv6 prefix such as 198.51.100.0/24") from exc


def _kind_of(value: str) -> IndicatorKind:
    """What an indicator looks like: an IP address, a hex digest, or a URL with a scheme."""
    with suppress(ValueError):
        ipaddress.ip_address(value)
        return "ip"
    if _HASH.match(value):
        return "hash"
    if "://" in value:
        return "url"
    raise ValueError("indicator is not an IP address, an MD5/SHA-1/SHA-256 digest or a URL with a scheme")


@dataclass(frozen=True)
class CampaignFilter:
    """What ``list_campaigns`` narrows by; ``None`` means no restriction."""

    verdict: str | None = None
    min_confidence: float | None = None
    seen_since: datetime | None = None
    seen_until: datetime | None = None
    source_ip: str | None = None
    network: str | None = None  # a CIDR prefix (``parse_network``) one member source lies in
    campaign_ids: tuple[str, ...] | None = None  # e.g. ``narrowed_to_indicator``


@dataclass(frozen=True)
class CampaignOrder:
    """Sort of a campaign list; ties are broken by campaign id in the same direction (keyset-safe)."""

    key: SortKey = "last_seen"
    descending: bool = True


def _member_source(condition: str) -> str:
    """A clause on ``coord.campaign_tracks t``: one of its member sources meets ``condition`` (a
    literal test of ``m.src_ip``; its value is a parameter)."""
    return f"EXISTS (SELECT 1 FROM {_OCCURRENCE_JOIN} WHERE i.campaign_id = t.campaign_id AND {condition})"


# Each ``CampaignFilter`` field's condition; the field's value binds to the parameter of its name.
_FILTER_CONDITIONS = {
    "verdict": "%(verdict)s = ANY(t.verdicts)",
    "min_confidence": "t.max_confidence >= %(min_confidence)s",
    "seen_since": "t.last_seen >= %(seen_since)s",
    "seen_until": "t.first_seen < %(seen_until)s",
    "source_ip": _member_source("m.src_ip = %(source_ip)s::inet"),
    "network": _member_source("m.src_ip <<= %(network)s::inet"),
    "campaign_ids": "t.campaign_id IN (SELECT unnest(%(campaign_ids)s::text[]))",
}


def _filter_sql(where: CampaignFilter) -> tuple[list[str], dict[str, Any]]:
    """The conditions of the fields ``where`` sets, and their values (a tuple binds as a list)."""
    clauses: list[str] = []
    args: dict[str, Any] = {}
    for name, condition in _FILTER_CONDITIONS.items():
        value = getattr(where, name)
        if value is not None:
            clauses.append(condition)
            args[name] = list(value) if isinstance(value, tuple) else value
    return clauses, args


def list_campaigns(
    conn: psycopg.Connection[Any],
    where: CampaignFilter,
    *,
    limit: int,
    offset: int = 0,
    order: CampaignOrder = CampaignOrder(),
    after: tuple[Any, str] | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """One page of cross-interval campaigns in ``order`` (newest activity first by default) and
    whether more follow. ``after`` (the sort value and campaign id of the previous page's last row)
    pages by keyset, ``offset`` by position."""
    clauses, args = _filter_sql(where)
    column = _SORT_COLUMNS[order.key]
    direction = "DESC" if order.descending else "ASC"
    if after is not None:
        beyond = "<" if order.descending else ">"
        clauses.append(f"({column}, t.campaign_id) {beyond} (%(after_v)s, %(after_id)s)")
        args.update(after_v=after[0], after_id=after[1])
    sql = (
        "SELECT t.campaign_id, t.verdicts, t.max_confidence, t.first_seen, t.last_seen, t.intervals, "
        "t.sessions FROM coord.campaign_tracks t"
        + (" WHERE " + " AND ".join(clauses) if clauses else "")
        + f" ORDER BY {column} {direction}, t.campaign_id {direction} LIMIT %(limit)s OFFSET %(offset)s"
    )
    rows = conn.execute(sql, {**args, "limit": limit + 1, "offset": offset}).fetchall()
    sources = _source_counts(conn, [row[0] for row in rows[:limit]])
    page = [
        {
            "campaign_id": cid,
            "verdicts": list(verdicts),
            "max_confidence": float(confidence),
            "first_seen": first.isoformat(),
            "last_seen": last.isoformat(),
            "intervals": int(intervals),
            "sessions": int(sessions),
            "source_ips": sources.get(cid, 0),
        }
        for cid, verdicts, confidence, first, last, intervals, sessions in rows[:limit]
    ]
    return page, len(rows) > limit


def count_campaigns(conn: psycopg.Connection[Any], where: CampaignFilter) -> int:
    """How many cross-interval campaigns the filter admits (for a page count)."""
    clauses, args = _filter_sql(where)
    sql = "SELECT count(*) FROM coord.campaign_tracks t" + (
        " WHERE " + " AND ".join(clauses) if clauses else ""
    )
    row = conn.execute(sql, args).fetchone()
    return int(row[0]) if row else 0


def _source_counts(conn: psycopg.Connection[Any], campaign_ids: list[str]) -> dict[str, int]:
    if not campaign_ids:
        return {}
    rows = conn.execute(
        f"SELECT i.campaign_id, count(DISTINCT m.src_ip) FROM {_OCCURRENCE_JOIN} "
        "WHERE i.campaign_id = ANY(%s) GROUP BY i.campaign_id",
        (campaign_ids,),
    ).fetchall()
    return {str(cid): int(n) for cid, n in rows}


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


def campaigns_of_indicator(
    conn: psycopg.Connection[Any], kind: IndicatorKind, value: str, *, limit: int
) -> list[dict[str, Any]]:
    """Campaigns with a member session from this source IP (``ip``), that downloaded, uploaded or
    logged a file of this hash (``hash``), or that fetched this exact URL (``url``)."""
    matching, args = _indicator_sessions(kind, value)
    rows = conn.execute(
        f"""SELECT x.campaign_id, count(*) AS sessions, min(x.interval_start), max(x.interval_start),
                   t.max_confidence, t.verdicts
            FROM ({matching}) x JOIN coord.campaign_tracks t ON t.campaign_id = x.campaign_id
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


def narrowed_to_indicator(
    conn: psycopg.Connection[Any], where: CampaignFilter, kind: IndicatorKind, value: str
) -> CampaignFilter:
    """``where`` narrowed to the campaigns an indicator belongs to (see ``campaigns_of_indicator``):
    matched once, so a list is then counted and paged by id."""
    matching, args = _indicator_sessions(kind, value)
    rows = conn.execute(f"SELECT DISTINCT x.campaign_id FROM ({matching}) x ORDER BY 1", args).fetchall()
    return dataclasses.replace(where, campaign_ids=tuple(str(cid) for (cid,) in rows))


def _indicator_sessions(kind: IndicatorKind, value: str) -> tuple[str, dict[str, Any]]:
    """SQL of the member sessions (campaign id, interval start, session id) an indicator names.

    Hashes and URLs are matched as ``"key":value`` fragments in the session document's JSON text,
    written by the same serializer (pydantic, no spaces): PostgreSQL's JSON operators would have
    to decode every string of the document, and attacker strings may hold ``\\u0000``, which it
    refuses to decode.
    """
    if kind == "ip":
        return (
            f"SELECT i.campaign_id, m.interval_start, m.session_id FROM {_OCCURRENCE_JOIN} "
            "WHERE m.src_ip = %(indicator_ip)s::inet",
            {"indicator_ip": value},
        )
    if kind == "hash":
        encoded = pydantic_core.to_json(value.lower()).decode()
        fragments = [f'"shasum":{encoded}', f'"ttylog_shasum":{encoded}']
    else:
        fragments = [f'"url":{pydantic_core.to_json(value).decode()}']
    return (
        f"""SELECT i.campaign_id, m.interval_start, m.session_id FROM {_OCCURRENCE_JOIN}
            JOIN coord.sessions s ON s.interval_start = m.interval_start
             AND s.interval_end = m.interval_end AND s.session_id = m.session_id
            WHERE EXISTS (SELECT 1 FROM unnest(%(indicator_fragments)s::text[]) f
                          WHERE strpos(s.doc::text, f) > 0)""",
        {"indicator_fragments": fragments},
    )
