"""Exporting intervals from the results database: one event per campaign across intervals, the
export record, repeat-activity sightings, re-keyed campaigns withdrawn, reruns leaving no trace."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pymisp import PyMISP, PyMISPError

from coord_core.adapters.misp_client import MispConnection
from coord_core.cli.summary import print_summary
from coord_core.contracts.campaigns import Campaign, Verdict
from coord_core.contracts.sessions import AttackSession
from coord_core.embedded_services import free_port
from coord_core.intel import identifiers
from coord_core.intel.feed_publisher import FeedPublisher
from coord_core.intel.live_publisher import LiveMispPublisher
from coord_core.intel.settings import MispExportSettings
from coord_core.pipeline.load import load_interval
from coord_core.pipeline.publish_misp import export_interval
from coord_core.store.migrations import migrate
from coord_core.store.results import ResultsStore
from tests.intel.support import BOT_IPS, bot_session, botnet, campaign, result, token, window

SETTINGS = MispExportSettings()
NEW_IP = "192.0.2.99"
NOISE_IPS = ["203.0.113.200", "203.0.113.201"]


@pytest.fixture
def store(pg_conn: psycopg.Connection) -> ResultsStore:
    migrate(pg_conn)
    return ResultsStore(pg_conn)


def _store_interval(
    store: ResultsStore, hour: int, campaigns: Sequence[Campaign], sessions: Sequence[AttackSession]
) -> None:
    win = window(hour)
    store.replace_sessions(win, sessions)
    store.save_analysis_result(win, result(campaigns, sessions, win), parameters_hash="test")
    load_interval(store, win)


def _hour0(store: ResultsStore, name: str) -> None:
    """A botnet, a coincidental look-alike pair and a weak pair."""
    bots = botnet(name, 0, BOT_IPS)
    alike = [bot_session(f"{name}-c{i}", ip, window(0).start + timedelta(minutes=20 + i), url="http://x.example/a",
                         sha=None, commands=["uname -a"]) for i, ip in enumerate(NOISE_IPS)]  # fmt: skip
    weak = [bot_session(f"{name}-w{i}", f"198.51.100.{60 + i}", window(0).start + timedelta(minutes=30 + i),
                        url="http://y.example/b", sha=None, commands=["id"]) for i in range(2)]  # fmt: skip
    _store_interval(
        store,
        0,
        [
            campaign(f"{name}-a0", bots),
            campaign(f"{name}-c0", alike, confidence=0.99, verdict=Verdict.COINCIDENTAL, signature=["sig-c"]),
            campaign(f"{name}-w0", weak, confidence=0.3, signature=["sig-w"]),
        ],
        bots + alike + weak,
    )


def _hour1(store: ResultsStore, name: str) -> None:
    """The botnet goes on (one new IP); an IP of hour 0's botnet attacks alone, and so does one
    of the coincidental pair."""
    later = botnet(name, 1, [*BOT_IPS[1:], NEW_IP])
    alone = [
        bot_session(f"{name}-alone", BOT_IPS[0], window(1).start + timedelta(minutes=40), commands=["w"]),
        bot_session(f"{name}-noise", NOISE_IPS[0], window(1).start + timedelta(minutes=41), commands=["w"]),
    ]
    _store_interval(store, 1, [campaign(f"{name}-a1", later)], later + alone)


def _feed(tmp_path: Path) -> FeedPublisher:
    return FeedPublisher(tmp_path / "feed", SETTINGS, clock=lambda: 1_760_000_000)


def _export_row(store: ResultsStore, hour: int, target: str) -> dict[str, Any]:
    row = store.conn.execute(
        "SELECT location, items FROM coord.exports WHERE interval_start = %s AND target = %s",
        (window(hour).start, target),
    ).fetchone()
    assert row is not None
    return {"location": row[0], "items": row[1]}


def _audits(store: ResultsStore, action: str) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT details FROM coord.audit_log WHERE action = %s ORDER BY id", (action,)
    ).fetchall()
    return [r[0] for r in rows]


def test_feed_export_follows_a_campaign_across_intervals(store: ResultsStore, tmp_path: Path) -> None:
    name = f"cmp-{token()}"
    _hour0(store, name)
    event_uuid = identifiers.event_uuid(f"{name}-a0")  # the campaign is named by its first occurrence
    first = export_interval(store, window(0), _feed(tmp_path), SETTINGS, min_confidence=0.5)
    assert first["events"] == 1 and first["created"] == [event_uuid]
    assert _export_row(store, 0, "misp_feed") == {
        "location": str(tmp_path / "feed"),
        "items": {"events": {f"{name}-a0": event_uuid}, "retired": [], "sightings": []},
    }
    _hour1(store, name)
    second = export_interval(store, window(1), _feed(tmp_path), SETTINGS, min_confidence=0.5)
    assert second["updated"] == [event_uuid] and second["created"] == []
    document = json.loads((tmp_path / "feed" / f"{event_uuid}.json").read_text())["Event"]
    ips = sorted(a["value"] for a in document["Attribute"] if a["type"] == "ip-src")
    assert ips == sorted([*BOT_IPS, NEW_IP])
    assert NOISE_IPS[0] not in ips  # coincidental groups are never exported
    # Four IPs of hour 0's exported botnet attacked again in hour 1; the coincidental IP is no sighting.
    row = _export_row(store, 1, "misp_feed")
    assert len(row["items"]["sightings"]) == 4
    assert "4 sighting(s) not exported" in second["notes"][0]
    # Reruns, in any order, change nothing: not the folder, not the export records.
    files = {p.name: p.read_bytes() for p in (tmp_path / "feed").iterdir()}
    rows = (_export_row(store, 0, "misp_feed"), _export_row(store, 1, "misp_feed"))
    assert export_interval(store, window(1), _feed(tmp_path), SETTINGS, min_confidence=0.5)["unchanged"] == [
        event_uuid
    ]
    assert export_interval(store, window(0), _feed(tmp_path), SETTINGS, min_confidence=0.5)["unchanged"] == [
        event_uuid
    ]
    assert {p.name: p.read_bytes() for p in (tmp_path / "feed").iterdir()} == files
    assert (_export_row(store, 0, "misp_feed"), _export_row(store, 1, "misp_feed")) == rows
    assert [a["unchanged"] for a in _audits(store, "misp_export")][-2:] == [[event_uuid], [event_uuid]]


def test_the_threshold_selects_what_is_exported(store: ResultsStore, tmp_path: Path) -> None:
    name = f"cmp-{token()}"
    _hour0(store, name)
    assert export_interval(store, window(0), _feed(tmp_path), SETTINGS, min_confidence=0.95)["events"] == 0
    assert export_interval(store, window(0), _feed(tmp_path), SETTINGS, min_confidence=0.0)["events"] == 2
    exported = _export_row(store, 0, "misp_feed")["items"]["events"]
    assert set(exported) == {f"{name}-a0", f"{name}-w0"}  # the weak pair, never the coincidental one


def test_live_export_sends_each_sighting_once(
    store: ResultsStore, misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    name = f"cmp-{token()}"
    _hour0(store, name)
    event_uuid = identifiers.event_uuid(f"{name}-a0")
    cleanup.append(event_uuid)

    def publisher() -> LiveMispPublisher:
        return LiveMispPublisher(misp_connection.open, SETTINGS, location=misp_connection.location)

    assert export_interval(store, window(0), publisher(), SETTINGS, min_confidence=0.5)["created"] == [
        event_uuid
    ]
    _hour1(store, name)
    second = export_interval(store, window(1), publisher(), SETTINGS, min_confidence=0.5)
    assert second["updated"] == [event_uuid]
    assert second["sightings_sent"] == 4 and second["sightings_added"] == 4 and second["errors"] == []
    again = export_interval(store, window(1), publisher(), SETTINGS, min_confidence=0.5)
    assert again["unchanged"] == [event_uuid] and again["sightings_added"] == 0
    found = misp.search(controller="events", uuid=event_uuid, metadata=True)
    assert isinstance(found, list) and len(found) == 1
    event_id = found[0]["Event"]["id"]
    sightings = misp.search_sightings(context="event", context_id=event_id)
    assert isinstance(sightings, list) and len(sightings) == 4
    assert _export_row(store, 1, "misp")["location"] == misp_connection.location


def test_a_rekeyed_campaign_moves_to_its_new_event(store: ResultsStore, tmp_path: Path) -> None:
    name = f"cmp-{token()}"
    _hour0(store, name)
    _hour1(store, name)
    export_interval(store, window(0), _feed(tmp_path), SETTINGS, min_confidence=0.5)
    old_uuid = identifiers.event_uuid(f"{name}-a0")
    # An earlier interval is loaded late (a backfill): the campaign is now named by that occurrence.
    early = botnet(name, -1, BOT_IPS[:2])
    _store_interval(store, -1, [campaign(f"{name}-z", early)], early)
    new_uuid = identifiers.event_uuid(f"{name}-z")
    outcome = export_interval(store, window(-1), _feed(tmp_path), SETTINGS, min_confidence=0.5)
    assert outcome["created"] == [new_uuid] and outcome["retired"] == [old_uuid]
    assert not (tmp_path / "feed" / f"{old_uuid}.json").exists()
    document = json.loads((tmp_path / "feed" / f"{new_uuid}.json").read_text())["Event"]
    assert f"{name}-z" in document["info"]
    manifest = json.loads((tmp_path / "feed" / "manifest.json").read_text())
    assert set(manifest) == {new_uuid}


def test_an_interval_without_an_analysis_result_is_a_clear_error(store: ResultsStore, tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="no analysis result"):
        export_interval(store, window(7), _feed(tmp_path), SETTINGS, min_confidence=0.5)


def test_the_run_summary_says_where_the_events_went(
    store: ResultsStore, postgres_dsn: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _hour0(store, f"cmp-{token()}")
    export_interval(store, window(0), _feed(tmp_path), SETTINGS, min_confidence=0.5)
    print_summary(postgres_dsn, window(0))
    assert f"MISP feed folder:   1 event(s) -> {tmp_path / 'feed'}" in capsys.readouterr().out


def test_a_misp_outage_fails_the_export_and_is_audited(store: ResultsStore) -> None:
    _hour0(store, f"cmp-{token()}")
    dead = MispConnection(url=f"http://127.0.0.1:{free_port()}", key="k" * 40, timeout_s=1)
    publisher = LiveMispPublisher(dead.open, SETTINGS, location=dead.location)
    with pytest.raises(PyMISPError):
        export_interval(store, window(0), publisher, SETTINGS, min_confidence=0.5)
    (failure,) = _audits(store, "misp_export_failed")
    assert failure["location"] == dead.location and failure["target"] == "misp"
    assert "Unable to connect to MISP" in failure["error"] and "k" * 40 not in failure["error"]
    assert store.conn.execute("SELECT count(*) FROM coord.exports").fetchone() == (0,)
