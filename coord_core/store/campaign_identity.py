"""One campaign id across intervals, whatever order the intervals were loaded in.

Each interval's analysis names its campaigns by content (occurrence ids). Occurrences in
different intervals that share a signature feature (the analytics' own defining artefacts) and
lie within ``max_gap`` of each other are the same campaign. The campaign's id is the occurrence
id of its earliest occurrence. The mapping is defined as a pure function of every stored
occurrence (``assign_campaign_ids``), so any load order ends with the same ids. Loading an
interval earlier than a campaign's first known occurrence re-keys that campaign; the old id is
kept in ``campaign_aliases`` so references to it still resolve.

A load does not recompute it all (that grows with the history): ``update_campaign_identity``
reads only the stored occurrences within ``max_gap`` of the new interval's that share one of its
features, and extends the stored mapping when that provably gives the full recomputation's result
(``_extension``); otherwise, and whenever the stored mapping is not known to be that result
(``coord.campaign_identity_state``), it recomputes it all (``rebuild_campaign_identity``).
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
_LOCK_ID = 0x434F4F5249  # serialises concurrent loads' identity updates

_Key = tuple[datetime, datetime, str]  # interval start, interval end, occurrence id
_LOADED_BEFORE = "the interval was loaded before (its earlier occurrences may have joined campaigns)"


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

    @property
    def key(self) -> _Key:
        return (self.interval_start, self.interval_end, self.occurrence_id)


@dataclass(frozen=True)
class IdentityUpdate:
    """What a load did to the stored identity: extended it, or recomputed it all (and why)."""

    rekeyed: int
    rebuilt: bool
    reason: str = ""


def _gap(early: Occurrence, late: Occurrence) -> timedelta:
    return max(timedelta(0), late.first_seen - early.last_seen)


def _linked(a: Occurrence, b: Occurrence, max_gap: timedelta) -> bool:
    """A candidate join: different intervals and within ``max_gap`` (the caller checked a shared feature)."""
    if a.interval == b.interval:
        return False
    early, late = (a, b) if a < b else (b, a)
    return _gap(early, late) <= max_gap


def assign_campaign_ids(
    occurrences: list[Occurrence],
    features: dict[_Key, set[str]],
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
        for feature in features.get(occ.key, ()):
            by_feature[feature].append(occ)
    candidates: set[tuple[timedelta, int, int]] = set()
    for members in by_feature.values():  # each in time order (first_seen leads the ordering)
        for i, early in enumerate(members):
            for late in members[i + 1 :]:
                if late.first_seen - early.last_seen > max_gap:
                    break  # every later member starts later still: none is within the gap
                if early.interval != late.interval:
                    candidates.add((_gap(early, late), index[early], index[late]))
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


def lock_campaign_identity(conn: psycopg.Connection[Any]) -> None:
    """Serialise identity updates until the caller's transaction ends (concurrent loads queue here)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))


def rebuild_campaign_identity(conn: psycopg.Connection[Any], max_gap: timedelta = DEFAULT_MAX_GAP) -> int:
    """Recompute ``coord.campaign_identity`` from all stored occurrences; returns campaigns re-keyed."""
    with conn.transaction():
        lock_campaign_identity(conn)
        occurrences = [
            Occurrence(first_seen=f, occurrence_id=c, interval_start=s, interval_end=e, last_seen=last)
            for s, e, c, f, last in conn.execute(
                "SELECT interval_start, interval_end, campaign_id, first_seen, last_seen FROM coord.campaigns"
            ).fetchall()
        ]
        features: dict[_Key, set[str]] = defaultdict(set)
        for s, e, c, feature in conn.execute(
            "SELECT interval_start, interval_end, campaign_id, feature FROM coord.campaign_features"
        ):
            features[(s, e, c)].add(feature)
        assigned = {occ.key: cid for occ, cid in assign_campaign_ids(occurrences, features, max_gap).items()}
        previous: dict[_Key, str] = {
            (s, e, o): c
            for s, e, o, c in conn.execute(
                "SELECT interval_start, interval_end, occurrence_id, campaign_id FROM coord.campaign_identity"
            )
        }
        rekeyed = {
            old: assigned[key] for key, old in previous.items() if key in assigned and old != assigned[key]
        }
        # Only the rows that differ are written: a rebuild that changes little writes little.
        gone = sorted(key for key in previous if key not in assigned)
        changed = sorted((*key, cid) for key, cid in assigned.items() if previous.get(key) != cid)
        with conn.cursor() as cur:
            cur.executemany(
                """DELETE FROM coord.campaign_identity
                   WHERE interval_start = %s AND interval_end = %s AND occurrence_id = %s""",
                gone,
            )
            cur.executemany(
                """INSERT INTO coord.campaign_identity
                       (interval_start, interval_end, occurrence_id, campaign_id) VALUES (%s, %s, %s, %s)
                   ON CONFLICT (interval_start, interval_end, occurrence_id)
                   DO UPDATE SET campaign_id = EXCLUDED.campaign_id""",
                changed,
            )
        _record_aliases(conn, rekeyed)
        conn.execute(
            """INSERT INTO coord.campaign_identity_state (singleton, max_gap) VALUES (true, %s)
               ON CONFLICT (singleton) DO UPDATE SET max_gap = EXCLUDED.max_gap, rebuilt_at = now()""",
            (max_gap,),
        )
    if rekeyed:
        log.info("re-keyed %d campaign(s) to an earlier occurrence: %s", len(rekeyed), rekeyed)
    return len(rekeyed)


def _record_aliases(conn: psycopg.Connection[Any], rekeyed: dict[str, str]) -> None:
    """Old campaign ids stay resolvable to their new ones."""
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


_IntervalInputs = list[tuple[str, datetime, datetime, list[str]]]


def interval_inputs(conn: psycopg.Connection[Any], interval: tuple[datetime, datetime]) -> _IntervalInputs:
    """What identity reads of the interval's stored occurrences (id, first and last seen, features),
    sorted: a reload that leaves them as they were leaves identity as it was."""
    rows = conn.execute(
        """SELECT c.campaign_id, c.first_seen, c.last_seen,
                  coalesce(array_agg(f.feature ORDER BY f.feature) FILTER (WHERE f.feature IS NOT NULL), '{}')
           FROM coord.campaigns c LEFT JOIN coord.campaign_features f
             ON f.interval_start = c.interval_start AND f.interval_end = c.interval_end
            AND f.campaign_id = c.campaign_id
           WHERE c.interval_start = %s AND c.interval_end = %s
           GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        interval,
    ).fetchall()
    return [(str(c), first, last, list(features)) for c, first, last, features in rows]


def update_campaign_identity(
    conn: psycopg.Connection[Any],
    interval: tuple[datetime, datetime],
    max_gap: timedelta = DEFAULT_MAX_GAP,
    *,
    before: _IntervalInputs | None = None,
) -> IdentityUpdate:
    """Bring ``coord.campaign_identity`` up to date after ``interval``'s occurrences were (re)placed.

    Call it in the transaction that wrote them, so the stored identity never lags the stored
    occurrences; ``before`` is ``interval_inputs`` read before they were replaced (a rerun that
    changed nothing then costs two reads). Its result is always ``rebuild_campaign_identity``'s;
    it only costs less."""
    with conn.transaction():
        lock_campaign_identity(conn)
        reason = _why_not_extend(conn, interval, max_gap)
        if reason == _LOADED_BEFORE and before is not None and before == interval_inputs(conn, interval):
            return IdentityUpdate(rekeyed=0, rebuilt=False, reason="the interval's occurrences are unchanged")
        if reason is None:
            rekeyed = _extension(conn, interval, max_gap)
            if rekeyed is not None:
                _apply_extension(conn, *rekeyed)
                return IdentityUpdate(rekeyed=len(rekeyed[1]), rebuilt=False)
            reason = "the interval's occurrences meet a stored campaign together"
        log.info("recomputing campaign identity over every stored occurrence: %s", reason)
        return IdentityUpdate(rekeyed=rebuild_campaign_identity(conn, max_gap), rebuilt=True, reason=reason)


def _why_not_extend(
    conn: psycopg.Connection[Any], interval: tuple[datetime, datetime], max_gap: timedelta
) -> str | None:
    """Why the stored identity cannot simply be extended by the interval; None when it can."""
    state = conn.execute("SELECT max_gap FROM coord.campaign_identity_state").fetchone()
    if state is None:
        return "no stored identity known to be complete"
    if state[0] != max_gap:
        return f"the stored identity was computed with a gap of {state[0]}, this load uses {max_gap}"
    if conn.execute(
        "SELECT 1 FROM coord.campaign_identity WHERE interval_start = %s AND interval_end = %s LIMIT 1",
        interval,
    ).fetchone():
        return _LOADED_BEFORE
    return None


def _extension(
    conn: psycopg.Connection[Any], interval: tuple[datetime, datetime], max_gap: timedelta
) -> tuple[list[tuple[_Key, str]], dict[str, str]] | None:
    """The new interval's rows and the re-keyings when extending gives the full result, else None.

    The new occurrences form a fresh interval: every new candidate join pairs one of them with a
    stored occurrence. When each new occurrence's candidates all lie in one stored campaign and no
    two new occurrences reach the same campaign, no new join can meet a refusal (a campaign never
    holds two occurrences of one interval), so the full recomputation keeps every stored campaign
    and adds each new occurrence to the one it reaches; the campaign is named by the earlier of its
    earliest occurrence and the new one. Any other case returns None (recompute it all)."""
    new: dict[_Key, Occurrence] = {}
    new_features: dict[_Key, set[str]] = defaultdict(set)
    for s, e, c, first, last, feature in conn.execute(
        """SELECT c.interval_start, c.interval_end, c.campaign_id, c.first_seen, c.last_seen, f.feature
           FROM coord.campaigns c LEFT JOIN coord.campaign_features f
             ON f.interval_start = c.interval_start AND f.interval_end = c.interval_end
            AND f.campaign_id = c.campaign_id
           WHERE c.interval_start = %s AND c.interval_end = %s""",
        interval,
    ):
        occ = Occurrence(first_seen=first, occurrence_id=c, interval_start=s, interval_end=e, last_seen=last)
        new[occ.key] = occ
        if feature is not None:
            new_features[occ.key].add(feature)
    if not new:
        return [], {}
    wanted = sorted(set().union(*new_features.values())) if new_features else []
    stored_of: dict[_Key, tuple[Occurrence, str | None]] = {}
    stored_features: dict[_Key, set[str]] = defaultdict(set)
    if wanted:
        # The stored occurrences a new one could join: sharing a feature, overlapping the new
        # occurrences' span widened by the gap (a superset; ``_linked`` decides exactly).
        low = min(o.first_seen for o in new.values()) - max_gap
        high = max(o.last_seen for o in new.values()) + max_gap
        for s, e, c, first, last, feature, campaign in conn.execute(
            """SELECT c.interval_start, c.interval_end, c.campaign_id, c.first_seen, c.last_seen,
                      f.feature, i.campaign_id
               FROM coord.campaigns c
               JOIN coord.campaign_features f
                 ON f.interval_start = c.interval_start AND f.interval_end = c.interval_end
                AND f.campaign_id = c.campaign_id
               LEFT JOIN coord.campaign_identity i
                 ON i.interval_start = c.interval_start AND i.interval_end = c.interval_end
                AND i.occurrence_id = c.campaign_id
               WHERE c.last_seen >= %s AND c.first_seen <= %s AND f.feature = ANY(%s)
                 AND NOT (c.interval_start = %s AND c.interval_end = %s)""",
            (low, high, wanted, *interval),
        ):
            occ = Occurrence(
                first_seen=first, occurrence_id=c, interval_start=s, interval_end=e, last_seen=last
            )
            stored_of[occ.key] = (occ, campaign)
            stored_features[occ.key].add(feature)
    reached: dict[_Key, str] = {}  # new occurrence -> the stored campaign it joins
    for key, occ in new.items():
        campaigns: set[str] = set()
        for other_key, (other, campaign) in stored_of.items():
            if new_features[key] & stored_features[other_key] and _linked(occ, other, max_gap):
                if campaign is None:
                    return None  # a stored occurrence without identity: not the full result
                campaigns.add(campaign)
        if len(campaigns) > 1:
            return None
        if campaigns:
            reached[key] = campaigns.pop()
    if len(set(reached.values())) < len(reached):
        return None
    rows: list[tuple[_Key, str]] = []
    rekeyed: dict[str, str] = {}
    for key, occ in sorted(new.items()):
        campaign = reached.get(key)
        if campaign is None:
            rows.append((key, occ.occurrence_id))
            continue
        earliest = _earliest_occurrence(conn, campaign)
        if occ < earliest:
            rekeyed[campaign] = occ.occurrence_id
            campaign = occ.occurrence_id
        rows.append((key, campaign))
    return rows, rekeyed


def _earliest_occurrence(conn: psycopg.Connection[Any], campaign_id: str) -> Occurrence:
    """A campaign's earliest occurrence: the one whose occurrence id names it."""
    found = [
        Occurrence(first_seen=f, occurrence_id=o, interval_start=s, interval_end=e, last_seen=last)
        for s, e, o, f, last in conn.execute(
            """SELECT i.interval_start, i.interval_end, i.occurrence_id, c.first_seen, c.last_seen
               FROM coord.campaign_identity i
               JOIN coord.campaigns c ON c.interval_start = i.interval_start
                AND c.interval_end = i.interval_end AND c.campaign_id = i.occurrence_id
               WHERE i.occurrence_id = %s AND i.campaign_id = %s""",
            (campaign_id, campaign_id),
        )
    ]
    if not found:
        raise LookupError(
            f"campaign {campaign_id} has no occurrence of that id: the stored identity is broken"
        )
    return min(found)


def _apply_extension(
    conn: psycopg.Connection[Any], rows: list[tuple[_Key, str]], rekeyed: dict[str, str]
) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "UPDATE coord.campaign_identity SET campaign_id = %s WHERE campaign_id = %s",
            [(new, old) for old, new in sorted(rekeyed.items())],
        )
        cur.executemany(
            """INSERT INTO coord.campaign_identity (interval_start, interval_end, occurrence_id, campaign_id)
               VALUES (%s, %s, %s, %s)""",
            [(*key, campaign) for key, campaign in rows],
        )
    _record_aliases(conn, rekeyed)
    if rekeyed:
        log.info("re-keyed %d campaign(s) to an earlier occurrence: %s", len(rekeyed), rekeyed)


def resolve_campaign_id(conn: psycopg.Connection[Any], any_id: str) -> str | None:
    """The current campaign id for a campaign id, an occurrence id or a retired alias."""
    row = conn.execute(
        """SELECT campaign_id FROM coord.campaign_identity WHERE campaign_id = %s OR occurrence_id = %s
           UNION SELECT campaign_id FROM coord.campaign_aliases WHERE alias_id = %s LIMIT 1""",
        (any_id, any_id, any_id),
    ).fetchone()
    return str(row[0]) if row else None
