"""Sessionizing Cowrie events: what one session did, once each."""

from __future__ import annotations

from coord_core.contracts.events import parse_event
from coord_core.ingest.sessionize import MAX_ENV_REQUESTS, session_from_events

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


def test_a_pty_request_and_env_requests_are_the_sessions_terminal_in_request_order() -> None:
    raw = [
        _event("cowrie.client.var", "00.100000", name="LC_ALL", value="C"),
        _event("cowrie.client.size", "00.200000", width=211, height=51, message="Terminal Size: 211 51"),
        _event("cowrie.client.var", "00.300000", name="LANG", value="en_US.UTF-8"),
        *(_event("cowrie.client.var", f"01.{k:06d}", name=f"X{k}", value="1") for k in range(40)),
    ]
    session = session_from_events([parse_event(e) for e in raw])
    assert session.terminal == "211x51"
    # A flood of env requests keeps the first few: a toolkit's own set is short.
    assert session.env[:3] == ["LC_ALL=C", "LANG=en_US.UTF-8", "X0=1"]
    assert len(session.env) == MAX_ENV_REQUESTS
