"""The results database for the assistant: DSN from the environment, read-only, as the reader role."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import psycopg

from coord_core.store.session_limits import READER_ROLE, ReaderAccessError, read_only_as

DSN_ENV = "COORD_POSTGRES_DSN"
AIRFLOW_CONN_ENV = "AIRFLOW_CONN_COORD_POSTGRES"


class ConnectionSettingsError(RuntimeError):
    """No usable results-database setting was found."""


def dsn_from_environment(env: Mapping[str, str] = os.environ) -> str:
    """``COORD_POSTGRES_DSN``, else the Airflow connection ``coord_postgres`` (URI or JSON form)."""
    if env.get(DSN_ENV):
        return env[DSN_ENV]
    airflow = env.get(AIRFLOW_CONN_ENV, "").strip()
    if not airflow:
        raise ConnectionSettingsError(f"set {DSN_ENV} or {AIRFLOW_CONN_ENV} to the results database")
    if airflow.startswith("{"):
        return _dsn_from_json(airflow)
    scheme, sep, rest = airflow.partition("://")
    if not sep or scheme not in ("postgres", "postgresql"):
        raise ConnectionSettingsError(f"{AIRFLOW_CONN_ENV} is not a postgres:// URI or a JSON connection")
    return f"postgresql://{rest}"


def _dsn_from_json(text: str) -> str:
    try:
        conn: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectionSettingsError(f"{AIRFLOW_CONN_ENV} is not valid JSON: {exc.msg}") from exc
    login = quote(str(conn.get("login") or ""), safe="")
    password = quote(str(conn.get("password") or ""), safe="")
    auth = f"{login}:{password}@" if password else (f"{login}@" if login else "")
    port = f":{conn['port']}" if conn.get("port") else ""
    database = quote(str(conn.get("schema") or ""), safe="")
    return f"postgresql://{auth}{conn.get('host') or 'localhost'}{port}/{database}"


def connect_read_only(dsn: str, role: str | None = READER_ROLE) -> psycopg.Connection[Any]:
    """A connection whose every transaction is read-only, acting as ``role`` (``None``: the login role)."""
    conn = psycopg.connect(dsn, options="-c default_transaction_read_only=on", autocommit=True)
    try:
        read_only_as(conn, role)
    except ReaderAccessError as exc:
        conn.close()
        raise ConnectionSettingsError(f"{exc} or start with --role '' to read as the login role") from exc
    return conn
