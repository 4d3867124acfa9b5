"""One campaign id across intervals, whatever order the intervals were loaded in.

Each interval's analysis names its campaigns by content (occurrence ids). Occurrences in
different intervals that share a signature feature (the analytics' own defining artefacts) and
lie within ``max_gap`` of each other are the same campaign. The campaign's id is the occurrence
id of its earliest occurrence. The whole mapping is recomputed from every stored occurrence
after each load — a pure function of the stored data, so any load order ends with the same ids.
Loading an interval earlier than a campaign's first known occurrence re-keys that campaign; the
old id is kept in ``campaign_aliases`` so references to it still resolve.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg

log = logging.getLogger(__name__)

DEFAULT_MAX_GAP = timedelta(hours=24)
_LOCK_ID = 0x434F4F5249  # serialises concurrent loads' recomputation


@dataclass(frozen=True, order=True)
class Occurrence:
    first_seen: datetime
    occurrence_id: str
    interval_start: datetime
    interval_end: datetime
    last_seen: datetime

    @property
    def interval(self) -> tuple[datetime, datetime]:
        return (self.interval_start, self.interval_end)


def assign_campaign_ids(
    occurrences: list[Occurrence],
    features: dict[tuple[datetime, datetime, str], set[str]],
    max_gap: timedelta = DEFAULT_MAX_GAP,
) -> dict[Occurrence, str]:
    """Group occurrences of different intervals that share a feature; name each group by its earliest.

    Candidate joins are taken closest-in-time first; a join that would put two occurrences of the
    same interval into one campaign is refused (the analysis kept them apart on purpose).
    """
    ordered = sorted(occurrences)
    index = {o: i for i, o in enumerate(ordered)}
    by_feature: dict[str, list[Occurrence]] = defaultdict(list)
    for occ in ordered:
        for feature in features.get((occ.interval_start, occ.interval_end, occ.occurrence_id), ()):
            by_feature[feature].append(occ)
    candidates: set[tuple[timedelta, int, int]] = set()
    for members in by_feature.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if a.interval == b.interval:
                    continue
                early, late = (a, b) if a < b else (b, a)
                gap = max(timedelta(0), late.first_seen - early.last_seen)
                if gap <= max_gap:
                    candidates.add((gap, index[early], index[late]))
    parent = list(range(len(ordered)))
    intervals: list[set[tuple[datetime, datetime]]] = [{o.interval} for o in ordered]

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for _, first, second in sorted(candidates):
        ra, rb = find(first), find(second)
        if ra == rb or intervals[ra] & intervals[rb]:
            continue
        keep, drop = min(ra, rb), max(ra, rb)  # the earliest occurrence names the group
        parent[drop] = keep
        intervals[keep] |= intervals[drop]
    return {occ: ordered[find(i)].occurrence_id for i, occ in enumerate(ordered)}


def rebuild_campaign_identity(conn: psycopg.Connection[Any], max_gap: timedelta = DEFAULT_MAX_GAP) -> int:
    """Recompute ``coord.campaign_identity`` from all stored occurrences; returns campaigns re-keyed."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        occurrences = [
            Occurrence(first_seen=f, occurrence_id=c, interval_start=s, interval_end=e, last_seen=last)
            for s, e, c, f, last in conn.execute(
                "SELECT interval_start, interval_end, campaign_id, first_seen, last_seen FROM coord.campaigns"
            ).fetchall()
        ]
        features: dict[tuple[datetime, datetime, str], set[str]] = defaultdict(set)
        for s, e, c, feature in conn.execute(
            "SELECT interval_start, interval_end, campaign_id, feature FROM coord.campaign_features"
        ):
            features[(s, e, c)].add(feature)
        assigned = assign_campaign_ids(occurrences, features, max_gap)
        previous = {
            (s, e, o): c
            for s, e, o, c in conn.execute(
                "SELECT interval_start, interval_end, occurrence_id, campaign_id FROM coord.campaign_identity"
            )
        }
        rekeyed = {
            old: assigned[occ]
            for occ in occurrences
            if (old := previous.get((occ.interval_start, occ.interval_end, occ.occurrence_id)))
            and old != assigned[occ]
        }
        conn.execute("DELETE FROM coord.campaign_identity")
        with conn.cursor().copy(
            "COPY coord.campaign_identity (interval_start, interval_end, occurrence_id, campaign_id) "
            "FROM STDIN"
        ) as copy:
            for occ, campaign_id in sorted(assigned.items()):
                copy.write_row((occ.interval_start, occ.interval_end, occ.occurrence_id, campaign_id))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO coord.campaign_aliases (alias_id, campaign_id) VALUES (%s, %s)
                   ON CONFLICT (alias_id) DO UPDATE SET campaign_id = EXCLUDED.campaign_id""",
                sorted(rekeyed.items()),
            )
            # Aliases follow their campaign when it is re-keyed again.
            cur.executemany(
                "UPDATE coord.campaign_aliases SET campaign_id = %s WHERE campaign_id = %s",
                [(new, old) for old, new in sorted(rekeyed.items())],
            )
    if rekeyed:
        log.info("re-keyed %d campaign(s) to an earlier occurrence: %s", len(rekeyed), rekeyed)
    return len(rekeyed)


def resolve_campaign_id(conn: psycopg.Connection[Any], any_id: str) -> str | None:
    """The current campaign id for a campaign id, an occurrence id or a retired alias."""
    row = conn.execute(
        """SELECT campaign_id FROM coord.campaign_identity WHERE campaign_id = %s OR occurrence_id = %s
           UNION SELECT campaign_id FROM coord.campaign_aliases WHERE alias_id = %s LIMIT 1""",
        (any_id, any_id, any_id),
    ).fetchone()
    return str(row[0]) if row else None
