"""OpenLineage dataset naming for every system the pipeline reads or writes.

| system | asset URI | OpenLineage namespace | OpenLineage name |
|---|---|---|---|
| PostgreSQL | ``postgres://host:port/db/schema/table`` | ``postgres://host:port`` | ``db.schema.table`` |
| Elasticsearch | ``elasticsearch://host:port/index`` | ``elasticsearch://host:port`` | ``index`` (pattern) |
| Redis | ``redis://host:port/db/keypattern`` | ``redis://host:port`` | ``db/keypattern`` |
| MISP | ``misp://host/events`` | ``misp://host`` | ``events`` |
| MISP feed | ``file://host/path`` | ``file://host`` | ``path`` (OpenLineage's file naming) |
| Cowrie logs | ``file://host/path`` | ``file://host`` | ``path`` |

PostgreSQL and files follow OpenLineage's naming spec and the Airflow providers' converters.
Elasticsearch, Redis and MISP have no converter in Airflow, so this module supplies them; the
package registers them with Airflow as ``asset-uris`` (entry point ``apache_airflow_provider``),
so Airflow normalises these assets and its OpenLineage provider emits them. Nothing here
imports Airflow: assets arrive duck-typed (anything with ``.uri``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, urlsplit

from openlineage.client.event_v2 import Dataset

CUSTOM_SCHEMES = ("elasticsearch", "redis", "misp")
_DEFAULT_PORTS = {"elasticsearch": 9200, "redis": 6379}


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Normalise an asset URI of one of our schemes (Airflow calls this for every such asset)."""
    if not uri.netloc:
        raise ValueError(f"{uri.scheme} asset URI needs a host: {uri.geturl()}")
    if not uri.path.strip("/"):
        raise ValueError(f"{uri.scheme} asset URI needs a path (index, db/key pattern or 'events')")
    netloc = uri.netloc
    default_port = _DEFAULT_PORTS.get(uri.scheme)
    if default_port and uri.port is None:
        netloc = f"{uri.hostname}:{default_port}"
    return uri._replace(netloc=netloc, query="", fragment="")


def convert_asset_to_openlineage(asset: Any, lineage_context: Any = None) -> Dataset:
    """OpenLineage dataset for an Elasticsearch, Redis or MISP asset."""
    parsed = urlsplit(str(asset.uri))
    if parsed.scheme not in CUSTOM_SCHEMES:
        raise ValueError(f"not a coord lineage scheme: {parsed.scheme}")
    return Dataset(namespace=f"{parsed.scheme}://{parsed.netloc}", name=parsed.path.lstrip("/"))


def create_asset(*, uri: str, extra: dict[str, Any] | None = None) -> Any:
    """Asset factory Airflow's hook-lineage collector uses for our schemes."""
    from importlib import import_module

    asset_cls = import_module("airflow.sdk").Asset  # imported lazily: only ever called inside Airflow
    return asset_cls(uri=uri, extra=extra)


def get_provider_info() -> dict[str, Any]:
    """Provider metadata Airflow reads through the ``apache_airflow_provider`` entry point."""
    module = __name__
    return {
        "package-name": "dshield-coordination",
        "name": "DShield coordination engine",
        "description": "Asset URI schemes and OpenLineage naming for Elasticsearch, Redis and MISP.",
        "asset-uris": [
            {
                "schemes": list(CUSTOM_SCHEMES),
                "handler": f"{module}.sanitize_uri",
                "factory": f"{module}.create_asset",
                "to_openlineage_converter": f"{module}.convert_asset_to_openlineage",
            }
        ],
    }


def postgres_uri(host: str, port: int, database: str, table: str, schema: str = "coord") -> str:
    return f"postgres://{host}:{port}/{database}/{schema}/{table}"


def elasticsearch_uri(host: str, port: int, index: str) -> str:
    return f"elasticsearch://{host}:{port}/{index}"


def redis_uri(host: str, port: int, db: int, key_pattern: str) -> str:
    return f"redis://{host}:{port}/{db}/{key_pattern}"


def misp_uri(host: str) -> str:
    return f"misp://{host}/events"


def file_uri(path: str, host: str = "") -> str:
    return f"file://{host}{path if path.startswith('/') else '/' + path}"
