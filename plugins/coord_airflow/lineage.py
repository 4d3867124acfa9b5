"""Report what each task read and wrote to Airflow's hook-lineage collector, with the real hosts
of the connections used; Airflow's OpenLineage provider turns them into OpenLineage datasets
(naming in ``coord_core.openlineage_datasets``)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from coord_core import openlineage_datasets as names

log = logging.getLogger(__name__)


def _collector() -> Any:
    from airflow.sdk.lineage import get_hook_lineage_collector

    return get_hook_lineage_collector()


def report(context: object, *, inputs: Iterable[str] = (), outputs: Iterable[str] = ()) -> None:
    collector = _collector()
    for uri in inputs:
        collector.add_input_asset(context=context, uri=uri)
    for uri in outputs:
        collector.add_output_asset(context=context, uri=uri)


def _authority(conn: Any, default_port: int) -> tuple[str, int]:
    host = conn.host or "localhost"
    if host.startswith("/"):  # a Unix socket directory: the server is on this host
        host = "localhost"
    return host, int(conn.port or default_port)


def postgres_tables(conn_id: str, tables: Iterable[str]) -> list[str]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    host, port = _authority(conn, 5432)
    database = conn.schema or "postgres"
    return [names.postgres_uri(host, port, database, table) for table in tables]


def redis_keys(conn_id: str, key_patterns: Iterable[str]) -> list[str]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    host, port = _authority(conn, 6379)
    db = int(conn.extra_dejson.get("db", 0) or 0)
    return [names.redis_uri(host, port, db, pattern) for pattern in key_patterns]


def elasticsearch_indices(conn_id: str, indices: Iterable[str]) -> list[str]:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    host, port = _authority(conn, 9200)
    return [names.elasticsearch_uri(host, port, index) for index in indices]


def misp_events(host: str) -> list[str]:
    return [names.misp_uri(host)]


def files(paths: Iterable[str]) -> list[str]:
    import socket

    host = socket.gethostname()
    return [names.file_uri(path, host) for path in paths]
