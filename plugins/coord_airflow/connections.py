"""Turn Airflow connections into the client objects ``coord_core`` takes (thin, like providers' hooks).

Secrets stay in the connections; nothing here logs a password or key.
"""

from __future__ import annotations

from typing import Any

POSTGRES_CONN_ID = "coord_postgres"
REDIS_CONN_ID = "coord_redis"
ELASTICSEARCH_CONN_ID = "coord_elasticsearch"
MISP_CONN_ID = "coord_misp"
OLLAMA_CONN_ID = "coord_ollama"


def results_db() -> Any:
    """A psycopg (3) connection to the results database."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    return PostgresHook(postgres_conn_id=POSTGRES_CONN_ID).get_conn()


def redis_client() -> Any:
    from airflow.providers.redis.hooks.redis import RedisHook

    return RedisHook(redis_conn_id=REDIS_CONN_ID).get_conn()  # type: ignore[no-untyped-call]


def connection_is_defined(conn_id: str) -> bool:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True
