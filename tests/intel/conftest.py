"""MISP fixtures: the emulator by default, a real MISP when ``MISP_URL`` and ``MISP_KEY`` are set.

``MISP_URL=https://misp.example MISP_KEY=... pytest tests/intel`` runs the same tests against a
real instance (``MISP_VERIFY_SSL=false`` for a self-signed certificate, ``MISP_CA_PATH`` for a
private CA). The key's user needs to add, edit, delete and tag events and add sightings; every
test works only on events whose UUIDs derive from a per-test token, and deletes them afterwards.
Tests that inject faults or read the emulator's drop log are skipped against a real MISP.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pymisp import PyMISP

from coord_core.adapters.misp_client import MispConnection
from tests.emulators.misp import MispEmulator


@dataclass(frozen=True)
class MispServer:
    url: str
    key: str
    emulator: MispEmulator | None
    verify_ssl: bool = True
    ca_path: str | None = None


@pytest.fixture(scope="session")
def misp_server() -> Iterator[MispServer]:
    url, key = os.environ.get("MISP_URL"), os.environ.get("MISP_KEY")
    if url and key:
        verify = os.environ.get("MISP_VERIFY_SSL", "true").lower() not in ("0", "false", "no")
        yield MispServer(url, key, None, verify, os.environ.get("MISP_CA_PATH"))
        return
    with MispEmulator() as emulator:
        yield MispServer(emulator.url, emulator.key, emulator)


@pytest.fixture
def emulator(misp_server: MispServer) -> Iterator[MispEmulator]:
    """The emulator itself, for tests that inject faults; skipped against a real MISP."""
    if misp_server.emulator is None:
        pytest.skip("needs the MISP emulator (MISP_URL is set)")
    yield misp_server.emulator
    misp_server.emulator.clear_faults()


@pytest.fixture
def misp_connection(misp_server: MispServer) -> MispConnection:
    return MispConnection(
        url=misp_server.url,
        key=misp_server.key,
        verify_ssl=misp_server.verify_ssl,
        ca_path=misp_server.ca_path,
        timeout_s=10,
    )


@pytest.fixture
def misp(misp_connection: MispConnection) -> PyMISP:
    """A client for the test's own checks."""
    return misp_connection.open()


@pytest.fixture
def cleanup(misp: PyMISP) -> Iterator[list[str]]:
    """Event UUIDs the test wrote; deleted from the MISP afterwards."""
    uuids: list[str] = []
    yield uuids
    for event_uuid in uuids:
        if misp.event_exists(event_uuid):
            misp.delete_event(event_uuid)
