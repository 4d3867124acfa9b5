"""Every coord database session is bounded in time: statements and lock waits fail clearly, never hang."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import psycopg
import pytest

from coord_core.store.session_limits import (
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    apply_session_limits,
    connect,
)


def _setting(conn: psycopg.Connection, name: str) -> str:
    row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
    assert row is not None
    return str(row[0])


def test_a_new_session_gets_the_default_limits_and_keeps_them_after_a_rollback(postgres_dsn: str) -> None:
    with connect(postgres_dsn) as conn:
        assert _setting(conn, "statement_timeout") == DEFAULT_STATEMENT_TIMEOUT
        assert _setting(conn, "lock_timeout") == DEFAULT_LOCK_TIMEOUT
        conn.rollback()
        assert _setting(conn, "statement_timeout") == DEFAULT_STATEMENT_TIMEOUT


def test_limits_the_operator_set_are_kept(postgres_dsn: str) -> None:
    with connect(postgres_dsn, options="-c statement_timeout=5s -c lock_timeout=250ms") as conn:
        assert _setting(conn, "statement_timeout") == "5s"
        assert _setting(conn, "lock_timeout") == "250ms"


def test_a_statement_beyond_the_timeout_fails_with_a_clear_error(postgres_dsn: str) -> None:
    with connect(postgres_dsn, options="-c statement_timeout=200ms") as conn:
        with pytest.raises(psycopg.errors.QueryCanceled, match="statement timeout"):
            conn.execute("SELECT pg_sleep(5)")
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)  # the session is usable again


def test_a_lock_wait_beyond_the_timeout_fails_with_a_clear_error(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE held (id int)")
    holding = threading.Event()
    release = threading.Event()

    def hold_lock() -> None:
        with psycopg.connect(postgres_dsn) as holder:
            holder.execute("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=hold_lock)
    thread.start()
    try:
        assert holding.wait(10)
        with (
            connect(postgres_dsn, options="-c lock_timeout=200ms") as conn,
            pytest.raises(psycopg.errors.LockNotAvailable, match="lock timeout"),
        ):
            conn.execute("SELECT * FROM held")
    finally:
        release.set()
        thread.join()


def test_limits_are_only_set_outside_a_transaction(postgres_dsn: str) -> None:
    with psycopg.connect(postgres_dsn) as conn:
        conn.execute("SELECT 1")  # opens a transaction (not autocommit)
        with pytest.raises(RuntimeError, match="no transaction open"):
            apply_session_limits(conn)


def test_the_airflow_connection_gives_bounded_sessions_and_its_options_win(
    postgres_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coord_airflow import connections

    from tests.dags.airflow_env import airflow_conn_uri

    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", airflow_conn_uri(postgres_dsn))
    with connections.results_db() as conn:
        assert _setting(conn, "statement_timeout") == DEFAULT_STATEMENT_TIMEOUT
        assert _setting(conn, "lock_timeout") == DEFAULT_LOCK_TIMEOUT
    options = urlencode({"options": "-c statement_timeout=42s"})  # the connection's extra `options`
    monkeypatch.setenv("AIRFLOW_CONN_COORD_POSTGRES", f"{airflow_conn_uri(postgres_dsn)}?{options}")
    with connections.results_db() as conn:
        assert _setting(conn, "statement_timeout") == "42s"
        assert _setting(conn, "lock_timeout") == DEFAULT_LOCK_TIMEOUT
