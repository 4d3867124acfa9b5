"""Turn Airflow connections into the client objects ``coord_core`` takes (thin, like providers' hooks).

Secrets stay in the connections; nothing here logs a password or key.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class ElasticsearchSettings:
    """What the ``coord_elasticsearch`` connection says besides credentials (safe to log and store).

    Extras read: ``index_patterns`` (list or comma-separated: the DShield-SIEM indices to read),
    ``session_index`` / ``campaign_index`` (enrichment targets; must match the shipped index
    templates' patterns), ``scheme`` (``http``/``https``), ``verify_certs``, ``ca_certs``,
    ``request_timeout`` and ``api_key`` (a secret: used, never returned here).
    """

    url: str
    index_patterns: tuple[str, ...] | None
    session_index: str | None
    campaign_index: str | None


def _extras(conn: Any) -> dict[str, Any]:
    extras = conn.extra_dejson
    return dict(extras) if isinstance(extras, dict) else {}


def _es_url(conn: Any, extras: dict[str, Any]) -> str:
    scheme = str(extras.get("scheme") or (conn.schema if conn.schema in ("http", "https") else "http"))
    if scheme not in ("http", "https"):
        raise ValueError(f"{ELASTICSEARCH_CONN_ID}: scheme must be http or https, not {scheme!r}")
    host = conn.host or "localhost"
    return f"{scheme}://{host}:{int(conn.port or 9200)}"


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)


def elasticsearch_settings() -> ElasticsearchSettings:
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(ELASTICSEARCH_CONN_ID)
    extras = _extras(conn)
    raw = extras.get("index_patterns")
    patterns = (
        tuple(p.strip() for p in raw.split(",") if p.strip())
        if isinstance(raw, str)
        else tuple(str(p) for p in raw)
        if isinstance(raw, list)
        else None
    )
    return ElasticsearchSettings(
        url=_es_url(conn, extras),
        index_patterns=patterns or None,
        session_index=str(extras["session_index"]) if extras.get("session_index") else None,
        campaign_index=str(extras["campaign_index"]) if extras.get("campaign_index") else None,
    )


def elasticsearch_client() -> Any:
    """An ``elasticsearch.Elasticsearch`` client from the ``coord_elasticsearch`` connection.

    Built by the provider's ``ElasticsearchPythonHook`` (which pins the server's compatibility
    level); credentials come from the connection: ``api_key`` extra, else login/password. The
    client retries nothing itself (``max_retries=0``): the adapters' retry policy is the only one.
    """
    from airflow.providers.elasticsearch.hooks.elasticsearch import ElasticsearchPythonHook
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(ELASTICSEARCH_CONN_ID)
    extras = _extras(conn)
    url = _es_url(conn, extras)
    args: dict[str, Any] = {
        "request_timeout": float(extras.get("request_timeout", 30)),
        "max_retries": 0,
        "retry_on_timeout": False,
    }
    if url.startswith("https:"):
        args["verify_certs"] = _flag(extras.get("verify_certs"), True)
        if extras.get("ca_certs"):
            args["ca_certs"] = str(extras["ca_certs"])
    if extras.get("api_key"):
        key = extras["api_key"]
        args["api_key"] = tuple(key) if isinstance(key, list) else str(key)
    elif conn.login:
        args["basic_auth"] = (conn.login, conn.password or "")
    hook = ElasticsearchPythonHook(hosts=[url], es_conn_args=args)
    return hook.get_conn
