"""Which Elasticsearch the tests talk to: the emulator by default, a real cluster when ``ES_URL`` is set.

``ES_URL=https://elastic:secret@localhost:9200`` (with ``ES_CA_CERTS=/path/ca.crt`` or
``ES_VERIFY_CERTS=false`` for TLS, ``ES_API_KEY`` for an API key) runs the same tests against a
real Elasticsearch 8. Clients are built with ``max_retries=0`` so that retries are only those
of the code under test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

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


@contextmanager
def elasticsearch_server() -> Iterator[EsServer]:
    url = os.environ.get("ES_URL")
    if url:
        yield EsServer(url, None)
        return
    with ElasticsearchEmulator() as emulator:
        yield EsServer(emulator.url, emulator)


def airflow_connection(server: EsServer, **extra: Any) -> dict[str, Any]:
    """The ``coord_elasticsearch`` Airflow connection (JSON form) for this server, with extras."""
    parts = urlsplit(server.url)
    extras: dict[str, Any] = dict(extra)
    if os.environ.get("ES_API_KEY"):
        extras["api_key"] = os.environ["ES_API_KEY"]
    if os.environ.get("ES_CA_CERTS"):
        extras["ca_certs"] = os.environ["ES_CA_CERTS"]
    if os.environ.get("ES_VERIFY_CERTS", "").lower() in ("0", "false", "no"):
        extras["verify_certs"] = False
    conn: dict[str, Any] = {
        "conn_type": "elasticsearch",
        "host": parts.hostname or "localhost",
        "port": parts.port or 9200,
        "schema": parts.scheme or "http",
        "extra": extras,
    }
    if parts.username:
        conn["login"] = unquote(parts.username)
        conn["password"] = unquote(parts.password or "")
    return conn


def delete_indices(client: Elasticsearch, pattern: str) -> None:
    for index in client.indices.get_mapping(index=pattern).body:
        client.indices.delete(index=index)
