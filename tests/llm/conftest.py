"""Ollama for the narrative tests: the emulator, or a real server when ``OLLAMA_HOST`` is set.

Tests that script the model's behaviour (what it answers, faults) always use the emulator;
``ollama_server`` tests run against a real Ollama too (``OLLAMA_TEST_MODEL`` names a model it
has, default ``llama3.2:3b``).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.emulators.ollama import EmulatedModel, OllamaEmulator

EMULATED_MODEL = "llama3.2:3b"


@dataclass(frozen=True)
class OllamaServer:
    host: str
    model: str
    emulator: OllamaEmulator | None


@pytest.fixture
def emulator() -> Iterator[OllamaEmulator]:
    with OllamaEmulator([EmulatedModel(EMULATED_MODEL)]) as server:
        yield server


@pytest.fixture
def ollama_server() -> Iterator[OllamaServer]:
    real = os.environ.get("OLLAMA_HOST")
    if real:
        yield OllamaServer(real, os.environ.get("OLLAMA_TEST_MODEL", EMULATED_MODEL), None)
        return
    with OllamaEmulator([EmulatedModel(EMULATED_MODEL)]) as server:
        yield OllamaServer(server.host, EMULATED_MODEL, server)


@pytest.fixture
def refused_host() -> str:
    """A local URL where nothing listens: connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
