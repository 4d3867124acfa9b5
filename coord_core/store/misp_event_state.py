"""The MISP event of each campaign as the stored sum of the occurrences folded into it (migration 015).

Rows only: what an occurrence adds is computed in ``coord_core.intel.contribution`` and folded in
by ``coord_core.pipeline.misp_event_fold``, which also decides when a campaign's sum must be
dropped and refolded. Counts of sessions and sources per attribute grow only by members not
already held (``coord.misp_event_members``), so they equal counting the union of all occurrences.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Json

_LOCK_NAMESPACE = "coord.misp_event:"

OccurrenceKey = tuple[datetime, datetime, str, str]  # interval start, end, occurrence id, result sha256


@dataclass(frozen=True)
class FoldedOccurrence:
    """What the event's title and report say of one folded occurrence."""

    interval_start: datetime
    interval_end: datetime
    occurrence_id: str
    result_sha256: str
    verdict: str
    confidence: float
    session_count: int
    source_ip_count: int
    first_seen: datetime
    last_seen: datetime
    evidence_count: int
    evidence: tuple[tuple[str, float, str], ...] | None = None  # read only where the report shows it

    @property
    def key(self) -> OccurrenceKey:
        return (self.interval_start, self.interval_end, self.occurrence_id, self.result_sha256)


@dataclass(frozen=True)
class ObservableAddition:
    """One attribute's share of the occurrences being folded in."""

    attribute_uuid: str
    misp_type: str
    value: str
    sessions: frozenset[str]
    ips: frozenset[str]
    first_seen: datetime
    last_seen: datetime
    failed_downloads: int


@dataclass(frozen=True)
class ObservableTotal:
    attribute_uuid: str
    misp_type: str
    value: str
    sessions: int
    ips: int
    first_seen: datetime
    last_seen: datetime
    failed_downloads: int


def lock_campaign(conn: psycopg.Connection[Any], campaign_id: str) -> None:
    """Serialise folds into one campaign's event until the caller's transaction ends."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (_LOCK_NAMESPACE + campaign_id,))


def qualifying_occurrences(
    conn: psycopg.Connection[Any], campaign_id: str, min_confidence: float
) -> set[OccurrenceKey]:
    """The campaign's stored occurrences that are exported (the rule of
    ``coord_core.intel.campaign_event.qualifies``), each with its interval's result digest."""
    rows = conn.execute(
        """SELECT i.interval_start, i.interval_end, i.occurrence_id, a.result_sha256
           FROM coord.campaign_identity i
           JOIN coord.campaigns c
             ON c.interval_start = i.interval_start AND c.interval_end = i.interval_end
            AND c.campaign_id = i.occurrence_id
           JOIN coord.analysis_results a
             ON a.interval_start = i.interval_start AND a.interval_end = i.interval_end
           WHERE i.campaign_id = %s AND c.verdict <> 'coincidental' AND c.confidence >= %s""",
        (campaign_id, min_confidence),
    ).fetchall()
    return {(s, e, str(o), str(sha)) for s, e, o, sha in rows}


def has_fold(conn: psycopg.Connection[Any], campaign_id: str) -> bool:
    row = conn.execute("SELECT 1 FROM coord.misp_event_folds WHERE campaign_id = %s", (campaign_id,))
    return row.fetchone() is not None


def folded_keys(conn: psycopg.Connection[Any], campaign_id: str) -> set[OccurrenceKey]:
    rows = conn.execute(
        """SELECT interval_start, interval_end, occurrence_id, result_sha256
           FROM coord.misp_event_occurrences WHERE campaign_id = %s""",
        (campaign_id,),
    ).fetchall()
    return {(s, e, str(o), str(sha)) for s, e, o, sha in rows}


def drop_folds(conn: psycopg.Connection[Any], campaign_ids: Sequence[str]) -> int:
    """Forget the sums of these campaigns (their next publish refolds them from the results)."""
    if not campaign_ids:
        return 0
    cur = conn.execute(
        "DELETE FROM coord.misp_event_folds WHERE campaign_id = ANY(%s)", (list(campaign_ids),)
    )
    return cur.rowcount


def drop_folds_with_intervals_before(conn: psycopg.Connection[Any], cutoff: datetime) -> int:
    """Forget the sums holding an occurrence of an interval that ended before ``cutoff`` (retention
    prunes those intervals' sessions, which an event built afresh would no longer count)."""
    cur = conn.execute(
        """DELETE FROM coord.misp_event_folds WHERE campaign_id IN (
               SELECT campaign_id FROM coord.misp_event_occurrences WHERE interval_end < %s)""",
        (cutoff,),
    )
    return cur.rowcount


def fold(
    conn: psycopg.Connection[Any],
    campaign_id: str,
    *,
    occurrences: Sequence[FoldedOccurrence],
    observables: Sequence[ObservableAddition],
    source_ips: Iterable[str],
    rejected: Iterable[tuple[str, str, str]],
) -> None:
    """Add occurrences to the campaign's sum (starting one when it has none), in the caller's
    transaction, which holds ``lock_campaign``."""
    conn.execute(
        "INSERT INTO coord.misp_event_folds (campaign_id, source_ips) VALUES (%s, 0) "
        "ON CONFLICT (campaign_id) DO UPDATE SET folded_at = now()",
        (campaign_id,),
    )
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO coord.misp_event_occurrences (campaign_id, interval_start, interval_end,
                   occurrence_id, result_sha256, verdict, confidence, session_count, source_ip_count,
                   first_seen, last_seen, evidence_count, evidence)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [
                (campaign_id, o.interval_start, o.interval_end, o.occurrence_id, o.result_sha256, o.verdict,
                 o.confidence, o.session_count, o.source_ip_count, o.first_seen, o.last_seen,
                 o.evidence_count, Json([list(e) for e in o.evidence or ()]))
                for o in occurrences
            ],
        )  # fmt: skip
    ips = sorted(set(source_ips))
    new_ips = conn.execute(
        """WITH added AS (
               INSERT INTO coord.misp_event_source_ips (campaign_id, ip)
               SELECT %s, unnest(%s::text[]) ON CONFLICT DO NOTHING RETURNING 1)
           SELECT count(*) FROM added""",
        (campaign_id, ips),
    ).fetchone()
    conn.execute(
        "UPDATE coord.misp_event_folds SET source_ips = source_ips + %s WHERE campaign_id = %s",
        (new_ips[0] if new_ips else 0, campaign_id),
    )
    new_members = _add_members(conn, campaign_id, observables)
    if observables:
        conn.execute(
            """INSERT INTO coord.misp_event_observables AS o (campaign_id, attribute_uuid, misp_type, value,
                   sessions, ips, first_seen, last_seen, failed_downloads)
               SELECT %s, * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::int[], %s::int[],
                                        %s::timestamptz[], %s::timestamptz[], %s::int[])
               ON CONFLICT (campaign_id, attribute_uuid) DO UPDATE SET
                   sessions = o.sessions + EXCLUDED.sessions,
                   ips = o.ips + EXCLUDED.ips,
                   first_seen = LEAST(o.first_seen, EXCLUDED.first_seen),
                   last_seen = GREATEST(o.last_seen, EXCLUDED.last_seen),
                   failed_downloads = o.failed_downloads + EXCLUDED.failed_downloads""",
            (
                campaign_id,
                [a.attribute_uuid for a in observables],
                [a.misp_type for a in observables],
                [a.value for a in observables],
                [new_members[(a.attribute_uuid, "s")] for a in observables],
                [new_members[(a.attribute_uuid, "i")] for a in observables],
                [a.first_seen for a in observables],
                [a.last_seen for a in observables],
                [a.failed_downloads for a in observables],
            ),
        )
    items = sorted(set(rejected))
    if items:
        conn.execute(
            """INSERT INTO coord.misp_event_rejected (campaign_id, digest, item)
               SELECT %s, d, i::json FROM unnest(%s::text[], %s::text[]) AS t(d, i)
               ON CONFLICT DO NOTHING""",
            (campaign_id, [_digest(i) for i in items], [json.dumps(list(i)) for i in items]),
        )


def _digest(item: tuple[str, str, str]) -> str:
    return hashlib.sha256(json.dumps(list(item)).encode()).hexdigest()


def _add_members(
    conn: psycopg.Connection[Any], campaign_id: str, observables: Sequence[ObservableAddition]
) -> Counter[tuple[str, str]]:
    """Store the sessions and sources of each attribute; returns how many per attribute were new."""
    uuids: list[str] = []
    kinds: list[str] = []
    members: list[str] = []
    for a in observables:
        for kind, values in (("s", a.sessions), ("i", a.ips)):
            for member in sorted(values):
                uuids.append(a.attribute_uuid)
                kinds.append(kind)
                members.append(member)
    if not members:
        return Counter()
    rows = conn.execute(
        """INSERT INTO coord.misp_event_members (campaign_id, attribute_uuid, kind, member)
           SELECT %s, * FROM unnest(%s::uuid[], %s::"char"[], %s::text[])
           ON CONFLICT DO NOTHING RETURNING attribute_uuid::text, kind::text""",
        (campaign_id, uuids, kinds, members),
    ).fetchall()
    return Counter((str(u), str(k)) for u, k in rows)


def source_ip_count(conn: psycopg.Connection[Any], campaign_id: str) -> int:
    row = conn.execute("SELECT source_ips FROM coord.misp_event_folds WHERE campaign_id = %s", (campaign_id,))
    found = row.fetchone()
    return int(found[0]) if found else 0


def folded_occurrences(conn: psycopg.Connection[Any], campaign_id: str) -> list[FoldedOccurrence]:
    """Every folded occurrence, without its evidence rows."""
    rows = conn.execute(
        """SELECT interval_start, interval_end, occurrence_id, result_sha256, verdict, confidence,
                  session_count, source_ip_count, first_seen, last_seen, evidence_count
           FROM coord.misp_event_occurrences WHERE campaign_id = %s""",
        (campaign_id,),
    ).fetchall()
    return [FoldedOccurrence(s, e, str(o), str(sha), str(v), float(c), int(n), int(ips), f, la, int(ev))
            for s, e, o, sha, v, c, n, ips, f, la, ev in rows]  # fmt: skip


def evidence_of(
    conn: psycopg.Connection[Any], campaign_id: str, keys: Sequence[tuple[datetime, datetime, str]]
) -> dict[tuple[datetime, datetime, str], tuple[tuple[str, float, str], ...]]:
    """The evidence rows (factor, score, summary) of these folded occurrences."""
    if not keys:
        return {}
    rows = conn.execute(
        """SELECT o.interval_start, o.interval_end, o.occurrence_id, o.evidence::text
           FROM coord.misp_event_occurrences o
           JOIN unnest(%s::timestamptz[], %s::timestamptz[], %s::text[]) AS k(s, e, id)
             ON o.interval_start = k.s AND o.interval_end = k.e AND o.occurrence_id = k.id
           WHERE o.campaign_id = %s""",
        ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], campaign_id),
    ).fetchall()
    return {
        (s, e, str(o)): tuple((str(f), float(score), str(text)) for f, score, text in json.loads(doc))
        for s, e, o, doc in rows
    }


def observable_totals(conn: psycopg.Connection[Any], campaign_id: str) -> list[ObservableTotal]:
    rows = conn.execute(
        """SELECT attribute_uuid::text, misp_type, value, sessions, ips, first_seen, last_seen,
                  failed_downloads
           FROM coord.misp_event_observables WHERE campaign_id = %s""",
        (campaign_id,),
    ).fetchall()
    return [ObservableTotal(u, t, v, s, i, f, la, d) for u, t, v, s, i, f, la, d in rows]


def rejected_items(conn: psycopg.Connection[Any], campaign_id: str) -> list[tuple[str, str, str]]:
    rows = conn.execute(
        "SELECT item::text FROM coord.misp_event_rejected WHERE campaign_id = %s", (campaign_id,)
    ).fetchall()
    out = []
    for (doc,) in rows:
        misp_type, value, reason = json.loads(doc)
        out.append((str(misp_type), str(value), str(reason)))
    return out
