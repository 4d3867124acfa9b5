"""Campaign ids span intervals and do not depend on the order intervals were loaded in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import psycopg

from coord_core.contracts.campaigns import AnalysisResult, Campaign, Evidence, RunInfo, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.contracts.window import DataWindow
from coord_core.store.campaign_identity import (
    Occurrence,
    assign_campaign_ids,
    rebuild_campaign_identity,
    resolve_campaign_id,
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
