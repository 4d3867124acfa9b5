"""What MISP accepts and refuses for the calls this project makes, checked through the unmodified
PyMISP. Against a real MISP (MISP_URL/MISP_KEY) these tests check the emulator's model of it."""

from __future__ import annotations

import uuid

import requests
from pymisp import MISPAttribute, MISPEvent, PyMISP

from tests.intel.conftest import MispServer


def _event(info: str = "coord behaviour test") -> MISPEvent:
    event = MISPEvent()
    event.info = info
    event.add_attribute("ip-src", "192.0.2.44", comment="ok")
    return event


def test_a_wrong_key_gets_misps_403(misp_server: MispServer) -> None:
    reply = requests.get(
        f"{misp_server.url.rstrip('/')}/servers/getVersion",
        headers={"Authorization": "not-the-key", "Accept": "application/json"},
        timeout=10,
        verify=misp_server.verify_ssl,
    )
    assert reply.status_code == 403
    assert reply.json()["message"].startswith("Authentication failed")


def test_adding_an_event_twice_is_refused(misp: PyMISP, cleanup: list[str]) -> None:
    event = _event()
    cleanup.append(event.uuid)
    created = misp.add_event(event)
    assert "errors" not in created, created
    again = misp.add_event(event)
    assert isinstance(again, dict) and again["errors"][0] == 404
    assert "Event already exists" in again["errors"][1]["message"]
    found = misp.search(controller="events", uuid=event.uuid, metadata=True)
    assert isinstance(found, list) and len(found) == 1


def test_an_event_without_info_is_refused(misp: PyMISP) -> None:
    event = MISPEvent()
    event.info = " "
    answer = misp.add_event(event)
    assert isinstance(answer, dict) and answer["errors"][0] == 403
    assert answer["errors"][1]["errors"]["Event"]["info"]
    assert not misp.event_exists(event.uuid)


def test_invalid_attributes_are_dropped_and_the_event_still_saved(misp: PyMISP, cleanup: list[str]) -> None:
    event = _event()
    cleanup.append(event.uuid)
    wrong_category = MISPAttribute()
    wrong_category.from_dict(type="ip-src", value="192.0.2.45")
    wrong_category.category = "Financial fraud"  # not a category of ip-src: MISP refuses it
    event.attributes.append(wrong_category)
    event.add_attribute("sha256", "not-a-sha256")
    event.add_attribute("ip-src", "192.0.2.44", comment="duplicate")  # same value|type|category
    answer = misp.add_event(event)
    assert "errors" not in answer, answer
    held = answer["Event"]["Attribute"]
    assert [(a["type"], a["value"]) for a in held] == [("ip-src", "192.0.2.44")]


def test_a_single_invalid_attribute_is_refused_with_the_reason(misp: PyMISP, cleanup: list[str]) -> None:
    event = _event()
    cleanup.append(event.uuid)
    misp.add_event(event)
    answer = misp.add_attribute(event.uuid, {"type": "md5", "value": "xyz"})
    assert isinstance(answer, dict) and answer["errors"][0] == 403
    assert "value" in answer["errors"][1]["errors"]


def test_an_edit_changes_only_what_it_carries(misp: PyMISP, cleanup: list[str]) -> None:
    event = _event()
    cleanup.append(event.uuid)
    misp.add_event(event)
    edit = MISPEvent()
    edit.uuid = event.uuid
    edit.info = "coord behaviour test, edited"
    edit.add_attribute("ip-src", "192.0.2.46")
    answer = misp.update_event(edit)
    assert "errors" not in answer, answer
    held = answer["Event"]
    assert held["info"] == "coord behaviour test, edited"
    assert sorted(a["value"] for a in held["Attribute"]) == ["192.0.2.44", "192.0.2.46"]


def test_an_edit_that_is_not_newer_is_refused(misp: PyMISP, cleanup: list[str]) -> None:
    event = _event()
    cleanup.append(event.uuid)
    stored = misp.add_event(event, pythonify=True)
    assert isinstance(stored, MISPEvent)
    stale = MISPEvent()
    stale.uuid = event.uuid
    stale.info = "stale"
    stale.timestamp = stored.timestamp
    stale.force_timestamp = True
    answer = misp.update_event(stale)
    assert isinstance(answer, dict) and answer["errors"][0] == 403
    assert "not newer than the local copy" in str(answer["errors"][1]["errors"])


def test_an_attribute_uuid_of_another_event_is_not_taken_over(misp: PyMISP, cleanup: list[str]) -> None:
    first, second = _event(), _event()
    cleanup.extend([first.uuid, second.uuid])
    misp.add_event(first)
    second.attributes[0].uuid = first.attributes[0].uuid
    answer = misp.add_event(second)
    assert "errors" not in answer
    assert answer["Event"]["Attribute"] == []
    assert _value(misp, first.uuid) == ["192.0.2.44"]


def _value(misp: PyMISP, event_uuid: str) -> list[str]:
    held = misp.get_event(event_uuid)
    return [a["value"] for a in held["Event"]["Attribute"]]


def test_views_of_unknown_events_are_404(misp: PyMISP) -> None:
    missing = str(uuid.uuid4())
    assert misp.event_exists(missing) is False
    answer = misp.get_event(missing)
    assert isinstance(answer, dict) and answer["errors"][0] == 404
