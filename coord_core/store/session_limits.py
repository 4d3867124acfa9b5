"""Time limits on every coord database session, so that no statement or lock wait hangs a task.

Defaults apply only where the session has no limit of its own: one set by the operator through
standard PostgreSQL means (the connection's ``options`` such as ``-c statement_timeout=30min``,
``PGOPTIONS``, or ``ALTER ROLE ... SET``) is kept.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from coord_core.store import liveness

# The longest single statement of an interval is its COPY into staging, which streams while the
# source is read; ten minutes covers millions of records. A lock wait that long means a stuck peer.
DEFAULT_STATEMENT_TIMEOUT: Final = "10min"
DEFAULT_LOCK_TIMEOUT: Final = "1min"


def apply_session_limits(
    conn: psycopg.Connection[Any],
    *,
    statement_timeout: str = DEFAULT_STATEMENT_TIMEOUT,
    lock_timeout: str = DEFAULT_LOCK_TIMEOUT,
) -> dict[str, str]:
    """Set ``statement_timeout`` and ``lock_timeout`` for the session where unset; return them.

    Call it on a fresh connection: the settings are committed so that a later rollback keeps them.
    """
    if conn.info.transaction_status != TransactionStatus.IDLE:
        raise RuntimeError("session limits must be set on a connection with no transaction open")
    # One round trip (every task opens connections): a limit the session has is set to itself.
    with conn.cursor() as cur:
        cur.execute(
            """SELECT set_config('statement_timeout', CASE current_setting('statement_timeout')
                                 WHEN '0' THEN %s ELSE current_setting('statement_timeout') END, false),
                      set_config('lock_timeout', CASE current_setting('lock_timeout')
                                 WHEN '0' THEN %s ELSE current_setting('lock_timeout') END, false)""",
            (statement_timeout, lock_timeout),
        )
        limits = cur.fetchone()
    if not conn.autocommit:
        conn.commit()
    assert limits is not None
    return {"statement_timeout": str(limits[0]), "lock_timeout": str(limits[1])}


def limited(
    conn: psycopg.Connection[Any], *, liveness_timeout: float = liveness.DEFAULT_LIVENESS_TIMEOUT
) -> psycopg.Connection[Any]:
    """A fresh connection with the session limits applied and, unless ``liveness_timeout`` is 0,
    a liveness watchdog (``coord_core.store.liveness``: the server's limits cannot fire while the
    server is frozen); closed if they cannot be set."""
    try:
        liveness.watch(conn, liveness_timeout)
        apply_session_limits(conn)
    except BaseException:
        conn.close()
        raise
    return conn


READER_ROLE: Final = "coord_reader"


class ReaderAccessError(RuntimeError):
    """The session cannot act as the reader role (it does not exist or is not granted)."""


def read_only_as(
    conn: psycopg.Connection[Any], role: str | None = READER_ROLE, *, statement_timeout: str | None = None
) -> None:
    """Make every later transaction of the session read-only, acting as ``role`` (``None``: the login
    role), optionally with a shorter ``statement_timeout`` (pages and API calls wait seconds, not
    minutes). Autocommit: a rollback can never undo the settings."""
    if conn.info.transaction_status != TransactionStatus.IDLE:
        conn.rollback()
    conn.autocommit = True
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    if statement_timeout is not None:
        conn.execute("SELECT set_config('statement_timeout', %s, false)", (statement_timeout,))
    if role:
        try:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        except psycopg.Error as exc:
            raise ReaderAccessError(
                f"cannot act as role {role!r} ({exc.diag.message_primary}); grant it to the login user"
            ) from exc


def connect(
    dsn: str, *, liveness_timeout: float = liveness.DEFAULT_LIVENESS_TIMEOUT, **kwargs: Any
) -> psycopg.Connection[Any]:
    """A psycopg connection to a coord database, with the session limits applied and the client
    bounds (``liveness.LIBPQ_DEFAULTS`` where ``dsn`` and ``kwargs`` set none, and the watchdog)."""
    conn = psycopg.connect(dsn, **liveness.with_client_bounds(dsn, **kwargs))
    return limited(conn, liveness_timeout=liveness_timeout)
