"""The MISP feed folder: valid for PyMISP, MISP's layout, atomic, and unchanged when nothing changed."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from pymisp import MISPEvent, MISPOrganisation
from pymisp.tools.feed import feed_meta_generator

from coord_core.contracts.sessions import LoginAttempt
from coord_core.contracts.window import DataWindow
from coord_core.intel.campaign_event import CampaignEvent, build_event
from coord_core.intel.export import ExportBatch, SightingSpec
from coord_core.intel.feed_publisher import FeedFolderError, FeedPublisher, _serialise
from coord_core.intel.misp_format import feed_event, misp_attribute, misp_report
from coord_core.intel.occurrence import CampaignOccurrence
from coord_core.intel.settings import MispExportSettings
from tests.intel.support import BOT_IPS, bot_session, campaign, occurrence, window

SETTINGS = MispExportSettings(org_name="Test Org")


def _events(*hours_per_campaign: tuple[str, list[int]]) -> list[CampaignEvent]:
    out = []
    for cid, hours in hours_per_campaign:
        occurrences = [occurrence(f"{cid}-{h}" if h else cid, h, BOT_IPS[h : h + 2]) for h in hours]
        out.append(build_event(cid, occurrences, SETTINGS))
    return out


def _publish(folder: Path, events: list[CampaignEvent], now: float, **batch: object) -> dict[str, list[str]]:
    publisher = FeedPublisher(folder, SETTINGS, clock=lambda: now)
    outcome = publisher.publish(ExportBatch(window(0), tuple(events), **batch))  # type: ignore[arg-type]
    return {"created": outcome.created, "updated": outcome.updated, "unchanged": outcome.unchanged,
            "retired": outcome.retired, "notes": outcome.notes, "errors": outcome.errors}  # fmt: skip


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def test_feed_folder_is_what_misp_and_pymisp_read(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    events = _events(("cmp-one", [0]), ("cmp-two", [0]))
    outcome = _publish(folder, events, 1_760_000_000)
    assert sorted(outcome["created"]) == sorted(e.uuid for e in events)
    names = set(_files(folder))
    assert names == {f"{e.uuid}.json" for e in events} | {"manifest.json", "hashes.csv"}
    for event in events:
        loaded = MISPEvent()
        loaded.load_file(folder / f"{event.uuid}.json")
        assert loaded.uuid == event.uuid and loaded.info == event.info
        assert {a.uuid: (a.type, a.value, a.to_ids) for a in loaded.attributes} == {
            a.uuid: (a.misp_type, a.value, a.to_ids) for a in event.attributes
        }
        assert [t.name for t in loaded.tags] == list(event.tags)
        assert loaded.Orgc.name == "Test Org" and loaded.published
        assert loaded.event_reports[0].content == event.report.content
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest) == {e.uuid for e in events}
    assert manifest[events[0].uuid]["info"] == events[0].info
    lines = (folder / "hashes.csv").read_text().splitlines()
    expected = {f"{hashlib.md5(a.value.encode()).hexdigest()},{e.uuid}" for e in events for a in e.attributes}
    assert set(lines) == expected and len(lines) == len(expected)
    # PyMISP's own feed generator, run over the same event files, writes the same index.
    reference = tmp_path / "reference"
    reference.mkdir()
    for event in events:
        shutil.copy(folder / f"{event.uuid}.json", reference)
    feed_meta_generator(reference)
    assert json.loads((reference / "manifest.json").read_text()) == manifest
    assert sorted((reference / "hashes.csv").read_text().splitlines()) == sorted(lines)


def test_second_run_changes_no_uuid_and_no_byte(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    _publish(folder, _events(("cmp-one", [0]), ("cmp-two", [0])), 1_760_000_000)
    before = _files(folder)
    outcome = _publish(folder, _events(("cmp-one", [0]), ("cmp-two", [0])), 1_760_009_999)
    assert outcome["created"] == [] and outcome["updated"] == [] and len(outcome["unchanged"]) == 2
    assert _files(folder) == before


def test_a_continuing_campaign_updates_its_event_with_newer_timestamps_where_it_changed(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "feed"
    first = _events(("cmp-one", [0]), ("cmp-two", [0]))
    _publish(folder, first, 1_000)
    other = folder / f"{first[1].uuid}.json"
    other_bytes = other.read_bytes()
    grown = _events(("cmp-one", [0, 1]), ("cmp-two", [0]))
    assert grown[0].uuid == first[0].uuid
    outcome = _publish(folder, grown, 2_000)
    assert outcome["updated"] == [first[0].uuid] and outcome["unchanged"] == [first[1].uuid]
    assert other.read_bytes() == other_bytes
    document = json.loads((folder / f"{first[0].uuid}.json").read_text())["Event"]
    assert document["timestamp"] == "2000"  # newer: MISP pulls the event again
    stamps = {a["value"]: a["timestamp"] for a in document["Attribute"]}
    assert stamps[BOT_IPS[2]] == "2000"  # the new source IP
    assert stamps[BOT_IPS[0]] == "1000"  # unchanged attributes keep their timestamp
    assert stamps["203.0.113.50"] == "2000"  # the download host was seen again: last_seen moved
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest[first[0].uuid]["timestamp"] == 2000
    # A change within the same second still moves the timestamp forward.
    _publish(folder, _events(("cmp-one", [0, 1, 2]), ("cmp-two", [0])), 2_000)
    assert json.loads((folder / f"{first[0].uuid}.json").read_text())["Event"]["timestamp"] == "2001"


def test_retired_events_leave_the_folder_and_the_index(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    one, two = _events(("cmp-one", [0]), ("cmp-two", [0]))
    _publish(folder, [one, two], 1_000)
    outcome = _publish(
        folder, [one], 1_000, retired_event_uuids=(two.uuid, "00000000-0000-0000-0000-000000000000")
    )
    assert outcome["retired"] == [two.uuid]
    assert not (folder / f"{two.uuid}.json").exists()
    assert set(json.loads((folder / "manifest.json").read_text())) == {one.uuid}
    assert all(line.endswith(one.uuid) for line in (folder / "hashes.csv").read_text().splitlines())


def test_sightings_are_noted_as_not_carried_by_feeds(tmp_path: Path) -> None:
    (one,) = _events(("cmp-one", [0]))
    sighting = SightingSpec("u", one.uuid, one.attributes[0].uuid, "192.0.2.10", window(1).start, 2)
    outcome = _publish(tmp_path / "feed", [one], 1_000, sightings=(sighting,))
    assert outcome["errors"] == [] and "feeds carry no sightings" in outcome["notes"][0]


def test_concurrent_exports_to_one_folder_keep_every_event(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    batches = [_events((f"cmp-{i}", [0])) for i in range(6)]
    threads = [threading.Thread(target=_publish, args=(folder, b, 1_000)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest) == {b[0].uuid for b in batches}
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_a_broken_event_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "feed"
    (one,) = _events(("cmp-one", [0]))
    _publish(folder, [one], 1_000)
    (folder / f"{one.uuid}.json").write_text("{not json")
    with pytest.raises(FeedFolderError, match="not valid JSON"):
        _publish(folder, [one], 1_000)


def test_window_of_the_batch_does_not_change_the_bytes(tmp_path: Path) -> None:
    """The feed depends on the events only, not on which interval's run wrote them."""
    (one,) = _events(("cmp-one", [0]))
    a, b = tmp_path / "a", tmp_path / "b"
    FeedPublisher(a, SETTINGS, clock=lambda: 5).publish(ExportBatch(window(0), (one,)))
    later = DataWindow(start=window(5).start, end=window(5).end)
    FeedPublisher(b, SETTINGS, clock=lambda: 5).publish(ExportBatch(later, (one,)))
    assert _files(a) == _files(b)


def _through_pymisp(event: CampaignEvent, stamp: int) -> dict[str, object]:
    """The feed document with every attribute built as a PyMISP object (what ``feed_event`` must equal)."""
    out = MISPEvent(strict_validation=True)
    out.uuid, out.info, out.threat_level_id, out.analysis = (
        event.uuid,
        event.info,
        event.threat_level_id,
        event.analysis,
    )
    out.set_date(event.date)
    out.published, out.timestamp, out.publish_timestamp, out.extends_uuid, out.protected = (
        True,
        stamp,
        stamp,
        "",
        False,
    )
    org = MISPOrganisation()
    org.from_dict(name=SETTINGS.org_name, uuid=SETTINGS.organisation_uuid)
    out.Orgc = org
    for tag in event.tags:
        out.add_tag(tag)
    for attribute in event.attributes:
        out.attributes.append(misp_attribute(attribute, timestamp=stamp + 1))
    out.event_reports.append(misp_report(event, timestamp=stamp + 2))
    return out.to_feed(with_distribution=False)


def test_attributes_rendered_without_pymisp_objects_are_what_pymisp_renders() -> None:
    start = window(0).start + timedelta(microseconds=123_456)
    sessions = [
        bot_session("s1", "2001:db8::7", start, url="http://Sub.Example.org:8080/x?y=1", sha="b" * 40,
                    commands=["echo ünïcode \\\\ \"quoted\"", "  spaced  "]),
        bot_session("s2", "192.0.2.9", start.astimezone(timezone(timedelta(hours=5))),
                    url="ftp://198.51.100.3/a.sh", sha="c" * 32, hassh=None),
        bot_session("s3", "192.0.2.10", start, url="https://example.com/b", failed=True),
    ]  # fmt: skip
    sessions[0] = sessions[0].model_copy(
        update={"logins": [LoginAttempt(username="root", key_fingerprint="ab:" * 15 + "ab")]}
    )
    occ = CampaignOccurrence(window(0), campaign("cmp-x", sessions), tuple(sessions))
    event = build_event("cmp-x", [occ], SETTINGS)
    every = {
        "ip-src",
        "ip-dst",
        "url",
        "domain",
        "hostname",
        "sha1",
        "md5",
        "text",
        "ssh-fingerprint",
        "hassh-md5",
    }
    assert {a.misp_type for a in event.attributes} >= every
    fast = feed_event(
        event,
        org_name=SETTINGS.org_name,
        org_uuid=SETTINGS.organisation_uuid,
        timestamp=1_760_000_000,
        attribute_timestamps={a.uuid: 1_760_000_001 for a in event.attributes},
        report_timestamp=1_760_000_002,
    )
    assert fast == _through_pymisp(event, 1_760_000_000)


def test_documents_are_written_byte_for_byte_as_the_json_module_indents_them() -> None:
    hostile = ["plain", "", "ünï\u2028code", 'q"uote\\back', "\x00\x1f\x7f", "\U0001f600", "tab\tnew\nline"]
    attributes = [
        {"uuid": f"u{i}", "value": v, "to_ids": i % 2 == 0, "data": None} for i, v in enumerate(hostile)
    ]
    document = {"Event": {"info": "x", "Attribute": attributes, "Tag": [{"name": "t"}], "z": {"a": [1, 2.5]}}}
    expected = (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()
    assert _serialise(document) == expected
    document["Event"]["Attribute"] = [
        {"uuid": "u", "nested": {"a": 1}}
    ]  # not flat: the json module writes it
    assert (
        _serialise(document)
        == (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()
    )
