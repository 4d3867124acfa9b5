"""A frozen PostgreSQL (SIGSTOP) fails a coord statement within the client-side bound, while a
long statement on a live server runs to its end; a new connection fails within connect_timeout."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from coord_core.store import liveness
from coord_core.store.session_limits import connect
from tests.frozen_postgres import FreezablePostgres, freezable_postgres

BOUND_S = 2.0


@pytest.fixture(scope="module")
def server(postgres_server_dsn: str) -> Iterator[FreezablePostgres]:
    """A server of its own (the shared one must never be frozen); the fixture marks the tier."""
    with freezable_postgres() as frozen:
        yield frozen


def test_statement_in_flight_on_a_frozen_server_fails_within_the_bound(server: FreezablePostgres) -> None:
    conn = connect(server.dsn, liveness_timeout=BOUND_S, autocommit=True)
    idle = connect(server.dsn, liveness_timeout=BOUND_S, autocommit=True)
    try:
        with server.frozen_for(30, after=0.5):
            started = time.monotonic()
            with pytest.raises(liveness.ServerUnresponsive) as raised, liveness.explained(conn):
                conn.execute("SELECT pg_sleep(1)")  # the freeze comes while it runs
            elapsed = time.monotonic() - started
            # The process's other connection to the server was aborted with it: a cleanup statement
            # on it fails at once instead of waiting a second bound.
            started = time.monotonic()
            with pytest.raises(liveness.ServerUnresponsive), liveness.explained(idle):
                idle.execute("SELECT pg_advisory_unlock_all()")
            assert time.monotonic() - started < 1.0
            assert server.thawed_at is None, "the statement waited for the thaw instead of failing"
    finally:
        conn.close()
        idle.close()
    assert "answered no liveness probe" in str(raised.value) and "frozen or unreachable" in str(raised.value)
    # Frozen 0.5 s in, then at most the stated bound (plus slack for a busy machine).
    assert elapsed < 0.5 + liveness.bound(BOUND_S) + 1.5, elapsed
    assert elapsed >= BOUND_S, elapsed
    # Thawed, the server serves a new connection as before.
    with connect(server.dsn, liveness_timeout=BOUND_S) as again:
        assert again.execute("SELECT 1").fetchone() == (1,)


def test_long_statement_on_a_live_server_is_left_alone(server: FreezablePostgres) -> None:
    with connect(server.dsn, liveness_timeout=1.0, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("SELECT pg_sleep(3)")
        assert time.monotonic() - started >= 3
        assert conn.execute("SELECT 2").fetchone() == (2,)


def test_new_connection_to_a_frozen_server_fails_within_connect_timeout(server: FreezablePostgres) -> None:
    with server.frozen_for(30):
        time.sleep(0.2)
        started = time.monotonic()
        with pytest.raises(psycopg.OperationalError, match="timeout"):
            connect(server.dsn, connect_timeout=2)
        elapsed = time.monotonic() - started
        assert server.thawed_at is None
    assert elapsed < 2 + 2.0, elapsed


def test_client_bounds_fill_in_only_what_is_unset() -> None:
    bounds = liveness.with_client_bounds("host=/tmp connect_timeout=3", keepalives_idle="5")
    assert "connect_timeout" not in bounds  # the conninfo's own wins
    assert bounds["keepalives_idle"] == "5"
    assert bounds["tcp_user_timeout"] == liveness.LIBPQ_DEFAULTS["tcp_user_timeout"]
    assert bounds["keepalives"] == "1"
