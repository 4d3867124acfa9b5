"""Elasticsearch fixtures: the emulator by default, a real Elasticsearch 8 when ``ES_URL`` is set.

``ES_URL=https://elastic:secret@localhost:9200 pytest tests/elasticsearch`` runs the same tests
against a real cluster (``ES_CA_CERTS=/path/ca.crt`` or ``ES_VERIFY_CERTS=false`` for TLS).
Every test then works only in indices whose names carry a unique token and deletes them
afterwards; the project's own index templates (``coord-*``) are installed as the product would.
Tests that inject faults (429/503, delays, rejected bulk items) need the emulator and are
skipped against a real cluster.

Clients are built with ``max_retries=0`` so that retries are only those of the code under test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from elasticsearch import Elasticsearch

from tests.emulators.elasticsearch import ElasticsearchEmulator


@dataclass(frozen=True)
class EsServer:
    url: str
    emulator: ElasticsearchEmulator | None


def make_client(url: str, *, request_timeout: float = 5.0) -> Elasticsearch:
    options: dict[str, object] = {
        "request_timeout": request_timeout,
        "max_retries": 0,
        "retry_on_timeout": False,
    }
    if os.environ.get("ES_CA_CERTS"):
        options["ca_certs"] = os.environ["ES_CA_CERTS"]
    if os.environ.get("ES_VERIFY_CERTS", "").lower() in ("0", "false", "no"):
        options["verify_certs"] = False
    if os.environ.get("ES_API_KEY"):
        options["api_key"] = os.environ["ES_API_KEY"]
    return Elasticsearch(url, **options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def es_server() -> Iterator[EsServer]:
    url = os.environ.get("ES_URL")
    if url:
        yield EsServer(url, None)
        return
    with ElasticsearchEmulator() as emulator:
        yield EsServer(emulator.url, emulator)


@pytest.fixture
def emulator(es_server: EsServer) -> Iterator[ElasticsearchEmulator]:
    """The emulator, for tests that inject faults; skipped against a real cluster."""
    if es_server.emulator is None:
        pytest.skip("fault injection needs the Elasticsearch emulator (ES_URL is set)")
    yield es_server.emulator
    es_server.emulator.clear_faults()


@pytest.fixture
def es(es_server: EsServer) -> Iterator[Elasticsearch]:
    client = make_client(es_server.url)
    yield client
    client.close()


@pytest.fixture
def token(es: Elasticsearch) -> Iterator[str]:
    """A unique lowercase token for this test's index names; its indices are deleted afterwards."""
    value = f"t{uuid.uuid4().hex[:10]}"
    yield value
    for pattern in (f"*{value}*",):
        found = es.indices.get_mapping(index=pattern).body
        for index in found:
            es.indices.delete(index=index)
