"""Events into MISP through the unmodified PyMISP: once per campaign, edits only, never duplicates.

Runs against the MISP emulator, or a real MISP when MISP_URL/MISP_KEY are set (see conftest).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pymisp import PyMISP, PyMISPError

from coord_core.adapters.misp_client import MispConnection
from coord_core.contracts.campaigns import Verdict
from coord_core.intel import identifiers
from coord_core.intel.campaign_event import CampaignEvent, build_event
from coord_core.intel.export import ExportBatch, SightingSpec
from coord_core.intel.live_publisher import LiveMispPublisher, MispExportError
from coord_core.intel.settings import MispExportSettings
from tests.emulators.misp import MispEmulator
from tests.intel.conftest import MispServer
from tests.intel.support import BOT_IPS, occurrence, token, window

SETTINGS = MispExportSettings()


def _publisher(connection: MispConnection, settings: MispExportSettings = SETTINGS) -> LiveMispPublisher:
    return LiveMispPublisher(connection.open, settings, location=connection.location)


def _event(cid: str, hours: list[int], **campaign_args: object) -> CampaignEvent:
    occurrences = [occurrence(f"{cid}-{h}", h, BOT_IPS[h : h + 2], **campaign_args) for h in hours]
    return build_event(cid, occurrences, SETTINGS)


def _held(misp: PyMISP, event_uuid: str) -> dict[str, Any]:
    response = misp.get_event(event_uuid)
    assert isinstance(response, dict) and "Event" in response, response
    event: dict[str, Any] = response["Event"]
    return event


def _count_events(misp: PyMISP, event_uuid: str) -> int:
    found = misp.search(controller="events", uuid=event_uuid, metadata=True)
    assert isinstance(found, list), found
    return len(found)


def test_one_event_per_campaign_and_a_rerun_changes_nothing(
    misp: PyMISP, misp_connection: MispConnection, misp_server: MispServer, cleanup: list[str]
) -> None:
    tag = token()
    events = (_event(f"cmp-{tag}-a", [0]), _event(f"cmp-{tag}-b", [0]))
    cleanup.extend(e.uuid for e in events)
    first = _publisher(misp_connection).publish(ExportBatch(window(0), events))
    assert sorted(first.created) == sorted(e.uuid for e in events) and first.errors == []
    stamps = {}
    for event in events:
        held = _held(misp, event.uuid)
        assert {a["uuid"] for a in held["Attribute"]} == {a.uuid for a in event.attributes}
        assert [t["name"] for t in held["Tag"]] == list(event.tags)
        assert held["EventReport"][0]["content"] == event.report.content
        assert held["info"] == event.info
        assert _count_events(misp, event.uuid) == 1
        stamps[event.uuid] = held["timestamp"]
    emulator = misp_server.emulator
    seen = len(emulator.requests) if emulator else 0
    again = _publisher(misp_connection).publish(ExportBatch(window(0), events))
    assert again.created == [] and again.updated == [] and sorted(again.unchanged) == sorted(stamps)
    for event in events:
        assert _count_events(misp, event.uuid) == 1
        assert _held(misp, event.uuid)["timestamp"] == stamps[event.uuid]  # not even an edit
    if emulator:
        writes = [
            r.path
            for r in list(emulator.requests)[seen:]
            if r.method == "POST" and "restSearch" not in r.path
        ]
        assert writes == []


def test_a_changed_campaign_is_edited_in_place(
    misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    cid = f"cmp-{token()}"
    v1 = _event(cid, [0], confidence=0.6)
    cleanup.append(v1.uuid)
    _publisher(misp_connection).publish(ExportBatch(window(0), (v1,)))
    v2 = _event(cid, [0, 1], confidence=0.9)
    assert v2.uuid == v1.uuid
    # An observable the campaign no longer has: drop the command text from the new version.
    v2 = replace(v2, attributes=tuple(a for a in v2.attributes if a.misp_type != "text"))
    outcome = _publisher(misp_connection).publish(ExportBatch(window(1), (v2,)))
    assert outcome.updated == [v1.uuid] and outcome.created == [] and outcome.errors == []
    held = _held(misp, v1.uuid)
    assert {a["uuid"] for a in held["Attribute"]} == {a.uuid for a in v2.attributes}
    assert sorted(t["name"] for t in held["Tag"]) == sorted(v2.tags)
    assert 'estimative-language:likelihood-probability="likely"' not in [t["name"] for t in held["Tag"]]
    assert held["info"] == v2.info
    assert _count_events(misp, v1.uuid) == 1
    # Republishing the new version is a no-op.
    assert _publisher(misp_connection).publish(ExportBatch(window(1), (v2,))).unchanged == [v1.uuid]


def test_attributes_misp_drops_are_reported(misp_connection: MispConnection, cleanup: list[str]) -> None:
    event = _event(f"cmp-{token()}", [0])
    cleanup.append(event.uuid)
    broken = replace(event.attributes[0], misp_type="sha256", category="Payload delivery", value="not-a-hash",
                     uuid=identifiers.attribute_uuid(event.uuid, "sha256", "not-a-hash"))  # fmt: skip
    outcome = _publisher(misp_connection).publish(
        ExportBatch(window(0), (replace(event, attributes=(*event.attributes, broken)),))
    )
    assert outcome.created == [event.uuid]
    assert (
        len(outcome.errors) == 1
        and "dropped 1 attribute" in outcome.errors[0]
        and "not-a-hash" in outcome.errors[0]
    )


def test_repeat_activity_sightings_are_sent_in_bulk_once(
    misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    event = _event(f"cmp-{token()}", [0])
    cleanup.append(event.uuid)
    publisher = _publisher(misp_connection)
    publisher.publish(ExportBatch(window(0), (event,)))
    sightings = tuple(
        SightingSpec(
            uuid=identifiers.sighting_uuid(a.uuid, window(3).label),
            event_uuid=event.uuid,
            attribute_uuid=a.uuid,
            value=a.value,
            seen_at=window(3).start,
            sessions=1,
        )
        for a in event.attributes
        if a.misp_type == "ip-src"
    )
    first = publisher.publish(ExportBatch(window(3), (event,), sightings=sightings))
    assert first.sightings_sent == 2 and first.sightings_added == 2 and first.unchanged == [event.uuid]
    again = _publisher(misp_connection).publish(ExportBatch(window(3), (event,), sightings=sightings))
    assert again.sightings_sent == 2 and again.sightings_added == 0
    event_id = _held(misp, event.uuid)["id"]
    found = misp.search_sightings(context="event", context_id=event_id)
    assert isinstance(found, list)
    assert sorted(s["Sighting"]["uuid"] for s in found) == sorted(s.uuid for s in sightings)


def test_retired_events_are_deleted(
    misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    old = _event(f"cmp-{token()}", [0])
    new = _event(f"cmp-{token()}", [0])
    cleanup.extend([old.uuid, new.uuid])
    _publisher(misp_connection).publish(ExportBatch(window(0), (old,)))
    outcome = _publisher(misp_connection).publish(
        ExportBatch(window(0), (new,), retired_event_uuids=(old.uuid,))
    )
    assert outcome.retired == [old.uuid] and outcome.created == [new.uuid]
    assert not misp.event_exists(old.uuid) and misp.event_exists(new.uuid)


def test_publish_setting_publishes_the_event(
    misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    event = _event(f"cmp-{token()}", [0], verdict=Verdict.SINGLE_ACTOR_MULTI_SOURCE)
    cleanup.append(event.uuid)
    _publisher(misp_connection, MispExportSettings(publish=True)).publish(ExportBatch(window(0), (event,)))
    assert _held(misp, event.uuid)["published"] is True


def test_a_wrong_key_is_refused(misp_connection: MispConnection) -> None:
    with pytest.raises(PyMISPError, match=r"Authentication failed|403"):
        replace(misp_connection, key="wrong-key-0000000000000000000000000000000").open()


def test_a_misp_error_fails_the_export_with_its_answer(
    emulator: MispEmulator, misp_connection: MispConnection
) -> None:
    event = _event(f"cmp-{token()}", [0])
    publisher = _publisher(misp_connection)
    emulator.inject_faults(1, 403, path_contains="/events/add")
    with pytest.raises(MispExportError, match=r"add event .* MISP answered"):
        publisher.publish(ExportBatch(window(0), (event,)))
    assert not publisher.client.event_exists(event.uuid)


def test_what_analysts_added_to_an_event_is_kept(
    misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    cid = f"cmp-{token()}"
    v1 = _event(cid, [0], confidence=0.6)
    cleanup.append(v1.uuid)
    _publisher(misp_connection).publish(ExportBatch(window(0), (v1,)))
    note = misp.add_attribute(v1.uuid, {"type": "text", "value": "analyst: same loader as case 4711"})
    assert "errors" not in note, note
    assert "errors" not in misp.tag(v1.uuid, 'workflow:state="ongoing"')
    v2 = _event(cid, [0, 1], confidence=0.9)
    v2 = replace(v2, attributes=tuple(a for a in v2.attributes if a.misp_type != "text"))
    assert _publisher(misp_connection).publish(ExportBatch(window(1), (v2,))).updated == [v1.uuid]
    held = _held(misp, v1.uuid)
    values = {a["value"] for a in held["Attribute"]}
    assert "analyst: same loader as case 4711" in values  # not ours: never deleted
    assert not {a.value for a in v1.attributes if a.misp_type == "text"} & values  # ours: deleted
    tags = {t["name"] for t in held["Tag"]}
    assert 'workflow:state="ongoing"' in tags and set(v2.tags) <= tags
    assert 'estimative-language:likelihood-probability="likely"' not in tags


def test_an_event_added_concurrently_by_another_run_is_edited_not_duplicated(
    misp: PyMISP, misp_connection: MispConnection, cleanup: list[str]
) -> None:
    v1 = _event(f"cmp-{token()}", [0])
    cleanup.append(v1.uuid)
    _publisher(misp_connection).publish(ExportBatch(window(0), (v1,)))
    racing = _publisher(misp_connection)
    racing.client.event_exists = lambda event: False  # type: ignore[method-assign]  # checked before the other add
    v2 = _event(v1.campaign_id, [0, 1])
    outcome = racing.publish(ExportBatch(window(1), (v2,)))
    assert outcome.created == [] and outcome.updated == [v1.uuid] and outcome.errors == []
    assert _count_events(misp, v1.uuid) == 1
    assert {a["uuid"] for a in _held(misp, v1.uuid)["Attribute"]} == {a.uuid for a in v2.attributes}
