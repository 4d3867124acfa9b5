"""The MISP events kept up to date per occurrence equal the events rebuilt from every occurrence:
over a history loaded in order and out of order, after a rerun that changes an interval, a raised
confidence threshold and retention; and the feed folder written either way is byte-identical."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from coord_core.contracts.campaigns import Campaign, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.intel.campaign_event import CampaignEvent
from coord_core.intel.export import ExportBatch
from coord_core.intel.feed_publisher import FeedPublisher
from coord_core.intel.settings import MispExportSettings
from coord_core.pipeline.load import load_interval
from coord_core.pipeline.misp_event_fold import folded_events, rebuilt_events
from coord_core.pipeline.publish_misp import export_interval
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from coord_core.store.retention import apply_retention, set_retention
from tests.intel.support import bot_session, campaign, result, window

SETTINGS = MispExportSettings(max_command_sequences=3)
POOL = [f"198.51.100.{i}" for i in range(1, 30)]  # bots come back: distinct counts matter


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    return ResultsStore(pg_conn)


def _interval(hour: int, seed: int = 0) -> tuple[list[Campaign], list[AttackSession]]:
    """Two dropper campaigns most hours (sources drawn from one pool, now and then a failed
    download, a malformed hash, varied commands), a coincidental pair, a weak group."""
    rng = random.Random(hour * 7919 + seed)
    campaigns, sessions = [], []
    start = window(hour).start
    for c in range(2):
        if rng.random() < 0.15:
            continue
        members = [
            bot_session(
                f"h{hour}-c{c}-{k}-{seed}",
                rng.choice(POOL),
                start + timedelta(minutes=rng.randrange(55)),
                url=f"http://203.0.113.{50 + c}/bins/x{c}.sh",
                sha=rng.choice([f"{c}" * 64, f"{c}" * 64, "zz"]),
                commands=[rng.choice(["uname -a", "id", "w", "cat /proc/cpuinfo"]), f"sh x{c}.sh"],
                failed=rng.random() < 0.1,
            )
            for k in range(rng.randint(1, 5))
        ]
        confidence = rng.choice([0.6, 0.8, 0.9, 0.9])
        summary = f"dropper {c} | hour {hour}"
        occurrence = campaign(
            f"occ-{c}-{hour}-{seed}", members, confidence=confidence, signature=[f"sig-{c}"], summary=summary
        )
        if rng.random() < 0.2:  # a member whose session is not stored
            occurrence = occurrence.model_copy(update={"source_ips": [*occurrence.source_ips, "192.0.2.250"]})
        campaigns.append(occurrence)
        sessions += members
    pair = [bot_session(f"h{hour}-p{i}-{seed}", f"203.0.113.{200 + i}", start, url="http://x.example/a",
                        sha=None) for i in range(2)]  # fmt: skip
    campaigns.append(
        campaign(f"occ-p-{hour}-{seed}", pair, verdict=Verdict.COINCIDENTAL, signature=["sig-p"])
    )
    return campaigns, sessions + pair


def _store(store: ResultsStore, hour: int, seed: int = 0) -> None:
    campaigns, sessions = _interval(hour, seed)
    win = window(hour)
    store.replace_sessions(win, sessions)
    store.save_analysis_result(win, result(campaigns, sessions, win), parameters_hash=f"test-{seed}")
    load_interval(store, win)


def _both(store: ResultsStore, hour: int, min_confidence: float = 0.5) -> list[CampaignEvent]:
    folded, _ = folded_events(store, window(hour), SETTINGS, min_confidence=min_confidence)
    rebuilt = rebuilt_events(store, window(hour), SETTINGS, min_confidence=min_confidence)
    assert folded == rebuilt
    assert [e.rejected for e in folded] == [e.rejected for e in rebuilt]
    return folded


def test_events_kept_per_occurrence_equal_events_rebuilt_from_every_occurrence(store: ResultsStore) -> None:
    events = 0
    for hour in range(30):
        _store(store, hour)
        events += len(_both(store, hour))
    assert events > 40
    many = _both(store, 29)
    assert any(len(e.occurrence_ids) > 20 for e in many)
    assert any("failed download" in a.comment for e in many for a in e.attributes)
    assert any(e.rejected for e in many)


def test_a_rerun_an_earlier_interval_and_a_higher_threshold_refold_to_the_same_events(
    store: ResultsStore,
) -> None:
    for hour in (0, 1, 2, 4, 5):
        _store(store, hour)
        _both(store, hour)
    _store(store, 3)  # loaded late: joins the campaigns of hours 2 and 4
    _both(store, 3)
    _both(store, 5)
    _store(store, 1, seed=1)  # a rerun whose result differs
    _both(store, 1)
    _both(store, 5)
    _both(store, 5, min_confidence=0.85)
    _both(store, 5)
    set_retention(store.conn, "sessions", 1)
    apply_retention(store.conn, window(0).end + timedelta(days=1, minutes=90))  # hour 0 and 1's sessions go
    _both(store, 5)


def test_the_feed_written_from_kept_events_is_byte_identical_to_the_rebuilt_one(
    store: ResultsStore, tmp_path: Path
) -> None:
    def feed(name: str) -> FeedPublisher:
        return FeedPublisher(tmp_path / name, SETTINGS, clock=lambda: 1_760_000_000)

    for hour in range(12):
        _store(store, hour)
        export_interval(store, window(hour), feed("kept"), SETTINGS, min_confidence=0.5)
        rebuilt = rebuilt_events(store, window(hour), SETTINGS, min_confidence=0.5)
        feed("rebuilt").publish(ExportBatch(window(hour), tuple(rebuilt)))
    kept = {p.name: p.read_bytes() for p in (tmp_path / "kept").iterdir() if not p.name.startswith(".")}
    rebuilt_files = {
        p.name: p.read_bytes() for p in (tmp_path / "rebuilt").iterdir() if not p.name.startswith(".")
    }
    assert len(kept) > 3 and kept == rebuilt_files
