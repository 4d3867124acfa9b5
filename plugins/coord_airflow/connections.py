"""Turn Airflow connections into the client objects ``coord_core`` takes (thin, like providers' hooks).

Secrets stay in the connections; nothing here logs a password or key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import ollama
    import psycopg
    import redis
    import redis.asyncio
    from airflow.sdk import Connection
    from elasticsearch import Elasticsearch
    from pymisp import PyMISP

    from coord_core.contracts.threat_intel import ThreatIntelSource
    from coord_core.pipeline.misp import MispConnection
    from coord_core.pipeline.narrate import NarratorConfig
    from coord_core.pipeline.stores import BestEffortRedis, CacheSigner
    from coord_core.pipeline.webhooks import WebhookTarget

log = logging.getLogger(__name__)

POSTGRES_CONN_ID = "coord_postgres"
REDIS_CONN_ID = "coord_redis"
ELASTICSEARCH_CONN_ID = "coord_elasticsearch"
MISP_CONN_ID = "coord_misp"
OLLAMA_CONN_ID = "coord_ollama"


def results_db() -> psycopg.Connection[Any]:
    """A psycopg (3) connection to the results database, with the coord session time limits and
    the client-side bounds on a server that stops answering.

    The limits default to ``coord_core.store.session_limits``; the connection's extra
    ``options`` (``-c statement_timeout=30min -c lock_timeout=2min``) overrides them. libpq's
    ``connect_timeout``, ``keepalives*`` and ``tcp_user_timeout`` default to
    ``liveness.LIBPQ_DEFAULTS`` and are overridden by extras of those names; the extra
    ``liveness_timeout`` (seconds, 0 = off) bounds how long a statement waits on a server that
    answers no liveness probe (``coord_core.store.liveness``). (The hook declares a psycopg2/3 union.)
    """
    from coord_core.pipeline.stores import limited, liveness

    hook = _results_hook_class()(postgres_conn_id=POSTGRES_CONN_ID)
    conn = cast("psycopg.Connection[Any]", hook.get_conn())
    extra = hook.connection.extra_dejson
    try:
        timeout = float(extra.get(liveness.LIVENESS_EXTRA, liveness.DEFAULT_LIVENESS_TIMEOUT))
    except (TypeError, ValueError):
        conn.close()
        extra_name = f"{POSTGRES_CONN_ID} extra {liveness.LIVENESS_EXTRA}"
        raise ValueError(f"{extra_name} must be a number of seconds") from None
    return limited(conn, liveness_timeout=timeout)


@cache
def _results_hook_class() -> type[Any]:
    """``PostgresHook`` that adds the coord client bounds libpq lacks in the connection and keeps
    the coord-only extra out of libpq's options (imported on first use: DAG parsing stays light)."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from coord_core.pipeline.stores import liveness

    class CoordPostgresHook(PostgresHook):
        ignored_extra_options = PostgresHook.ignored_extra_options | {liveness.LIVENESS_EXTRA}

        def _create_connection(self, conn_args: dict[str, Any]) -> Any:
            return super()._create_connection(liveness.with_client_bounds(**conn_args))

    return CoordPostgresHook


def redis_client() -> redis.Redis[Any]:
    from airflow.providers.redis.hooks.redis import RedisHook

    client: redis.Redis[Any] = RedisHook(redis_conn_id=REDIS_CONN_ID).get_conn()  # type: ignore[no-untyped-call]
    return client


def best_effort_redis() -> BestEffortRedis:
    """Redis as a cache and alert channel: not configured or unreachable means a warning, never a
    failed run."""
    from coord_core.pipeline.stores import BestEffortRedis

    if not connection_is_defined(REDIS_CONN_ID):
        log.warning("no %s connection: Redis cache, tracking and alerts are off", REDIS_CONN_ID)
        return BestEffortRedis(client=None)
    return BestEffortRedis(client=redis_client())


def async_redis_client() -> redis.asyncio.Redis[Any]:
    """``coord_redis`` as an asyncio client (what a long-lived stream reader needs: it waits on Redis
    without holding a worker thread), with the same host, database, credentials and TLS extras as
    ``RedisHook``'s; a cluster connection is refused (the alert stream lives on one node)."""
    import redis.asyncio
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(REDIS_CONN_ID)
    extra = conn.extra_dejson
    if extra.get("cluster"):
        raise ValueError(f"{REDIS_CONN_ID} is a cluster connection; the alert stream needs a single node")
    password = None if str(conn.password).lower() in ("none", "false", "") else conn.password
    tls = {name: value for name, value in extra.items() if name in _REDIS_TLS_EXTRAS}
    return redis.asyncio.Redis(
        host=conn.host or "localhost",
        port=conn.port or 6379,
        username=conn.login or None,
        password=password,
        db=int(extra.get("db") or 0),
        **tls,
    )


# The TLS extras ``RedisHook`` passes to its client.
_REDIS_TLS_EXTRAS = (
    "ssl",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_keyfile",
    "ssl_certfile",
    "ssl_check_hostname",
)
CACHE_SIGNING_EXTRA = "cache_hmac_secret"


def cache_signer() -> CacheSigner | None:
    """The signer of Redis cache entries, keyed by ``coord_redis``'s extra ``cache_hmac_secret``
    (32+ characters; Airflow masks extras named ``*secret*``). Without a usable one, ``None``:
    nothing is cached, because nothing read back could be verified."""
    from airflow.sdk import BaseHook

    from coord_core.pipeline.stores import CacheSigner

    if not connection_is_defined(REDIS_CONN_ID):
        return None
    secret = BaseHook.get_connection(REDIS_CONN_ID).extra_dejson.get(CACHE_SIGNING_EXTRA)
    if not secret:
        log.warning("%s has no extra %s: Redis caches are off", REDIS_CONN_ID, CACHE_SIGNING_EXTRA)
        return None
    try:
        return CacheSigner(str(secret))
    except ValueError as exc:
        log.warning(
            "%s extra %s is unusable (%s): Redis caches are off", REDIS_CONN_ID, CACHE_SIGNING_EXTRA, exc
        )
        return None


def _http_url(conn: Connection, extra: dict[str, Any]) -> str:
    """The connection's URL: its host when that is a URL, else ``scheme://host:port/schema``
    (extra ``scheme``; https unless the connection type is ``http``)."""
    host = (conn.host or "").rstrip("/")
    if "://" in host:
        return str(host)
    scheme = extra.get("scheme") or ("http" if conn.conn_type == "http" else "https")
    port = f":{conn.port}" if conn.port else ""
    path = f"/{conn.schema.strip('/')}" if conn.schema else ""
    return f"{scheme}://{host}{port}{path}"


def misp_connection() -> MispConnection:
    """``coord_misp`` as a ``MispConnection``: host (a URL, or a host name with the connection's
    port and path), API key in the password or extra ``key``, extras ``verify_ssl`` (default
    true), ``ca_path`` (a CA bundle) and ``timeout`` (seconds)."""
    from airflow.sdk import BaseHook

    from coord_core.pipeline.misp import MispConnection

    conn = BaseHook.get_connection(MISP_CONN_ID)
    extra = conn.extra_dejson
    url = _http_url(conn, extra)
    return MispConnection(
        url=url,
        key=conn.password or str(extra.get("key") or ""),
        verify_ssl=_flag(extra.get("verify_ssl"), True),
        ca_path=extra.get("ca_path") or None,
        timeout_s=float(extra.get("timeout", 30)),
    )


def misp_client() -> PyMISP:
    """A PyMISP client for ``coord_misp`` (it talks to MISP while it is created)."""
    return misp_connection().open()


def threat_intel_source(redis: redis.Redis[Any] | None = None) -> ThreatIntelSource:
    """The ``ThreatIntelSource`` for analysis steps: MISP through ``coord_misp`` behind the Redis
    rate limiter ``misp`` (extra ``rate_limit_per_minute``, default 60), its answers cached in
    ``redis`` when ``cache_signer`` has a key, else one that reports
    every lookup as failed because no MISP is configured."""
    from coord_core.pipeline.misp import MispThreatIntel, SlidingWindowRateLimiter, UnconfiguredThreatIntel

    if not connection_is_defined(MISP_CONN_ID):
        return UnconfiguredThreatIntel(reason=f"no {MISP_CONN_ID} connection configured")
    from airflow.sdk import BaseHook

    misp = misp_connection()
    extra = BaseHook.get_connection(MISP_CONN_ID).extra_dejson
    limiter = SlidingWindowRateLimiter(
        redis, "misp", limit=int(extra.get("rate_limit_per_minute", 60)), window_s=60.0
    )
    return MispThreatIntel(
        misp.open,
        redis_client=redis,
        limiter=limiter,
        cache_ttl_s=int(extra.get("cache_ttl_seconds", 24 * 3600)),
        identity=f"misp:{misp.url}",
        cache_signer=cache_signer() if redis is not None else None,
    )


def connection_is_defined(conn_id: str) -> bool:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


OLLAMA_DEFAULT_PORT = 11434


def ollama_base_url(conn_type: str | None, host: str | None, port: int | None, path: str | None) -> str:
    """Ollama's base URL from a connection's parts (``http``/``https`` type; no credentials)."""
    host = (host or "127.0.0.1").strip()
    if "://" in host:
        scheme, host = host.split("://", 1)
    else:
        scheme = "https" if (conn_type or "").lower() == "https" else "http"
    host = host.rstrip("/")
    if _is_ipv6(host):  # Airflow strips the brackets of an IPv6 literal
        host = f"[{host}]"
    has_port = ":" in host.rsplit("]", 1)[-1]
    authority = f"{host}:{port}" if port else host if has_port else f"{host}:{OLLAMA_DEFAULT_PORT}"
    suffix = f"/{path.strip('/')}" if path and path.strip("/") else ""
    return f"{scheme}://{authority}{suffix}"


def _is_ipv6(host: str) -> bool:
    import ipaddress

    try:
        return isinstance(ipaddress.ip_address(host), ipaddress.IPv6Address)
    except ValueError:
        return False


def ollama_client() -> tuple[ollama.Client, NarratorConfig, str]:
    """An ``ollama.Client`` for ``coord_ollama``, its narration settings and its URL (for records).

    Extras: ``models`` (ordered list or comma-separated), timeouts and retries (see
    ``coord_core.llm.config.NarratorConfig``). A password becomes a bearer token header.
    """
    import httpx
    import ollama
    from airflow.sdk import BaseHook

    from coord_core.pipeline.narrate import NarratorConfig

    conn = BaseHook.get_connection(OLLAMA_CONN_ID)
    config = NarratorConfig.from_extras(conn.extra_dejson)
    url = ollama_base_url(conn.conn_type, conn.host, conn.port, conn.schema)
    headers = {"Authorization": f"Bearer {conn.password}"} if conn.password else None
    timeout = httpx.Timeout(config.read_timeout_s, connect=config.connect_timeout_s)
    return ollama.Client(host=url, timeout=timeout, headers=headers), config, url


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


def _extras(conn: Connection) -> dict[str, Any]:
    extras = conn.extra_dejson
    return dict(extras) if isinstance(extras, dict) else {}


def _es_url(conn: Connection, extras: dict[str, Any]) -> str:
    scheme = str(extras.get("scheme") or (conn.schema if conn.schema in ("http", "https") else "http"))
    if scheme not in ("http", "https"):
        raise ValueError(f"{ELASTICSEARCH_CONN_ID}: scheme must be http or https, not {scheme!r}")
    host = conn.host or "localhost"
    return f"{scheme}://{host}:{int(conn.port or 9200)}"


def _flag(value: object, default: bool) -> bool:
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


def elasticsearch_client() -> Elasticsearch:
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
    client: Elasticsearch = hook.get_conn
    return client


WEBHOOK_CONN_ID = "coord_webhook"


def webhook_target(conn_id: str = WEBHOOK_CONN_ID) -> WebhookTarget:
    """The webhook receiver of ``conn_id``: host (a URL, or a host name with the connection's port,
    ``schema`` as the path and extra ``scheme``, default https unless the type is ``http``), the
    signing secret in the password (or extra ``secret``), extras ``timeout`` (s), ``max_attempts``
    and ``backoff`` (s, doubled per retry). Raises ``ValueError`` for an unusable one."""
    from airflow.sdk import BaseHook

    from coord_core.pipeline.webhooks import WebhookTarget

    conn = BaseHook.get_connection(conn_id)
    extra = _extras(conn)
    url = _http_url(conn, extra)
    try:
        return WebhookTarget(
            url=url,
            secret=conn.password or str(extra.get("secret") or ""),
            timeout_s=float(extra.get("timeout", 10)),
            max_attempts=int(extra.get("max_attempts", 4)),
            backoff_s=float(extra.get("backoff", 1)),
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{conn_id}: {exc}") from None
