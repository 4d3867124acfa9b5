"""Campaign ids span intervals and do not depend on the order intervals were loaded in."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.store.campaign_identity import (
    IdentityUpdate,
    Occurrence,
    assign_campaign_ids,
    interval_inputs,
    rebuild_campaign_identity,
    resolve_campaign_id,
    update_campaign_identity,
)
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore

T0 = datetime(2025, 10, 24, tzinfo=UTC)
H = timedelta(hours=1)


def _occ(hour: int, oid: str) -> Occurrence:
    start = T0 + hour * H
    return Occurrence(start + timedelta(minutes=5), oid, start, start + H, start + timedelta(minutes=50))


def test_consecutive_occurrences_sharing_a_feature_are_one_campaign() -> None:
    a, b, c = _occ(0, "occ-a"), _occ(1, "occ-b"), _occ(2, "occ-c")
    features = {
        (a.interval_start, a.interval_end, "occ-a"): {"dropper"},
        (b.interval_start, b.interval_end, "occ-b"): {"dropper", "host"},
        (c.interval_start, c.interval_end, "occ-c"): {"host"},
    }
    ids = assign_campaign_ids([c, a, b], features)
    assert set(ids.values()) == {"occ-a"}  # named by the earliest occurrence, reached through b


def test_occurrences_of_one_interval_are_never_merged() -> None:
    """The analysis separated x and y; a later occurrence sharing features with both joins one."""
    x, y, z = _occ(0, "occ-x"), _occ(0, "occ-y"), _occ(1, "occ-z")
    features = {
        (x.interval_start, x.interval_end, "occ-x"): {"f1"},
        (y.interval_start, y.interval_end, "occ-y"): {"f2"},
        (z.interval_start, z.interval_end, "occ-z"): {"f1", "f2"},
    }
    ids = assign_campaign_ids([x, y, z], features)
    assert ids[x] != ids[y]
    assert ids[z] in {ids[x], ids[y]}


def test_gap_limit() -> None:
    a, far = _occ(0, "occ-a"), _occ(48, "occ-far")
    features = {
        (a.interval_start, a.interval_end, "occ-a"): {"f"},
        (far.interval_start, far.interval_end, "occ-far"): {"f"},
    }
    assert len(set(assign_campaign_ids([a, far], features).values())) == 2
    assert len(set(assign_campaign_ids([a, far], features, timedelta(days=3)).values())) == 1


def _result(hour: int, oid: str, signature: list[str]) -> tuple[DataWindow, AnalysisResult]:
    window = DataWindow(start=T0 + hour * H, end=T0 + (hour + 1) * H)
    campaign = Campaign(
        campaign_id=oid,
        verdict=Verdict.COORDINATED_CAMPAIGN,
        confidence=0.9,
        session_ids=[f"{oid}-s1", f"{oid}-s2"],
        source_ips=["192.0.2.1", "198.51.100.2"],
        first_seen=window.start + timedelta(minutes=1),
        last_seen=window.start + timedelta(minutes=59),
        evidence=[Evidence(evidence_id=f"{oid}:e", factor="shared_artifacts", score=1.0)],
        signature=signature,
    )
    run = RunInfo(input_fingerprint=oid, parameters={}, code_version="test")
    return window, AnalysisResult(run=run, campaigns=[campaign])


def _member_sessions(result: AnalysisResult) -> list[AttackSession]:
    campaign = result.campaigns[0]
    return [
        AttackSession(
            session_id=sid, sensor="s1", src_ip=ip, start=campaign.first_seen, end=campaign.last_seen
        )
        for sid, ip in zip(campaign.session_ids, campaign.source_ips, strict=True)
    ]


def test_any_load_order_gives_the_same_ids(postgres_server_dsn: str, pg_conn: psycopg.Connection) -> None:
    migrate(pg_conn)
    store = ResultsStore(pg_conn)
    loads = [
        _result(0, "occ-h0", ["dropper"]),
        _result(1, "occ-h1", ["dropper"]),
        _result(2, "occ-h2", ["other"]),
    ]
    for window, result in loads:
        store.replace_sessions(window, _member_sessions(result))
    outcomes = []
    for order in itertools.permutations(loads):
        for table in ("campaign_identity", "campaign_features", "campaigns", "campaign_aliases"):
            pg_conn.execute(f"DELETE FROM coord.{table}")
        for window, result in order:
            store.replace_campaigns(window, result)
            rebuild_campaign_identity(pg_conn)
        outcomes.append(
            pg_conn.execute(
                "SELECT occurrence_id, campaign_id FROM coord.campaign_identity ORDER BY occurrence_id"
            ).fetchall()
        )
    assert all(o == outcomes[0] for o in outcomes)
    assert outcomes[0] == [("occ-h0", "occ-h0"), ("occ-h1", "occ-h0"), ("occ-h2", "occ-h2")]
    track = pg_conn.execute(
        "SELECT intervals, sessions FROM coord.campaign_tracks WHERE campaign_id = 'occ-h0'"
    ).fetchone()
    assert track == (2, 4)
    # Loaded h1 before h0 in some orders: h1's provisional id stays resolvable.
    assert resolve_campaign_id(pg_conn, "occ-h1") == "occ-h0"


Features = dict[tuple[datetime, datetime, str], set[str]]
Interval = tuple[datetime, datetime]


def _naive_assign(
    occurrences: list[Occurrence], features: Features, max_gap: timedelta
) -> dict[Occurrence, str]:
    """The definition, spelled out: every pair sharing a feature, closest first, no two of one interval."""
    ordered = sorted(occurrences)
    pairs = sorted(
        (max(timedelta(0), b.first_seen - a.last_seen), i, j)
        for i, a in enumerate(ordered)
        for j, b in enumerate(ordered)
        if i < j
        and a.interval != b.interval
        and features.get(a.key, set()) & features.get(b.key, set())
        and max(timedelta(0), b.first_seen - a.last_seen) <= max_gap
    )
    group = {i: {i} for i in range(len(ordered))}
    for _, i, j in pairs:
        gi, gj = group[i], group[j]
        if gi is gj or {ordered[k].interval for k in gi} & {ordered[k].interval for k in gj}:
            continue
        merged = gi | gj
        for k in merged:
            group[k] = merged
    return {o: ordered[min(group[i])].occurrence_id for i, o in enumerate(ordered)}


def _random_history(rng: random.Random, hours: int) -> tuple[list[Occurrence], Features]:
    """Occurrences over ``hours`` hourly intervals whose features drift in time, some intervals with
    several occurrences that share features (the refused joins), gaps longer than a day."""
    occurrences: list[Occurrence] = []
    features: Features = {}
    for hour in range(hours):
        if rng.random() < 0.15:
            continue
        start = T0 + hour * H
        for k in range(rng.choice([1, 1, 1, 2, 3])):
            first = start + timedelta(minutes=rng.randrange(60))
            occ = Occurrence(first, f"occ-{hour}-{k}-{rng.randrange(4)}", start, start + H,
                             first + timedelta(minutes=rng.randrange(1, 180)))  # fmt: skip
            occurrences.append(occ)
            base = hour // 6
            features[occ.key] = {f"f{base + rng.randrange(-2, 3)}" for _ in range(rng.randrange(0, 3))}
    return occurrences, features


def test_bounded_candidate_search_matches_the_definition() -> None:
    rng = random.Random(11)
    for _ in range(40):
        occurrences, features = _random_history(rng, 60)
        for gap in (timedelta(hours=2), timedelta(hours=24)):
            assert assign_campaign_ids(occurrences, features, gap) == _naive_assign(
                occurrences, features, gap
            )


def _store_occurrence(conn: psycopg.Connection, occ: Occurrence, features: set[str]) -> None:
    conn.execute(
        """INSERT INTO coord.campaigns (interval_start, interval_end, campaign_id, verdict, confidence,
           first_seen, last_seen, session_count, source_ip_count) VALUES (%s,%s,%s,'coordinated_campaign',
           0.9,%s,%s,2,2)""",
        (occ.interval_start, occ.interval_end, occ.occurrence_id, occ.first_seen, occ.last_seen),
    )
    for feature in sorted(features):
        conn.execute(
            "INSERT INTO coord.campaign_features VALUES (%s,%s,%s,%s)",
            (occ.interval_start, occ.interval_end, occ.occurrence_id, feature),
        )


def _identity(conn: psycopg.Connection) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rows = conn.execute(
        "SELECT interval_start, occurrence_id, campaign_id FROM coord.campaign_identity ORDER BY 1, 2"
    ).fetchall()
    return rows, conn.execute(
        "SELECT alias_id, campaign_id FROM coord.campaign_aliases ORDER BY 1"
    ).fetchall()


def _load_in_order(
    conn: psycopg.Connection,
    order: list[tuple[Interval, Features]],
    by_interval: dict[Interval, list[Occurrence]],
    per_load: Any,
) -> list[IdentityUpdate | int]:
    """Load the intervals in ``order`` (each with the features it has then) from empty, each followed
    by ``per_load(conn, interval, before)`` as the load step does; returns what each returned."""
    for table in ("campaign_identity", "campaign_features", "campaigns", "campaign_aliases",
                  "campaign_identity_state"):  # fmt: skip
        conn.execute(f"DELETE FROM coord.{table}")
    updates = []
    for interval, features in order:
        with conn.transaction():
            before = interval_inputs(conn, interval)
            for table in ("campaign_features", "campaigns"):
                conn.execute(
                    f"DELETE FROM coord.{table} WHERE interval_start = %s AND interval_end = %s", interval
                )
            for occ in by_interval[interval]:
                _store_occurrence(conn, occ, features[occ.key])
            updates.append(per_load(conn, interval, before))
    return updates


def test_updating_per_load_gives_the_full_recomputation(pg_conn: psycopg.Connection) -> None:
    """Intervals loaded one at a time, in time order, backwards and shuffled, some loaded again as
    they were or with other features: the per-load update leaves the identity and aliases that
    recomputing everything after each load leaves, and mostly extends (bounded work)."""
    migrate(pg_conn)
    pg_conn.autocommit = True
    rng = random.Random(5)
    occurrences, features = _random_history(rng, 96)
    by_interval: dict[Interval, list[Occurrence]] = {}
    for occ in occurrences:
        by_interval.setdefault(occ.interval, []).append(occ)
    forward = sorted(by_interval)
    shuffled = forward[:]
    rng.shuffle(shuffled)
    expected = sorted(
        (o.interval_start, o.occurrence_id, c) for o, c in assign_campaign_ids(occurrences, features).items()
    )
    # The first hours reloaded with every feature renamed: their occurrences now join nothing.
    renamed = {key: {f"other-{f}" for f in held} for key, held in features.items()}
    orders = {
        "forward": [(i, features) for i in forward],
        "backward": [(i, features) for i in forward[::-1]],
        "shuffled": [(i, features) for i in shuffled + shuffled[:5]],
        "reloaded": [(i, features) for i in forward] + [(i, renamed) for i in forward[:6]],
    }
    for name, order in orders.items():
        updates = _load_in_order(
            pg_conn, order, by_interval, lambda c, i, b: update_campaign_identity(c, i, before=b)
        )
        updated = _identity(pg_conn)
        _load_in_order(pg_conn, order, by_interval, lambda c, i, b: rebuild_campaign_identity(c))
        assert updated == _identity(pg_conn), name
        if name != "reloaded":
            assert updated[0] == expected, name
        extended = sum(isinstance(u, IdentityUpdate) and not u.rebuilt for u in updates)
        assert extended >= len(forward) // 2, (name, extended, len(order))
        reasons = [u.reason for u in updates if isinstance(u, IdentityUpdate)]
        unchanged = reasons.count("the interval's occurrences are unchanged")
        # Reloaded as they were: the repeats; renamed: only hours whose occurrences hold no feature.
        featureless = sum(all(not features[o.key] for o in by_interval[i]) for i in forward[:6])
        assert unchanged == {"shuffled": 5, "reloaded": featureless}.get(name, 0), (name, unchanged)
        if name == "backward":
            assert updated[1], "loading backwards re-keys campaigns: their old ids are aliases"
