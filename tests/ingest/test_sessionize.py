"""Sessionizing Cowrie events: what one session did, once each."""

from __future__ import annotations

from coord_core.contracts.events import parse_event
from coord_core.ingest.sessionize import session_from_events

BASE = {"session": "fb05c07d0cd4", "src_ip": "61.80.142.115", "sensor": "37e2115ebaeb"}


def _event(eventid: str, ts: str, **fields: object) -> dict[str, object]:
    return {"eventid": eventid, "timestamp": f"2025-10-24T04:28:{ts}Z", "message": "", **BASE, **fields}


def test_an_unknown_command_logged_as_input_and_failed_is_one_command() -> None:
    raw = [
        _event("cowrie.command.input", "00.503896", input="/ip cloud print"),
        _event("cowrie.command.failed", "00.504353", input="/ip cloud print"),
        _event("cowrie.command.input", "01.039592", input="ifconfig"),
        _event("cowrie.command.input", "01.579492", input="ifconfig"),
        _event("cowrie.command.failed", "02.000000", input="wget"),  # its input event was lost
    ]
    session = session_from_events([parse_event(e) for e in raw])
    assert session.commands == ["/ip cloud print", "ifconfig", "ifconfig", "wget"]
    assert session.event_ids["cowrie.command.failed"] == 2
