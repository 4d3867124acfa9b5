"""Elasticsearch fixtures: the emulator by default, a real Elasticsearch 8 when ``ES_URL`` is set.

``ES_URL=https://elastic:secret@localhost:9200 pytest tests/elasticsearch`` runs the same tests
against a real cluster (``ES_CA_CERTS=/path/ca.crt`` or ``ES_VERIFY_CERTS=false`` for TLS; the
switch is ``tests/elasticsearch/cluster.py``). Every test then works only in indices whose names
carry a unique token and deletes them afterwards; the project's own index templates
(``coord-*``) are installed as the product would. Tests that inject faults (429/503, delays,
rejected bulk items) need the emulator and are skipped against a real cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from tests.elasticsearch.cluster import EsServer, delete_indices, elasticsearch_server, make_client
from tests.emulators.elasticsearch import ElasticsearchEmulator


@pytest.fixture(scope="session")
def es_server() -> Iterator[EsServer]:
    with elasticsearch_server() as server:
        yield server


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
    delete_indices(es, f"*{value}*")
